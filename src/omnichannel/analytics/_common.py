"""What the reports share: input checks, time buckets in a time zone, quantiles.

Nothing here is public; the reports re-export the :data:`Period` alias.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timezone, tzinfo
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from omnichannel._errors import InvalidValueError
from omnichannel._model import Conversation, Direction, Interaction, OrderRefPart, utc

__all__ = [
    "UNKNOWN_CHANNEL",
    "Bucketer",
    "Period",
    "Records",
    "Row",
    "check_aware",
    "check_direction",
    "check_int",
    "conversation_topics",
    "interaction_topics",
    "iter_records",
    "order_ids",
    "quantile",
    "ratio",
    "resolve_tz",
]

Period = Literal["hour", "day", "week", "month"]
"""A report period: ``"hour"``, ``"day"``, ``"week"`` (starting on Monday) or ``"month"``."""

Records = Iterable[tuple[str, Interaction]]
"""``(profile_id, interaction)`` pairs, sorted by ``(occurred_at, interaction.id)``."""

UNKNOWN_CHANNEL = "unknown"
"""The channel reported when the data does not say one."""

_PERIODS: tuple[str, ...] = get_args(Period)
_UTC = timezone.utc
# Local hour boundaries are found by walking a span in steps this long: every UTC offset of
# the tz database since 1970 is a multiple of 15 minutes.
_HOUR_WALK_SECONDS = 15 * 60


class Row(BaseModel):
    """Base of the report rows: frozen, no extra fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def resolve_tz(tz: str | tzinfo) -> tzinfo:
    """The time zone named by ``tz`` (an IANA name such as ``"Europe/Warsaw"``) or ``tz``.

    Raises:
        InvalidValueError: an unknown name, or neither a name nor a ``tzinfo``.
    """
    if isinstance(tz, tzinfo):
        return tz
    if isinstance(tz, str):
        try:
            return ZoneInfo(tz)
        except (KeyError, ValueError, OSError) as exc:  # ZoneInfoNotFoundError is a KeyError
            raise InvalidValueError(
                "tz", tz, "is not a known IANA time zone name", mask=False
            ) from exc
    raise InvalidValueError("tz", tz, "must be a time zone name or a tzinfo", mask=False)


def check_direction(direction: Direction | str | None) -> Direction | None:
    """``direction`` as a :class:`Direction`, or None for every direction.

    Raises:
        InvalidValueError: not a direction.
    """
    if direction is None:
        return None
    try:
        return Direction(direction)
    except ValueError as exc:
        choices = ", ".join(d.value for d in Direction)
        raise InvalidValueError(
            "direction", direction, f"must be one of {choices} or None", mask=False
        ) from exc


def check_int(field: str, value: object, minimum: int) -> int:
    """``value`` if it is an integer (not a bool) of at least ``minimum``.

    Raises:
        InvalidValueError: not an integer, or too small.
    """
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidValueError(field, value, "must be an integer", mask=False)
    if value < minimum:
        raise InvalidValueError(field, value, f"must be at least {minimum}", mask=False)
    return value


def check_aware(field: str, moment: datetime) -> datetime:
    """``moment`` in UTC; a naive datetime is an :class:`InvalidValueError` naming ``field``."""
    return utc(moment, field=field)


def iter_records(
    records: Records, *, check_order: bool = False
) -> Iterator[tuple[str, Interaction]]:
    """Yield ``records``, checking each time is aware and, optionally, their order.

    Raises:
        InvalidValueError: a naive ``occurred_at``; with ``check_order``, a record earlier
            than the one before it.
    """
    previous: tuple[datetime, str] | None = None
    for profile_id, interaction in records:
        at = check_aware("occurred_at", interaction.occurred_at)
        if check_order:
            key = (at, interaction.id)
            if previous is not None and key < previous:
                raise InvalidValueError(
                    "records",
                    interaction.id,
                    "must be sorted by (occurred_at, interaction id), ascending",
                    mask=False,
                )
            previous = key
        yield profile_id, interaction


