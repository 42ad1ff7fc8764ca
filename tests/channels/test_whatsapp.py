"""The WhatsApp Cloud API adapter: conformance, what it extracts, signatures, rendering."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from omnichannel import (
    ContactCardPart,
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
    OrderRefPart,
    SignatureError,
    TextPart,
)
from omnichannel.channels import ChannelAdapter, InboundRequest, get_adapter, hmac_digest
from omnichannel.channels._meta import handshake
from omnichannel.channels._whatsapp import WhatsAppAdapter
from omnichannel.storage import MemoryStore
from omnichannel.testing import AdapterConformance

SECRET = "meta-app-secret"
SENDER = Identifier.phone("+48601234567")
WABA_ID = "102290129340398"
METADATA = {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"}
SENT_AT = datetime(2025, 6, 8, 20, 59, 43, tzinfo=timezone.utc)  # 1749416383


def _webhook(*values: dict[str, Any], field: str = "messages") -> dict[str, Any]:
    """One entry with one change per value, in the documented envelope."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": WABA_ID,
                "changes": [{"value": value, "field": field} for value in values],
            }
        ],
    }


def _value(*messages: dict[str, Any], name: str = "Jan Kowalski") -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": METADATA,
        "contacts": [{"profile": {"name": name}, "wa_id": "48601234567"}],
        "messages": list(messages),
    }


def _message(message_id: str, message_type: str, **fields: Any) -> dict[str, Any]:
    return {
        "from": "48601234567",
        "id": message_id,
        "timestamp": "1749416383",
        "type": message_type,
        **fields,
    }


# Text message replying to an earlier business message, with an email and a number written
# in the body. Shape: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages
TEXT = _webhook(
    _value(
        _message(
            "wamid.HBgLNDg2MDEyMzQ1NjcVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
            "text",
            text={"body": "Is it in blue? Write to jan.k@example.com or call +49 151 12345678"},
            context={
                "from": "15550783881",
                "id": "wamid.HBgLNDg2MDEyMzQ1NjcVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA",
            },
        )
    )
)

# Image with caption and filename-less media object.
# Shape: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/image
IMAGE = _webhook(
    _value(
        _message(
            "wamid.IMAGE1",
            "image",
            image={
                "caption": "This one, size M",
                "mime_type": "image/jpeg",
                "sha256": "GgGDzCQnTHnJhb3m7JCt3FBX3xqBZSp0jSvGdVfpnxM=",
                "id": "1003383421387256",
            },
        )
    )
)

# Document (a PDF invoice) forwarded by the customer.
# Shape: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/document
DOCUMENT = _webhook(
    _value(
        _message(
            "wamid.DOC1",
            "document",
            context={"forwarded": True},
            document={
                "filename": "invoice-1042.pdf",
                "mime_type": "application/pdf",
                "sha256": "Pd3uKqFh3c1tJmb2wNFCHcLdcS9l7mkaYc5S+J6Sgsw=",
                "id": "24162347436737413",
            },
        )
    )
)

# Location pin. Shape: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/location
LOCATION = _webhook(
    _value(
        _message(
            "wamid.LOC1",
            "location",
            location={
                "address": "Marszałkowska 104, Warszawa",
                "latitude": 52.2319581,
                "longitude": 21.0067249,
                "name": "Sklep Centrum",
                "url": "https://www.example.com/store",
            },
        )
    )
)

# Two shared contact cards: the sender's own (its wa_id equals "from") and a friend's.
# Shape: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/contacts
CONTACTS = _webhook(
    _value(
        _message(
            "wamid.CARDS1",
            "contacts",
            contacts=[
                {
                    "name": {"formatted_name": "Jan Kowalski", "first_name": "Jan"},
                    "phones": [
                        {"phone": "+48 601 234 567", "wa_id": "48601234567", "type": "CELL"}
                    ],
                    "emails": [{"email": "Jan.Kowalski@Example.com", "type": "WORK"}],
                },
                {
                    "name": {"first_name": "Anna", "last_name": "Nowak"},
                    "phones": [
                        {"phone": "+48 501 234 567", "type": "HOME"},
                        {"phone": "not a number", "type": "WORK"},
                    ],
                    "emails": [{"email": "anna@example.org"}, {"email": "broken@"}],
                    "birthday": "1990-04-01",
                },
            ],
        )
    )
)

