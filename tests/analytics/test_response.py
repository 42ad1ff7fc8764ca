"""Response and resolution times per first channel."""

from __future__ import annotations

from datetime import datetime

import pytest

from omnichannel import Conversation, InvalidValueError
from omnichannel.analytics import ResponseTimeRow, response_times
from tests.analytics._builders import conversation


def sample() -> list[Conversation]:
    return [
        conversation(
            ["email", "sms"],
            "2025-11-03T10:00:00Z",
            inbound="2025-11-03T10:00:00Z",
            response="2025-11-03T10:30:00Z",  # 1800 s
            closed="2025-11-03T12:00:00Z",  # 7200 s
        ),
        conversation(
            ["email"],
            "2025-11-03T09:00:00Z",
            inbound="2025-11-03T09:00:00Z",
            response="2025-11-03T11:00:00Z",  # 7200 s, still open
        ),
        conversation(
            ["email"],
            "2025-11-04T08:00:00Z",
            inbound="2025-11-04T08:00:00Z",
            closed="2025-11-04T09:00:00Z",  # closed without an answer: 3600 s
        ),
        conversation(["whatsapp"], "2025-11-04T08:00:00Z"),  # the business wrote first
        conversation([], "2025-11-05T08:00:00Z", closed="2025-11-05T08:10:00Z"),  # 600 s
    ]


def test_times_per_first_channel_then_all() -> None:
    assert response_times(sample()) == [
        ResponseTimeRow(
            channel="email",
            conversations=3,
            responded=2,
            first_response_median_s=4500.0,
            first_response_p90_s=6660.0,
            resolved=2,
            resolution_median_s=5400.0,
            resolution_p90_s=6840.0,
        ),
        ResponseTimeRow(
            channel="unknown",
            conversations=1,
            responded=0,
            first_response_median_s=None,
            first_response_p90_s=None,
            resolved=1,
            resolution_median_s=600.0,
            resolution_p90_s=600.0,
        ),
        ResponseTimeRow(
            channel="whatsapp",
            conversations=1,
            responded=0,
            first_response_median_s=None,
            first_response_p90_s=None,
            resolved=0,
            resolution_median_s=None,
            resolution_p90_s=None,
        ),
        ResponseTimeRow(
            channel="*",
            conversations=5,
            responded=2,
            first_response_median_s=4500.0,
            first_response_p90_s=6660.0,
            resolved=3,
            resolution_median_s=3600.0,
            resolution_p90_s=6480.0,
        ),
    ]


def test_no_conversations_no_rows() -> None:
    assert response_times([]) == []


@pytest.mark.parametrize(
    "field", ["opened_at", "first_inbound_at", "first_response_at", "closed_at"]
)
def test_a_naive_time_is_refused(field: str) -> None:
    good = conversation(
        ["sms"],
        "2025-11-03T10:00:00Z",
        inbound="2025-11-03T10:00:00Z",
        response="2025-11-03T10:05:00Z",
        closed="2025-11-03T11:00:00Z",
    )
    values = good.model_dump()
    values[field] = datetime(2025, 11, 3, 10, 0)
    broken = Conversation.model_construct(**values)
    with pytest.raises(InvalidValueError, match="naive datetime") as info:
        response_times([broken])
    assert info.value.field == field


def test_a_late_first_inbound_is_measured_from_itself() -> None:
    (row, _) = response_times(
        [
            conversation(
                ["webchat"],
                "2025-11-03T10:00:00Z",
                inbound="2025-11-03T10:20:00Z",
                response="2025-11-03T10:21:30Z",
            )
        ]
    )
    assert row.first_response_median_s == 90.0  # not from opened_at
