"""The webchat adapter: omnichannel's own JSON shape for shops' chat widgets."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from omnichannel import (
    CustomPart,
    Direction,
    Hub,
    Identifier,
    IngestOutcome,
    Interaction,
    InvalidPayloadError,
    InvalidValueError,
    MediaPart,
    SignatureError,
    TextPart,
)
from omnichannel.channels import ChannelAdapter, InboundRequest, get_adapter
from omnichannel.channels._webchat import (
    PATTERN_REASONS,
    WebchatAdapter,
    _Agent,
    _Attachment,
    _ConversationClosed,
    _Document,
    _Message,
    _Typing,
    _Visitor,
    _VisitorIdentified,
)
from omnichannel.storage import MemoryStore
from omnichannel.testing import AdapterConformance
from tests.channels._schema_checks import (
    check_documents_agree,
    closed_objects,
    patterns,
    string_constants,
    walk,
)

SCHEMA_PATH = Path(__file__).parents[2] / "src" / "omnichannel" / "channels" / "webchat.schema.json"
HEADER = "X-Webchat-Signature"
FIXED = datetime(2025, 11, 18, 10, 15, tzinfo=timezone.utc)
VISITOR = "v_3kP9xQ"
CONVERSATION = "conv_20251118_0042"
VISITOR_ID = Identifier.handle("webchat", VISITOR)

# Every sample below is in omnichannel's own shape, documented by the JSON Schema
# src/omnichannel/channels/webchat.schema.json (no vendor defines it). The signature follows
# Stripe's scheme: https://docs.stripe.com/webhooks#verify-manually

# The visitor types, then writes a question naming a friend's address and number (mentions),
# then sends a photo in answer to the agent's question (a reply with an attachment).
# Shape: src/omnichannel/channels/webchat.schema.json, definitions 'typing' and 'message'.
CHAT: dict[str, Any] = {
    "version": 1,
    "events": [
        {
            "type": "typing",
            "id": "evt_01JD0001",
            "sent_at": "2025-11-18T10:59:50+01:00",
            "conversation_id": CONVERSATION,
            "visitor": {"id": VISITOR},
        },
        {
            "type": "message",
            "id": "evt_01JD0002",
            "sent_at": "2025-11-18T11:00:00+01:00",
            "conversation_id": CONVERSATION,
            "visitor": {"id": VISITOR},
            "text": "Hi! Can the jacket be sent to my sister, ola.nowak@example.org, "
            "+48 512 345 678?",
            "page_url": "https://shop.example.com/p/green-jacket?size=m",
            "metadata": {
                "locale": "pl-PL",
                "widget_version": "3.4.1",
                "returning": True,
                "scroll_depth": 0.62,
            },
        },
        {
            "type": "message",
            "id": "evt_01JD0004",
            "sent_at": "2025-11-18T11:02:30.250+01:00",
            "conversation_id": CONVERSATION,
            "visitor": {"id": VISITOR},
            "text": "This one",
            "attachments": [
                {
                    "url": "https://cdn.shop.example.com/chat/u/3kP9xQ/IMG_2291.jpg",
                    "media_type": "image/JPEG",
                    "name": "IMG_2291.jpg",
                    "size_bytes": 482113,
                }
            ],
            "reply_to": "evt_01JD0003",
        },
    ],
}

# A pre-chat form: the visitor's own email, phone, name and shop customer number.
# Shape: src/omnichannel/channels/webchat.schema.json, definition 'visitor_identified'.
IDENTIFIED: dict[str, Any] = {
    "version": 1,
    "events": [
        {
            "type": "visitor_identified",
            "id": "evt_01JD0000",
            "sent_at": "2025-11-18T10:59:00+01:00",
            "conversation_id": CONVERSATION,
            "visitor": {
                "id": VISITOR,
                "email": "Jan.Kowalski@Example.com",
                "phone": "+48 601 234 567",
                "name": "Jan Kowalski",
                "customer_id": "C-100231",
            },
            "page_url": "https://shop.example.com/p/green-jacket",
        }
    ],
}

# An agent's answer from the agent console.
# Shape: src/omnichannel/channels/webchat.schema.json, definition 'message'.
AGENT_REPLY: dict[str, Any] = {
    "version": 1,
    "events": [
        {
            "type": "message",
            "direction": "outbound",
            "id": "evt_01JD0003",
            "sent_at": "2025-11-18T11:01:10+01:00",
            "conversation_id": CONVERSATION,
            "visitor": {"id": VISITOR},
            "text": "Sure! Could you send a photo of the model you mean?",
            "reply_to": "evt_01JD0002",
            "agent": {"id": "agent-17", "name": "Marta"},
        }
    ],
}

# The visitor closes the chat.
# Shape: src/omnichannel/channels/webchat.schema.json, definition 'conversation_closed'.
CLOSED: dict[str, Any] = {
    "version": 1,
    "events": [
        {
            "type": "conversation_closed",
            "id": "evt_01JD0009",
            "sent_at": "2025-11-18T11:10:00+01:00",
            "conversation_id": CONVERSATION,
            "visitor": {"id": VISITOR},
            "closed_by": "visitor",
        }
    ],
}

SAMPLES = (CHAT, IDENTIFIED, AGENT_REPLY, CLOSED)


def _request(document: dict[str, Any]) -> InboundRequest:
    return InboundRequest(
        body=json.dumps(document, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json"},
    )


def _parse(document: dict[str, Any], adapter: WebchatAdapter | None = None) -> list[Interaction]:
    return (adapter or WebchatAdapter()).parse(_request(document))


def _one(document: dict[str, Any]) -> Interaction:
    (interaction,) = _parse(document)
    return interaction


def _event(**fields: Any) -> dict[str, Any]:
    """A valid inbound text message event, changed by ``fields`` (``None`` deletes)."""
    event: dict[str, Any] = {
        "type": "message",
        "id": "evt_x1",
        "sent_at": "2025-11-18T10:00:00Z",
        "conversation_id": CONVERSATION,
        "visitor": {"id": VISITOR},
        "text": "Hello",
    }
    for key, value in fields.items():
        if value is None:
            event.pop(key, None)
        else:
            event[key] = value
    return event


def _doc(*events: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "events": list(events)}


def _signature(body: bytes, secret: str, timestamp: int) -> str:
    """The scheme written out independently of the adapter's code."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def _signed(body: bytes, header_value: str) -> InboundRequest:
    return InboundRequest(body=body, headers={HEADER: header_value})


