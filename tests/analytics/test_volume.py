"""Volume per channel, weekday and hour, and per channel over time."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnichannel import Direction, Identifier, Interaction, InvalidValueError
from omnichannel.analytics import PeriodVolumeRow, VolumeRow, volume, volume_over_time
from tests.analytics._builders import Record, at, event, records

UTC = timezone.utc


def sample() -> list[Record]:
    return records(
        [
            ("p1", event("sms", "2025-01-06T09:15:00Z")),  # Monday
            ("p1", event("sms", "2025-01-06T09:45:00Z", direction="outbound")),
            ("p2", event("email", "2025-01-06T09:59:00Z")),
            ("p2", event("sms", "2025-01-07T14:00:00Z", direction="internal")),  # Tuesday
            ("p3", event("sms", "2025-01-13T09:05:00Z")),  # the next Monday
        ]
    )


def test_counts_per_channel_weekday_and_hour() -> None:
    assert volume(sample()) == [
        VolumeRow(channel="email", weekday=0, hour=9, interactions=1, inbound=1, outbound=0),
        VolumeRow(channel="sms", weekday=0, hour=9, interactions=3, inbound=2, outbound=1),
        VolumeRow(channel="sms", weekday=1, hour=14, interactions=1, inbound=0, outbound=0),
    ]


def test_only_one_direction() -> None:
    assert volume(sample(), direction="inbound") == [
        VolumeRow(channel="email", weekday=0, hour=9, interactions=1, inbound=1, outbound=0),
        VolumeRow(channel="sms", weekday=0, hour=9, interactions=2, inbound=2, outbound=0),
    ]
    assert volume(sample(), direction=Direction.OUTBOUND) == [
        VolumeRow(channel="sms", weekday=0, hour=9, interactions=1, inbound=0, outbound=1)
    ]


def test_hours_are_local() -> None:
    rows = volume(sample(), tz="Europe/Warsaw")
    assert [(r.channel, r.weekday, r.hour) for r in rows] == [
        ("email", 0, 10),
        ("sms", 0, 10),
        ("sms", 1, 15),
    ]


def test_the_repeated_hour_counts_twice_and_the_skipped_one_never() -> None:
    pairs = [
        ("p", event("sms", "2025-10-26T00:30:00Z")),  # Sunday 02:30 CEST
        ("p", event("sms", "2025-10-26T01:30:00Z")),  # Sunday 02:30 CET
        ("p", event("sms", "2025-03-30T00:30:00Z")),  # Sunday 01:30 CET
        ("p", event("sms", "2025-03-30T01:30:00Z")),  # Sunday 03:30 CEST
    ]
    rows = volume(records(pairs), tz="Europe/Warsaw")
    assert [(r.weekday, r.hour, r.interactions) for r in rows] == [(6, 1, 1), (6, 2, 2), (6, 3, 1)]


def test_the_example_of_the_brief_with_identifiers() -> None:
    interaction = Interaction(
        channel="sms",
        occurred_at=at("2025-11-03T08:00:00+01:00"),
        identifiers=(Identifier.phone("+48601234567"),),
        topics=("payment problem",),
    )
    assert volume([("p", interaction)], tz="Europe/Warsaw") == [
        VolumeRow(channel="sms", weekday=0, hour=8, interactions=1, inbound=1, outbound=0)
    ]


def test_volume_over_time_per_period_and_channel() -> None:
    assert volume_over_time(sample()) == [
        PeriodVolumeRow(period_start=at("2025-01-06T00:00:00Z"), channel="email", interactions=1),
        PeriodVolumeRow(period_start=at("2025-01-06T00:00:00Z"), channel="sms", interactions=2),
        PeriodVolumeRow(period_start=at("2025-01-07T00:00:00Z"), channel="sms", interactions=1),
        PeriodVolumeRow(period_start=at("2025-01-13T00:00:00Z"), channel="sms", interactions=1),
    ]
    weekly = volume_over_time(sample(), period="week", direction="inbound")
    assert [(r.period_start.day, r.channel, r.interactions) for r in weekly] == [
        (6, "email", 1),
        (6, "sms", 1),
        (13, "sms", 1),
    ]


def test_nothing_in_nothing_out() -> None:
    assert volume([]) == []
    assert volume_over_time([]) == []


@pytest.mark.parametrize(
    ("call", "field", "reason"),
    [
        (lambda: volume([], tz="Nowhere/Land"), "tz", "is not a known IANA time zone name"),
        (lambda: volume([], direction="sideways"), "direction", "must be one of inbound"),
        (
            lambda: volume_over_time([], period="year"),  # type: ignore[arg-type]
            "period",
            "must be one of hour",
        ),
        (lambda: volume_over_time([], direction="up"), "direction", "must be one of"),
    ],
)
def test_bad_options_are_refused(call: object, field: str, reason: str) -> None:
    with pytest.raises(InvalidValueError, match=reason) as info:
        call()  # type: ignore[operator]
    assert info.value.field == field


def test_a_naive_time_is_refused() -> None:
    naive = Interaction.model_construct(
        channel="sms", occurred_at=datetime(2025, 1, 1, 12, 0), direction=Direction.INBOUND
    )
    with pytest.raises(InvalidValueError, match="naive datetime") as info:
        volume([("p", naive)])
    assert info.value.field == "occurred_at"


directions = st.sampled_from(["inbound", "outbound", "internal"])
channels = st.sampled_from(["sms", "email", "whatsapp", "store"])
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


@given(
    items=st.lists(st.tuples(channels, moments, directions), max_size=30),
    zone=st.sampled_from(["UTC", "Europe/Warsaw", "Asia/Kathmandu"]),
    period=st.sampled_from(["hour", "day", "week", "month"]),
)
def test_every_interaction_is_counted_once(
    items: list[tuple[str, datetime, str]], zone: str, period: str
) -> None:
    pairs = [
        (f"p{i % 3}", event(channel, moment, direction=direction))
        for i, (channel, moment, direction) in enumerate(items)
    ]
    rows = volume(pairs, tz=zone)
    assert sum(r.interactions for r in rows) == len(items)
    assert sum(r.inbound for r in rows) == sum(d == "inbound" for _, _, d in items)
    assert sum(r.outbound for r in rows) == sum(d == "outbound" for _, _, d in items)
    keys = [(r.channel, r.weekday, r.hour) for r in rows]
    assert keys == sorted(set(keys))
    over_time = volume_over_time(pairs, period=period, tz=zone)  # type: ignore[arg-type]
    assert sum(r.interactions for r in over_time) == len(items)
    assert all(r.period_start.utcoffset() is not None for r in over_time)