# A reply button and a list row chosen, batched in one webhook.
# Shape: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/interactive
INTERACTIVE = _webhook(
    _value(
        _message(
            "wamid.BTN1",
            "interactive",
            context={"from": "15550783881", "id": "wamid.ASKED1"},
            interactive={
                "type": "button_reply",
                "button_reply": {"id": "change", "title": "Change"},
            },
        ),
        _message(
            "wamid.LIST1",
            "interactive",
            context={"from": "15550783881", "id": "wamid.ASKED2"},
            interactive={
                "type": "list_reply",
                "list_reply": {
                    "id": "priority_express",
                    "title": "Priority Mail Express",
                    "description": "Next day to 2 days",
                },
            },
        ),
    )
)

# Quick-reply button of a marketing template.
# Shape: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/button
BUTTON = _webhook(
    _value(
        _message(
            "wamid.TPLBTN1",
            "button",
            context={"from": "15550783881", "id": "wamid.TEMPLATE1"},
            button={"payload": "STOP_PROMOS", "text": "Stop promotions"},
        )
    )
)

# Reaction to a business message. Shape: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/reaction
REACTION = _webhook(
    _value(
        _message(
            "wamid.REACT1",
            "reaction",
            reaction={"message_id": "wamid.OURS1", "emoji": "\N{THUMBS UP SIGN}"},
        )
    )
)

# Cart sent from the catalog. Shape: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/order
ORDER = _webhook(
    _value(
        _message(
            "wamid.ORDER1",
            "order",
            order={
                "catalog_id": "194836987003835",
                "text": "Please deliver after 5pm",
                "product_items": [
                    {
                        "product_retailer_id": "di9ozbzfi4",
                        "quantity": 2,
                        "item_price": 30.5,
                        "currency": "PLN",
                    },
                    {
                        "product_retailer_id": "nqryix03ez",
                        "quantity": 1,
                        "item_price": 99,
                        "currency": "PLN",
                    },
                ],
            },
        )
    )
)

# A type Cloud API cannot deliver ("unsupported", with its error) and one it added later.
# Shape: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/unsupported
UNSUPPORTED = _webhook(
    _value(
        _message(
            "wamid.UNSUP1",
            "unsupported",
            errors=[
                {
                    "code": 131051,
                    "title": "Message type unknown",
                    "message": "Message type unknown",
                    "error_data": {"details": "Message type is currently not supported."},
                }
            ],
            unsupported={"type": "edit"},
        ),
        _message("wamid.FUTURE1", "request_welcome"),
    )
)

# Receipts for two business messages: read, and failed with an error.
# Shape: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status
STATUSES = _webhook(
    {
        "messaging_product": "whatsapp",
        "metadata": METADATA,
        "statuses": [
            {
                "id": "wamid.OURS1",
                "status": "read",
                "timestamp": "1749416400",
                "recipient_id": "48601234567",
                "conversation": {
                    "id": "a75d17ad06104c51166f948319b03c6a",
                    "origin": {"type": "service"},
                },
                "pricing": {"billable": True, "pricing_model": "PMP", "category": "service"},
            },
            {
                "id": "wamid.OURS2",
                "status": "failed",
                "timestamp": "1749416401",
                "recipient_id": "16505551234",
                "errors": [
                    {
                        "code": 131047,
                        "title": "Re-engagement message",
                        "message": "Re-engagement message",
                        "error_data": {"details": "More than 24 hours have passed."},
                    }
                ],
            },
        ],
    }
)

# Two entries (two business numbers of one app) in one delivery.
# Shape: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages
TWO_ENTRIES: dict[str, Any] = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": WABA_ID,
            "changes": [
                {
                    "field": "messages",
                    "value": _value(_message("wamid.E1", "text", text={"body": "first"})),
                }
            ],
        },
        {
            "id": "204857392001234",
            "changes": [
                {
                    "field": "messages",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": "48221234567",
                            "phone_number_id": "3344556677",
                        },
                        "contacts": [
                            {"profile": {"name": "Sheena Nelson"}, "wa_id": "16505551234"}
                        ],
                        "messages": [
                            {
                                "from": "16505551234",
                                "id": "wamid.E2",
                                "timestamp": "1749416390",
                                "type": "text",
                                "text": {"body": "second"},
                            }
                        ],
                    },
                }
            ],
        },
    ],
}

