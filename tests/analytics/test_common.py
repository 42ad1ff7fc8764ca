"""Time buckets in a time zone (DST included), option checks and quantiles."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnichannel import InvalidValueError
from omnichannel.analytics import volume_over_time
from omnichannel.analytics._common import Bucketer, quantile, resolve_tz
from tests.analytics._builders import WARSAW, at, event

UTC = timezone.utc
ZONES = ["UTC", "Europe/Warsaw", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]


@pytest.mark.parametrize(
    ("tz", "reason"),
    [
        ("Mars/Olympus_Mons", "is not a known IANA time zone name"),
        ("europe/warsaw", "is not a known IANA time zone name"),
        ("Europe", "is not a known IANA time zone name"),
        ("../etc/passwd", "is not a known IANA time zone name"),
        (3600, "must be a time zone name or a tzinfo"),
    ],
)
def test_bad_time_zones_are_refused(tz: object, reason: str) -> None:
    with pytest.raises(InvalidValueError, match=reason) as info:
        resolve_tz(tz)  # type: ignore[arg-type]
    assert info.value.field == "tz"
    assert info.value.value == tz


def test_a_tzinfo_is_used_as_given() -> None:
    fixed = timezone(timedelta(hours=5, minutes=30))
    assert resolve_tz(fixed) is fixed
    assert resolve_tz("Europe/Warsaw") == WARSAW


def test_an_unknown_period_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="must be one of hour, day, week, month") as info:
        Bucketer("fortnight", "UTC")
    assert info.value.field == "period"


def test_hours_when_clocks_go_back_are_two_periods() -> None:
    # 2025-10-26 in Warsaw: 03:00 CEST becomes 02:00 CET; local 02:30 happens twice.
    first = event("sms", "2025-10-26T00:30:00Z")
    second = event("sms", "2025-10-26T01:30:00Z")
    rows = volume_over_time([("p", first), ("p", second)], period="hour", tz="Europe/Warsaw")
    assert [(r.period_start.hour, r.period_start.utcoffset()) for r in rows] == [
        (2, timedelta(hours=2)),
        (2, timedelta(hours=1)),
    ]
    assert [r.period_start.astimezone(UTC) for r in rows] == [
        at("2025-10-26T00:00:00Z"),
        at("2025-10-26T01:00:00Z"),
    ]


def test_days_start_at_local_midnight_across_the_spring_change() -> None:
    pairs = [
        ("p", event("sms", "2025-03-29T23:30:00Z")),  # 30 Mar 00:30 CET
        ("p", event("sms", "2025-03-30T21:30:00Z")),  # 30 Mar 23:30 CEST
        ("p", event("sms", "2025-03-30T22:30:00Z")),  # 31 Mar 00:30 CEST
    ]
    rows = volume_over_time(pairs, period="day", tz=WARSAW)
    assert [(r.period_start, r.interactions) for r in rows] == [
        (datetime(2025, 3, 30, tzinfo=WARSAW), 2),
        (datetime(2025, 3, 31, tzinfo=WARSAW), 1),
    ]
    assert rows[0].period_start.utcoffset() == timedelta(hours=1)
    assert rows[1].period_start.utcoffset() == timedelta(hours=2)
    assert rows[0].period_start.tzinfo is WARSAW


def test_weeks_start_on_monday_and_months_on_the_first() -> None:
    pairs = [
        ("p", event("sms", "2025-01-08T12:00:00+01:00")),  # a Wednesday
        ("p", event("sms", "2024-12-31T23:30:00Z")),  # 1 Jan 2025 in Warsaw, 31 Dec in UTC
    ]
    weeks = volume_over_time(pairs, period="week", tz="Europe/Warsaw")
    assert [r.period_start for r in weeks] == [
        datetime(2024, 12, 30, tzinfo=WARSAW),
        datetime(2025, 1, 6, tzinfo=WARSAW),
    ]
    months = volume_over_time(pairs, period="month", tz="Europe/Warsaw")
    assert [(r.period_start, r.interactions) for r in months] == [
        (datetime(2025, 1, 1, tzinfo=WARSAW), 2)
    ]
    months_utc = volume_over_time(pairs, period="month")
    assert [r.period_start for r in months_utc] == [
        datetime(2024, 12, 1, tzinfo=UTC),
        datetime(2025, 1, 1, tzinfo=UTC),
    ]


def test_a_midnight_skipped_by_dst_starts_the_day_at_its_first_instant() -> None:
    # Santiago skips 2022-09-11 00:00-01:00: the day starts at 01:00 -03.
    santiago = ZoneInfo("America/Santiago")
    buckets = Bucketer("day", santiago)
    start = buckets.start(buckets.key(at("2022-09-11T12:00:00-03:00")))
    assert (start.hour, start.utcoffset()) == (1, timedelta(hours=-3))
    assert start.astimezone(UTC) == at("2022-09-11T04:00:00Z")


def test_the_hourly_span_of_a_day_when_clocks_go_back_has_25_hours() -> None:
    buckets = Bucketer("hour", WARSAW)
    first = buckets.key(at("2025-10-26T00:00:00+02:00"))
    last = buckets.key(at("2025-10-26T23:00:00+01:00"))
    keys = buckets.span(first, last)
    assert len(keys) == 25
    assert len(Bucketer("hour", "UTC").span(first, first + 3600 * 24)) == 25


def test_the_half_hour_dst_change_of_lord_howe() -> None:
    # Lord Howe moves by 30 minutes: at 02:00 +10:30 clocks go to 02:30 +11 (2025-10-05).
    buckets = Bucketer("hour", "Australia/Lord_Howe")
    first = buckets.key(at("2025-10-05T00:00:00+10:30"))
    last = buckets.key(at("2025-10-05T05:00:00+11:00"))
    starts = [buckets.start(k) for k in buckets.span(first, last)]
    assert [s.strftime("%H:%M%z") for s in starts] == [
        "00:00+1030",
        "01:00+1030",
        "02:30+1100",
        "03:00+1100",
        "04:00+1100",
        "05:00+1100",
    ]


@given(
    zone=st.sampled_from(ZONES),
    period=st.sampled_from(["hour", "day", "week", "month"]),
    moments=st.lists(
        st.datetimes(
            min_value=datetime(1990, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
        ),
        min_size=1,
        max_size=5,
    ),
)
def test_buckets_hold_their_moments_and_spans_are_ordered(
    zone: str, period: str, moments: list[datetime]
) -> None:
    buckets = Bucketer(period, zone)
    keys = [buckets.key(m) for m in moments]
    for moment, key in zip(moments, keys, strict=True):
        start = buckets.start(key)
        assert start <= moment
        assert buckets.key(start) == key
    first, last = min(keys), max(keys)
    if period == "hour" and last - first > 3600 * 24 * 40:
        last = buckets.key(datetime.fromtimestamp(first + 3600 * 24 * 40, UTC))  # a short walk
    span = buckets.span(first, last, keys)
    assert span == sorted(set(span))
    assert span[0] == first
    assert span[-1] == last
    assert {k for k in keys if k <= last} <= set(span)


def test_quantiles_interpolate_between_ranks() -> None:
    assert quantile([], 0.5) is None
    assert quantile([7.0], 0.9) == 7.0
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert quantile([0.0, 10.0], 0.9) == 9.0
    assert quantile([1.0, 2.0, 3.0], 1.0) == 3.0


def test_day_week_and_month_spans_are_gap_free() -> None:
    moments = (at("2025-01-30T12:00:00+01:00"), at("2025-03-02T12:00:00+01:00"))
    for period, length in (("day", 32), ("week", 5), ("month", 3)):
        buckets = Bucketer(period, WARSAW)
        keys = buckets.span(buckets.key(moments[0]), buckets.key(moments[1]))
        assert len(keys) == length, period
        starts = [buckets.start(k) for k in keys]
        assert starts[0] <= moments[0]
        assert starts[-1] <= moments[1]
    weeks = Bucketer("week", WARSAW)
    assert all(
        weeks.start(k).weekday() == 0
        for k in weeks.span(weeks.key(moments[0]), weeks.key(moments[1]))
    )
