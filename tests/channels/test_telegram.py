"""The Telegram adapter: Bot API webhook updates."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
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
    SignatureError,
    TextPart,
)
from omnichannel.channels import ChannelAdapter, InboundRequest, get_adapter
from omnichannel.channels._telegram import TelegramAdapter
from omnichannel.storage import MemoryStore
from omnichannel.testing import AdapterConformance

FIXED = datetime(2025, 11, 18, 10, 15, tzinfo=timezone.utc)
SENT = 1763460000  # 2025-11-18T10:00:00Z
USER_ID = 287654321
OTHER_USER_ID = 301122334
BOT_ID = 7012345678
HEADER = "X-Telegram-Bot-Api-Secret-Token"

# User object: https://core.telegram.org/bots/api#user
USER: dict[str, Any] = {
    "id": USER_ID,
    "is_bot": False,
    "first_name": "Olena",
    "last_name": "Kovalenko",
    "username": "OlenaK",
    "language_code": "uk",
}
# Chat object of a private chat (its id is the user's id): https://core.telegram.org/bots/api#chat
CHAT: dict[str, Any] = {
    "id": USER_ID,
    "first_name": "Olena",
    "last_name": "Kovalenko",
    "username": "OlenaK",
    "type": "private",
}


def _message(message_id: int, **fields: Any) -> dict[str, Any]:
    # Message object: https://core.telegram.org/bots/api#message
    return {"message_id": message_id, "from": USER, "chat": CHAT, "date": SENT, **fields}


# --- sample updates (Update object: https://core.telegram.org/bots/api#update) --------------

# A text message: https://core.telegram.org/bots/api#message
TEXT: dict[str, Any] = {
    "update_id": 684201001,
    "message": _message(
        1501,
        text="Доброго дня! Is order 1042 ready? Invoice to olena.k@example.com please",
        entities=[{"type": "email", "offset": 43, "length": 20}],
    ),
}

# A photo (PhotoSize array, smallest first) with a caption, replying to the bot's message;
# https://core.telegram.org/bots/api#photosize
PHOTO: dict[str, Any] = {
    "update_id": 684201002,
    "message": _message(
        1503,
        photo=[
            {
                "file_id": "AgACAgIAAxkBAAIBX2c-small",
                "file_unique_id": "AQADsmall",
                "file_size": 1432,
                "width": 90,
                "height": 67,
            },
            {
                "file_id": "AgACAgIAAxkBAAIBX2c-large",
                "file_unique_id": "AQADlarge",
                "file_size": 98211,
                "width": 1280,
                "height": 960,
            },
            {
                "file_id": "AgACAgIAAxkBAAIBX2c-medium",
                "file_unique_id": "AQADmedium",
                "file_size": 21774,
                "width": 320,
                "height": 240,
            },
        ],
        caption="The box arrived like this",
        reply_to_message={
            "message_id": 1502,
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Shop", "username": "shop_bot"},
            "chat": CHAT,
            "date": SENT - 60,
            "text": "Could you send a photo of the parcel?",
        },
    ),
}

# A document: https://core.telegram.org/bots/api#document
DOCUMENT: dict[str, Any] = {
    "update_id": 684201003,
    "message": _message(
        1504,
        document={
            "file_name": "receipt-1042.pdf",
            "mime_type": "application/pdf",
            "file_id": "BQACAgIAAxkBAAIBYGc-doc",
            "file_unique_id": "AgADdoc",
            "file_size": 53120,
        },
    ),
}

# A voice note: https://core.telegram.org/bots/api#voice
VOICE: dict[str, Any] = {
    "update_id": 684201004,
    "message": _message(
        1505,
        voice={
            "duration": 7,
            "mime_type": "audio/ogg",
            "file_id": "AwACAgIAAxkBAAIBYWc-voice",
            "file_unique_id": "AgADvoice",
            "file_size": 28654,
        },
    ),
}

# A shared location: https://core.telegram.org/bots/api#location
LOCATION: dict[str, Any] = {
    "update_id": 684201005,
    "message": _message(1506, location={"latitude": 50.450001, "longitude": 30.523333}),
}

# The user shares their own contact (user_id is the sender's id; Telegram sends the number
# without "+"): https://core.telegram.org/bots/api#contact
CONTACT_SELF: dict[str, Any] = {
    "update_id": 684201006,
    "message": _message(
        1507,
        contact={
            "phone_number": "48601234567",
            "first_name": "Olena",
            "last_name": "Kovalenko",
            "user_id": USER_ID,
        },
    ),
}

# The user shares someone else's contact: https://core.telegram.org/bots/api#contact
CONTACT_OTHER: dict[str, Any] = {
    "update_id": 684201007,
    "message": _message(
        1508,
        contact={
            "phone_number": "+48 512 345 678",
            "first_name": "Anna",
            "user_id": OTHER_USER_ID,
            "vcard": "BEGIN:VCARD\nVERSION:3.0\nFN:Anna\nTEL;MOBILE:+48 512 345 678\nEND:VCARD",
        },
    ),
}

# An edited message (edit_date): https://core.telegram.org/bots/api#update (edited_message)
EDITED: dict[str, Any] = {
    "update_id": 684201008,
    "edited_message": _message(
        1501,
        edit_date=SENT + 95,
        text="Доброго дня! Is order 1043 ready? Invoice to olena.k@example.com please",
    ),
}

# An inline keyboard tap: https://core.telegram.org/bots/api#callbackquery
CALLBACK: dict[str, Any] = {
    "update_id": 684201009,
    "callback_query": {
        "id": "1234567890123456789",
        "from": USER,
        "message": {
            "message_id": 1510,
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Shop", "username": "shop_bot"},
            "chat": CHAT,
            "date": SENT - 30,
            "text": "Pick a pickup slot",
            "reply_markup": {
                "inline_keyboard": [[{"text": "Sat 10:00", "callback_data": "slot:sat-10"}]]
            },
        },
        "chat_instance": "-8817264398234011223",
        "data": "slot:sat-10",
    },
}

# A reaction to a message: https://core.telegram.org/bots/api#messagereactionupdated
REACTION: dict[str, Any] = {
    "update_id": 684201010,
    "message_reaction": {
        "chat": CHAT,
        "message_id": 1510,
        "user": USER,
        "date": SENT + 20,
        "old_reaction": [],
        "new_reaction": [{"type": "emoji", "emoji": "👍"}],
    },
}

# A channel post, ignored: https://core.telegram.org/bots/api#update (channel_post)
CHANNEL_POST: dict[str, Any] = {
    "update_id": 684201011,
    "channel_post": {
        "message_id": 77,
        "sender_chat": {"id": -1001234567890, "title": "Shop news", "type": "channel"},
        "chat": {"id": -1001234567890, "title": "Shop news", "type": "channel"},
        "date": SENT,
        "text": "Black Friday starts now",
    },
}

SECRET_TOKEN = "wh-secret_7fA2"


def _request(update: dict[str, Any]) -> InboundRequest:
    return InboundRequest(
        body=json.dumps(update, ensure_ascii=False).encode(),
        content_type="application/json",
        headers={"Content-Type": "application/json"},
    )


def _adapter() -> TelegramAdapter:
    return TelegramAdapter(clock=lambda: FIXED)


def _one(update: dict[str, Any]) -> Interaction:
    (interaction,) = _adapter().parse(_request(update))
    return interaction


SENDER = (
    Identifier.handle("telegram", str(USER_ID)),
    Identifier.handle("telegram", "@OlenaK"),
)


# --- the conformance suite ----------------------------------------------------------------


class TestTelegramAdapter(AdapterConformance):
    signs_body = False  # the secret token authenticates the sender; it signs no body
    secret = "conformance-secret"

    @pytest.fixture
    def adapter(self) -> ChannelAdapter:
        return _adapter()

    @pytest.fixture
    def samples(self) -> list[InboundRequest]:
        return [
            _request(update)
            for update in (
                TEXT,
                PHOTO,
                DOCUMENT,
                VOICE,
                LOCATION,
                CONTACT_SELF,
                CONTACT_OTHER,
                EDITED,
                CALLBACK,
                REACTION,
            )
        ]

    @pytest.fixture
    def outbound(self) -> Interaction:
        return Interaction(
            channel="telegram",
            direction=Direction.OUTBOUND,
            occurred_at=FIXED,
            identifiers=SENDER,
            conversation_key=str(USER_ID),
            reply_to=f"{USER_ID}:1501",
            content=(TextPart(text="Так, замовлення 1042 готове."),),
        )

    def sign(self, request: InboundRequest, secret: str, now: datetime) -> InboundRequest:
        return request.model_copy(update={"headers": {**request.headers, HEADER.lower(): secret}})


# --- what each sample yields ----------------------------------------------------------------


def test_text_message() -> None:
    message = _one(TEXT)
    assert (message.channel, message.kind, message.direction) == (
        "telegram",
        "message",
        Direction.INBOUND,
    )
    assert message.source_id == f"{USER_ID}:1501"
    assert message.conversation_key == str(USER_ID)
    assert message.identifiers == SENDER
    assert [i.value for i in message.identifiers] == [str(USER_ID), "olenak"]
    assert message.traits == {
        "first_name": "Olena",
        "last_name": "Kovalenko",
        "display_name": "Olena Kovalenko",
        "language": "uk",
    }
    assert message.occurred_at == datetime(2025, 11, 18, 10, 0, tzinfo=timezone.utc)
    assert message.text.startswith("Доброго дня!")
    assert message.mentions == (Identifier.email("olena.k@example.com"),)
    assert message.metadata == {"update_id": 684201001, "message_id": 1501, "chat_type": "private"}


def test_photo_picks_the_largest_size_and_keeps_the_caption() -> None:
    message = _one(PHOTO)
    (photo,) = message.content
    assert isinstance(photo, MediaPart)
    assert photo.media_type == "image/jpeg"
    assert photo.media_id == "AgACAgIAAxkBAAIBX2c-large"
    assert photo.size_bytes == 98211
    assert photo.caption == "The box arrived like this"
    assert message.text == "The box arrived like this"
    assert message.reply_to == f"{USER_ID}:1502"  # same scheme as source_id


def test_document_and_voice() -> None:
    (document,) = _one(DOCUMENT).content
    assert isinstance(document, MediaPart)
    assert (document.media_type, document.name, document.size_bytes) == (
        "application/pdf",
        "receipt-1042.pdf",
        53120,
    )
    (voice,) = _one(VOICE).content
    assert isinstance(voice, MediaPart)
    assert (voice.media_type, voice.media_id) == ("audio/ogg", "AwACAgIAAxkBAAIBYWc-voice")


def test_media_without_mime_type_gets_the_telegram_default() -> None:
    update = copy.deepcopy(VOICE)
    del update["message"]["voice"]["mime_type"]
    (voice,) = _one(update).content
    assert isinstance(voice, MediaPart)
    assert voice.media_type == "audio/ogg"


def test_animation_is_not_counted_twice_as_a_document() -> None:
    gif = {"file_id": "CgACAgIAAx-anim", "file_unique_id": "AgADanim", "mime_type": "video/mp4"}
    update = {"update_id": 1, "message": _message(1, animation=gif, document=gif)}
    assert [p.type for p in _one(update).content] == ["media"]


def test_location() -> None:
    (location,) = _one(LOCATION).content
    assert isinstance(location, LocationPart)
    assert (location.latitude, location.longitude) == (50.450001, 30.523333)


def test_venue_carries_name_and_address() -> None:
    where = {"latitude": 50.45, "longitude": 30.52}
    venue = {"location": where, "title": "Pickup point", "address": "Khreshchatyk 22, Kyiv"}
    update = {"update_id": 2, "message": _message(2, location=where, venue=venue)}
    (location,) = _one(update).content
    assert isinstance(location, LocationPart)
    assert (location.name, location.address) == ("Pickup point", "Khreshchatyk 22, Kyiv")


def test_own_contact_links_the_phone_to_the_sender() -> None:
    message = _one(CONTACT_SELF)
    phone = Identifier.phone("+48601234567")  # "48601234567" read with its "+" restored
    assert message.identifiers == (*SENDER, phone)
    assert message.mentions == ()
    (card,) = message.content
    assert isinstance(card, ContactCardPart)
    assert card.is_sender is True
    assert card.identifiers == (phone,)
    assert card.name == "Olena Kovalenko"


def test_someone_elses_contact_is_only_a_mention() -> None:
    message = _one(CONTACT_OTHER)
    assert message.identifiers == SENDER
    other = (Identifier.phone("+48512345678"), Identifier.handle("telegram", str(OTHER_USER_ID)))
    assert message.mentions == other
    (card,) = message.content
    assert isinstance(card, ContactCardPart)
    assert card.is_sender is False
    assert card.identifiers == other
    assert card.name == "Anna"


def test_contact_without_user_id_is_not_the_sender() -> None:
    update = copy.deepcopy(CONTACT_SELF)
    del update["message"]["contact"]["user_id"]
    message = _one(update)
    assert message.identifiers == SENDER
    assert message.mentions == (Identifier.phone("+48601234567"),)


def test_national_contact_number_is_read_with_the_default_region() -> None:
    update = copy.deepcopy(CONTACT_SELF)
    update["message"]["contact"]["phone_number"] = "0151 12345678"
    (message,) = TelegramAdapter(default_region="DE").parse(_request(update))
    assert Identifier.phone("+4915112345678") in message.identifiers


def test_unreadable_contact_number_is_dropped() -> None:
    update = copy.deepcopy(CONTACT_OTHER)
    update["message"]["contact"]["phone_number"] = "12"
    message = _one(update)
    (card,) = message.content
    assert isinstance(card, ContactCardPart)
    assert card.identifiers == (Identifier.handle("telegram", str(OTHER_USER_ID)),)


def test_edited_message() -> None:
    edit = _one(EDITED)
    assert edit.source_id == f"{USER_ID}:1501:edit:{SENT + 95}"
    assert edit.metadata["edited_of"] == f"{USER_ID}:1501"
    assert edit.occurred_at == datetime(2025, 11, 18, 10, 1, 35, tzinfo=timezone.utc)
    assert "1043" in edit.text


def test_callback_query() -> None:
    tap = _one(CALLBACK)
    assert (tap.kind, tap.source_id) == ("message", "callback:1234567890123456789")
    (part,) = tap.content
    assert isinstance(part, CustomPart)
    assert (part.name, part.data) == ("callback", {"data": "slot:sat-10"})
    assert tap.reply_to == f"{USER_ID}:1510"
    assert tap.conversation_key == str(USER_ID)
    assert tap.identifiers == SENDER
    assert tap.occurred_at == FIXED  # a callback query carries no date: the receipt time
    assert tap.metadata["chat_instance"] == "-8817264398234011223"


def test_reaction() -> None:
    reaction = _one(REACTION)
    assert reaction.kind == "reaction"
    assert reaction.reply_to == f"{USER_ID}:1510"
    assert reaction.source_id == f"{USER_ID}:1510:reaction:{USER_ID}:{SENT + 20}"
    (part,) = reaction.content
    assert isinstance(part, CustomPart)
    assert part.data == {"new": ["👍"], "old": []}


@pytest.mark.parametrize(
    "update",
    [
        CHANNEL_POST,
        {"update_id": 3, "my_chat_member": {"chat": CHAT}},
        {"update_id": 4, "message": _message(4, new_chat_members=[USER])},  # service message
        {"update_id": 5, "message": {**_message(5, text="hi"), "from": {"id": 9, "is_bot": True}}},
        {"update_id": 6, "message_reaction": {**REACTION["message_reaction"], "user": None}},
    ],
    ids=["channel-post", "other-update", "service-message", "from-a-bot", "anonymous-reaction"],
)
def test_ignored_updates(update: dict[str, Any]) -> None:
    assert _adapter().parse(_request(update)) == []


def test_shared_own_contact_meets_sms_while_someone_elses_does_not() -> None:
    adapter = _adapter()
    hub = Hub(MemoryStore())
    (own,) = adapter.parse(_request(CONTACT_SELF))
    profile_id = hub.ingest(own).profile_id
    found = hub.find(Identifier.phone("+48601234567"))
    assert found is not None
    assert found.id == profile_id
    # An SMS from that number later lands on the same customer.
    sms = hub.ingest(
        {
            "channel": "sms",
            "source_id": "SM-from-olena",
            "occurred_at": "2025-11-18T12:00:00Z",
            "identifiers": [{"kind": "phone", "value": "+48601234567"}],
            "content": [{"type": "text", "text": "Hi, it's Olena"}],
        }
    )
    assert (sms.outcome, sms.profile_id) == (IngestOutcome.ATTACHED, profile_id)
    # The contact about Anna leaves Anna's number unattributed.
    (other,) = adapter.parse(_request(CONTACT_OTHER))
    assert hub.ingest(other).profile_id == profile_id
    assert hub.find(Identifier.phone("+48512345678")) is None
    assert hub.find(Identifier.handle("telegram", str(OTHER_USER_ID))) is None
    assert hub.profile(profile_id).display_name == "Olena Kovalenko"


def test_redelivered_update_is_stored_once() -> None:
    hub = Hub(MemoryStore())
    first = [hub.ingest(i) for i in _adapter().parse(_request(TEXT))]
    again = [hub.ingest(i) for i in _adapter().parse(_request(TEXT))]
    assert [r.outcome for r in again] == [IngestOutcome.DUPLICATE]
    assert again[0].interaction_id == first[0].interaction_id
    # The edit is a separate interaction of the same customer.
    (edit,) = _adapter().parse(_request(EDITED))
    assert hub.ingest(edit).profile_id == first[0].profile_id


def test_registry_builds_the_adapter() -> None:
    adapter = get_adapter("telegram")
    assert isinstance(adapter, TelegramAdapter)


# --- bad input ---------------------------------------------------------------------------


def _changed(update: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``update`` with the dotted ``path`` set to ``value`` (deleted if
    ``value`` is ``...``)."""
    result = copy.deepcopy(update)
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