# Business-scoped user ids: a customer with phone and BSUID, and a username-only customer
# whose phone Meta withholds. Shape: https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids/
BSUID = _webhook(
    {
        "messaging_product": "whatsapp",
        "metadata": METADATA,
        "contacts": [
            {
                "profile": {"name": "Jan Kowalski"},
                "wa_id": "48601234567",
                "user_id": "PL.1502576394655843",
            },
            {"profile": {"name": "Ola", "username": "@ola.shop"}, "user_id": "PL.8837261524374"},
        ],
        "messages": [
            {
                "from": "48601234567",
                "id": "wamid.BS1",
                "timestamp": "1749416383",
                "type": "text",
                "text": {"body": "hi"},
            },
            {
                "from_user_id": "PL.8837261524374",
                "id": "wamid.BS2",
                "timestamp": "1749416384",
                "type": "text",
                "text": {"body": "hello"},
            },
        ],
    }
)

# A template review sent to the same URL: not a customer contact.
# Shape: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/message_template_status_update
TEMPLATE_UPDATE = _webhook(
    {
        "event": "APPROVED",
        "message_template_id": 594425479261596,
        "message_template_name": "order_ready",
    },
    field="message_template_status_update",
)

ALL_SAMPLES = [
    TEXT,
    IMAGE,
    DOCUMENT,
    LOCATION,
    CONTACTS,
    INTERACTIVE,
    BUTTON,
    REACTION,
    ORDER,
    UNSUPPORTED,
    STATUSES,
    TWO_ENTRIES,
    BSUID,
    TEMPLATE_UPDATE,
]


def _request(payload: dict[str, Any]) -> InboundRequest:
    return InboundRequest(body=json.dumps(payload).encode(), content_type="application/json")


def _sign(request: InboundRequest, secret: str) -> InboundRequest:
    signature = "sha256=" + hmac_digest(secret, request.body).hex()
    return request.model_copy(update={"headers": {"x-hub-signature-256": signature}})


def _parse(payload: dict[str, Any]) -> list[Interaction]:
    return WhatsAppAdapter().parse(_request(payload))


def _one(payload: dict[str, Any]) -> Interaction:
    (interaction,) = _parse(payload)
    return interaction


def _parts(interaction: Interaction, kind: type[Any]) -> list[Any]:
    return [part for part in interaction.content if isinstance(part, kind)]


class TestWhatsAppConformance(AdapterConformance):
    @pytest.fixture
    def adapter(self) -> ChannelAdapter:
        return WhatsAppAdapter()

    @pytest.fixture
    def samples(self) -> list[InboundRequest]:
        return [_request(sample) for sample in ALL_SAMPLES]

    @pytest.fixture
    def outbound(self) -> Interaction:
        return Interaction(
            channel="whatsapp",
            direction=Direction.OUTBOUND,
            occurred_at=SENT_AT,
            identifiers=(SENDER,),
            content=(TextPart(text="Yes, it comes in blue."),),
            reply_to="wamid.HBgLNDg2MDEyMzQ1NjcVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=",
        )

    def sign(self, request: InboundRequest, secret: str, now: datetime) -> InboundRequest:
        return _sign(request, secret)


# --- what the adapter extracts --------------------------------------------------------


def test_registry_builds_the_adapter() -> None:
    assert isinstance(get_adapter("whatsapp"), WhatsAppAdapter)


def test_text_message() -> None:
    item = _one(TEXT)
    assert item.channel == "whatsapp"
    assert item.kind == "message"
    assert item.direction is Direction.INBOUND
    assert item.source_id == "wamid.HBgLNDg2MDEyMzQ1NjcVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    assert item.occurred_at == SENT_AT
    assert item.identifiers == (SENDER,)
    assert item.traits == {"display_name": "Jan Kowalski"}
    assert item.text.startswith("Is it in blue?")
    assert item.reply_to == "wamid.HBgLNDg2MDEyMzQ1NjcVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"
    assert set(item.mentions) == {
        Identifier.email("jan.k@example.com"),
        Identifier.phone("+4915112345678"),
    }
    assert item.metadata["waba_id"] == WABA_ID
    assert item.metadata["phone_number_id"] == "106540352242922"
    assert item.metadata["context_from"] == "15550783881"
    assert item.metadata["message_type"] == "text"


def test_image_is_a_media_part_with_the_media_id() -> None:
    item = _one(IMAGE)
    (media,) = _parts(item, MediaPart)
    assert media.media_id == "1003383421387256"
    assert media.media_type == "image/jpeg"
    assert media.caption == "This one, size M"
    assert item.metadata["media"] == {"sha256": "GgGDzCQnTHnJhb3m7JCt3FBX3xqBZSp0jSvGdVfpnxM="}
    assert item.text == "This one, size M"
    assert item.summary == "This one, size M"