# --- the conformance suite ------------------------------------------------------------------


class TestWebchatAdapter(AdapterConformance):
    @pytest.fixture
    def adapter(self) -> ChannelAdapter:
        return WebchatAdapter()

    @pytest.fixture
    def samples(self) -> list[InboundRequest]:
        return [_request(document) for document in SAMPLES]

    @pytest.fixture
    def outbound(self) -> Interaction:
        return Interaction(
            channel="webchat",
            direction=Direction.OUTBOUND,
            occurred_at=FIXED,
            source_id="out_0001",
            identifiers=(VISITOR_ID,),
            conversation_key=CONVERSATION,
            reply_to="evt_01JD0004",
            agent="agent-17",
            content=(TextPart(text="Got it, the green one in M. It ships today."),),
        )

    def sign(self, request: InboundRequest, secret: str, now: datetime) -> InboundRequest:
        value = _signature(request.body, secret, int(now.timestamp()))
        return request.model_copy(update={"headers": {**request.headers, HEADER.lower(): value}})


# --- what each event yields -------------------------------------------------------------------


def test_typing_yields_nothing_and_messages_keep_their_order() -> None:
    interactions = _parse(CHAT)
    assert [i.source_id for i in interactions] == ["evt_01JD0002", "evt_01JD0004"]


def test_inbound_text_message() -> None:
    message = _parse(CHAT)[0]
    assert (message.channel, message.kind, message.direction) == (
        "webchat",
        "message",
        Direction.INBOUND,
    )
    assert message.occurred_at == datetime(2025, 11, 18, 10, 0, tzinfo=timezone.utc)
    assert message.identifiers == (VISITOR_ID,)
    assert message.conversation_key == CONVERSATION
    assert message.text.startswith("Hi! Can the jacket")
    # Written in the text, about someone else: mentions, never the visitor's identifiers.
    assert message.mentions == (
        Identifier.email("ola.nowak@example.org"),
        Identifier.phone("+48512345678"),
    )
    assert message.metadata == {
        "page_url": "https://shop.example.com/p/green-jacket?size=m",
        "custom": {
            "locale": "pl-PL",
            "widget_version": "3.4.1",
            "returning": True,
            "scroll_depth": 0.62,
        },
    }
    assert message.traits == {}
    assert message.reply_to is None
    assert message.agent is None


def test_message_with_an_attachment_replying_to_the_agent() -> None:
    message = _parse(CHAT)[1]
    text, photo = message.content
    assert text == TextPart(text="This one")
    assert photo == MediaPart(
        media_type="image/jpeg",  # lowercased
        url="https://cdn.shop.example.com/chat/u/3kP9xQ/IMG_2291.jpg",
        name="IMG_2291.jpg",
        size_bytes=482113,
    )
    assert message.reply_to == "evt_01JD0003"
    assert message.occurred_at == datetime(2025, 11, 18, 10, 2, 30, 250000, tzinfo=timezone.utc)
    assert message.mentions == ()


def test_attachment_without_text() -> None:
    attachment = {"url": "https://cdn.example.com/a.pdf", "media_type": "application/pdf"}
    message = _one(_doc(_event(text=None, attachments=[attachment])))
    (part,) = message.content
    assert isinstance(part, MediaPart)
    assert (part.media_type, part.name, part.size_bytes) == ("application/pdf", None, None)


def test_outbound_message_from_the_agent_console() -> None:
    reply = _one(AGENT_REPLY)
    assert (reply.kind, reply.direction) == ("message", Direction.OUTBOUND)
    assert reply.identifiers == (VISITOR_ID,)  # the visitor it was sent to
    assert reply.agent == "agent-17"
    assert reply.metadata == {"agent_name": "Marta"}
    assert reply.reply_to == "evt_01JD0002"
    assert reply.conversation_key == CONVERSATION


def test_visitor_identified_gives_the_visitors_own_identifiers() -> None:
    identified = _one(IDENTIFIED)
    assert (identified.kind, identified.direction) == ("identify", Direction.INBOUND)
    assert identified.identifiers == (
        VISITOR_ID,
        Identifier.email("jan.kowalski@example.com"),
        Identifier.phone("+48601234567"),
        Identifier.external("shop", "C-100231"),
    )
    assert identified.identifiers[1].original == "Jan.Kowalski@Example.com"
    assert identified.mentions == ()
    assert identified.traits == {"display_name": "Jan Kowalski"}
    (part,) = identified.content
    assert isinstance(part, CustomPart)
    assert (part.name, part.data) == (
        "webchat.visitor_identified",
        {"given": ["email", "phone", "customer_id", "name"]},
    )
    assert identified.metadata == {"page_url": "https://shop.example.com/p/green-jacket"}


