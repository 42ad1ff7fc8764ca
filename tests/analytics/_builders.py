"""Small builders for the analytics tests: interactions, records, conversations."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import JsonValue

from omnichannel import Conversation, Interaction, OrderRefPart

WARSAW = ZoneInfo("Europe/Warsaw")

Record = tuple[str, Interaction]


def at(text: str) -> datetime:
    """An aware datetime from ISO 8601 text with an offset (``Z`` allowed)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert moment.tzinfo is not None, text
    return moment


def event(
    channel: str,
    when: str | datetime,
    *,
    kind: str = "message",
    direction: str = "inbound",
    topics: Sequence[str] = (),
    orders: Sequence[str] = (),
    metadata: dict[str, JsonValue] | None = None,
    conversation_id: str | None = None,
) -> Interaction:
    """An interaction; ``orders`` become :class:`OrderRefPart` parts."""
    return Interaction.model_validate(
        {
            "channel": channel,
            "kind": kind,
            "direction": direction,
            "occurred_at": at(when) if isinstance(when, str) else when,
            "topics": tuple(topics),
            "content": tuple(OrderRefPart(order_id=order_id) for order_id in orders),
            "metadata": metadata or {},
            "conversation_id": conversation_id,
        }
    )


def records(pairs: Iterable[Record]) -> list[Record]:
    """The pairs sorted as the reports expect: by ``(occurred_at, interaction.id)``."""
    return sorted(pairs, key=lambda pair: (pair[1].occurred_at, pair[1].id))


def conversation(
    channels: Sequence[str],
    opened: str,
    *,
    inbound: str | None = None,
    response: str | None = None,
    closed: str | None = None,
    topics: Sequence[str] = (),
    id: str | None = None,
) -> Conversation:
    """A conversation with the times the response-time report reads."""
    data: dict[str, object] = {
        "profile_id": "p",
        "channels": tuple(channels),
        "topics": tuple(topics),
        "opened_at": at(opened),
        "last_activity_at": at(closed or opened),
        "first_inbound_at": at(inbound) if inbound else None,
        "first_response_at": at(response) if response else None,
        "closed_at": at(closed) if closed else None,
    }
    if id is not None:
        data["id"] = id
    return Conversation.model_validate(data)