def test_document_keeps_its_filename_and_forwarded_flag() -> None:
    item = _one(DOCUMENT)
    (media,) = _parts(item, MediaPart)
    assert (media.name, media.media_type, media.media_id) == (
        "invoice-1042.pdf",
        "application/pdf",
        "24162347436737413",
    )
    assert item.metadata["forwarded"] is True
    assert item.reply_to is None


def test_location() -> None:
    (location,) = _parts(_one(LOCATION), LocationPart)
    assert location.latitude == pytest.approx(52.2319581)
    assert location.longitude == pytest.approx(21.0067249)
    assert location.name == "Sklep Centrum"
    assert location.address == "Marszałkowska 104, Warszawa"


def test_contact_cards_separate_the_sender_from_other_people() -> None:
    item = _one(CONTACTS)
    own, other = _parts(item, ContactCardPart)
    assert own.is_sender is True
    assert own.name == "Jan Kowalski"
    assert set(own.identifiers) == {SENDER, Identifier.email("jan.kowalski@example.com")}
    assert other.is_sender is False
    assert other.name == "Anna Nowak"
    assert set(other.identifiers) == {
        Identifier.phone("+48501234567"),
        Identifier.email("anna@example.org"),
    }
    # The sender's own card extends their identifiers; the friend's card is only evidence.
    assert set(item.identifiers) == {SENDER, Identifier.email("jan.kowalski@example.com")}
    assert set(item.mentions) == set(other.identifiers)


def test_interactive_replies_give_the_title_and_the_choice() -> None:
    button, row = _parse(INTERACTIVE)
    assert button.text == "Change"
    assert button.reply_to == "wamid.ASKED1"
    (choice,) = _parts(button, CustomPart)
    assert choice.name == "interactive"
    assert choice.data == {"type": "button_reply", "id": "change", "title": "Change"}
    assert row.text == "Priority Mail Express"
    (choice,) = _parts(row, CustomPart)
    assert choice.data["id"] == "priority_express"
    assert choice.data["description"] == "Next day to 2 days"


def test_template_button() -> None:
    item = _one(BUTTON)
    assert item.text == "Stop promotions"
    (button,) = _parts(item, CustomPart)
    assert button.name == "button"
    assert button.data == {"text": "Stop promotions", "payload": "STOP_PROMOS"}
    assert item.reply_to == "wamid.TEMPLATE1"


def test_reaction_points_at_the_reacted_message() -> None:
    item = _one(REACTION)
    assert item.kind == "reaction"
    assert item.source_id == "wamid.REACT1"
    assert item.reply_to == "wamid.OURS1"
    (part,) = _parts(item, CustomPart)
    assert part.data == {"message_id": "wamid.OURS1", "emoji": "\N{THUMBS UP SIGN}"}


def test_removed_reaction() -> None:
    payload = copy.deepcopy(REACTION)
    del payload["entry"][0]["changes"][0]["value"]["messages"][0]["reaction"]["emoji"]
    (part,) = _parts(_one(payload), CustomPart)
    assert part.data["removed"] is True


def test_order_carries_items_and_total() -> None:
    item = _one(ORDER)
    assert item.kind == "order"
    assert item.text == "Please deliver after 5pm"
    (order,) = _parts(item, CustomPart)
    assert order.name == "order"
    assert order.data["catalog_id"] == "194836987003835"
    assert isinstance(order.data["product_items"], list)
    assert len(order.data["product_items"]) == 2
    (ref,) = _parts(item, OrderRefPart)
    assert (ref.order_id, ref.amount, ref.currency) == ("wamid.ORDER1", Decimal("160.0"), "PLN")


def test_order_without_a_common_currency_has_no_total() -> None:
    payload = copy.deepcopy(ORDER)
    items = payload["entry"][0]["changes"][0]["value"]["messages"][0]["order"]["product_items"]
    items[1]["currency"] = "EUR"
    assert not _parts(_one(payload), OrderRefPart)


def test_unknown_types_are_kept_and_flagged() -> None:
    unsupported, future = _parse(UNSUPPORTED)
    for item, name in ((unsupported, "unsupported"), (future, "request_welcome")):
        assert item.kind == "message"
        assert item.metadata["unsupported"] is True
        (part,) = _parts(item, CustomPart)
        assert part.name == name
        assert item.identifiers == (SENDER,)
    (part,) = _parts(unsupported, CustomPart)
    assert part.data == {"type": "edit"}
    errors = unsupported.metadata["errors"]
    assert isinstance(errors, list)
    assert errors[0] == {
        "code": 131051,
        "title": "Message type unknown",
        "message": "Message type unknown",
        "error_data": {"details": "Message type is currently not supported."},
    }


