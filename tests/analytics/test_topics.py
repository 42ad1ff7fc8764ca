"""Topic counts over time and topic spikes (the payment-problem month)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnichannel import InvalidValueError
from omnichannel.analytics import (
    TopicCountRow,
    TopicSpikeRow,
    poisson_upper_tail,
    topic_counts,
    topic_spikes,
)
from tests.analytics._builders import WARSAW, Record, at, conversation, event, records

UTC = timezone.utc


def sample() -> list[Record]:
    return records(
        [
            ("p1", event("sms", "2025-11-03T10:00:00+01:00", topics=["payment problem"])),
            (
                "p2",
                event("email", "2025-11-03T11:00:00+01:00", topics=["payment problem", "delivery"]),
            ),
            ("p3", event("sms", "2025-11-03T12:00:00+01:00", conversation_id="c1")),
            ("p1", event("sms", "2025-11-04T09:00:00+01:00", topics=["Payment  Problem"])),
            (
                "p4",
                event("sms", "2025-11-04T09:30:00+01:00", topics=["refund"], conversation_id="c1"),
            ),
        ]
    )


def test_counts_per_period_topic_and_channel() -> None:
    day = datetime(2025, 11, 3, tzinfo=WARSAW)
    assert topic_counts(sample(), tz="Europe/Warsaw") == [
        TopicCountRow(period_start=day, topic="delivery", channel="email", count=1),
        TopicCountRow(period_start=day, topic="payment problem", channel="email", count=1),
        TopicCountRow(period_start=day, topic="payment problem", channel="sms", count=1),
        TopicCountRow(
            period_start=day + timedelta(days=1), topic="payment problem", channel="sms", count=1
        ),
        TopicCountRow(period_start=day + timedelta(days=1), topic="refund", channel="sms", count=1),
    ]


def test_conversation_topics_reach_their_interactions() -> None:
    tagged = conversation(["sms"], "2025-11-03T12:00:00+01:00", topics=["refund"], id="c1")
    other = conversation(["sms"], "2025-11-03T12:00:00+01:00", id="c2")
    rows = topic_counts(sample(), tz="Europe/Warsaw", conversations=[tagged, other])
    refunds = [(r.period_start.day, r.count) for r in rows if r.topic == "refund"]
    assert refunds == [(3, 1), (4, 1)]  # the untagged message now counts; no double count


def test_weekly_counts() -> None:
    rows = topic_counts(sample(), period="week")
    assert {(r.topic, r.channel): r.count for r in rows} == {
        ("delivery", "email"): 1,
        ("payment problem", "email"): 1,
        ("payment problem", "sms"): 2,
        ("refund", "sms"): 1,
    }
    assert {r.period_start for r in rows} == {at("2025-11-03T00:00:00Z")}


def payment_problem_month() -> list[Record]:
    """November 2025 in Warsaw: a few payment problems a day, then a spike on the 25th."""
    daily = [
        1,
        2,
        0,
        1,
        3,
        2,
        1,
        2,
        1,
        0,
        2,
        3,
        1,
        2,
        2,
        1,
        0,
        1,
        2,
        3,
        1,
        2,
        1,
        2,
        14,
        3,
        2,
        1,
        2,
        1,
    ]
    pairs: list[Record] = []
    for day, count in enumerate(daily, start=1):
        base = datetime(2025, 11, day, 9, 0, tzinfo=WARSAW)
        for n in range(count):
            channel = ("sms", "email", "whatsapp")[n % 3]
            pairs.append(
                (
                    f"c{day}-{n}",
                    event(channel, base + timedelta(minutes=7 * n), topics=["payment problem"]),
                )
            )
        for n in range(3):
            pairs.append(
                (f"d{day}-{n}", event("email", base + timedelta(hours=n), topics=["delivery"]))
            )
    return records(pairs)


def test_the_payment_problem_spike_of_the_month() -> None:
    spikes = topic_spikes(payment_problem_month(), tz="Europe/Warsaw")
    before = [1, 2, 0, 1, 3, 2, 1, 2, 1, 0, 2, 3, 1, 2, 2, 1, 0, 1, 2, 3, 1, 2, 1, 2]
    expected = sum(before) / len(before)
    assert spikes == [
        TopicSpikeRow(
            topic="payment problem",
            period_start=datetime(2025, 11, 25, tzinfo=WARSAW),
            observed=14,
            expected=expected,
            p_value=poisson_upper_tail(14, expected),
        )
    ]
    assert spikes[0].period_start.utcoffset() == timedelta(hours=1)


def test_a_topic_that_was_silent_spikes_when_it_appears() -> None:
    pairs = [("p", event("sms", datetime(2025, 11, d, 12, tzinfo=UTC))) for d in range(1, 21)]
    pairs += [(f"q{n}", event("sms", "2025-11-21T12:00:00Z", topics=["outage"])) for n in range(6)]
    (spike,) = topic_spikes(records(pairs))
    assert (spike.topic, spike.period_start, spike.observed, spike.expected) == (
        "outage",
        at("2025-11-21T00:00:00Z"),
        6,
        0.0,
    )
    # Without the untopiced days, the window starts at the first mention: nothing to compare.
    assert topic_spikes(records(pairs[20:])) == []


def test_start_and_end_set_the_window() -> None:
    month = payment_problem_month()
    assert topic_spikes(month, tz=WARSAW, end=at("2025-11-24T23:00:00+01:00")) == []
    assert topic_spikes(month, tz=WARSAW, start=at("2025-11-20T00:00:00+01:00")) == []  # too few
    late = topic_spikes(
        month, tz=WARSAW, start=at("2025-11-10T00:00:00+01:00"), end=at("2025-11-30T12:00:00+01:00")
    )
    assert [r.period_start.day for r in late] == [25]
    # A window past the data: the missing days are zeros, nothing rises.
    assert topic_spikes(month, start=at("2025-12-05T00:00:00Z")) == []


def test_hourly_spikes_across_the_night_clocks_go_back() -> None:
    pairs: list[Record] = []
    start = at("2025-10-25T12:00:00Z")
    for hour in range(30):
        moment = start + timedelta(hours=hour)
        count = 12 if hour == 20 else 1
        pairs += [(f"p{hour}-{n}", event("sms", moment, topics=["login"])) for n in range(count)]
    (spike,) = topic_spikes(records(pairs), period="hour", tz="Europe/Warsaw", baseline=12)
    assert spike.period_start == (start + timedelta(hours=20)).astimezone(WARSAW)
    assert (spike.observed, spike.expected) == (12, 1.0)


def test_nothing_in_nothing_out() -> None:
    assert topic_counts([]) == []
    assert topic_spikes([]) == []
    untopiced = [("p", event("sms", "2025-11-01T00:00:00Z"))]
    assert topic_counts(untopiced) == []
    assert topic_spikes(untopiced) == []
    assert topic_spikes([], start=at("2025-11-01T00:00:00Z")) == []


@pytest.mark.parametrize(
    ("options", "field", "reason"),
    [
        ({"period": "minute"}, "period", "must be one of"),
        ({"tz": "Atlantis"}, "tz", "is not a known IANA time zone name"),
        ({"baseline": 0}, "baseline", "must be at least 1"),
        ({"alpha": 2}, "alpha", "must be a number between 0 and 1"),
        ({"min_count": -5}, "min_count", "must be at least 0"),
        ({"start": datetime(2025, 1, 1)}, "start", "naive datetime"),
        ({"end": datetime(2025, 1, 1)}, "end", "naive datetime"),
        (
            {"start": at("2025-02-01T00:00:00Z"), "end": at("2025-01-01T00:00:00Z")},
            "end",
            "must not be before start",
        ),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], field: str, reason: str) -> None:
    with pytest.raises(InvalidValueError, match=reason) as info:
        topic_spikes([], **options)  # type: ignore[arg-type]
    assert info.value.field == field


labels = st.lists(st.sampled_from(["payment problem", "delivery", "refund"]), max_size=3)


@given(
    items=st.lists(
        st.tuples(
            st.sampled_from(["sms", "email"]),
            st.datetimes(
                min_value=datetime(2024, 1, 1),
                max_value=datetime(2026, 1, 1),
                timezones=st.just(UTC),
            ),
            labels,
        ),
        max_size=25,
    ),
    period=st.sampled_from(["hour", "day", "week", "month"]),
)
def test_every_topic_label_is_counted_once(
    items: list[tuple[str, datetime, list[str]]], period: str
) -> None:
    pairs = [("p", event(channel, moment, topics=topics)) for channel, moment, topics in items]
    rows = topic_counts(pairs, period=period, tz="Europe/Warsaw")  # type: ignore[arg-type]
    assert sum(r.count for r in rows) == sum(len(set(topics)) for _, _, topics in items)