def test_customer_system_is_an_option() -> None:
    (identified,) = _parse(IDENTIFIED, WebchatAdapter(customer_system="Shopify"))
    assert Identifier.external("shopify", "C-100231") in identified.identifiers
    assert Identifier.external("shop", "C-100231") not in identified.identifiers


def test_national_phone_numbers_use_the_default_region() -> None:
    visitor = {"id": VISITOR, "phone": "601 234 567"}
    document = _doc(_event(type="visitor_identified", visitor=visitor, text=None))
    (identified,) = _parse(document, WebchatAdapter(default_region="PL"))
    assert Identifier.phone("+48601234567") in identified.identifiers
    with pytest.raises(InvalidPayloadError) as caught:
        _parse(document)  # no region: a national number cannot be read
    assert caught.value.field == "events.0.visitor.phone"


def test_the_visitors_own_address_in_the_text_is_not_a_mention() -> None:
    visitor = {"id": VISITOR, "email": "jan@example.com"}
    text = "Write to jan@example.com or my wife at ewa@example.com"
    message = _one(_doc(_event(visitor=visitor, text=text)))
    assert message.identifiers == (VISITOR_ID, Identifier.email("jan@example.com"))
    assert message.mentions == (Identifier.email("ewa@example.com"),)


def test_unreadable_addresses_and_numbers_in_the_text_are_dropped() -> None:
    message = _one(_doc(_event(text="Try a..b@example.com or +999 1234567, or ewa@example.com")))
    assert message.mentions == (Identifier.email("ewa@example.com"),)


def test_metadata_values_must_be_json_scalars() -> None:
    body = json.dumps(_doc(_event(metadata={"score": 0.5}))).replace("0.5", "NaN").encode()
    with pytest.raises(InvalidPayloadError, match="string, number, boolean or null") as caught:
        WebchatAdapter().parse(InboundRequest(body=body))
    assert caught.value.field == "events.0.metadata.score"


def test_visitor_id_is_kept_exactly() -> None:
    upper = _one(_doc(_event(visitor={"id": "V_AbC"})))
    lower = _one(_doc(_event(visitor={"id": "v_abc"})))
    assert upper.identifiers[0].value == "V_AbC"
    assert upper.identifiers != lower.identifiers


@pytest.mark.parametrize(
    ("closed_by", "direction"),
    [
        ("visitor", Direction.INBOUND),
        ("agent", Direction.OUTBOUND),
        ("system", Direction.INTERNAL),
        (None, Direction.INTERNAL),
    ],
)
def test_conversation_closed(closed_by: str | None, direction: Direction) -> None:
    document = copy.deepcopy(CLOSED)
    event = document["events"][0]
    event["closed_by"] = closed_by
    if closed_by == "agent":
        event["agent"] = {"id": "agent-17"}
    closed = _one(document)
    assert (closed.kind, closed.direction, closed.source_id) == (
        "status",
        direction,
        "evt_01JD0009",
    )
    assert closed.identifiers == (VISITOR_ID,)
    (part,) = closed.content
    assert isinstance(part, CustomPart)
    assert (part.name, part.data) == ("webchat.conversation_closed", {"closed_by": closed_by})
    assert closed.metadata["status"] == "conversation_closed"
    assert closed.agent == ("agent-17" if closed_by == "agent" else None)


NULLS = _doc(
    _event()
    | {
        "direction": None,
        "reply_to": None,
        "attachments": None,
        "page_url": None,
        "agent": None,
        "metadata": None,
        "visitor": {"id": VISITOR, "email": None, "phone": None, "name": None},
    }
)


def test_null_means_absent() -> None:
    message = _one(NULLS)
    assert (message.direction, message.reply_to, message.metadata) == (Direction.INBOUND, None, {})