BAD_UPDATES: list[tuple[str, dict[str, Any], str, str]] = [
    ("no-update-id", _changed(TEXT, "update_id", ...), "update_id", "is missing"),
    ("update-id-text", _changed(TEXT, "update_id", "1"), "update_id", "type int"),
    ("update-id-bool", _changed(TEXT, "update_id", True), "update_id", "type int"),
    ("message-list", _changed(TEXT, "message", []), "message", "type dict"),
    ("no-chat", _changed(TEXT, "message.chat", ...), "message.chat", "is missing"),
    ("chat-id", _changed(TEXT, "message.chat.id", "x"), "message.chat.id", "type int"),
    ("no-from", _changed(TEXT, "message.from", ...), "message.from", "is missing"),
    ("no-user-id", _changed(TEXT, "message.from.id", ...), "message.from.id", "is missing"),
    (
        "username",
        _changed(TEXT, "message.from.username", "12345"),
        "message.from.username",
        "not a Telegram username",
    ),
    ("date-text", _changed(TEXT, "message.date", "today"), "message.date", "type int"),
    (
        "date-future",
        _changed(TEXT, "message.date", 4102444800),
        "message.date",
        "too far in the future",
    ),
    ("text-number", _changed(TEXT, "message.text", 42), "message.text", "type str"),
    ("photo-object", _changed(PHOTO, "message.photo", {}), "message.photo", "type list"),
    ("photo-item", _changed(PHOTO, "message.photo.0", "x"), "message.photo.0", "must be an object"),
    (
        "photo-file-id",
        _changed(PHOTO, "message.photo.1.file_id", ...),
        "message.photo.1.file_id",
        "is missing",
    ),
    (
        "file-size",
        _changed(DOCUMENT, "message.document.file_size", -1),
        "message.document.file_size",
        "negative",
    ),
    (
        "latitude",
        _changed(LOCATION, "message.location.latitude", 100),
        "message.location.latitude",
        "between -90",
    ),
    (
        "longitude-text",
        _changed(LOCATION, "message.location.longitude", "30"),
        "message.location.longitude",
        "type int/float",
    ),
    (
        "contact-phone",
        _changed(CONTACT_SELF, "message.contact.phone_number", ...),
        "message.contact.phone_number",
        "is missing",
    ),
    (
        "contact-user-id",
        _changed(CONTACT_SELF, "message.contact.user_id", "287654321"),
        "message.contact.user_id",
        "type int",
    ),
    (
        "reply-id",
        _changed(PHOTO, "message.reply_to_message.message_id", "1502"),
        "message.reply_to_message.message_id",
        "type int",
    ),
    (
        "edit-date",
        _changed(EDITED, "edited_message.edit_date", ...),
        "edited_message.edit_date",
        "is missing",
    ),
    (
        "callback-id",
        _changed(CALLBACK, "callback_query.id", ...),
        "callback_query.id",
        "is missing",
    ),
    (
        "callback-from",
        _changed(CALLBACK, "callback_query.from", ...),
        "callback_query.from",
        "is missing",
    ),
    (
        "callback-data",
        _changed(CALLBACK, "callback_query.data", 7),
        "callback_query.data",
        "type str",
    ),
    (
        "reaction-type",
        _changed(REACTION, "message_reaction.new_reaction.0.type", ...),
        "message_reaction.new_reaction.0.type",
        "is missing",
    ),
]