def test_statuses() -> None:
    read, failed = _parse(STATUSES)
    assert read.kind == failed.kind == "status"
    assert read.direction is failed.direction is Direction.OUTBOUND
    assert read.source_id == "wamid.OURS1:status:read"
    assert read.identifiers == (SENDER,)
    assert read.occurred_at == datetime(2025, 6, 8, 21, 0, tzinfo=timezone.utc)
    assert read.metadata["status"] == "read"
    assert read.metadata["message_id"] == "wamid.OURS1"
    assert read.metadata["pricing"] == {
        "billable": True,
        "pricing_model": "PMP",
        "category": "service",
    }
    assert failed.source_id == "wamid.OURS2:status:failed"
    assert failed.identifiers == (Identifier.phone("+16505551234"),)
    errors = failed.metadata["errors"]
    assert isinstance(errors, list)
    first = errors[0]
    assert isinstance(first, dict)
    assert first["code"] == 131047


def test_group_statuses_are_skipped() -> None:
    payload = copy.deepcopy(STATUSES)
    status = payload["entry"][0]["changes"][0]["value"]["statuses"][0]
    status.update(recipient_type="group", recipient_id="120363040150385210@g.us")
    assert [i.source_id for i in _parse(payload)] == ["wamid.OURS2:status:failed"]


def test_several_entries_give_several_interactions() -> None:
    first, second = _parse(TWO_ENTRIES)
    assert (first.text, second.text) == ("first", "second")
    assert first.identifiers == (SENDER,)
    assert second.identifiers == (Identifier.phone("+16505551234"),)
    assert second.traits == {"display_name": "Sheena Nelson"}
    assert second.metadata["waba_id"] == "204857392001234"


def test_business_scoped_user_ids() -> None:
    both, username_only = _parse(BSUID)
    assert set(both.identifiers) == {SENDER, Identifier.handle("whatsapp", "PL.1502576394655843")}
    assert username_only.identifiers == (Identifier.handle("whatsapp", "PL.8837261524374"),)
    assert username_only.traits == {"display_name": "Ola", "username": "@ola.shop"}


def test_a_business_scoped_user_id_in_from_or_recipient_id() -> None:
    payload = copy.deepcopy(BSUID)
    value = payload["entry"][0]["changes"][0]["value"]
    message = value["messages"][1]
    message["from"] = message.pop("from_user_id")
    value["statuses"] = [
        {
            "id": "wamid.OURS9",
            "status": "delivered",
            "timestamp": "1749416390",
            "recipient_id": "48601234567",
            "recipient_user_id": "PL.1502576394655843",
        },
        {
            "id": "wamid.OURS10",
            "status": "delivered",
            "timestamp": "1749416391",
            "recipient_id": "PL.8837261524374",
        },
    ]
    _, username_only, both, user_only = _parse(payload)
    assert username_only.identifiers == (Identifier.handle("whatsapp", "PL.8837261524374"),)
    assert both.identifiers == (SENDER, Identifier.handle("whatsapp", "PL.1502576394655843"))
    assert user_only.identifiers == (Identifier.handle("whatsapp", "PL.8837261524374"),)


def test_location_url_and_media_flags_go_to_metadata() -> None:
    assert _one(LOCATION).metadata["location_url"] == "https://www.example.com/store"
    payload = _webhook(
        _value(
            _message(
                "wamid.VOICE1",
                "audio",
                audio={"mime_type": "audio/ogg; codecs=opus", "id": "8812", "voice": True},
            )
        )
    )
    item = _one(payload)
    (media,) = _parts(item, MediaPart)
    assert media.media_type == "audio/ogg; codecs=opus"
    assert item.metadata["media"] == {"voice": True}


def test_other_fields_yield_no_interaction() -> None:
    assert _parse(TEMPLATE_UPDATE) == []


def test_future_timestamp_is_refused() -> None:
    payload = copy.deepcopy(TEXT)
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["timestamp"] = str(int((datetime.now(timezone.utc) + timedelta(days=2)).timestamp()))
    with pytest.raises(InvalidPayloadError, match="future") as caught:
        _parse(payload)
    assert caught.value.field == "entry.0.changes.0.value.messages.0.timestamp"


