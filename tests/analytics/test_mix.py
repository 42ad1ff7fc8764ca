"""Channel mix and channels per customer."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnichannel import InvalidValueError
from omnichannel.analytics import (
    ChannelMixRow,
    ChannelsPerCustomerRow,
    channel_mix,
    channels_per_customer,
)
from tests.analytics._builders import Record, event, records


def sample() -> list[Record]:
    return records(
        [
            ("p1", event("sms", "2025-11-01T10:00:00Z")),
            ("p1", event("sms", "2025-11-01T11:00:00Z")),
            ("p1", event("sms", "2025-11-02T10:00:00Z", direction="outbound")),
            ("p1", event("email", "2025-11-02T11:00:00Z")),
            ("p2", event("sms", "2025-11-03T10:00:00Z")),
            ("p3", event("whatsapp", "2025-11-03T12:00:00Z", direction="outbound")),
        ]
    )


def test_shares_of_interactions_and_customers() -> None:
    assert channel_mix(sample()) == [
        ChannelMixRow(
            channel="sms", interactions=4, share=4 / 6, customers=2, customer_share=2 / 3
        ),
        ChannelMixRow(
            channel="email", interactions=1, share=1 / 6, customers=1, customer_share=1 / 3
        ),
        ChannelMixRow(
            channel="whatsapp", interactions=1, share=1 / 6, customers=1, customer_share=1 / 3
        ),
    ]


def test_where_customers_contact_us() -> None:
    assert channel_mix(sample(), direction="inbound") == [
        ChannelMixRow(channel="sms", interactions=3, share=3 / 4, customers=2, customer_share=1.0),
        ChannelMixRow(
            channel="email", interactions=1, share=1 / 4, customers=1, customer_share=1 / 2
        ),
    ]


def test_how_many_channels_each_customer_uses() -> None:
    assert channels_per_customer(sample()) == [
        ChannelsPerCustomerRow(channels=1, customers=2, share=2 / 3),
        ChannelsPerCustomerRow(channels=2, customers=1, share=1 / 3),
    ]
    assert channels_per_customer(sample(), direction="outbound") == [
        ChannelsPerCustomerRow(channels=1, customers=2, share=1.0)
    ]


def test_nothing_in_nothing_out() -> None:
    assert channel_mix([]) == []
    assert channels_per_customer([]) == []


def test_a_bad_direction_is_refused() -> None:
    for report in (channel_mix, channels_per_customer):
        with pytest.raises(InvalidValueError, match="must be one of") as info:
            report(sample(), direction="both")
        assert info.value.field == "direction"


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["p1", "p2", "p3", "p4"]),
            st.sampled_from(["sms", "email", "store", "web"]),
        ),
        max_size=40,
    )
)
def test_shares_add_up(items: list[tuple[str, str]]) -> None:
    pairs = [(profile, event(channel, "2025-11-01T10:00:00Z")) for profile, channel in items]
    mix = channel_mix(pairs)
    per_customer = channels_per_customer(pairs)
    if not items:
        assert mix == []
        assert per_customer == []
        return
    assert math.isclose(sum(r.share for r in mix), 1.0)
    assert sum(r.interactions for r in mix) == len(items)
    assert [r.interactions for r in mix] == sorted((r.interactions for r in mix), reverse=True)
    assert math.isclose(sum(r.share for r in per_customer), 1.0)
    assert sum(r.customers for r in per_customer) == len({p for p, _ in items})
    assert sum(r.channels * r.customers for r in per_customer) == len(set(items))
    assert sum(r.customers for r in mix) == len(set(items))