def test_sent_at_too_far_in_the_future() -> None:
    ahead = (datetime.now(timezone.utc) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    document = _doc(_event(sent_at=ahead))
    with pytest.raises(InvalidPayloadError, match="too far in the future") as caught:
        _parse(document)
    assert caught.value.field == "events.0.sent_at"
    # The allowance is the adapter's max_future_seconds.
    assert _parse(document, WebchatAdapter(max_future_seconds=3 * 3600))


def test_registry_builds_the_adapter_with_options() -> None:
    adapter = get_adapter("webchat", customer_system="magento", replay_window_seconds=60)
    assert isinstance(adapter, WebchatAdapter)
    assert (adapter.customer_system, adapter.replay_window_seconds) == ("magento", 60)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"customer_system": "My Shop"}, "customer_system"),
        ({"customer_system": 7}, "customer_system"),
        ({"replay_window_seconds": 0}, "replay_window_seconds"),
        ({"replay_window_seconds": True}, "replay_window_seconds"),
        ({"default_region": "Poland"}, "default_region"),
        ({"max_body_bytes": 0}, "max_body_bytes"),
    ],
)
def test_bad_options(options: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        WebchatAdapter(**options)
    assert caught.value.field == field


# --- identity across events and channels -----------------------------------------------------


def test_anonymous_chat_then_identified_visitor_meets_their_email() -> None:
    adapter = WebchatAdapter()
    hub = Hub(MemoryStore())
    chat = [hub.ingest(i) for i in adapter.parse(_request(CHAT))]
    profile_id = chat[0].profile_id
    assert [r.outcome for r in chat] == [IngestOutcome.CREATED, IngestOutcome.ATTACHED]
    # The pre-chat form links the visitor's email and phone to the same profile ...
    (identified,) = adapter.parse(_request(IDENTIFIED))
    assert hub.ingest(identified).profile_id == profile_id
    # ... so a later email from that address lands on the same customer,
    email = hub.ingest(
        {
            "channel": "email",
            "source_id": "<CAF3x9@mail.example.com>",
            "occurred_at": "2025-11-19T08:00:00Z",
            "identifiers": [{"kind": "email", "value": "jan.kowalski@example.com"}],
            "content": [{"type": "text", "text": "About my chat yesterday"}],
        }
    )
    assert (email.outcome, email.profile_id) == (IngestOutcome.ATTACHED, profile_id)
    # while the sister's address, only written in the chat, names nobody.
    assert hub.find(Identifier.email("ola.nowak@example.org")) is None
    assert hub.find(Identifier.phone("+48512345678")) is None
    assert hub.profile(profile_id).display_name == "Jan Kowalski"
    assert [i.channel for i in hub.history(profile_id)] == [
        "email",
        "webchat",
        "webchat",
        "webchat",
    ]


def test_redelivered_document_is_stored_once() -> None:
    hub = Hub(MemoryStore())
    first = [hub.ingest(i) for i in _parse(CHAT)]
    again = [hub.ingest(i) for i in _parse(CHAT)]
    assert [r.outcome for r in again] == [IngestOutcome.DUPLICATE] * 2
    assert [r.interaction_id for r in again] == [r.interaction_id for r in first]


# --- bad input ------------------------------------------------------------------------------


def _changed(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``document`` with the dotted ``path`` set to ``value`` (deleted if
    ``value`` is ``...``)."""
    result = copy.deepcopy(document)
    *parents, last = path.split(".")
    node: Any = result
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is ...:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return result


ONE = _doc(_event())

# Documents the JSON Schema and the pydantic models both refuse: (id, document, field, message).
INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("no-version", _changed(ONE, "version", ...), "version", "is missing"),
    ("version-2", _changed(ONE, "version", 2), "version", "must be 1"),
    ("version-true", _changed(ONE, "version", True), "version", "must be 1"),
    ("version-text", _changed(ONE, "version", "1"), "version", "must be 1"),
    ("no-events", _changed(ONE, "events", ...), "events", "is missing"),
    ("events-empty", _changed(ONE, "events", []), "events", "at least 1 items"),
    ("events-object", _changed(ONE, "events", {}), "events", "must be an array"),
    ("too-many-events", _doc(*[_event(id=f"e{n}") for n in range(101)]), "events", "at most 100"),
    ("unknown-top-field", _changed(ONE, "site", "main"), "site", "not a known field"),
    ("event-not-object", _changed(ONE, "events.0", "hello"), "events.0", "must be an object"),
    ("no-type", _changed(ONE, "events.0.type", ...), "events.0.type", "is missing"),
    ("unknown-type", _changed(ONE, "events.0.type", "note"), "events.0.type", "must be one of"),
    ("type-number", _changed(ONE, "events.0.type", 3), "events.0.type", "must be one of"),
    ("no-id", _changed(ONE, "events.0.id", ...), "events.0.id", "is missing"),
    ("id-empty", _changed(ONE, "events.0.id", ""), "events.0.id", "must not be empty"),
    ("id-space", _changed(ONE, "events.0.id", "evt 1"), "events.0.id", "printable ASCII"),
    ("id-long", _changed(ONE, "events.0.id", "e" * 129), "events.0.id", "at most 128"),
    ("id-number", _changed(ONE, "events.0.id", 17), "events.0.id", "must be a string"),
    ("no-sent-at", _changed(ONE, "events.0.sent_at", ...), "events.0.sent_at", "is missing"),
    (
        "sent-at-naive",
        _changed(ONE, "events.0.sent_at", "2025-11-18T10:00:00"),
        "events.0.sent_at",
        "RFC 3339",
    ),
    (
        "sent-at-unix",
        _changed(ONE, "events.0.sent_at", 1763460000),
        "events.0.sent_at",
        "must be a string",
    ),
    (
        "sent-at-space",
        _changed(ONE, "events.0.sent_at", "2025-11-18 10:00:00Z"),
        "events.0.sent_at",
        "RFC 3339",
    ),
    (
        "no-conversation",
        _changed(ONE, "events.0.conversation_id", ...),
        "events.0.conversation_id",
        "is missing",
    ),
    ("no-visitor", _changed(ONE, "events.0.visitor", ...), "events.0.visitor", "is missing"),
    (
        "visitor-string",
        _changed(ONE, "events.0.visitor", VISITOR),
        "events.0.visitor",
        "must be an object",
    ),
    ("no-visitor-id", _changed(ONE, "events.0.visitor.id", ...), "events.0.visitor.id", "missing"),
    (
        "visitor-id-at",
        _changed(ONE, "events.0.visitor.id", "@jan"),
        "events.0.visitor.id",
        "not starting with '@'",
    ),
    (
        "visitor-id-number",
        _changed(ONE, "events.0.visitor.id", 42),
        "events.0.visitor.id",
        "must be a string",
    ),
    (
        "visitor-email-shape",
        _changed(ONE, "events.0.visitor.email", "jan at example.com"),
        "events.0.visitor.email",
        "not an email address",
    ),
    (
        "visitor-phone-letters",
        _changed(ONE, "events.0.visitor.phone", "call me"),
        "events.0.visitor.phone",
        "not a phone number",
    ),
    (
        "visitor-unknown-field",
        _changed(ONE, "events.0.visitor.ip", "10.0.0.1"),
        "events.0.visitor.ip",
        "not a known field",
    ),
    ("no-content", _changed(ONE, "events.0.text", ...), "events.0", "needs text or at least one"),
    ("text-null", _changed(ONE, "events.0.text", None), "events.0", "needs text or at least one"),
    ("text-blank", _changed(ONE, "events.0.text", "  \n "), "events.0.text", "must not be blank"),
    ("text-empty", _changed(ONE, "events.0.text", ""), "events.0.text", "must not be empty"),
    (
        "text-long",
        _changed(ONE, "events.0.text", "x" * 10001),
        "events.0.text",
        "at most 10000 characters",
    ),
    ("text-list", _changed(ONE, "events.0.text", ["hi"]), "events.0.text", "must be a string"),
    (
        "attachments-empty-no-text",
        _changed(_changed(ONE, "events.0.text", ...), "events.0.attachments", []),
        "events.0",
        "needs text or at least one",
    ),
    (
        "attachment-no-url",
        _changed(ONE, "events.0.attachments", [{"media_type": "image/png"}]),
        "events.0.attachments.0.url",
        "is missing",
    ),
    (
        "attachment-ftp",
        _changed(
            ONE, "events.0.attachments", [{"url": "ftp://x.example/a", "media_type": "image/png"}]
        ),
        "events.0.attachments.0.url",
        "http(s) URL",
    ),
    (
        "attachment-media-type",
        _changed(
            ONE, "events.0.attachments", [{"url": "https://x.example/a", "media_type": "png"}]
        ),
        "events.0.attachments.0.media_type",
        "MIME type",
    ),
    (
        "attachment-size",
        _changed(
            ONE,
            "events.0.attachments",
            [{"url": "https://x.example/a", "media_type": "image/png", "size_bytes": -1}],
        ),
        "events.0.attachments.0.size_bytes",
        "at least 0",
    ),
    (
        "attachment-size-fraction",
        _changed(
            ONE,
            "events.0.attachments",
            [{"url": "https://x.example/a", "media_type": "image/png", "size_bytes": 1.5}],
        ),
        "events.0.attachments.0.size_bytes",
        "must be an integer",
    ),
    (
        "direction",
        _changed(ONE, "events.0.direction", "internal"),
        "events.0.direction",
        "must be 'inbound' or 'outbound'",
    ),
    (
        "reply-to-number",
        _changed(ONE, "events.0.reply_to", 12),
        "events.0.reply_to",
        "must be a string",
    ),
    ("agent-string", _changed(ONE, "events.0.agent", "Marta"), "events.0.agent", "an object"),
    ("agent-no-id", _changed(ONE, "events.0.agent", {"name": "M"}), "events.0.agent.id", "missing"),
    (
        "page-url",
        _changed(ONE, "events.0.page_url", "shop.example.com/p/1"),
        "events.0.page_url",
        "http(s) URL",
    ),
    (
        "metadata-nested",
        _changed(ONE, "events.0.metadata", {"utm": {"source": "ads"}}),
        "events.0.metadata.utm",
        "string, number, boolean or null",
    ),
    (
        "metadata-list",
        _changed(ONE, "events.0.metadata", ["a"]),
        "events.0.metadata",
        "must be an object",
    ),
    (
        "metadata-key",
        _changed(ONE, "events.0.metadata", {"k" * 65: 1}),
        "events.0.metadata." + "k" * 65,
        "key must be at most 64 characters",
    ),
    (
        "metadata-too-many",
        _changed(ONE, "events.0.metadata", {f"k{n}": n for n in range(51)}),
        "events.0.metadata",
        "at most 50 items",
    ),
    (
        "message-closed-by",
        _changed(ONE, "events.0.closed_by", "visitor"),
        "events.0.closed_by",
        "not a known field",
    ),
    (
        "identified-nothing-given",
        _doc(_event(type="visitor_identified", text=None)),
        "events.0.visitor",
        "needs at least one of email, phone, customer_id or name",
    ),
    (
        "identified-with-text",
        _doc(_event(type="visitor_identified", visitor={"id": VISITOR, "name": "Jan"})),
        "events.0.text",
        "not a known field",
    ),
    (
        "closed-by",
        _changed(CLOSED, "events.0.closed_by", "bot"),
        "events.0.closed_by",
        "must be 'visitor', 'agent' or 'system'",
    ),
    (
        "typing-with-text",
        _changed(CHAT, "events.0.text", "hi"),
        "events.0.text",
        "not a known field",
    ),
]

# Documents the JSON Schema accepts but the adapter refuses, as the schema's description
# says: dates that do not exist or lie in the future, addresses and numbers that do not
# normalize, repeated ids.
BEYOND_SCHEMA: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "sent-at-february-30",
        _changed(ONE, "events.0.sent_at", "2025-02-30T10:00:00Z"),
        "events.0.sent_at",
        "not a date-time that exists",
    ),
    (
        "sent-at-offset-hours",
        _changed(ONE, "events.0.sent_at", "2025-11-18T10:00:00+24:00"),
        "events.0.sent_at",
        "offset out of range",
    ),
    (
        "sent-at-leap-second",
        _changed(ONE, "events.0.sent_at", "2016-12-31T23:59:60Z"),
        "events.0.sent_at",
        "not a date-time that exists",
    ),
    (
        "sent-at-before-year-1-utc",
        _changed(ONE, "events.0.sent_at", "0001-01-01T00:30:00+01:00"),
        "events.0.sent_at",
        "not a date-time that exists",
    ),
    (
        "sent-at-future",
        _changed(ONE, "events.0.sent_at", "2099-01-01T00:00:00Z"),
        "events.0.sent_at",
        "too far in the future",
    ),
    (
        "email-domain",
        _changed(ONE, "events.0.visitor.email", "jan@localhost"),
        "events.0.visitor.email",
        "not a valid email address",
    ),
    (
        "phone-too-short",
        _changed(ONE, "events.0.visitor.phone", "+48 12"),
        "events.0.visitor.phone",
        "is not a valid number for its country",
    ),
    (
        "repeated-id",
        _doc(_event(), _event(text="again")),
        "events.1.id",
        "repeats the id of events.0",
    ),
]

VALID: list[tuple[str, dict[str, Any]]] = [
    *[(f"sample-{n}", document) for n, document in enumerate(SAMPLES)],
    ("minimal", ONE),
    ("nulls-are-absent", NULLS),
    ("version-one-point-zero", {"version": 1.0, "events": [_event()]}),
    (
        "size-bytes-integral-float",
        _doc(
            _event(
                attachments=[{"url": "https://x.example/a", "media_type": "a/b", "size_bytes": 3.0}]
            )
        ),
    ),
    (
        "identified-by-name-only",
        _doc(
            _event(type="visitor_identified", text=None)
            | {"visitor": {"id": VISITOR, "name": "Jan"}}
        ),
    ),
    ("closed-minimal", _doc(_event(type="conversation_closed", text=None))),
    (
        "offset-negative-nanoseconds",
        _changed(ONE, "events.0.sent_at", "2025-11-18T05:00:00.123456789-05:00"),
    ),
    ("a-hundred-events", _doc(*[_event(id=f"e{n}") for n in range(100)])),
]


@pytest.mark.parametrize(
    ("document", "field", "message"),
    [case[1:] for case in INVALID + BEYOND_SCHEMA],
    ids=[case[0] for case in INVALID + BEYOND_SCHEMA],
)
def test_bad_documents(document: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(InvalidPayloadError, match=re.escape(message)) as caught:
        _parse(document)
    assert caught.value.field == field
    assert caught.value.errors[0][0] == field


@pytest.mark.parametrize("document", [case[1] for case in VALID], ids=[c[0] for c in VALID])
def test_valid_documents_parse(document: dict[str, Any]) -> None:
    _parse(document)


def test_every_failure_is_listed() -> None:
    document = _changed(_changed(ONE, "events.0.id", ""), "events.0.visitor.id", "@x")
    with pytest.raises(InvalidPayloadError) as caught:
        _parse(document)
    assert [field for field, _ in caught.value.errors] == ["events.0.id", "events.0.visitor.id"]


def test_the_pydantic_error_is_chained() -> None:
    with pytest.raises(InvalidPayloadError) as caught:
        _parse(_changed(ONE, "events.0.id", ""))
    assert isinstance(caught.value.__cause__, ValidationError)


# --- the JSON Schema ---------------------------------------------------------------------------


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text("utf-8"))
    return schema


def test_schema_is_a_draft_2020_12_schema_whose_refs_resolve() -> None:
    schema = _schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "urn:omnichannel:schema:webchat:1"
    refs = {node["$ref"] for node in walk(schema) if "$ref" in node}
    assert refs == {f"#/$defs/{name}" for name in schema["$defs"]}  # all used, all defined
    for node in walk(schema):
        if node.get("type") == "object" or "object" in node.get("type", []):
            assert "additionalProperties" in node, node.get("description")


def test_json_schema_method_returns_the_shipped_file() -> None:
    assert WebchatAdapter.json_schema() == _schema()


def test_schema_and_models_have_the_same_fields_andpatterns() -> None:
    """Checked without any JSON Schema library: each closed object of the schema has the
    properties and required set of a model, the same string patterns and constants."""
    schema = _schema()
    generated = _Document.model_json_schema()
    assert closed_objects(schema) == closed_objects(generated)
    assert patterns(schema) == patterns(generated)
    assert string_constants(schema) == string_constants(generated)
    defs = schema["$defs"]
    pairs: dict[str, type[BaseModel]] = {
        "message": _Message,
        "visitor_identified": _VisitorIdentified,
        "conversation_closed": _ConversationClosed,
        "typing": _Typing,
        "visitor": _Visitor,
        "attachment": _Attachment,
        "agent": _Agent,
    }
    for name, model in pairs.items():
        assert set(defs[name]["properties"]) == set(model.model_fields), name
        required = {k for k, field in model.model_fields.items() if field.is_required()}
        assert set(defs[name]["required"]) == required, name
    assert set(PATTERN_REASONS) >= patterns(schema)  # each one worded


def test_schema_and_models_agree_on_documents() -> None:
    check_documents_agree(
        _schema(), _Document, VALID + [(case[0], case[1]) for case in BEYOND_SCHEMA], INVALID
    )
    for _, document in VALID:
        _Document.model_validate(document)


# --- verification ------------------------------------------------------------------------------

BODY = _request(CHAT).body
NOW = datetime(2025, 11, 18, 10, 5, tzinfo=timezone.utc)
T = int(NOW.timestamp())
SECRET = "whsec_5Yb2kQ9rT"


def test_signed_request_verifies_at_the_edges_of_the_window() -> None:
    adapter = WebchatAdapter()
    for t in (T, T - 300, T + 300):
        adapter.verify(_signed(BODY, _signature(BODY, SECRET, t)), SECRET, now=NOW)


def test_header_name_is_case_insensitive() -> None:
    request = InboundRequest(
        body=BODY, headers={"x-webchat-signature": _signature(BODY, SECRET, T)}
    )
    WebchatAdapter().verify(request, SECRET, now=NOW)


def test_any_of_several_signatures_may_match_during_a_secret_rotation() -> None:
    old, new = _signature(BODY, "old-secret", T), _signature(BODY, SECRET, T)
    header = f"{old},v1={new.partition('v1=')[2]},v0=ignored"
    WebchatAdapter().verify(_signed(BODY, header), SECRET, now=NOW)


def test_stale_signature_is_refused_and_the_window_is_an_option() -> None:
    request = _signed(BODY, _signature(BODY, SECRET, T - 301))
    with pytest.raises(SignatureError, match="stale: signed 301 s ago"):
        WebchatAdapter().verify(request, SECRET, now=NOW)
    WebchatAdapter(replay_window_seconds=600).verify(request, SECRET, now=NOW)


def test_future_signature_is_refused() -> None:
    request = _signed(BODY, _signature(BODY, SECRET, T + 301))
    with pytest.raises(SignatureError, match="301 s in the future"):
        WebchatAdapter().verify(request, SECRET, now=NOW)


def test_a_late_replay_is_refused_and_one_inside_the_window_is_a_no_op() -> None:
    adapter = WebchatAdapter()
    request = _signed(BODY, _signature(BODY, SECRET, T))
    hub = Hub(MemoryStore())
    outcomes = []
    for later in (0, 120):  # delivered, then replayed two minutes later
        adapter.verify(request, SECRET, now=NOW + timedelta(seconds=later))
        outcomes += [hub.ingest(i).outcome for i in adapter.parse(request)]
    assert (
        outcomes == [IngestOutcome.CREATED, IngestOutcome.ATTACHED] + [IngestOutcome.DUPLICATE] * 2
    )
    with pytest.raises(SignatureError, match="stale"):
        adapter.verify(request, SECRET, now=NOW + timedelta(minutes=10))


FORGED = "0" * 64
BAD_HEADERS: list[tuple[str, dict[str, str], str]] = [
    ("missing", {}, "is missing"),
    ("blank", {HEADER: "  "}, "is missing"),
    ("forged", {HEADER: f"t={T},v1={FORGED}"}, "does not match"),
    ("other-body", {HEADER: _signature(b"{}", SECRET, T)}, "does not match"),
    ("other-secret", {HEADER: _signature(BODY, "guess", T)}, "does not match"),
    (
        "timestamp-changed",
        {HEADER: _signature(BODY, SECRET, T).replace(f"t={T}", f"t={T + 1}")},
        "does not match",
    ),
    ("hex-not-64", {HEADER: f"t={T},v1=abc"}, "does not match"),
    ("bare-hex", {HEADER: _signature(BODY, SECRET, T).partition("v1=")[2]}, "malformed"),
    ("no-timestamp", {HEADER: "v1=" + FORGED}, "no timestamp"),
    ("two-timestamps", {HEADER: f"t={T},t={T},v1={FORGED}"}, "more than one timestamp"),
    ("timestamp-text", {HEADER: f"t=now,v1={FORGED}"}, "not Unix seconds"),
    ("timestamp-negative", {HEADER: f"t=-5,v1={FORGED}"}, "not Unix seconds"),
    ("no-v1", {HEADER: f"t={T},v0={FORGED}"}, "no v1 signature"),
    ("too-many", {HEADER: f"t={T}," + ",".join([f"v1={FORGED}"] * 9)}, "more than 8"),
    ("too-long", {HEADER: f"t={T},v1={'a' * 3000}"}, "longer than 2048"),
    ("other-header", {"X-Store-Signature": _signature(BODY, SECRET, T)}, "is missing"),
]


@pytest.mark.parametrize(
    ("headers", "message"),
    [case[1:] for case in BAD_HEADERS],
    ids=[case[0] for case in BAD_HEADERS],
)
def test_bad_signatures(headers: dict[str, str], message: str) -> None:
    with pytest.raises(SignatureError, match=message):
        WebchatAdapter().verify(InboundRequest(body=BODY, headers=headers), SECRET, now=NOW)


def test_an_empty_secret_verifies_nothing() -> None:
    with pytest.raises(SignatureError, match="secret is empty"):
        WebchatAdapter().verify(_signed(BODY, _signature(BODY, "", T)), "", now=NOW)


def test_a_naive_now_is_a_usage_error() -> None:
    with pytest.raises(InvalidValueError) as caught:
        WebchatAdapter().verify(
            _signed(BODY, _signature(BODY, SECRET, T)), SECRET, now=NOW.replace(tzinfo=None)
        )
    assert caught.value.field == "now"


# --- rendering ---------------------------------------------------------------------------------


def _reply(**fields: Any) -> Interaction:
    base: dict[str, Any] = {
        "channel": "webchat",
        "direction": "outbound",
        "occurred_at": "2025-11-18T11:03:00+01:00",
        "source_id": "out_0001",
        "identifiers": [VISITOR_ID],
        "conversation_key": CONVERSATION,
        "content": [{"type": "text", "text": "It ships today."}],
    }
    return Interaction.model_validate({**base, **fields})


def test_render_an_agent_reply() -> None:
    interaction = _reply(
        reply_to="evt_01JD0004",
        agent="agent-17",
        content=[
            {"type": "text", "text": "Here is the size chart."},
            {
                "type": "media",
                "media_type": "application/pdf",
                "url": "https://cdn.shop.example.com/size-chart.pdf",
                "name": "size-chart.pdf",
                "size_bytes": 88211,
            },
        ],
    )
    assert WebchatAdapter().render(interaction) == {
        "version": 1,
        "events": [
            {
                "type": "message",
                "direction": "outbound",
                "id": "out_0001",
                "sent_at": "2025-11-18T10:03:00Z",
                "conversation_id": CONVERSATION,
                "visitor": {"id": VISITOR},
                "text": "Here is the size chart.",
                "attachments": [
                    {
                        "url": "https://cdn.shop.example.com/size-chart.pdf",
                        "media_type": "application/pdf",
                        "name": "size-chart.pdf",
                        "size_bytes": 88211,
                    }
                ],
                "reply_to": "evt_01JD0004",
                "agent": {"id": "agent-17"},
            }
        ],
    }


def test_render_an_attachment_alone() -> None:
    photo = {"type": "media", "media_type": "image/png", "url": "https://cdn.example.com/m.png"}
    events = WebchatAdapter().render(_reply(content=[photo]))["events"]
    assert isinstance(events, list)
    assert events[0] == {
        "type": "message",
        "direction": "outbound",
        "id": "out_0001",
        "sent_at": "2025-11-18T10:03:00Z",
        "conversation_id": CONVERSATION,
        "visitor": {"id": VISITOR},
        "attachments": [{"url": "https://cdn.example.com/m.png", "media_type": "image/png"}],
    }


def test_render_without_source_id_uses_the_interaction_id() -> None:
    interaction = _reply(source_id=None)
    events = WebchatAdapter().render(interaction)["events"]
    assert isinstance(events, list)
    event = events[0]
    assert isinstance(event, dict)
    assert event["id"] == interaction.id
    assert "agent" not in event


def test_rendered_document_satisfies_the_schema_and_parses_back() -> None:
    adapter = WebchatAdapter()
    interaction = _reply(reply_to="evt_01JD0004", agent="agent-17")
    payload = adapter.render(interaction)
    _Document.model_validate(payload)
    (back,) = adapter.parse(InboundRequest(body=json.dumps(payload).encode()))
    keep = {"channel", "kind", "direction", "occurred_at", "source_id", "identifiers"}
    keep |= {"content", "reply_to", "conversation_key", "agent"}
    assert back.model_dump(include=keep) == interaction.model_dump(include=keep)


BAD_RENDERS: list[tuple[str, Interaction, str, str]] = [
    ("inbound", _reply(direction="inbound"), "direction", "must be outbound"),
    (
        "no-handle",
        _reply(identifiers=[{"kind": "email", "value": "jan@example.com"}]),
        "identifiers",
        "webchat handle",
    ),
    (
        "telegram-handle",
        _reply(identifiers=[Identifier.handle("telegram", "287654321")]),
        "identifiers",
        "webchat handle",
    ),
    ("no-conversation", _reply(conversation_key=None), "conversation_key", "needs one"),
    ("conversation-space", _reply(conversation_key="a b"), "conversation_key", "printable"),
    ("source-id-long", _reply(source_id="x" * 129), "source_id", "1-128"),
    ("reply-to-space", _reply(reply_to="evt 1"), "reply_to", "printable"),
    ("agent-long", _reply(agent="a" * 129), "agent", "at most 128"),
    ("no-content", _reply(content=[]), "content", "needs text or an attachment"),
    (
        "too-long",
        _reply(content=[{"type": "text", "text": "x" * 10001}]),
        "content",
        "longer than 10000",
    ),
    (
        "media-without-url",
        _reply(content=[{"type": "media", "media_type": "image/png", "media_id": "m1"}]),
        "content.0",
        "http(s) URL",
    ),
    (
        "location",
        _reply(content=[{"type": "location", "latitude": 52.2, "longitude": 21.0}]),
        "content.0",
        "location part",
    ),
    (
        "order",
        _reply(content=[{"type": "text", "text": "hi"}, {"type": "order", "order_id": "1"}]),
        "content.1",
        "order part",
    ),
]


@pytest.mark.parametrize(
    ("interaction", "field", "message"),
    [case[1:] for case in BAD_RENDERS],
    ids=[case[0] for case in BAD_RENDERS],
)
def test_render_refuses(interaction: Interaction, field: str, message: str) -> None:
    with pytest.raises(InvalidValueError, match=re.escape(message)) as caught:
        WebchatAdapter().render(interaction)
    assert caught.value.field == field
