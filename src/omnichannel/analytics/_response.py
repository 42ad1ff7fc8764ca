"""Response and resolution times of conversations, per first channel."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from omnichannel._model import Conversation
from omnichannel.analytics._common import UNKNOWN_CHANNEL, Row, check_aware, quantile

__all__ = ["ALL_CHANNELS", "ResponseTimeRow", "response_times"]

ALL_CHANNELS = "*"
"""The ``channel`` of a report's total row, over all channels."""


class ResponseTimeRow(Row):
    """How fast conversations that started on one channel were answered and closed.

    Durations are in seconds; a median or 90th percentile is None when no conversation
    gave a duration. Quantiles interpolate linearly between ranks.

    Attributes:
        channel: the conversation's first channel, ``"unknown"`` for a conversation without
            channels, ``"*"`` for all conversations.
        conversations: how many conversations.
        responded: of which with a first response (``first_response_at`` set).
        first_response_median_s: median of ``first_response_at - first_inbound_at``.
        first_response_p90_s: 90th percentile of the same.
        resolved: of which closed (``closed_at`` set).
        resolution_median_s: median of ``closed_at - opened_at``.
        resolution_p90_s: 90th percentile of the same.
    """

    channel: str
    conversations: int
    responded: int
    first_response_median_s: float | None
    first_response_p90_s: float | None
    resolved: int
    resolution_median_s: float | None
    resolution_p90_s: float | None


class _Times:
    __slots__ = ("conversations", "resolutions", "responded", "responses")

    def __init__(self) -> None:
        self.conversations = 0
        self.responded = 0
        self.responses: list[float] = []
        self.resolutions: list[float] = []

    def add(self, response_s: float | None, has_response: bool, resolution_s: float | None) -> None:
        self.conversations += 1
        self.responded += has_response
        if response_s is not None:
            self.responses.append(response_s)
        if resolution_s is not None:
            self.resolutions.append(resolution_s)

    def row(self, channel: str) -> ResponseTimeRow:
        responses = sorted(self.responses)
        resolutions = sorted(self.resolutions)
        return ResponseTimeRow(
            channel=channel,
            conversations=self.conversations,
            responded=self.responded,
            first_response_median_s=quantile(responses, 0.5),
            first_response_p90_s=quantile(responses, 0.9),
            resolved=len(resolutions),
            resolution_median_s=quantile(resolutions, 0.5),
            resolution_p90_s=quantile(resolutions, 0.9),
        )


def response_times(conversations: Iterable[Conversation]) -> list[ResponseTimeRow]:
    """First-response and resolution times per channel a conversation started on.

    A conversation is grouped under ``channels[0]``, the channel the customer first used in
    it. Its first-response time is ``first_response_at - first_inbound_at`` (when both are
    set: a conversation the business opened has no inbound to answer); its resolution time
    is ``closed_at - opened_at`` (when closed). Open conversations count in
    ``conversations`` but not in the resolution times, so a channel with many open
    conversations looks faster than it is: read ``resolved`` beside the medians.

    Args:
        conversations: the conversations to report on (any order).

    Returns:
        One row per first channel, sorted by channel, then a row for all of them with
        channel ``"*"``; empty when there are no conversations.

    Raises:
        InvalidValueError: a naive datetime on a conversation.
    """
    groups: dict[str, _Times] = {}
    total = _Times()
    for conversation in conversations:
        opened = check_aware("opened_at", conversation.opened_at)
        inbound = _aware("first_inbound_at", conversation.first_inbound_at)
        response = _aware("first_response_at", conversation.first_response_at)
        closed = _aware("closed_at", conversation.closed_at)
        response_s = (
            (response - inbound).total_seconds()
            if response is not None and inbound is not None
            else None
        )
        resolution_s = (closed - opened).total_seconds() if closed is not None else None
        channel = conversation.channels[0] if conversation.channels else UNKNOWN_CHANNEL
        for times in (groups.setdefault(channel, _Times()), total):
            times.add(response_s, response is not None, resolution_s)
    if not total.conversations:
        return []
    return [groups[channel].row(channel) for channel in sorted(groups)] + [total.row(ALL_CHANNELS)]


def _aware(field: str, moment: datetime | None) -> datetime | None:
    return None if moment is None else check_aware(field, moment)
