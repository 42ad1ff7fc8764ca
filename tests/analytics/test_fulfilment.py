"""Online orders collected or returned in store."""

from __future__ import annotations

from pydantic import JsonValue

from omnichannel.analytics import FulfilmentRow, fulfilment
from tests.analytics._builders import Record, event, records

CC: dict[str, JsonValue] = {"fulfilment": "click_and_collect"}


def sample() -> list[Record]:
    return records(
        [
            # W-1: click & collect, picked up a day later.
            ("a", event("web", "2025-11-01T10:00:00Z", kind="order", orders=["W-1"], metadata=CC)),
            ("a", event("store", "2025-11-02T10:00:00Z", kind="pickup", orders=["W-1"])),
            ("a", event("web", "2025-11-03T10:00:00Z", kind="return", orders=["W-1"])),  # by post
            # W-2: not marked, but picked up six hours later.
            ("b", event("web", "2025-11-01T10:00:00Z", kind="order", orders=["W-2"])),
            ("b", event("store", "2025-11-01T16:00:00Z", kind="pickup", orders=["W-2"])),
            # W-3: delivered by courier, returned in a store.
            ("c", event("web", "2025-11-01T11:00:00Z", kind="order", orders=["W-3"])),
            ("c", event("store", "2025-11-09T11:00:00Z", kind="return", orders=["W-3"])),
            # W-4: marked click & collect on its update only; never collected.
            ("d", event("web", "2025-11-01T12:00:00Z", kind="order", orders=["W-4"])),
            ("d", event("web", "2025-11-01T12:05:00Z", kind="order", orders=["W-4"], metadata=CC)),
            # A web order without a reference.
            ("e", event("web", "2025-11-01T13:00:00Z", kind="order")),
            # an app order flagged in metadata, collected two days later.
            (
                "f",
                event(
                    "app",
                    "2025-11-02T09:00:00Z",
                    kind="order",
                    orders=["A-1"],
                    metadata={"click_and_collect": True},
                ),
            ),
            ("f", event("store", "2025-11-04T09:00:00Z", kind="pickup", orders=["A-1"])),
            # S-1: a store order, its pick-up and return are not about online orders.
            ("g", event("store", "2025-11-02T09:00:00Z", kind="order", orders=["S-1"])),
            (
                "g",
                event(
                    "store",
                    "2025-11-03T09:00:00Z",
                    kind="pickup",
                    orders=["S-1"],
                    metadata={"click_and_collect": False},
                ),
            ),
            ("g", event("store", "2025-11-04T09:00:00Z", kind="return", orders=["S-1"])),
            # Pick-ups and returns of orders never seen.
            (
                "h",
                event(
                    "store",
                    "2025-11-05T09:00:00Z",
                    kind="pickup",
                    orders=["X-9"],
                    metadata={"click_and_collect": True, "original_channel": "web"},
                ),
            ),
            ("h", event("store", "2025-11-05T10:00:00Z", kind="pickup", orders=["X-8"])),
            (
                "h",
                event(
                    "store",
                    "2025-11-05T11:00:00Z",
                    kind="pickup",
                    metadata={"click_and_collect": True, "original_channel": "app"},
                ),
            ),
            (
                "h",
                event(
                    "store",
                    "2025-11-05T11:30:00Z",
                    kind="pickup",
                    metadata={"click_and_collect": True, "original_channel": "store"},
                ),
            ),
            (
                "h",
                event(
                    "store",
                    "2025-11-05T12:00:00Z",
                    kind="pickup",
                    orders=["X-7"],
                    metadata={"click_and_collect": True, "original_channel": "store"},
                ),
            ),
            (
                "h",
                event(
                    "store",
                    "2025-11-05T12:30:00Z",
                    kind="pickup",
                    orders=["X-6"],
                    metadata={"click_and_collect": False},
                ),
            ),
            (
                "h",
                event(
                    "store",
                    "2025-11-06T09:00:00Z",
                    kind="return",
                    orders=["R-7"],
                    metadata={"original_channel": "store"},
                ),
            ),
            ("h", event("store", "2025-11-06T10:00:00Z", kind="return", orders=["R-8"])),
        ]
    )


def test_orders_per_channel_then_all() -> None:
    assert fulfilment(sample()) == [
        FulfilmentRow(
            channel="app",
            orders=1,
            click_and_collect=1,
            click_and_collect_rate=1.0,
            picked_up=1,
            pickup_rate=1.0,
            pickup_median_s=172800.0,
            returned_in_store=0,
            return_in_store_rate=0.0,
            unmatched_pickups=1,
            unmatched_returns=0,
        ),
        FulfilmentRow(
            channel="unknown",
            orders=0,
            click_and_collect=0,
            click_and_collect_rate=None,
            picked_up=0,
            pickup_rate=None,
            pickup_median_s=None,
            returned_in_store=0,
            return_in_store_rate=None,
            unmatched_pickups=1,
            unmatched_returns=1,
        ),
        FulfilmentRow(
            channel="web",
            orders=5,
            click_and_collect=3,
            click_and_collect_rate=0.6,
            picked_up=2,
            pickup_rate=2 / 3,
            pickup_median_s=54000.0,
            returned_in_store=1,
            return_in_store_rate=0.2,
            unmatched_pickups=1,
            unmatched_returns=0,
        ),
        FulfilmentRow(
            channel="*",
            orders=6,
            click_and_collect=4,
            click_and_collect_rate=4 / 6,
            picked_up=3,
            pickup_rate=0.75,
            pickup_median_s=86400.0,
            returned_in_store=1,
            return_in_store_rate=1 / 6,
            unmatched_pickups=3,
            unmatched_returns=1,
        ),
    ]


def test_the_order_does_not_matter_the_earliest_wins() -> None:
    pairs = [
        ("p", event("store", "2025-11-06T12:00:00Z", kind="pickup", orders=["W-9"])),
        ("p", event("web", "2025-11-05T09:00:00Z", kind="order", orders=["W-9"])),
        ("p", event("store", "2025-11-04T12:00:00Z", kind="pickup", orders=["W-9"])),
        ("p", event("app", "2025-11-03T12:00:00Z", kind="order", orders=["W-9"])),
        ("p", event("store", "2025-11-07T12:00:00Z", kind="pickup", orders=["W-9"])),
    ]
    app, total = fulfilment(pairs)
    assert (app.channel, app.orders, app.picked_up, app.pickup_median_s) == ("app", 1, 1, 86400.0)
    assert total.channel == "*"


def test_nothing_to_report() -> None:
    assert fulfilment([]) == []
    store_only = [
        ("p", event("store", "2025-11-02T09:00:00Z", kind="order", orders=["S-1"])),
        ("p", event("sms", "2025-11-02T10:00:00Z")),
    ]
    assert fulfilment(store_only) == []
