"""Topics over time, and topics that suddenly rise."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime, tzinfo

from pydantic import AwareDatetime

from omnichannel._errors import InvalidValueError
from omnichannel._model import Conversation
from omnichannel.analytics._common import (
    Bucketer,
    Period,
    Records,
    Row,
    check_aware,
    conversation_topics,
    interaction_topics,
    iter_records,
)
from omnichannel.analytics._spikes import check_spike_options, detect_spikes

__all__ = ["TopicCountRow", "TopicSpikeRow", "topic_counts", "topic_spikes"]


class TopicCountRow(Row):
    """Interactions about one topic on one channel in one period.

    Attributes:
        period_start: the start of the period, an aware datetime in the report's time zone.
        topic: the topic label.
        channel: the channel slug.
        count: how many interactions carried the topic.
    """

    period_start: AwareDatetime
    topic: str
    channel: str
    count: int


class TopicSpikeRow(Row):
    """A period in which a topic was mentioned improbably often (see :func:`detect_spikes`).

    Attributes:
        topic: the topic label.
        period_start: the start of the period, an aware datetime in the report's time zone.
        observed: interactions carrying the topic in the period, all channels together.
        expected: the mean of the trailing baseline periods.
        p_value: ``P(X >= observed)`` under ``Poisson(max(expected, MIN_RATE))``.
    """

    topic: str
    period_start: AwareDatetime
    observed: int
    expected: float
    p_value: float


def topic_counts(
    records: Records,
    *,
    period: Period = "day",
    tz: str | tzinfo = "UTC",
    conversations: Iterable[Conversation] | None = None,
) -> list[TopicCountRow]:
    """Interactions per period, topic and channel.

    An interaction counts once under each of its topics; one without topics is not
    counted. With ``conversations``, an interaction also counts under the topics of its
    conversation (matched by ``interaction.conversation_id``), so that a label an agent put
    on the conversation reaches every message in it.

    Args:
        records: ``(profile_id, interaction)`` pairs (any order).
        period: ``"hour"``, ``"day"``, ``"week"`` (from Monday) or ``"month"``.
        tz: the time zone the periods start in: an IANA name or a ``tzinfo``.
        conversations: conversations whose topics extend their interactions' topics.

    Returns:
        One row per period, topic and channel with a count, sorted by period, topic and
        channel.

    Raises:
        InvalidValueError: an unknown period or time zone, a naive ``occurred_at``.
    """
    buckets = Bucketer(period, tz)
    extra = conversation_topics(conversations)
    counts: Counter[tuple[int, str, str]] = Counter()
    for _, interaction in iter_records(records):
        topics = interaction_topics(interaction, extra)
        if topics:
            key = buckets.key(interaction.occurred_at)
            for topic in topics:
                counts[key, topic, interaction.channel] += 1
    return [
        TopicCountRow(period_start=buckets.start(key), topic=topic, channel=channel, count=n)
        for (key, topic, channel), n in sorted(counts.items())
    ]


def topic_spikes(
    records: Records,
    *,
    period: Period = "day",
    tz: str | tzinfo = "UTC",
    baseline: int = 28,
    alpha: float = 0.001,
    min_count: int = 5,
    min_baseline: int = 7,
    start: datetime | None = None,
    end: datetime | None = None,
    conversations: Iterable[Conversation] | None = None,
) -> list[TopicSpikeRow]:
    """Periods in which a topic was mentioned improbably often, all channels together.

    Each topic gets a gap-free series of counts (interactions carrying it, as in
    :func:`topic_counts`) over the same periods: from the period of the first record to
    that of the last, or from ``start`` to ``end``. A period without mentions counts 0,
    and records without topics still widen the window, so a topic that was silent for weeks
    and then appears has a baseline of zeros.

    The test is :func:`detect_spikes` on each series: a one-sided Poisson test of the
    period's count against the mean of the ``baseline`` periods before it (the rate floored
    at 0.5), a spike when ``p < alpha`` and the count is at least ``min_count``. ``alpha``
    is per period and per topic, with no multiple-testing correction: over ``t`` topics and
    ``n`` periods of ordinary traffic, expect about ``alpha * t * n`` false spikes. Periods
    are counted, not timed: with ``period="hour"`` the baseline is the last 28 hours, and
    daily rhythm makes every morning look like a spike, so days are the sensible default.

    Args:
        records: ``(profile_id, interaction)`` pairs (any order).
        period: ``"hour"``, ``"day"``, ``"week"`` (from Monday) or ``"month"``.
        tz: the time zone the periods start in: an IANA name or a ``tzinfo``.
        baseline: how many trailing periods make the expected count.
        alpha: the significance level per period and topic, in (0, 1).
        min_count: the smallest count that can be a spike.
        min_baseline: how many trailing periods a period needs to be tested.
        start: the series start with the period holding ``start`` (default: the first
            record's); records before it are ignored.
        end: the series end with the period holding ``end`` (default: the last record's);
            records after it are ignored.
        conversations: conversations whose topics extend their interactions' topics.

    Returns:
        The spikes, sorted by topic and period.

    Raises:
        InvalidValueError: a bad option (see :func:`detect_spikes`), an unknown period or
            time zone, a naive ``start``, ``end`` or ``occurred_at``, or ``end`` before
            ``start``.
    """
    buckets = Bucketer(period, tz)
    check_spike_options(baseline, alpha, min_count, min_baseline)
    first = None if start is None else buckets.key(check_aware("start", start))
    last = None if end is None else buckets.key(check_aware("end", end))
    if first is not None and last is not None and last < first:
        raise InvalidValueError("end", end, "must not be before start", mask=False)
    extra = conversation_topics(conversations)
    counts: defaultdict[str, Counter[int]] = defaultdict(Counter)
    seen_first: int | None = None
    seen_last: int | None = None
    for _, interaction in iter_records(records):
        key = buckets.key(interaction.occurred_at)
        if (first is not None and key < first) or (last is not None and key > last):
            continue
        seen_first = key if seen_first is None else min(seen_first, key)
        seen_last = key if seen_last is None else max(seen_last, key)
        for topic in interaction_topics(interaction, extra):
            counts[topic][key] += 1
    first = seen_first if first is None else first
    last = seen_last if last is None else last
    if first is None or last is None or not counts:
        return []
    observed = {key for per_topic in counts.values() for key in per_topic}
    keys = buckets.span(first, last, observed)
    rows: list[TopicSpikeRow] = []
    for topic in sorted(counts):
        per_topic = counts[topic]
        series = [per_topic.get(key, 0) for key in keys]
        for spike in detect_spikes(
            series,
            baseline=baseline,
            alpha=alpha,
            min_count=min_count,
            min_baseline=min_baseline,
        ):
            rows.append(
                TopicSpikeRow(
                    topic=topic,
                    period_start=buckets.start(keys[spike.index]),
                    observed=spike.observed,
                    expected=spike.expected,
                    p_value=spike.p_value,
                )
            )
    return rows