@pytest.mark.parametrize(
    ("update", "field", "message"),
    [case[1:] for case in BAD_UPDATES],
    ids=[case[0] for case in BAD_UPDATES],
)
def test_bad_updates(update: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(InvalidPayloadError, match=message) as caught:
        _adapter().parse(_request(update))
    assert caught.value.field == field


def test_a_huge_number_is_invalid_json() -> None:
    body = b'{"update_id": ' + b"1" * 5000 + b"}"
    with pytest.raises(InvalidPayloadError, match="not valid JSON") as caught:
        _adapter().parse(InboundRequest(body=body, content_type="application/json"))
    assert caught.value.field == "body"


def test_a_naive_clock_is_a_configuration_error() -> None:
    adapter = TelegramAdapter(clock=lambda: datetime(2025, 11, 18, 10, 15))
    with pytest.raises(InvalidValueError, match="timezone-aware") as caught:
        adapter.parse(_request(CALLBACK))
    assert caught.value.field == "clock"


# --- verification --------------------------------------------------------------------------


def test_matching_secret_token_verifies() -> None:
    request = InboundRequest(body=_request(TEXT).body, headers={HEADER: SECRET_TOKEN})
    TelegramAdapter().verify(request, SECRET_TOKEN)


@pytest.mark.parametrize(
    ("headers", "secret", "message"),
    [
        ({}, SECRET_TOKEN, "is missing"),
        ({HEADER: ""}, SECRET_TOKEN, "is missing"),
        ({HEADER: "wh-secret_7fA3"}, SECRET_TOKEN, "does not match"),
        ({HEADER: SECRET_TOKEN.lower()}, SECRET_TOKEN, "does not match"),
        ({HEADER: SECRET_TOKEN}, "", "empty"),
    ],
    ids=["missing", "blank", "forged", "case-changed", "no-secret"],
)
def test_bad_secret_tokens(headers: dict[str, str], secret: str, message: str) -> None:
    request = InboundRequest(body=_request(TEXT).body, headers=headers)
    with pytest.raises(SignatureError, match=message):
        TelegramAdapter().verify(request, secret)


def test_replay_is_caught_by_idempotency_not_by_verify() -> None:
    # No timestamp is signed: a replay verifies, and ingesting it again changes nothing.
    request = InboundRequest(body=_request(CONTACT_SELF).body, headers={HEADER: SECRET_TOKEN})
    adapter = _adapter()
    hub = Hub(MemoryStore())
    outcomes = []
    for _ in range(2):
        adapter.verify(request, SECRET_TOKEN)
        outcomes += [hub.ingest(item).outcome for item in adapter.parse(request)]
    assert outcomes == [IngestOutcome.CREATED, IngestOutcome.DUPLICATE]


# --- rendering -----------------------------------------------------------------------------


def _reply(**fields: Any) -> Interaction:
    base: dict[str, Any] = {
        "channel": "telegram",
        "direction": "outbound",
        "occurred_at": FIXED,
        "identifiers": list(SENDER),
        "content": [{"type": "text", "text": "Готово!"}],
    }
    return Interaction.model_validate({**base, **fields})


def test_render_reply_in_the_conversation() -> None:
    payload = _adapter().render(_reply(conversation_key=str(USER_ID), reply_to=f"{USER_ID}:1501"))
    assert payload == {
        "chat_id": USER_ID,
        "text": "Готово!",
        "reply_parameters": {"message_id": 1501},
    }


def test_render_falls_back_to_the_numeric_handle() -> None:
    assert _adapter().render(_reply()) == {"chat_id": USER_ID, "text": "Готово!"}


def test_render_reply_to_a_message_in_another_chat() -> None:
    payload = _adapter().render(_reply(reply_to="-1001234567890:77"))
    assert payload["reply_parameters"] == {"message_id": 77, "chat_id": -1001234567890}


BAD_RENDERS: list[tuple[str, Interaction, str, str]] = [
    (
        "no-chat",
        _reply(identifiers=[Identifier.handle("telegram", "@OlenaK")]),
        "identifiers",
        "numeric telegram handle",
    ),
    ("bad-chat", _reply(conversation_key="general"), "conversation_key", "not a Telegram chat id"),
    (
        "no-text",
        _reply(content=[{"type": "media", "media_type": "image/png", "media_id": "x"}]),
        "content",
        "needs text",
    ),
    (
        "too-long",
        _reply(content=[{"type": "text", "text": "x" * 4097}]),
        "content",
        "longer than 4096",
    ),
    ("bad-reply", _reply(reply_to="1501"), "reply_to", "not a Telegram message reference"),
    (
        "callback-reply",
        _reply(reply_to="callback:1234"),
        "reply_to",
        "not a Telegram message reference",
    ),
]


@pytest.mark.parametrize(
    ("interaction", "field", "message"),
    [case[1:] for case in BAD_RENDERS],
    ids=[case[0] for case in BAD_RENDERS],
)
def test_render_refuses(interaction: Interaction, field: str, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message) as caught:
        _adapter().render(interaction)
    assert caught.value.field == field