def order_ids(interaction: Interaction) -> tuple[str, ...]:
    """The order ids of the interaction's :class:`~omnichannel.OrderRefPart` parts, in order."""
    return tuple(
        dict.fromkeys(p.order_id for p in interaction.content if isinstance(p, OrderRefPart))
    )


def conversation_topics(conversations: Iterable[Conversation] | None) -> dict[str, tuple[str, ...]]:
    """Conversation id -> its topics, for the conversations that have any."""
    if conversations is None:
        return {}
    return {c.id: c.topics for c in conversations if c.topics}


def interaction_topics(
    interaction: Interaction, by_conversation: dict[str, tuple[str, ...]]
) -> tuple[str, ...]:
    """The interaction's topics, followed by those of its conversation, without repeats."""
    extra = by_conversation.get(interaction.conversation_id or "")
    if not extra:
        return interaction.topics
    return tuple(dict.fromkeys((*interaction.topics, *extra)))


def ratio(part: int, whole: int) -> float | None:
    """``part / whole``, or None when ``whole`` is zero."""
    return part / whole if whole else None


def quantile(ordered: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile of sorted values, linearly interpolated; None when empty.

    The interpolation is the usual one (numpy's default, ``statistics.quantiles`` with
    ``method="inclusive"``): position ``q * (n - 1)`` between the nearest ranks.
    """
    if not ordered:
        return None
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _local_midnight(day: date, zone: tzinfo) -> datetime:
    # Through UTC, so that a midnight skipped by a DST change becomes the day's first instant.
    return datetime.combine(day, time(), tzinfo=zone).astimezone(_UTC).astimezone(zone)


class Bucketer:
    """Maps instants to the periods of a time zone and back.

    A period is named by an integer key that sorts like the periods: the POSIX timestamp of
    the hour's start, the ordinal of the day or of the week's Monday, or ``12 * year +
    month - 1``. Keys rather than local datetimes, because the two local 02:00 hours of a
    night when clocks go back compare equal as datetimes of one zone.
    """

    def __init__(self, period: str, tz: str | tzinfo) -> None:
        """Check ``period`` and ``tz``.

        Raises:
            InvalidValueError: an unknown period or time zone.
        """
        if period not in _PERIODS:
            raise InvalidValueError(
                "period", period, f"must be one of {', '.join(_PERIODS)}", mask=False
            )
        self.period = period
        self.zone = resolve_tz(tz)

    def key(self, moment: datetime) -> int:
        """The key of the period that holds ``moment`` (an aware datetime)."""
        local = moment.astimezone(self.zone)
        if self.period == "hour":
            return int(local.replace(minute=0, second=0, microsecond=0).timestamp())
        day = local.date()
        if self.period == "day":
            return day.toordinal()
        if self.period == "week":
            return day.toordinal() - day.weekday()
        return 12 * day.year + day.month - 1

    def start(self, key: int) -> datetime:
        """The start of the period ``key`` names, as an aware datetime in the time zone."""
        if self.period == "hour":
            return datetime.fromtimestamp(key, self.zone)
        if self.period == "month":
            return _local_midnight(date(key // 12, key % 12 + 1, 1), self.zone)
        return _local_midnight(date.fromordinal(key), self.zone)

    def span(self, first: int, last: int, observed: Iterable[int] = ()) -> list[int]:
        """Every period key from ``first`` to ``last`` (inclusive), in order, gap-free.

        ``observed`` keys are always included, so no period holding data can be missed.
        """
        if self.period in ("day", "month"):
            return list(range(first, last + 1))
        if self.period == "week":
            return list(range(first, last + 1, 7))
        keys = {k for k in observed if first <= k <= last}
        moment = first
        while moment <= last:
            keys.add(self.key(datetime.fromtimestamp(moment, _UTC)))
            moment += _HOUR_WALK_SECONDS
        return sorted(keys)