# --- bad input -----------------------------------------------------------------------

MESSAGE = "entry.0.changes.0.value.messages.0"


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


_DELETE = object()


@pytest.mark.parametrize(
    ("sample", "mutate", "field", "message"),
    [
        (TEXT, _set("object", "page"), "object", "must be 'whatsapp_business_account'"),
        (TEXT, _set("entry", {}), "entry", "must be of type list"),
        (TEXT, _set("entry.0", "x"), "entry.0", "must be an object"),
        (TEXT, _set("entry.0.changes.0.field", _DELETE), "entry.0.changes.0.field", "is missing"),
        (
            TEXT,
            _set("entry.0.changes.0.value", []),
            "entry.0.changes.0.value",
            "must be of type dict",
        ),
        (TEXT, _set(f"{MESSAGE}.from", "+48 601"), f"{MESSAGE}.from", "digits without +"),
        (TEXT, _set(f"{MESSAGE}.from", "10000000"), f"{MESSAGE}.from", "not a valid number"),
        (TEXT, _set(f"{MESSAGE}.from", _DELETE), f"{MESSAGE}.from", "is missing"),
        (TEXT, _set(f"{MESSAGE}.id", _DELETE), f"{MESSAGE}.id", "is missing"),
        (TEXT, _set(f"{MESSAGE}.id", "two words"), f"{MESSAGE}.id", "without spaces"),
        (TEXT, _set(f"{MESSAGE}.timestamp", _DELETE), f"{MESSAGE}.timestamp", "is missing"),
        (TEXT, _set(f"{MESSAGE}.timestamp", "soon"), f"{MESSAGE}.timestamp", "not a valid Unix"),
        (TEXT, _set(f"{MESSAGE}.type", 7), f"{MESSAGE}.type", "must be of type str"),
        (TEXT, _set(f"{MESSAGE}.text", "hi"), f"{MESSAGE}.text", "must be of type dict"),
        (TEXT, _set(f"{MESSAGE}.text.body", _DELETE), f"{MESSAGE}.text.body", "is missing"),
        (TEXT, _set(f"{MESSAGE}.context", "x"), f"{MESSAGE}.context", "must be of type dict"),
        (IMAGE, _set(f"{MESSAGE}.image.id", _DELETE), f"{MESSAGE}.image.id", "is missing"),
        (
            IMAGE,
            _set(f"{MESSAGE}.image.mime_type", "jpeg"),
            f"{MESSAGE}.image.mime_type",
            "not a MIME",
        ),
        (
            LOCATION,
            _set(f"{MESSAGE}.location.latitude", 91),
            f"{MESSAGE}.location.latitude",
            "between -90 and 90",
        ),
        (
            LOCATION,
            _set(f"{MESSAGE}.location.longitude", "21.0"),
            f"{MESSAGE}.location.longitude",
            "must be of type",
        ),
        (
            CONTACTS,
            _set(f"{MESSAGE}.contacts.0.phones", {}),
            f"{MESSAGE}.contacts.0.phones",
            "must be of type list",
        ),
        (
            INTERACTIVE,
            _set(f"{MESSAGE}.interactive.button_reply.title", _DELETE),
            f"{MESSAGE}.interactive.button_reply.title",
            "is missing",
        ),
        (
            REACTION,
            _set(f"{MESSAGE}.reaction.message_id", _DELETE),
            f"{MESSAGE}.reaction.message_id",
            "is missing",
        ),
        (
            ORDER,
            _set(f"{MESSAGE}.order.product_items.0", 3),
            f"{MESSAGE}.order.product_items.0",
            "must be an object",
        ),
        (
            BSUID,
            _set("entry.0.changes.0.value.contacts.0.user_id", "PL 15"),
            "entry.0.changes.0.value.contacts.0.user_id",
            "without spaces",
        ),
        (
            BSUID,
            _set("entry.0.changes.0.value.contacts.0", []),
            "entry.0.changes.0.value.contacts.0",
            "must be an object",
        ),
        (
            STATUSES,
            _set("entry.0.changes.0.value.statuses.0.status", "Read!"),
            "entry.0.changes.0.value.statuses.0.status",
            "not a message status",
        ),
        (
            STATUSES,
            _set("entry.0.changes.0.value.statuses.0.recipient_id", _DELETE),
            "entry.0.changes.0.value.statuses.0.recipient_id",
            "is missing",
        ),
        (
            STATUSES,
            _set("entry.0.changes.0.value.statuses.1.recipient_id", "abc"),
            "entry.0.changes.0.value.statuses.1.recipient_id",
            "digits without +",
        ),
    ],
)
def test_bad_input_names_the_field(
    sample: dict[str, Any], mutate: Callable[[dict[str, Any]], None], field: str, message: str
) -> None:
    payload = copy.deepcopy(sample)
    mutate(payload)
    with pytest.raises(InvalidPayloadError) as caught:
        _parse(payload)
    assert caught.value.field == field
    assert message in str(caught.value)


