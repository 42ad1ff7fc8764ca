"""Journeys: the channels a customer went through before an order, and after it to pick-up."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Reversible
from datetime import datetime, timedelta

from pydantic import Field

from omnichannel._errors import InvalidValueError
from omnichannel._model import InteractionKind
from omnichannel.analytics._common import Records, Row, check_int, iter_records, order_ids

__all__ = ["NON_CONTACT_KINDS", "JourneyRow", "journeys"]

NON_CONTACT_KINDS: frozenset[str] = frozenset(
    {InteractionKind.STATUS.value, InteractionKind.REACTION.value, InteractionKind.NOTE.value}
)
"""Kinds that echo other interactions rather than being contacts (delivery receipts,
reactions, internal notes): not journey steps unless asked for."""

_ORDER = InteractionKind.ORDER.value
_PICKUP = InteractionKind.PICKUP.value


class JourneyRow(Row):
    """How many orders followed one path of channels.

    Attributes:
        path: the steps, oldest first: plain channel slugs (``"web"``, ``"webchat"``), then
            the order as ``"<channel>:order"``, then, for a click & collect order that was
            collected, the pick-up as ``"<channel>:pickup"`` (``"store:pickup"``).
        orders: how many orders took this path.
        share: ``orders`` over all orders, in [0, 1].
    """

    path: tuple[str, ...]
    orders: int
    share: float = Field(ge=0, le=1)


class _Order:
    """An order seen within the window: its path, and whether a pick-up completed it."""

    __slots__ = ("collected", "path")

    def __init__(self, path: tuple[str, ...]) -> None:
        self.path = path
        self.collected = False


def journeys(
    records: Records,
    *,
    lookback: timedelta = timedelta(days=30),
    max_steps: int = 5,
    kinds: Iterable[str] | None = None,
    follow_pickups: bool = True,
    pickup_within: timedelta = timedelta(days=30),
) -> list[JourneyRow]:
    """The paths of channels that led customers to orders, counted.

    For each interaction of kind ``order``, its customer's interactions in the ``lookback``
    before it (``occurred_at`` at least ``order.occurred_at - lookback``, records earlier
    in the input) give the steps: their channels, consecutive repeats collapsed
    (``web, web, webchat, web`` is ``web, webchat, web``), the last ``max_steps`` kept.
    Earlier orders and pick-ups are plain steps like any other. The order itself is the
    last step, ``"<channel>:order"``.

    With ``follow_pickups``, an order is followed to its pick-up: an interaction of kind
    ``pickup`` within ``pickup_within`` after it that references one of its order ids
    (:class:`~omnichannel.OrderRefPart`), whoever's profile it landed on, appends
    ``"<channel>:pickup"``. So a customer who browsed the web shop, asked in the web chat,
    ordered online and collected in the store is counted under
    ``("web", "webchat", "web:order", "store:pickup")``: the "web, chat, store pick-up"
    journey. An uncollected order keeps its path without a pick-up.

    An order interaction whose order ids were all seen on an order in the last
    ``pickup_within`` is an update of that order (a status change) and is not counted again.

    One pass; the state kept is the steps of the last ``lookback`` and the orders of the
    last ``pickup_within``, whatever the length of the input.

    Args:
        records: ``(profile_id, interaction)`` pairs, sorted by ``(occurred_at,
            interaction.id)``.
        lookback: how far before an order steps count (> 0).
        max_steps: how many steps before the order to keep, the most recent (>= 0).
        kinds: the kinds of interaction that are steps (None: every kind except those in
            :data:`NON_CONTACT_KINDS`). Orders are always counted, whether or not ``order``
            is among the step kinds.
        follow_pickups: follow orders to their pick-ups.
        pickup_within: how long after an order a pick-up completes it (> 0).

    Returns:
        One row per path, by orders (most first), then path.

    Raises:
        InvalidValueError: a bad option, a naive ``occurred_at``, records out of order.
    """
    lookback = _check_window("lookback", lookback)
    pickup_within = _check_window("pickup_within", pickup_within)
    max_steps = check_int("max_steps", max_steps, 0)
    step_kinds = _check_kinds(kinds)

    steps: dict[str, deque[str]] = {}  # profile -> channels of its steps in the window
    step_expiry: deque[tuple[datetime, str]] = deque()  # (time, profile), oldest first
    orders: dict[str, _Order] = {}  # order id -> the order, within pickup_within
    order_expiry: deque[tuple[datetime, str]] = deque()  # (time, order id), oldest first
    paths: Counter[tuple[str, ...]] = Counter()

    for profile_id, interaction in iter_records(records, check_order=True):
        now = interaction.occurred_at
        while step_expiry and step_expiry[0][0] < now - lookback:
            _, expired = step_expiry.popleft()
            trail = steps[expired]
            trail.popleft()
            if not trail:
                del steps[expired]
        while order_expiry and order_expiry[0][0] < now - pickup_within:
            del orders[order_expiry.popleft()[1]]

        ids = order_ids(interaction)
        if interaction.kind == _ORDER and (not ids or any(i not in orders for i in ids)):
            path = (
                *_collapse(steps.get(profile_id, ()), max_steps),
                f"{interaction.channel}:order",
            )
            paths[path] += 1
            order = _Order(path)
            for order_id in ids:
                if order_id not in orders:
                    orders[order_id] = order
                    order_expiry.append((now, order_id))
        elif interaction.kind == _PICKUP and follow_pickups:
            for order_id in ids:
                found = orders.get(order_id)
                if found is not None and not found.collected:
                    found.collected = True
                    paths[found.path] -= 1
                    collected = (*found.path, f"{interaction.channel}:pickup")
                    paths[collected] += 1

        if _is_step(interaction.kind, step_kinds):
            steps.setdefault(profile_id, deque()).append(interaction.channel)
            step_expiry.append((now, profile_id))

    total = sum(paths.values())
    return [
        JourneyRow(path=path, orders=count, share=count / total)
        for path, count in sorted(paths.items(), key=lambda item: (-item[1], item[0]))
        if count
    ]


def _is_step(kind: str, step_kinds: frozenset[str] | None) -> bool:
    if step_kinds is None:
        return kind not in NON_CONTACT_KINDS
    return kind in step_kinds


def _collapse(channels: Reversible[str], max_steps: int) -> tuple[str, ...]:
    """The last ``max_steps`` channels, consecutive repeats collapsed, oldest first."""
    kept: list[str] = []
    for channel in reversed(channels):
        if kept and kept[-1] == channel:
            continue
        if len(kept) == max_steps:
            break
        kept.append(channel)
    return tuple(reversed(kept))


def _check_window(field: str, value: timedelta) -> timedelta:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise InvalidValueError(field, value, "must be a positive timedelta", mask=False)
    return value


def _check_kinds(kinds: Iterable[str] | None) -> frozenset[str] | None:
    if kinds is None:
        return None
    if isinstance(kinds, str):
        raise InvalidValueError(
            "kinds", kinds, "must be a collection of kinds, not one string", mask=False
        )
    return frozenset(kinds)
