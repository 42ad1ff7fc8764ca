"""Volume: interactions per channel by weekday and hour, and per channel over time."""

from __future__ import annotations

from collections import Counter
from datetime import tzinfo

from pydantic import AwareDatetime, Field

from omnichannel._model import Direction
from omnichannel.analytics._common import (
    Bucketer,
    Period,
    Records,
    Row,
    check_direction,
    iter_records,
    resolve_tz,
)

__all__ = ["PeriodVolumeRow", "VolumeRow", "volume", "volume_over_time"]


class VolumeRow(Row):
    """Interactions on one channel in one hour of one weekday, summed over the weeks.

    Attributes:
        channel: the channel slug.
        weekday: 0 for Monday to 6 for Sunday, in the report's time zone.
        hour: 0 to 23, the local hour.
        interactions: how many interactions.
        inbound: of which from customers.
        outbound: of which to customers (the rest are internal).
    """

    channel: str
    weekday: int = Field(ge=0, le=6)
    hour: int = Field(ge=0, le=23)
    interactions: int
    inbound: int
    outbound: int


class PeriodVolumeRow(Row):
    """Interactions on one channel in one period.

    Attributes:
        period_start: the start of the period, an aware datetime in the report's time zone.
        channel: the channel slug.
        interactions: how many interactions.
    """

    period_start: AwareDatetime
    channel: str
    interactions: int


def volume(
    records: Records, *, tz: str | tzinfo = "UTC", direction: Direction | str | None = None
) -> list[VolumeRow]:
    """Interactions per channel, weekday and local hour: where and when the work arrives.

    Summed over the whole input: pass the weeks you want to plan from. On the night clocks
    go back, the repeated local hour counts twice into its hour; on the night they go
    forward, the skipped hour has nothing.

    Args:
        records: ``(profile_id, interaction)`` pairs (any order).
        tz: the time zone of weekdays and hours: an IANA name or a ``tzinfo``.
        direction: count only inbound, outbound or internal interactions (None: all).

    Returns:
        One row per channel, weekday and hour that has interactions (empty cells are left
        out), sorted by channel, weekday and hour.

    Raises:
        InvalidValueError: an unknown time zone or direction, a naive ``occurred_at``.
    """
    zone = resolve_tz(tz)
    wanted = check_direction(direction)
    cells: dict[tuple[str, int, int], list[int]] = {}
    for _, interaction in iter_records(records):
        if wanted is not None and interaction.direction != wanted:
            continue
        local = interaction.occurred_at.astimezone(zone)
        cell = cells.setdefault((interaction.channel, local.weekday(), local.hour), [0, 0, 0])
        cell[0] += 1
        if interaction.direction == Direction.INBOUND:
            cell[1] += 1
        elif interaction.direction == Direction.OUTBOUND:
            cell[2] += 1
    return [
        VolumeRow(
            channel=channel,
            weekday=weekday,
            hour=hour,
            interactions=total,
            inbound=inbound,
            outbound=outbound,
        )
        for (channel, weekday, hour), (total, inbound, outbound) in sorted(cells.items())
    ]


def volume_over_time(
    records: Records,
    *,
    period: Period = "day",
    tz: str | tzinfo = "UTC",
    direction: Direction | str | None = None,
) -> list[PeriodVolumeRow]:
    """Interactions per period and channel.

    Args:
        records: ``(profile_id, interaction)`` pairs (any order).
        period: ``"hour"``, ``"day"``, ``"week"`` (from Monday) or ``"month"``.
        tz: the time zone the periods start in: an IANA name or a ``tzinfo``.
        direction: count only inbound, outbound or internal interactions (None: all).

    Returns:
        One row per period and channel that has interactions (periods without any are
        left out), sorted by period and channel.

    Raises:
        InvalidValueError: an unknown period, time zone or direction, a naive
            ``occurred_at``.
    """
    buckets = Bucketer(period, tz)
    wanted = check_direction(direction)
    counts: Counter[tuple[int, str]] = Counter()
    for _, interaction in iter_records(records):
        if wanted is None or interaction.direction == wanted:
            counts[buckets.key(interaction.occurred_at), interaction.channel] += 1
    return [
        PeriodVolumeRow(period_start=buckets.start(key), channel=channel, interactions=count)
        for (key, channel), count in sorted(counts.items())
    ]