def test_an_overlong_number_is_an_invalid_payload() -> None:
    body = b'{"object": "whatsapp_business_account", "entry": ' + b"1" * 5000 + b"}"
    with pytest.raises(InvalidPayloadError) as caught:
        WhatsAppAdapter().parse(InboundRequest(body=body))
    assert caught.value.field == "body"


# --- signatures and the handshake -----------------------------------------------------


def test_signature_verifies() -> None:
    WhatsAppAdapter().verify(_sign(_request(TEXT), SECRET), SECRET)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "is missing"),
        ({"X-Hub-Signature-256": "0" * 64}, "not 'sha256='"),
        ({"X-Hub-Signature-256": "sha256=xyz"}, "not 'sha256='"),
        ({"X-Hub-Signature": "sha1=" + "0" * 40}, "is missing"),
        ({"X-Hub-Signature-256": "sha256=" + "0" * 64}, "does not match"),
    ],
    ids=["missing", "no-prefix", "not-hex", "legacy-sha1-only", "forged"],
)
def test_bad_signatures_fail(headers: dict[str, str], reason: str) -> None:
    request = InboundRequest(body=_request(TEXT).body, headers=headers)
    with pytest.raises(SignatureError, match=reason):
        WhatsAppAdapter().verify(request, SECRET)


def test_uppercase_hex_signature_is_accepted() -> None:
    request = _request(TEXT)
    signature = "sha256=" + hmac_digest(SECRET, request.body).hex().upper()
    WhatsAppAdapter().verify(
        InboundRequest(body=request.body, headers={"X-Hub-Signature-256": signature}), SECRET
    )


def test_empty_secret_fails() -> None:
    with pytest.raises(SignatureError, match="empty"):
        WhatsAppAdapter().verify(_sign(_request(TEXT), ""), "")


def test_a_replayed_webhook_verifies_but_is_stored_once() -> None:
    """Meta signs no timestamp: the replay is caught by the idempotent wamid on ingest."""
    adapter = WhatsAppAdapter()
    request = _sign(_request(TEXT), SECRET)
    hub = Hub(MemoryStore())
    outcomes: list[IngestOutcome] = []
    for _ in range(2):
        adapter.verify(request, SECRET, now=datetime.now(timezone.utc) + timedelta(days=30))
        outcomes.extend(hub.ingest(item).outcome for item in adapter.parse(request))
    assert outcomes == [IngestOutcome.CREATED, IngestOutcome.DUPLICATE]


def _handshake_request(**query: str) -> InboundRequest:
    return InboundRequest(method="GET", query=query)


GOOD_QUERY = {
    "hub.mode": "subscribe",
    "hub.verify_token": "meatyhamhock",
    "hub.challenge": "1158201444",
}


def test_handshake_returns_the_challenge() -> None:
    request = _handshake_request(**GOOD_QUERY)
    assert WhatsAppAdapter().handshake(request, "meatyhamhock") == "1158201444"
    assert handshake(request, "meatyhamhock") == "1158201444"


@pytest.mark.parametrize(
    ("change", "token", "reason"),
    [
        ({"hub.verify_token": "wrong"}, "meatyhamhock", "does not match"),
        ({"hub.mode": "unsubscribe"}, "meatyhamhock", "not 'subscribe'"),
        ({"hub.challenge": ""}, "meatyhamhock", "challenge is missing"),
        ({"hub.challenge": "<script>alert(1)</script>"}, "meatyhamhock", "not a plain token"),
        ({}, "", "verify token is empty"),
    ],
    ids=["wrong-token", "wrong-mode", "missing-challenge", "markup-challenge", "no-token"],
)
def test_handshake_refusals(change: dict[str, str], token: str, reason: str) -> None:
    query = {**GOOD_QUERY, **change}
    with pytest.raises(SignatureError, match=reason):
        WhatsAppAdapter().handshake(_handshake_request(**query), token)


