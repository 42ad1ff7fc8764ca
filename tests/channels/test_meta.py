"""Messenger and Instagram messaging adapters, and the Meta signature and handshake."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from omnichannel import (
    CustomPart,
    Direction,
    Hub,
    Identifier,
    IngestOutcome,
    Interaction,
    InvalidPayloadError,
    InvalidValueError,
    LocationPart,
    MediaPart,
    SignatureError,
    TextPart,
)
from omnichannel.channels import ChannelAdapter, InboundRequest, get_adapter, hmac_digest
from omnichannel.channels._meta import InstagramAdapter, MessengerAdapter, handshake
from omnichannel.storage import MemoryStore
from omnichannel.testing import AdapterConformance

SECRET = "meta-app-secret"
PAGE_ID = "102290129340398"
PSID = "6784321098765432"
IG_ACCOUNT = "17841405822304914"
IGSID = "5372016589414234"
CUSTOMER = Identifier.handle("messenger", PSID)
IG_CUSTOMER = Identifier.handle("instagram", IGSID)
T0 = 1749416383000  # 2025-06-08T20:59:43Z in milliseconds
AT_T0 = datetime(2025, 6, 8, 20, 59, 43, tzinfo=timezone.utc)


def _page(*events: dict[str, Any], key: str = "messaging") -> dict[str, Any]:
    return {"object": "page", "entry": [{"id": PAGE_ID, "time": T0 + 500, key: list(events)}]}


def _from_customer(**event: Any) -> dict[str, Any]:
    return {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": T0, **event}


def _instagram(*events: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "instagram",
        "entry": [{"id": IG_ACCOUNT, "time": T0 + 500, "messaging": list(events)}],
    }


def _from_ig_customer(**event: Any) -> dict[str, Any]:
    return {"sender": {"id": IGSID}, "recipient": {"id": IG_ACCOUNT}, "timestamp": T0, **event}


# --- Messenger samples ------------------------------------------------------------------

# Text with a quick-reply payload, replying to an earlier message.
# Shape: https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/messages
M_TEXT = _page(
    _from_customer(
        message={
            "mid": "m_1457764197618:41d102a3e1ae206a38",
            "text": "Yes please, send the invoice to ola@example.com",
            "quick_reply": {"payload": "INVOICE_YES"},
            "reply_to": {"mid": "m_1fTq8oLumEyIp3Q2MR-aY7IfLZDamVrALniheU", "is_self_reply": False},
        }
    )
)

# Attachments: an image, a file, a legacy location and a shared link (fallback).
# Shape: https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/messages
M_ATTACHMENTS = _page(
    _from_customer(
        message={
            "mid": "m_ATTACH1",
            "attachments": [
                {
                    "type": "image",
                    "payload": {"url": "https://scontent.xx.fbcdn.net/v/t1/photo.jpg"},
                },
                {"type": "file", "payload": {"url": "https://cdn.fbsbx.com/v/t59/receipt.pdf"}},
                {
                    "type": "location",
                    "title": "Pinned Location",
                    "payload": {"coordinates": {"lat": 52.2297, "long": 21.0122}},
                },
                {
                    "type": "fallback",
                    "title": "Summer sale",
                    "URL": "https://shop.example.com/sale",
                    "payload": None,
                },
            ],
        }
    )
)

# The page's own message echoed back (sender is the page, recipient the customer).
# Shape: https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/message-echoes
M_ECHO = _page(
    {
        "sender": {"id": PAGE_ID},
        "recipient": {"id": PSID},
        "timestamp": T0 + 60_000,
        "message": {
            "is_echo": True,
            "app_id": 1517776481860111,
            "metadata": "ticket-4711",
            "mid": "m_ECHO1",
            "text": "Your invoice is on its way.",
        },
    }
)

# Postback button tap, with the referral of the ad that opened the thread.
# Shape: https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/messaging_postbacks
M_POSTBACK = _page(
    _from_customer(
        postback={
            "mid": "m_POSTBACK1",
            "title": "Track my order",
            "payload": "TRACK_ORDER",
            "referral": {"ref": "summer-ad", "source": "ADS", "type": "OPEN_THREAD"},
        }
    )
)

# An older postback without a mid, from a customer known by user_ref (checkbox plugin).
# Shape: https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/messaging_postbacks
M_POSTBACK_USER_REF = _page(
    {
        "sender": {"user_ref": "cart-7f3a9c"},
        "recipient": {"id": PAGE_ID},
        "timestamp": T0,
        "postback": {"title": "Get Started", "payload": "GET_STARTED"},
    }
)

# Read receipt. Shape: https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/message-reads
M_READ = _page(_from_customer(read={"watermark": T0 - 1000}))

# Delivery receipts, with mids and (older clients) without; the second has no timestamp.
# Shape: https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/message-deliveries
M_DELIVERY = _page(
    _from_customer(delivery={"mids": ["m_OURS1", "m_OURS2"], "watermark": T0 - 2000}),
    {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "delivery": {"watermark": T0 - 3000}},
)

# Reaction. Shape: https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/message-reactions
M_REACTION = _page(
    _from_customer(
        reaction={"reaction": "love", "emoji": "\u2764\ufe0f", "action": "react", "mid": "m_OURS1"}
    )
)

# A message in a thread another app owns (handover protocol), plus an opt-in (ignored).
# Shape: https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/message-echoes
M_STANDBY = _page(_from_customer(message={"mid": "m_STANDBY1", "text": "hello?"}), key="standby")
M_OPTIN = _page(_from_customer(optin={"type": "notification_messages", "payload": "SALE"}))

# Two entries, one with two events. Shape: https://developers.facebook.com/docs/messenger-platform/webhooks
M_BATCH: dict[str, Any] = {
    "object": "page",
    "entry": [
        {
            "id": PAGE_ID,
            "time": T0 + 500,
            "messaging": [
                _from_customer(message={"mid": "m_B1", "text": "one"}),
                _from_customer(message={"mid": "m_B2", "text": "two"}),
            ],
        },
        {
            "id": "204857392001234",
            "time": T0 + 600,
            "messaging": [
                {
                    "sender": {"id": "7305198264451873"},
                    "recipient": {"id": "204857392001234"},
                    "timestamp": T0 + 100,
                    "message": {"mid": "m_B3", "text": "three"},
                }
            ],
        },
    ],
}

MESSENGER_SAMPLES = [
    M_TEXT,
    M_ATTACHMENTS,
    M_ECHO,
    M_POSTBACK,
    M_POSTBACK_USER_REF,
    M_READ,
    M_DELIVERY,
    M_REACTION,
    M_STANDBY,
    M_OPTIN,
    M_BATCH,
]

# --- Instagram samples --------------------------------------------------------------------

# Text message. Shape: https://developers.facebook.com/documentation/instagram-platform/webhooks/examples
I_TEXT = _instagram(
    _from_ig_customer(
        message={
            "mid": "aWdfZAG1faXRlbToxOklHTWVzc2FnZUlEOjE3ODQx",
            "text": "Is the tote back in stock?",
        }
    )
)

# Reply to the account's story, and a shared reel.
# Shape: https://developers.facebook.com/documentation/instagram-platform/webhooks/examples
I_STORY_REPLY = _instagram(
    _from_ig_customer(
        message={
            "mid": "aWdfSTORYREPLY1",
            "text": "Love this colour",
            "reply_to": {
                "story": {
                    "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1",
                    "id": "18023345781123456",
                }
            },
        }
    ),
    _from_ig_customer(
        timestamp=T0 + 1000,
        message={
            "mid": "aWdfREEL1",
            "attachments": [
                {
                    "type": "ig_reel",
                    "payload": {
                        "reel_video_id": "3312345",
                        "title": "Tote",
                        "url": "https://x/reel.mp4",
                    },
                }
            ],
        },
    ),
)

# The account's own reply, echoed with the messages field.
# Shape: https://developers.facebook.com/documentation/instagram-platform/webhooks/examples
I_ECHO = _instagram(
    {
        "sender": {"id": IG_ACCOUNT},
        "recipient": {"id": IGSID},
        "timestamp": T0 + 5000,
        "message": {"mid": "aWdfECHO1", "text": "Back on Friday!", "is_echo": True},
    }
)

# messaging_seen (names the read message), an unsent message and an unsupported one.
# Shape: https://developers.facebook.com/documentation/instagram-platform/webhooks/examples
I_SEEN = _instagram(_from_ig_customer(read={"mid": "aWdfECHO1"}))
I_DELETED = _instagram(_from_ig_customer(message={"mid": "aWdfSTORYREPLY1", "is_deleted": True}))
I_UNSUPPORTED = _instagram(_from_ig_customer(message={"mid": "aWdfUNSUP1", "is_unsupported": True}))

# Reaction. Shape: https://developers.facebook.com/documentation/instagram-platform/webhooks/examples
I_REACTION = _instagram(_from_ig_customer(reaction={"mid": "aWdfECHO1", "action": "unreact"}))

INSTAGRAM_SAMPLES = [I_TEXT, I_STORY_REPLY, I_ECHO, I_SEEN, I_DELETED, I_UNSUPPORTED, I_REACTION]


def _request(payload: dict[str, Any]) -> InboundRequest:
    return InboundRequest(body=json.dumps(payload).encode(), content_type="application/json")


def _sign(request: InboundRequest, secret: str) -> InboundRequest:
    signature = "sha256=" + hmac_digest(secret, request.body).hex()
    return request.model_copy(update={"headers": {"x-hub-signature-256": signature}})


def _messenger(payload: dict[str, Any]) -> list[Interaction]:
    return MessengerAdapter().parse(_request(payload))


def _ig(payload: dict[str, Any]) -> list[Interaction]:
    return InstagramAdapter().parse(_request(payload))


def _parts(interaction: Interaction, kind: type[Any]) -> list[Any]:
    return [part for part in interaction.content if isinstance(part, kind)]


class TestMessengerConformance(AdapterConformance):
    @pytest.fixture
    def adapter(self) -> ChannelAdapter:
        return MessengerAdapter()

    @pytest.fixture
    def samples(self) -> list[InboundRequest]:
        return [_request(sample) for sample in MESSENGER_SAMPLES]

    @pytest.fixture
    def outbound(self) -> Interaction:
        return Interaction(
            channel="messenger",
            direction=Direction.OUTBOUND,
            occurred_at=AT_T0,
            identifiers=(CUSTOMER,),
            content=(TextPart(text="It ships tomorrow."),),
        )

    def sign(self, request: InboundRequest, secret: str, now: datetime) -> InboundRequest:
        return _sign(request, secret)


class TestInstagramConformance(AdapterConformance):
    @pytest.fixture
    def adapter(self) -> ChannelAdapter:
        return InstagramAdapter()

    @pytest.fixture
    def samples(self) -> list[InboundRequest]:
        return [_request(sample) for sample in INSTAGRAM_SAMPLES]

    @pytest.fixture
    def outbound(self) -> Interaction:
        return Interaction(
            channel="instagram",
            direction=Direction.OUTBOUND,
            occurred_at=AT_T0,
            identifiers=(IG_CUSTOMER,),
            content=(TextPart(text="Back on Friday!"),),
        )

    def sign(self, request: InboundRequest, secret: str, now: datetime) -> InboundRequest:
        return _sign(request, secret)


# --- Messenger: what the adapter extracts -------------------------------------------------


def test_registry_builds_the_adapters() -> None:
    assert isinstance(get_adapter("messenger"), MessengerAdapter)
    assert isinstance(get_adapter("instagram"), InstagramAdapter)


def test_messenger_text() -> None:
    (item,) = _messenger(M_TEXT)
    assert (item.channel, item.kind, item.direction) == ("messenger", "message", Direction.INBOUND)
    assert item.source_id == "m_1457764197618:41d102a3e1ae206a38"
    assert item.occurred_at == AT_T0
    assert item.identifiers == (CUSTOMER,)
    assert item.text == "Yes please, send the invoice to ola@example.com"
    assert item.mentions == (Identifier.email("ola@example.com"),)
    assert item.reply_to == "m_1fTq8oLumEyIp3Q2MR-aY7IfLZDamVrALniheU"
    (quick,) = _parts(item, CustomPart)
    assert (quick.name, quick.data) == ("quick_reply", {"payload": "INVOICE_YES"})
    assert item.metadata == {"account_id": PAGE_ID, "business_id": PAGE_ID}


def test_messenger_attachments() -> None:
    (item,) = _messenger(M_ATTACHMENTS)
    image, file = _parts(item, MediaPart)
    assert (image.media_type, image.url) == (
        "image/*",
        "https://scontent.xx.fbcdn.net/v/t1/photo.jpg",
    )
    assert (file.media_type, file.url) == (
        "application/octet-stream",
        "https://cdn.fbsbx.com/v/t59/receipt.pdf",
    )
    (location,) = _parts(item, LocationPart)
    assert (location.latitude, location.longitude, location.name) == (
        52.2297,
        21.0122,
        "Pinned Location",
    )
    (fallback,) = _parts(item, CustomPart)
    assert fallback.name == "fallback"
    assert fallback.data["URL"] == "https://shop.example.com/sale"


def test_echo_is_outbound_to_the_customer() -> None:
    (item,) = _messenger(M_ECHO)
    assert item.direction is Direction.OUTBOUND
    assert item.identifiers == (CUSTOMER,)
    assert item.source_id == "m_ECHO1"
    assert item.metadata["is_echo"] is True
    assert item.metadata["app_id"] == 1517776481860111
    assert item.metadata["echo_metadata"] == "ticket-4711"
    assert item.metadata["business_id"] == PAGE_ID


def test_postback() -> None:
    (item,) = _messenger(M_POSTBACK)
    assert item.kind == "message"
    assert item.source_id == "m_POSTBACK1"
    assert item.text == "Track my order"
    (postback,) = _parts(item, CustomPart)
    assert postback.name == "postback"
    assert postback.data == {
        "title": "Track my order",
        "payload": "TRACK_ORDER",
        "referral": {"ref": "summer-ad", "source": "ADS", "type": "OPEN_THREAD"},
    }


def test_postback_without_mid_from_a_user_ref() -> None:
    (item,) = _messenger(M_POSTBACK_USER_REF)
    customer = Identifier.handle("messenger.user_ref", "cart-7f3a9c")
    assert item.identifiers == (customer,)
    assert item.source_id == f"postback:cart-7f3a9c:{T0}"
    assert _messenger(M_POSTBACK_USER_REF)[0].source_id == item.source_id


def test_read_receipt() -> None:
    (item,) = _messenger(M_READ)
    assert (item.kind, item.direction) == ("status", Direction.OUTBOUND)
    assert item.source_id == f"read:{PSID}:{T0 - 1000}"
    assert item.identifiers == (CUSTOMER,)
    assert item.metadata["status"] == "read"
    assert item.metadata["watermark"] == T0 - 1000


def test_delivery_receipts() -> None:
    first, second, watermark_only = _messenger(M_DELIVERY)
    assert [first.source_id, second.source_id] == [
        "m_OURS1:status:delivered",
        "m_OURS2:status:delivered",
    ]
    assert first.metadata["message_id"] == "m_OURS1"
    assert watermark_only.source_id == f"delivered:{PSID}:{T0 - 3000}"
    assert watermark_only.occurred_at == AT_T0 + timedelta(milliseconds=500)  # the entry time
    assert {i.kind for i in (first, second, watermark_only)} == {"status"}


def test_reaction() -> None:
    (item,) = _messenger(M_REACTION)
    assert item.kind == "reaction"
    assert item.reply_to == "m_OURS1"
    assert item.source_id == f"m_OURS1:reaction:{PSID}:{T0}"
    (part,) = _parts(item, CustomPart)
    assert part.data == {
        "message_id": "m_OURS1",
        "action": "react",
        "emoji": "\u2764\ufe0f",
        "reaction": "love",
    }


def test_standby_and_ignored_events() -> None:
    (item,) = _messenger(M_STANDBY)
    assert item.metadata["standby"] is True
    assert _messenger(M_OPTIN) == []


def test_batch_gives_one_interaction_per_event() -> None:
    items = _messenger(M_BATCH)
    assert [i.source_id for i in items] == ["m_B1", "m_B2", "m_B3"]
    assert items[2].identifiers == (Identifier.handle("messenger", "7305198264451873"),)
    assert items[2].metadata["account_id"] == "204857392001234"


def test_messenger_refuses_an_instagram_body() -> None:
    with pytest.raises(InvalidPayloadError) as caught:
        _messenger(I_TEXT)
    assert caught.value.field == "object"
    assert "must be 'page'" in str(caught.value)


# --- Instagram: what the adapter extracts --------------------------------------------------


def test_instagram_text() -> None:
    (item,) = _ig(I_TEXT)
    assert (item.channel, item.kind, item.direction) == ("instagram", "message", Direction.INBOUND)
    assert item.identifiers == (IG_CUSTOMER,)
    assert item.text == "Is the tote back in stock?"
    assert item.metadata["account_id"] == IG_ACCOUNT


def test_story_reply_and_shared_reel() -> None:
    reply, reel = _ig(I_STORY_REPLY)
    assert reply.reply_to is None
    assert reply.metadata["reply_to_story"] == {
        "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1",
        "id": "18023345781123456",
    }
    (shared,) = _parts(reel, CustomPart)
    assert shared.name == "ig_reel"
    assert shared.data == {
        "payload": {"reel_video_id": "3312345", "title": "Tote", "url": "https://x/reel.mp4"}
    }


def test_instagram_echo_seen_deleted_unsupported_reaction() -> None:
    (echo,) = _ig(I_ECHO)
    assert (echo.direction, echo.identifiers) == (Direction.OUTBOUND, (IG_CUSTOMER,))
    (seen,) = _ig(I_SEEN)
    assert (seen.kind, seen.source_id) == ("status", f"read:{IGSID}:aWdfECHO1")
    assert seen.metadata["message_id"] == "aWdfECHO1"
    (deleted,) = _ig(I_DELETED)
    assert (deleted.kind, deleted.source_id) == ("status", "aWdfSTORYREPLY1:deleted")
    assert deleted.metadata["status"] == "deleted"
    (unsupported,) = _ig(I_UNSUPPORTED)
    assert unsupported.metadata["unsupported"] is True
    (reaction,) = _ig(I_REACTION)
    (part,) = _parts(reaction, CustomPart)
    assert part.data == {"message_id": "aWdfECHO1", "action": "unreact"}


# --- bad input ---------------------------------------------------------------------------

_DELETE = object()


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(payload: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = payload
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        index: Any = int(last) if isinstance(target, list) else last
        if value is _DELETE:
            del target[index]
        else:
            target[index] = value

    return mutate


EVENT = "entry.0.messaging.0"


@pytest.mark.parametrize(
    ("sample", "mutate", "field", "message"),
    [
        (M_TEXT, _set("object", "instagram"), "object", "must be 'page'"),
        (M_TEXT, _set("entry", "x"), "entry", "must be of type list"),
        (M_TEXT, _set("entry.0.messaging", {}), "entry.0.messaging", "must be of type list"),
        (M_TEXT, _set(f"{EVENT}.sender", _DELETE), f"{EVENT}.sender", "is missing"),
        (M_TEXT, _set(f"{EVENT}.sender.id", "not-a-psid"), f"{EVENT}.sender.id", "numeric Meta id"),
        (M_TEXT, _set(f"{EVENT}.sender", {}), f"{EVENT}.sender.id", "is missing"),
        (M_TEXT, _set(f"{EVENT}.message.mid", _DELETE), f"{EVENT}.message.mid", "is missing"),
        (M_TEXT, _set(f"{EVENT}.message.text", 5), f"{EVENT}.message.text", "must be of type str"),
        (M_TEXT, _set(f"{EVENT}.message", "hi"), f"{EVENT}.message", "must be of type dict"),
        (M_TEXT, _set(f"{EVENT}.timestamp", "later"), f"{EVENT}.timestamp", "not a valid Unix"),
        (M_TEXT, _set(f"{EVENT}.timestamp", 10**30), f"{EVENT}.timestamp", "milliseconds"),
        (
            M_TEXT,
            _set(f"{EVENT}.message.is_echo", "yes"),
            f"{EVENT}.message.is_echo",
            "must be of type bool",
        ),
        (M_ECHO, _set(f"{EVENT}.recipient.id", ""), f"{EVENT}.recipient.id", "numeric Meta id"),
        (
            M_ATTACHMENTS,
            _set(f"{EVENT}.message.attachments.0", []),
            f"{EVENT}.message.attachments.0",
            "must be an object",
        ),
        (
            M_ATTACHMENTS,
            _set(f"{EVENT}.message.attachments.2.payload.coordinates.lat", 123.4),
            f"{EVENT}.message.attachments.2.payload.coordinates.lat",
            "between -90 and 90",
        ),
        (M_READ, _set(f"{EVENT}.read", {}), f"{EVENT}.read.watermark", "is missing"),
        (M_READ, _set(f"{EVENT}.read.watermark", -5), f"{EVENT}.read.watermark", "milliseconds"),
        (
            M_DELIVERY,
            _set(f"{EVENT}.delivery.mids.1", 42),
            f"{EVENT}.delivery.mids.1",
            "must be a string",
        ),
        (M_REACTION, _set(f"{EVENT}.reaction.mid", _DELETE), f"{EVENT}.reaction.mid", "is missing"),
        (
            M_POSTBACK,
            _set(f"{EVENT}.postback.payload", {}),
            f"{EVENT}.postback.payload",
            "must be of type str",
        ),
    ],
)
def test_bad_input_names_the_field(
    sample: dict[str, Any], mutate: Callable[[dict[str, Any]], None], field: str, message: str
) -> None:
    payload = copy.deepcopy(sample)
    mutate(payload)
    with pytest.raises(InvalidPayloadError) as caught:
        _messenger(payload)
    assert caught.value.field == field
    assert message in str(caught.value)


def test_event_without_any_time_is_refused() -> None:
    payload = copy.deepcopy(M_DELIVERY)
    del payload["entry"][0]["time"]
    event = payload["entry"][0]["messaging"][1]
    del event["delivery"]["watermark"]
    event["delivery"]["mids"] = ["m_X"]
    with pytest.raises(InvalidPayloadError) as caught:
        _messenger(payload)
    assert caught.value.field == "entry.0.messaging.1.timestamp"


def test_future_event_is_refused() -> None:
    payload = copy.deepcopy(M_TEXT)
    later = datetime.now(timezone.utc) + timedelta(days=1)
    payload["entry"][0]["messaging"][0]["timestamp"] = int(later.timestamp() * 1000)
    with pytest.raises(InvalidPayloadError, match="future"):
        _messenger(payload)


# --- signatures and the handshake ------------------------------------------------------------


@pytest.mark.parametrize(
    "adapter", [MessengerAdapter(), InstagramAdapter()], ids=["messenger", "instagram"]
)
def test_signature(adapter: MessengerAdapter) -> None:
    request = _request(M_TEXT)
    adapter.verify(_sign(request, SECRET), SECRET)
    with pytest.raises(SignatureError, match="does not match"):
        adapter.verify(_sign(request, "someone-else"), SECRET)
    with pytest.raises(SignatureError, match="is missing"):
        adapter.verify(request, SECRET)
    with pytest.raises(SignatureError, match="'sha256='"):
        adapter.verify(
            InboundRequest(body=request.body, headers={"X-Hub-Signature-256": "md5=abc"}), SECRET
        )


def test_replayed_messenger_webhook_is_stored_once() -> None:
    """No timestamp is signed; the mid makes the second delivery a no-op."""
    adapter = MessengerAdapter()
    request = _sign(_request(M_TEXT), SECRET)
    hub = Hub(MemoryStore())
    adapter.verify(request, SECRET)
    first = [hub.ingest(i).outcome for i in adapter.parse(request)]
    adapter.verify(request, SECRET)
    again = [hub.ingest(i).outcome for i in adapter.parse(request)]
    assert (first, again) == ([IngestOutcome.CREATED], [IngestOutcome.DUPLICATE])


QUERY = {
    "hub.mode": "subscribe",
    "hub.verify_token": "tok-123",
    "hub.challenge": "CHALLENGE_ACCEPTED",
}


@pytest.mark.parametrize(
    "adapter", [MessengerAdapter(), InstagramAdapter()], ids=["messenger", "instagram"]
)
def test_handshake_good(adapter: MessengerAdapter) -> None:
    assert (
        adapter.handshake(InboundRequest(method="GET", query=QUERY), "tok-123")
        == "CHALLENGE_ACCEPTED"
    )


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ({**QUERY, "hub.verify_token": "tok-124"}, "does not match"),
        ({**QUERY, "hub.mode": "Subscribe"}, "not 'subscribe'"),
        ({k: v for k, v in QUERY.items() if k != "hub.challenge"}, "challenge is missing"),
        ({k: v for k, v in QUERY.items() if k != "hub.verify_token"}, "does not match"),
    ],
    ids=["wrong-token", "wrong-mode", "missing-challenge", "missing-token"],
)
def test_handshake_refused(query: dict[str, str], reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        handshake(InboundRequest(method="GET", query=query), "tok-123")
    with pytest.raises(SignatureError, match=reason):
        InstagramAdapter().handshake(InboundRequest(method="GET", query=query), "tok-123")


# --- rendering ----------------------------------------------------------------------------


def _reply(channel: str, *content: Any, identifiers: tuple[Identifier, ...]) -> Interaction:
    return Interaction(
        channel=channel,
        direction=Direction.OUTBOUND,
        occurred_at=AT_T0,
        identifiers=identifiers,
        content=content,
    )


def test_render_text() -> None:
    payload = MessengerAdapter().render(
        _reply("messenger", TextPart(text="Hi!"), identifiers=(CUSTOMER,))
    )
    assert payload == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Hi!"},
    }
    payload = InstagramAdapter().render(
        _reply("instagram", TextPart(text="Hi!"), identifiers=(IG_CUSTOMER,))
    )
    assert payload["recipient"] == {"id": IGSID}


def test_render_one_attachment() -> None:
    part = MediaPart(media_type="image/jpeg", url="https://shop.example.com/tote.jpg")
    payload = MessengerAdapter().render(_reply("messenger", part, identifiers=(CUSTOMER,)))
    assert payload["message"] == {
        "attachment": {
            "type": "image",
            "payload": {"url": "https://shop.example.com/tote.jpg", "is_reusable": True},
        }
    }


@pytest.mark.parametrize(
    ("interaction", "field"),
    [
        (_reply("messenger", TextPart(text="x"), identifiers=(IG_CUSTOMER,)), "identifiers"),
        (_reply("instagram", TextPart(text="x"), identifiers=(IG_CUSTOMER,)), "channel"),
        (_reply("messenger", identifiers=(CUSTOMER,)), "content"),
        (_reply("messenger", TextPart(text="x" * 2001), identifiers=(CUSTOMER,)), "content"),
        (
            _reply(
                "messenger",
                TextPart(text="look"),
                MediaPart(media_type="image/png", url="https://x/y.png"),
                identifiers=(CUSTOMER,),
            ),
            "content",
        ),
    ],
    ids=["other-platform-handle", "wrong-channel", "empty", "too-long", "text-and-media"],
)
def test_render_refusals(interaction: Interaction, field: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        MessengerAdapter().render(interaction)
    assert caught.value.field == field


# --- resolution --------------------------------------------------------------------------------


def test_messenger_messages_resolve_by_psid_and_stay_apart_from_instagram() -> None:
    hub = Hub(MemoryStore())
    results = [
        hub.ingest(i) for i in _messenger(M_TEXT) + _messenger(M_ECHO) + _messenger(M_POSTBACK)
    ]
    assert {r.profile_id for r in results} == {results[0].profile_id}
    assert [r.outcome for r in results] == [
        IngestOutcome.CREATED,
        IngestOutcome.ATTACHED,
        IngestOutcome.ATTACHED,
    ]
    same_digits = Identifier.handle("instagram", PSID)
    other = hub.ingest(
        InstagramAdapter().parse(
            _request(
                _instagram(
                    {
                        "sender": {"id": PSID},
                        "recipient": {"id": IG_ACCOUNT},
                        "timestamp": T0,
                        "message": {"mid": "aWdfX", "text": "hi"},
                    }
                )
            )
        )[0]
    )
    assert hub.find(same_digits) is not None
    assert other.profile_id != results[0].profile_id


def test_every_sample_ingests() -> None:
    hub = Hub(MemoryStore())
    for sample in MESSENGER_SAMPLES:
        for item in _messenger(sample):
            hub.ingest(item)
    for sample in INSTAGRAM_SAMPLES:
        for item in _ig(sample):
            hub.ingest(item)
    assert hub.find(CUSTOMER) is not None
    assert hub.find(IG_CUSTOMER) is not None
