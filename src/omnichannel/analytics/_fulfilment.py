"""Fulfilment of online orders in stores: click & collect pick-ups and in-store returns."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

from omnichannel._model import Channel, Interaction, InteractionKind
from omnichannel.analytics._common import (
    UNKNOWN_CHANNEL,
    Records,
    Row,
    iter_records,
    order_ids,
    quantile,
    ratio,
)
from omnichannel.analytics._response import ALL_CHANNELS

__all__ = ["FulfilmentRow", "fulfilment"]

_STORE = Channel.STORE.value
_ORDER = InteractionKind.ORDER.value
_PICKUP = InteractionKind.PICKUP.value
_RETURN = InteractionKind.RETURN.value


class FulfilmentRow(Row):
    """What happened in stores to the online orders placed on one channel.

    Attributes:
        channel: where the orders were placed (``"web"``, ``"app"`` ...); for pick-ups and
            returns of unseen orders, their ``metadata["original_channel"]`` or
            ``"unknown"``; ``"*"`` for all channels.
        orders: online orders (kind ``order`` on a channel other than ``store``), each
            order id once.
        click_and_collect: of which marked click & collect when placed
            (``metadata["fulfilment"] == "click_and_collect"`` or
            ``metadata["click_and_collect"]`` true) or picked up.
        click_and_collect_rate: ``click_and_collect / orders``.
        picked_up: of which picked up (a ``pickup`` references the order id).
        pickup_rate: ``picked_up / click_and_collect``: how many were collected.
        pickup_median_s: median seconds from the order to its first pick-up.
        returned_in_store: online orders a ``return`` on channel ``store`` references.
        return_in_store_rate: ``returned_in_store / orders``.
        unmatched_pickups: click & collect pick-ups of order ids never seen as orders.
        unmatched_returns: in-store returns of order ids never seen as orders (unless they
            say the order was placed in the store).
    """

    channel: str
    orders: int
    click_and_collect: int
    click_and_collect_rate: float | None
    picked_up: int
    pickup_rate: float | None
    pickup_median_s: float | None
    returned_in_store: int
    return_in_store_rate: float | None
    unmatched_pickups: int
    unmatched_returns: int


class _Tally:
    __slots__ = (
        "click_and_collect",
        "orders",
        "pickup_seconds",
        "returned",
        "unmatched_pickups",
        "unmatched_returns",
    )

    def __init__(self) -> None:
        self.orders = 0
        self.click_and_collect = 0
        self.pickup_seconds: list[float] = []
        self.returned = 0
        self.unmatched_pickups = 0
        self.unmatched_returns = 0

    def row(self, channel: str) -> FulfilmentRow:
        seconds = sorted(self.pickup_seconds)
        return FulfilmentRow(
            channel=channel,
            orders=self.orders,
            click_and_collect=self.click_and_collect,
            click_and_collect_rate=ratio(self.click_and_collect, self.orders),
            picked_up=len(seconds),
            pickup_rate=ratio(len(seconds), self.click_and_collect),
            pickup_median_s=quantile(seconds, 0.5),
            returned_in_store=self.returned,
            return_in_store_rate=ratio(self.returned, self.orders),
            unmatched_pickups=self.unmatched_pickups,
            unmatched_returns=self.unmatched_returns,
        )


class _Order:
    __slots__ = ("at", "channel", "click_and_collect")

    def __init__(self, at: datetime, channel: str, click_and_collect: bool) -> None:
        self.at = at
        self.channel = channel
        self.click_and_collect = click_and_collect


def _original_channel(interaction: Interaction) -> str | None:
    value = interaction.metadata.get("original_channel")
    return value if isinstance(value, str) else None


def _marked_click_and_collect(interaction: Interaction) -> bool:
    metadata = interaction.metadata
    return metadata.get("fulfilment") == "click_and_collect" or (
        metadata.get("click_and_collect") is True
    )


def fulfilment(records: Records) -> list[FulfilmentRow]:
    """Online orders per channel, and how many were collected or returned in a store.

    Orders, pick-ups and returns are matched by order id, the ``order_id`` of their
    :class:`~omnichannel.OrderRefPart` (the store adapter's shape: a pick-up and a return
    reference the original order), whoever's profile each landed on and in whatever
    order they come. An order interaction without an order reference counts as an order
    that nothing can match; an order id seen on several order interactions (status
    updates) is one order, placed on the channel and at the time of the earliest.

    Store orders (channel ``store``) are not online orders; pick-ups and returns of them
    are left out. A pick-up or in-store return of an order id never seen as an order is
    *unmatched*: counted under the channel its ``metadata["original_channel"]`` names (or
    ``"unknown"``), except when that is ``store`` or a pick-up says
    ``metadata["click_and_collect"]`` is false (the order was placed in the store). A
    click & collect pick-up without any order reference is unmatched too.

    Args:
        records: ``(profile_id, interaction)`` pairs (any order).

    Returns:
        One row per channel, sorted, then a row for all of them with channel ``"*"``;
        empty when there are no orders, pick-ups or returns to report.

    Raises:
        InvalidValueError: a naive ``occurred_at``.
    """
    online: dict[str, _Order] = {}
    store_orders: set[str] = set()
    unreferenced: Counter[str] = Counter()  # channel -> online orders without an order id
    pickups: dict[str, tuple[datetime, str | None, bool]] = {}  # id -> first, channel, c&c
    returns: dict[str, str | None] = {}  # order id -> original channel
    loose_pickups: Counter[str] = Counter()  # click & collect pick-ups without an order id
    for _, interaction in iter_records(records):
        ids = order_ids(interaction)
        at = interaction.occurred_at
        if interaction.kind == _ORDER:
            if interaction.channel == _STORE:
                store_orders.update(ids)
                continue
            if not ids:
                unreferenced[interaction.channel] += 1
            marked = _marked_click_and_collect(interaction)
            for order_id in ids:
                known = online.get(order_id)
                if known is None:
                    online[order_id] = _Order(at, interaction.channel, marked)
                    continue
                if at < known.at:
                    known.at, known.channel = at, interaction.channel
                known.click_and_collect = known.click_and_collect or marked
        elif interaction.kind == _PICKUP:
            flag = interaction.metadata.get("click_and_collect")
            origin = _original_channel(interaction)
            if not ids and flag is True:
                loose_pickups[origin or UNKNOWN_CHANNEL] += 1
            for order_id in ids:
                first = pickups.get(order_id)
                if first is None or at < first[0]:
                    pickups[order_id] = (at, origin, flag is not False)
        elif interaction.kind == _RETURN and interaction.channel == _STORE:
            for order_id in ids:
                returns.setdefault(order_id, _original_channel(interaction))
    return _rows(online, store_orders, unreferenced, pickups, returns, loose_pickups)


def _rows(
    online: dict[str, _Order],
    store_orders: set[str],
    unreferenced: Counter[str],
    pickups: dict[str, tuple[datetime, str | None, bool]],
    returns: dict[str, str | None],
    loose_pickups: Counter[str],
) -> list[FulfilmentRow]:
    tallies: defaultdict[str, _Tally] = defaultdict(_Tally)
    total = _Tally()
    for channel, count in unreferenced.items():
        for tally in (tallies[channel], total):
            tally.orders += count
    for order_id, order in online.items():
        pickup = pickups.get(order_id)
        for tally in (tallies[order.channel], total):
            tally.orders += 1
            tally.click_and_collect += order.click_and_collect or pickup is not None
            tally.returned += order_id in returns
            if pickup is not None:
                tally.pickup_seconds.append((pickup[0] - order.at).total_seconds())
    for order_id, (_, origin, click_and_collect) in pickups.items():
        if order_id in online or order_id in store_orders:
            continue
        if click_and_collect and origin != _STORE:
            for tally in (tallies[origin or UNKNOWN_CHANNEL], total):
                tally.unmatched_pickups += 1
    for channel, count in loose_pickups.items():
        if channel != _STORE:
            for tally in (tallies[channel], total):
                tally.unmatched_pickups += count
    for order_id, origin in returns.items():
        if order_id in online or order_id in store_orders or origin == _STORE:
            continue
        for tally in (tallies[origin or UNKNOWN_CHANNEL], total):
            tally.unmatched_returns += 1
    if not tallies:
        return []
    return [tallies[channel].row(channel) for channel in sorted(tallies)] + [
        total.row(ALL_CHANNELS)
    ]
