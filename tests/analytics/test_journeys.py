"""Journeys: the channels before an order, and on to its pick-up."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnichannel import InvalidValueError
from omnichannel.analytics import NON_CONTACT_KINDS, JourneyRow, journeys
from tests.analytics._builders import Record, at, event, records

UTC = timezone.utc


def sample() -> list[Record]:
    return records(
        [
            # A: browses, asks in the web chat, orders online, collects in the store.
            ("a", event("web", "2025-11-01T10:00:00Z", kind="visit")),
            ("a", event("web", "2025-11-01T10:05:00Z", kind="visit")),
            ("a", event("webchat", "2025-11-01T10:10:00Z")),
            ("a", event("webchat", "2025-11-01T10:12:00Z", direction="outbound")),
            ("a", event("web", "2025-11-01T10:20:00Z", kind="order", orders=["W-1"])),
            (
                "a",
                event(
                    "sms",
                    "2025-11-01T10:21:00Z",
                    kind="status",
                    direction="outbound",
                    orders=["W-1"],
                ),
            ),
            # The pick-up landed on another profile (the store knew only a loyalty card).
            ("a2", event("store", "2025-11-02T17:00:00Z", kind="pickup", orders=["W-1"])),
            # B: an old email (outside the 30 days), an SMS, an order never collected.
            ("b", event("email", "2025-10-01T09:00:00Z")),
            ("b", event("sms", "2025-11-04T09:00:00Z")),
            ("b", event("web", "2025-11-05T09:00:00Z", kind="order", orders=["W-2"])),
            # D: the same path as B.
            ("d", event("sms", "2025-11-04T12:00:00Z")),
            ("d", event("web", "2025-11-05T12:00:00Z", kind="order", orders=["W-3"])),
            # C: an order, its status update (same id), then an app order without a reference.
            ("c", event("web", "2025-11-06T09:00:00Z", kind="order", orders=["W-4"])),
            ("c", event("web", "2025-11-06T09:30:00Z", kind="order", orders=["W-4"])),
            ("c", event("app", "2025-11-07T09:00:00Z", kind="order")),
        ]
    )


def test_paths_to_orders_and_on_to_pick_up() -> None:
    assert journeys(sample()) == [
        JourneyRow(path=("sms", "web:order"), orders=2, share=0.4),
        JourneyRow(path=("web", "app:order"), orders=1, share=0.2),
        JourneyRow(path=("web", "webchat", "web:order", "store:pickup"), orders=1, share=0.2),
        JourneyRow(path=("web:order",), orders=1, share=0.2),
    ]


def test_without_following_pick_ups() -> None:
    paths = {r.path for r in journeys(sample(), follow_pickups=False)}
    assert ("web", "webchat", "web:order") in paths
    assert not any(p[-1].endswith(":pickup") for p in paths)


def test_a_late_pick_up_is_not_followed() -> None:
    paths = {r.path for r in journeys(sample(), pickup_within=timedelta(hours=12))}
    assert ("web", "webchat", "web:order") in paths


def test_max_steps_keeps_the_latest_steps() -> None:
    paths = {r.path for r in journeys(sample(), max_steps=1)}
    assert ("webchat", "web:order", "store:pickup") in paths
    paths = {r.path for r in journeys(sample(), max_steps=0)}
    assert paths == {("web:order", "store:pickup"), ("web:order",), ("app:order",)}


def test_kinds_choose_the_steps() -> None:
    paths = {r.path for r in journeys(sample(), kinds={"message"})}
    assert ("webchat", "web:order", "store:pickup") in paths
    assert ("app:order",) in paths  # C's first order is not a step any more
    with_status = {r.path for r in journeys(sample(), kinds={"message", "status", "visit"})}
    assert ("web", "webchat", "web:order", "store:pickup") in with_status
    assert "status" in NON_CONTACT_KINDS


def test_the_lookback_boundary_is_inclusive() -> None:
    order_at = at("2025-11-30T10:00:00Z")
    edge = [
        ("p", event("email", order_at - timedelta(days=30, microseconds=1))),
        ("p", event("sms", order_at - timedelta(days=30))),
        ("p", event("web", order_at, kind="order", orders=["W-9"])),
    ]
    assert [r.path for r in journeys(records(edge))] == [("sms", "web:order")]


def test_one_pick_up_of_two_orders_completes_both_once() -> None:
    pairs = [
        ("p", event("web", "2025-11-01T10:00:00Z", kind="order", orders=["W-1"])),
        ("p", event("app", "2025-11-01T11:00:00Z", kind="order", orders=["A-1"])),
        ("p", event("store", "2025-11-02T10:00:00Z", kind="pickup", orders=["W-1", "A-1"])),
        ("p", event("store", "2025-11-02T10:05:00Z", kind="pickup", orders=["W-1"])),
        ("p", event("store", "2025-11-02T10:06:00Z", kind="pickup", orders=["X-1"])),
    ]
    assert journeys(records(pairs)) == [
        JourneyRow(path=("web", "app:order", "store:pickup"), orders=1, share=0.5),
        JourneyRow(path=("web:order", "store:pickup"), orders=1, share=0.5),
    ]


def test_an_order_with_a_new_id_beside_a_known_one_is_a_new_order() -> None:
    pairs = [
        ("p", event("web", "2025-11-01T10:00:00Z", kind="order", orders=["W-1"])),
        ("p", event("app", "2025-11-01T11:00:00Z", kind="order", orders=["W-1", "W-2"])),
        ("p", event("store", "2025-11-02T10:00:00Z", kind="pickup", orders=["W-1"])),
    ]
    assert journeys(records(pairs)) == [
        JourneyRow(path=("web", "app:order"), orders=1, share=0.5),
        JourneyRow(path=("web:order", "store:pickup"), orders=1, share=0.5),
    ]


def test_an_order_id_seen_again_after_the_window_is_a_new_order() -> None:
    pairs = [
        ("p", event("web", "2025-01-01T10:00:00Z", kind="order", orders=["W-1"])),
        ("p", event("web", "2025-03-01T10:00:00Z", kind="order", orders=["W-1"])),
    ]
    assert journeys(records(pairs)) == [JourneyRow(path=("web:order",), orders=2, share=1.0)]


def test_nothing_in_nothing_out() -> None:
    assert journeys([]) == []
    assert journeys([("p", event("sms", "2025-11-01T10:00:00Z"))]) == []


def test_records_out_of_order_are_refused() -> None:
    late = event("sms", "2025-11-02T10:00:00Z")
    early = event("sms", "2025-11-01T10:00:00Z")
    with pytest.raises(InvalidValueError, match="must be sorted") as info:
        journeys([("p", late), ("p", early)])
    assert info.value.field == "records"
    assert info.value.value == early.id


@pytest.mark.parametrize(
    ("options", "field", "reason"),
    [
        ({"lookback": timedelta(0)}, "lookback", "must be a positive timedelta"),
        ({"lookback": 30}, "lookback", "must be a positive timedelta"),
        ({"pickup_within": timedelta(days=-1)}, "pickup_within", "must be a positive timedelta"),
        ({"max_steps": -1}, "max_steps", "must be at least 0"),
        ({"max_steps": 2.0}, "max_steps", "must be an integer"),
        ({"kinds": "message"}, "kinds", "must be a collection of kinds"),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], field: str, reason: str) -> None:
    with pytest.raises(InvalidValueError, match=reason) as info:
        journeys([], **options)  # type: ignore[arg-type]
    assert info.value.field == field


def brute_force(
    pairs: Sequence[Record], lookback: timedelta, max_steps: int
) -> dict[tuple[str, ...], int]:
    """Each order's path by scanning everything before it (no pick-ups, unique order ids)."""
    counts: dict[tuple[str, ...], int] = {}
    for index, (profile, order) in enumerate(pairs):
        if order.kind != "order":
            continue
        channels = [
            i.channel
            for p, i in pairs[:index]
            if p == profile
            and i.occurred_at >= order.occurred_at - lookback
            and i.kind not in NON_CONTACT_KINDS
        ]
        collapsed = [c for n, c in enumerate(channels) if n == 0 or channels[n - 1] != c]
        steps = collapsed[-max_steps:] if max_steps else []
        path = (*steps, f"{order.channel}:order")
        counts[path] = counts.get(path, 0) + 1
    return counts


@given(
    items=st.lists(
        st.tuples(
            st.sampled_from(["p1", "p2", "p3"]),
            st.sampled_from(["web", "sms", "email", "store"]),
            st.sampled_from(["message", "visit", "order", "status"]),
            st.integers(0, 60 * 24 * 20),
        ),
        max_size=40,
    ),
    lookback_days=st.integers(1, 10),
    max_steps=st.integers(0, 4),
)
def test_the_streaming_pass_matches_a_brute_force_scan(
    items: list[tuple[str, str, str, int]], lookback_days: int, max_steps: int
) -> None:
    start = datetime(2025, 11, 1, tzinfo=UTC)
    pairs = records(
        (
            profile,
            event(
                channel,
                start + timedelta(minutes=minute),
                kind=kind,
                orders=[f"O-{n}"] if kind == "order" else [],
            ),
        )
        for n, (profile, channel, kind, minute) in enumerate(items)
    )
    lookback = timedelta(days=lookback_days)
    rows = journeys(pairs, lookback=lookback, max_steps=max_steps)
    assert {r.path: r.orders for r in rows} == brute_force(pairs, lookback, max_steps)
    assert sum(r.orders for r in rows) == sum(kind == "order" for _, _, kind, _ in items)