def test_handshake_without_parameters_fails() -> None:
    with pytest.raises(SignatureError, match="not 'subscribe'"):
        handshake(_handshake_request(), "meatyhamhock")
    query = {k: v for k, v in GOOD_QUERY.items() if k != "hub.challenge"}
    with pytest.raises(SignatureError, match="challenge is missing"):
        handshake(_handshake_request(**query), "meatyhamhock")


# --- rendering -------------------------------------------------------------------------


def _reply(
    *content: Any, identifiers: tuple[Identifier, ...] = (SENDER,), **fields: Any
) -> Interaction:
    return Interaction(
        channel="whatsapp",
        direction=Direction.OUTBOUND,
        occurred_at=SENT_AT,
        identifiers=identifiers,
        content=content,
        **fields,
    )


def test_render_text_reply() -> None:
    payload = WhatsAppAdapter().render(_reply(TextPart(text="Yes, in blue."), reply_to="wamid.X"))
    assert payload == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "48601234567",
        "type": "text",
        "text": {"body": "Yes, in blue.", "preview_url": False},
        "context": {"message_id": "wamid.X"},
    }


def test_render_media() -> None:
    adapter = WhatsAppAdapter(preview_url=True)
    image = adapter.render(
        _reply(TextPart(text="Here it is"), MediaPart(media_type="image/png", media_id="55"))
    )
    assert (image["type"], image["image"]) == ("image", {"id": "55", "caption": "Here it is"})
    document = adapter.render(
        _reply(MediaPart(media_type="application/pdf", url="https://x/i.pdf", name="i.pdf"))
    )
    assert document["document"] == {"link": "https://x/i.pdf", "filename": "i.pdf"}
    assert "context" not in document


def test_render_to_a_business_scoped_user_id() -> None:
    user = Identifier.handle("whatsapp", "PL.8837261524374")
    payload = WhatsAppAdapter().render(_reply(TextPart(text="Hi"), identifiers=(user,)))
    assert payload["recipient"] == "PL.8837261524374"
    assert "to" not in payload


@pytest.mark.parametrize(
    ("interaction", "field"),
    [
        (
            _reply(TextPart(text="x"), identifiers=(Identifier.email("a@example.com"),)),
            "identifiers",
        ),
        (_reply(), "content"),
        (_reply(TextPart(text="x" * 4097)), "content"),
        (
            _reply(
                MediaPart(media_type="image/png", media_id="1"),
                MediaPart(media_type="image/png", media_id="2"),
            ),
            "content",
        ),
        (
            _reply(TextPart(text="listen"), MediaPart(media_type="audio/ogg", media_id="1")),
            "content",
        ),
        (_reply(TextPart(text="x")).model_copy(update={"channel": "sms"}), "channel"),
    ],
    ids=["no-recipient", "empty", "too-long", "two-media", "audio-with-text", "wrong-channel"],
)
def test_render_refusals(interaction: Interaction, field: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        WhatsAppAdapter().render(interaction)
    assert caught.value.field == field


# --- resolution --------------------------------------------------------------------------


def test_whatsapp_and_sms_from_one_number_land_in_one_profile() -> None:
    hub = Hub(MemoryStore())
    whatsapp = hub.ingest(_one(TEXT))
    sms = hub.ingest(
        Interaction(
            channel="sms",
            source_id="SM-not-twilio-1",
            occurred_at=SENT_AT + timedelta(minutes=5),
            identifiers=(Identifier.phone("+48601234567"),),
            content=(TextPart(text="Sorry, I meant navy blue"),),
        )
    )
    assert whatsapp.outcome is IngestOutcome.CREATED
    assert sms.outcome is IngestOutcome.ATTACHED
    assert sms.profile_id == whatsapp.profile_id
    profile = hub.profile(whatsapp.profile_id)
    assert profile.display_name == "Jan Kowalski"
    channels = {item.channel for item in hub.history(whatsapp.profile_id)}
    assert channels == {"whatsapp", "sms"}


def test_every_sample_ingests() -> None:
    hub = Hub(MemoryStore())
    adapter = WhatsAppAdapter()
    for sample in ALL_SAMPLES:
        for item in adapter.parse(_request(sample)):
            hub.ingest(item)
    jan = hub.find(SENDER)
    assert jan is not None
    assert hub.find(Identifier.email("jan.kowalski@example.com")) == jan
    assert hub.find(Identifier.handle("whatsapp", "PL.1502576394655843")) == jan
    assert hub.find(Identifier.phone("+48501234567")) is None  # only mentioned on a card
