"""Telegram: Bot API webhook updates (https://core.telegram.org/bots/api#update).

Telegram posts one JSON ``Update`` per request. What becomes an interaction:

* ``message`` and ``business_message``: kind ``message`` from the sender ``from``
  (text, caption, photo, document, voice, audio, video, video note, animation, sticker,
  location, venue, contact, poll, dice). ``source_id`` is ``"{chat.id}:{message_id}"``:
  message ids are only unique within a chat. ``reply_to`` uses the same scheme, and
  ``conversation_key`` is the chat id.
* ``edited_message`` and ``edited_business_message``: a new interaction with
  ``source_id`` ``"{chat.id}:{message_id}:edit:{edit_date}"``, dated ``edit_date``, with
  ``metadata["edited_of"]`` naming the original.
* ``callback_query`` (a tap on an inline keyboard button): kind ``message`` with a
  :class:`~omnichannel.CustomPart` named ``callback`` holding the button's ``data``;
  ``source_id`` ``"callback:{id}"``. A callback query carries no time, so its
  ``occurred_at`` is the receipt time from the adapter's ``clock``.
* ``message_reaction``: kind ``reaction`` replying to the reacted message.

Ignored (``[]``): channel posts (``channel_post``, ``edited_channel_post``: the
business's own broadcasts, not a customer's contact), messages sent by bots, service
messages (members joining, pins ...), anonymous reactions, and every other update type.

Identity: the sender's numeric id is ``Identifier.handle("telegram", id)``; a username
adds ``Identifier.handle("telegram", "@username")``. A shared contact whose ``user_id`` is
the sender's own id is the sender's phone (an identifier, and a card with
``is_sender=True``); any other contact card only adds mentions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from pydantic import JsonValue

from omnichannel._errors import InvalidPayloadError, InvalidValueError, SignatureError
from omnichannel._model import Channel, Direction, Identifier, Interaction
from omnichannel.channels._base import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_FUTURE_SECONDS,
    BaseAdapter,
    constant_time_equal,
    find_mentions,
    json_safe,
    optional,
    require,
)
from omnichannel.channels._protocol import InboundRequest

__all__ = ["TelegramAdapter"]

_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_MAX_TEXT_CHARS = 4096  # sendMessage refuses longer texts
_USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{2,31}$")
_CHAT_ID_RE = re.compile(r"^-?[0-9]{1,20}$")
_PHONE_DIGITS_RE = re.compile(r"^[0-9]{6,15}$")

# Message fields holding a file, with the MIME type Telegram implies when it sends none.
_FILE_FIELDS: tuple[tuple[str, str], ...] = (
    ("animation", "video/mp4"),
    ("document", "application/octet-stream"),
    ("audio", "audio/mpeg"),
    ("video", "video/mp4"),
    ("video_note", "video/mp4"),
    ("voice", "audio/ogg"),
)
# Other content a customer can send, kept as a CustomPart with its JSON.
_CUSTOM_FIELDS = ("poll", "dice", "story", "game", "paid_media", "checklist", "giveaway")

_MESSAGE_UPDATES = ("message", "business_message")
_EDIT_UPDATES = ("edited_message", "edited_business_message")

Json = dict[str, Any]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _integer(data: object, key: str, field: str) -> int:
    value: int = require(data, key, field, int)
    return value


def _contact_phone(raw: str, region: str | None) -> Identifier | None:
    """A contact's phone: Telegram often sends it as bare digits with the country code."""
    text = raw.strip()
    compact = re.sub(r"[\s().-]", "", text)
    if _PHONE_DIGITS_RE.match(compact) and not compact.startswith("0"):
        text = "+" + compact  # digits with the country code; a leading 0 is national
    try:
        return Identifier.phone(text, region)
    except InvalidValueError:
        return None  # an unreadable number on a card is dropped, not fatal


class _Sender:
    """The customer an update comes from, read from a Bot API ``User``."""

    def __init__(self, user: Json, field: str) -> None:
        self.id = _integer(user, "id", f"{field}.id")
        self.is_bot = optional(user, "is_bot", f"{field}.is_bot", bool) is True
        self.identifiers = [Identifier.handle(Channel.TELEGRAM.value, str(self.id))]
        username = optional(user, "username", f"{field}.username")
        if username is not None:
            if not _USERNAME_RE.match(username):
                raise InvalidPayloadError(
                    f"{field}.username", username, "is not a Telegram username"
                )
            self.identifiers.append(Identifier.handle(Channel.TELEGRAM.value, "@" + username))
        self.traits: dict[str, JsonValue] = {}
        first = (optional(user, "first_name", f"{field}.first_name") or "").strip()
        last = (optional(user, "last_name", f"{field}.last_name") or "").strip()
        language = (optional(user, "language_code", f"{field}.language_code") or "").strip()
        if first:
            self.traits["first_name"] = first
        if last:
            self.traits["last_name"] = last
        if first or last:
            self.traits["display_name"] = f"{first} {last}".strip()
        if language:
            self.traits["language"] = language


class TelegramAdapter(BaseAdapter):
    """Telegram Bot API webhook updates.

    Args:
        clock: returns the receipt time, used as ``occurred_at`` for callback queries
            (the only handled update without a date); must return an aware datetime.
        max_body_bytes: refuse larger bodies.
        max_future_seconds: refuse dates further ahead than this.
        default_region: region for contact phone numbers written in national format.
    """

    name = "telegram"

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] = _utc_now,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_future_seconds: int = DEFAULT_MAX_FUTURE_SECONDS,
        default_region: str | None = None,
    ) -> None:
        super().__init__(
            max_body_bytes=max_body_bytes,
            max_future_seconds=max_future_seconds,
            default_region=default_region,
        )
        self.clock = clock

    # --- parsing ---------------------------------------------------------------------

    def parse(self, request: InboundRequest) -> list[Interaction]:
        """Return the interaction in a Bot API ``Update`` (``[]`` for ignored updates).

        Raises:
            InvalidPayloadError: not JSON, or a field is missing or of the wrong type
                (``field`` is its path, e.g. ``"message.contact.phone_number"``).
        """
        update = self._decode(request)
        update_id = _integer(update, "update_id", "update_id")
        for key in _MESSAGE_UPDATES:
            message = optional(update, key, key, dict)
            if message is not None:
                return self._message(message, key, update_id, edit=False)
        for key in _EDIT_UPDATES:
            message = optional(update, key, key, dict)
            if message is not None:
                return self._message(message, key, update_id, edit=True)
        query = optional(update, "callback_query", "callback_query", dict)
        if query is not None:
            return self._callback(query, update_id)
        reaction = optional(update, "message_reaction", "message_reaction", dict)
        if reaction is not None:
            return self._reaction(reaction, update_id)
        return []

    def _decode(self, request: InboundRequest) -> Json:
        return self.decode_json(request)

    def _now(self) -> datetime:
        moment = self.clock()
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            raise InvalidValueError(
                "clock", moment, "must return a timezone-aware datetime", mask=False
            )
        return moment.astimezone(timezone.utc)

    def _date(self, data: Json, key: str, field: str) -> datetime:
        return self.from_unix(_integer(data, key, field), field)

    @staticmethod
    def _chat_id(message: Json, field: str) -> int:
        chat = require(message, "chat", f"{field}.chat", dict)
        return _integer(chat, "id", f"{field}.chat.id")

    def _message(
        self, message: Json, field: str, update_id: int, *, edit: bool
    ) -> list[Interaction]:
        message_id = _integer(message, "message_id", f"{field}.message_id")
        chat = require(message, "chat", f"{field}.chat", dict)
        chat_id = _integer(chat, "id", f"{field}.chat.id")
        chat_type = optional(chat, "type", f"{field}.chat.type")
        sent_at = self._date(message, "date", f"{field}.date")
        user = require(message, "from", f"{field}.from", dict)
        sender = _Sender(user, f"{field}.from")
        if sender.is_bot:
            return []

        identifiers: dict[Identifier, None] = dict.fromkeys(sender.identifiers)
        mentions: dict[Identifier, None] = {}
        content: list[dict[str, Any]] = []
        text = optional(message, "text", f"{field}.text")
        caption = optional(message, "caption", f"{field}.caption")
        if text is not None and text.strip():
            content.append({"type": "text", "text": text})
        media = self._media(message, field, caption)
        content.extend(media)
        if caption is not None and caption.strip() and not media:
            content.append({"type": "text", "text": caption})
        content.extend(self._location(message, field))
        card = self._contact(message, field, sender.id)
        if card is not None:
            content.append(card)
            target = identifiers if card["is_sender"] else mentions
            target.update(dict.fromkeys(card["identifiers"]))
        for key in _CUSTOM_FIELDS:
            value = optional(message, key, f"{field}.{key}", dict)
            if value is not None:
                data = json_safe(value)
                assert isinstance(data, dict)
                content.append({"type": "custom", "name": f"telegram.{key}", "data": data})
        if not content:
            return []  # a service message (members joining, a pin ...): no customer contact
        for written in (text, caption):
            if written:
                mentions.update(dict.fromkeys(find_mentions(written, self.default_region)))

        metadata: dict[str, JsonValue] = {"update_id": update_id, "message_id": message_id}
        if chat_type:
            metadata["chat_type"] = chat_type
        for key in ("message_thread_id",):
            value = optional(message, key, f"{field}.{key}", int)
            if value is not None:
                metadata[key] = value
        for key in ("media_group_id", "business_connection_id"):
            value = optional(message, key, f"{field}.{key}")
            if value is not None:
                metadata[key] = value
        if optional(message, "forward_origin", f"{field}.forward_origin", dict) is not None:
            metadata["forwarded"] = True

        source_id = f"{chat_id}:{message_id}"
        occurred_at = sent_at
        if edit:
            edit_date = _integer(message, "edit_date", f"{field}.edit_date")
            occurred_at = self.from_unix(edit_date, f"{field}.edit_date")
            metadata["edited_of"] = source_id
            metadata["edit_date"] = edit_date
            source_id = f"{source_id}:edit:{edit_date}"

        reply_to = None
        replied = optional(message, "reply_to_message", f"{field}.reply_to_message", dict)
        if replied is not None:
            replied_id = _integer(replied, "message_id", f"{field}.reply_to_message.message_id")
            reply_to = f"{chat_id}:{replied_id}"

        return [
            self.build(
                field,
                channel=Channel.TELEGRAM.value,
                kind="message",
                direction=Direction.INBOUND,
                occurred_at=occurred_at,
                source_id=source_id,
                identifiers=list(identifiers),
                mentions=[m for m in mentions if m not in identifiers],
                traits=sender.traits,
                content=content,
                reply_to=reply_to,
                conversation_key=str(chat_id),
                metadata=metadata,
            )
        ]

    @staticmethod
    def _file(item: Json, field: str) -> tuple[str, int | None]:
        file_id = require(item, "file_id", f"{field}.file_id")
        size = optional(item, "file_size", f"{field}.file_size", int)
        if size is not None and size < 0:
            raise InvalidPayloadError(f"{field}.file_size", size, "must not be negative")
        return file_id, size

    def _media(self, message: Json, field: str, caption: str | None) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        caption = caption if caption and caption.strip() else None
        photo = optional(message, "photo", f"{field}.photo", list)
        if photo:
            best: tuple[int, int] | None = None
            chosen: tuple[str, int | None] | None = None
            for index, size in enumerate(photo):
                path = f"{field}.photo.{index}"
                if not isinstance(size, dict):
                    raise InvalidPayloadError(path, type(size).__name__, "must be an object")
                file_id, file_size = self._file(size, path)
                width = optional(size, "width", f"{path}.width", int) or 0
                height = optional(size, "height", f"{path}.height", int) or 0
                rank = (width * height, file_size or 0)
                if best is None or rank > best:
                    best, chosen = rank, (file_id, file_size)
            assert chosen is not None
            parts.append(
                {
                    "type": "media",
                    "media_type": "image/jpeg",
                    "media_id": chosen[0],
                    "size_bytes": chosen[1],
                    "caption": caption,
                }
            )
        has_animation = False
        for key, default_type in _FILE_FIELDS:
            item = optional(message, key, f"{field}.{key}", dict)
            if item is None or (key == "document" and has_animation):
                continue  # an animation is also sent as a document: keep one part
            has_animation = has_animation or key == "animation"
            file_id, file_size = self._file(item, f"{field}.{key}")
            mime = optional(item, "mime_type", f"{field}.{key}.mime_type")
            name = optional(item, "file_name", f"{field}.{key}.file_name")
            if name is None and key == "audio":
                name = optional(item, "title", f"{field}.{key}.title")
            parts.append(
                {
                    "type": "media",
                    "media_type": mime.strip().lower() if mime and "/" in mime else default_type,
                    "media_id": file_id,
                    "size_bytes": file_size,
                    "name": name,
                    "caption": caption,
                }
            )
        sticker = optional(message, "sticker", f"{field}.sticker", dict)
        if sticker is not None:
            file_id, file_size = self._file(sticker, f"{field}.sticker")
            if optional(sticker, "is_video", f"{field}.sticker.is_video", bool):
                mime = "video/webm"
            elif optional(sticker, "is_animated", f"{field}.sticker.is_animated", bool):
                mime = "application/x-tgsticker"
            else:
                mime = "image/webp"
            emoji = optional(sticker, "emoji", f"{field}.sticker.emoji")
            parts.append(
                {
                    "type": "media",
                    "media_type": mime,
                    "media_id": file_id,
                    "size_bytes": file_size,
                    "name": emoji,
                }
            )
        return parts

    @staticmethod
    def _coordinates(location: Json, field: str) -> tuple[float, float]:
        values: list[float] = []
        for key, limit in (("latitude", 90.0), ("longitude", 180.0)):
            value = require(location, key, f"{field}.{key}", (int, float))
            if not math.isfinite(value) or abs(value) > limit:
                raise InvalidPayloadError(
                    f"{field}.{key}", value, f"must lie between -{limit:g} and {limit:g}"
                )
            values.append(float(value))
        return values[0], values[1]

    def _location(self, message: Json, field: str) -> list[dict[str, Any]]:
        venue = optional(message, "venue", f"{field}.venue", dict)
        if venue is not None:
            where = require(venue, "location", f"{field}.venue.location", dict)
            latitude, longitude = self._coordinates(where, f"{field}.venue.location")
            return [
                {
                    "type": "location",
                    "latitude": latitude,
                    "longitude": longitude,
                    "name": optional(venue, "title", f"{field}.venue.title"),
                    "address": optional(venue, "address", f"{field}.venue.address"),
                }
            ]
        location = optional(message, "location", f"{field}.location", dict)
        if location is None:
            return []
        latitude, longitude = self._coordinates(location, f"{field}.location")
        return [{"type": "location", "latitude": latitude, "longitude": longitude}]

    def _contact(self, message: Json, field: str, sender_id: int) -> dict[str, Any] | None:
        contact = optional(message, "contact", f"{field}.contact", dict)
        if contact is None:
            return None
        path = f"{field}.contact"
        raw_phone = require(contact, "phone_number", f"{path}.phone_number")
        user_id = optional(contact, "user_id", f"{path}.user_id", int)
        first = (optional(contact, "first_name", f"{path}.first_name") or "").strip()
        last = (optional(contact, "last_name", f"{path}.last_name") or "").strip()
        is_sender = user_id is not None and user_id == sender_id
        found: list[Identifier] = []
        phone = _contact_phone(raw_phone, self.default_region)
        if phone is not None:
            found.append(phone)
        if user_id is not None and not is_sender:
            found.append(Identifier.handle(Channel.TELEGRAM.value, str(user_id)))
        return {
            "type": "contact",
            "name": f"{first} {last}".strip() or None,
            "identifiers": found,
            "is_sender": is_sender,
        }

    def _callback(self, query: Json, update_id: int) -> list[Interaction]:
        query_id = require(query, "id", "callback_query.id")
        if not query_id.strip():
            raise InvalidPayloadError("callback_query.id", query_id, "is empty")
        sender = _Sender(require(query, "from", "callback_query.from", dict), "callback_query.from")
        if sender.is_bot:
            return []
        data: dict[str, JsonValue] = {
            "data": optional(query, "data", "callback_query.data"),
        }
        game = optional(query, "game_short_name", "callback_query.game_short_name")
        if game is not None:
            data["game_short_name"] = game
        metadata: dict[str, JsonValue] = {"update_id": update_id}
        chat_instance = optional(query, "chat_instance", "callback_query.chat_instance")
        if chat_instance is not None:
            metadata["chat_instance"] = chat_instance
        reply_to = conversation_key = None
        message = optional(query, "message", "callback_query.message", dict)
        if message is not None:
            chat_id = self._chat_id(message, "callback_query.message")
            message_id = _integer(message, "message_id", "callback_query.message.message_id")
            reply_to, conversation_key = f"{chat_id}:{message_id}", str(chat_id)
        inline_id = optional(query, "inline_message_id", "callback_query.inline_message_id")
        if inline_id is not None:
            metadata["inline_message_id"] = inline_id
        return [
            self.build(
                "callback_query",
                channel=Channel.TELEGRAM.value,
                kind="message",
                direction=Direction.INBOUND,
                occurred_at=self._now(),
                source_id=f"callback:{query_id}",
                identifiers=sender.identifiers,
                traits=sender.traits,
                content=[{"type": "custom", "name": "callback", "data": data}],
                reply_to=reply_to,
                conversation_key=conversation_key,
                metadata=metadata,
            )
        ]

    @staticmethod
    def _reactions(reaction: Json, key: str) -> list[JsonValue]:
        items = optional(reaction, key, f"message_reaction.{key}", list) or []
        found: list[JsonValue] = []
        for index, item in enumerate(items):
            path = f"message_reaction.{key}.{index}"
            if not isinstance(item, dict):
                raise InvalidPayloadError(path, type(item).__name__, "must be an object")
            kind = require(item, "type", f"{path}.type")
            if kind == "emoji":
                found.append(require(item, "emoji", f"{path}.emoji"))
            elif kind == "custom_emoji":
                found.append(
                    "custom:" + require(item, "custom_emoji_id", f"{path}.custom_emoji_id")
                )
            else:
                found.append(kind)
        return found

    def _reaction(self, reaction: Json, update_id: int) -> list[Interaction]:
        chat_id = self._chat_id(reaction, "message_reaction")
        message_id = _integer(reaction, "message_id", "message_reaction.message_id")
        date = _integer(reaction, "date", "message_reaction.date")
        occurred_at = self.from_unix(date, "message_reaction.date")
        user = optional(reaction, "user", "message_reaction.user", dict)
        if user is None:
            return []  # an anonymous reaction (actor_chat) names no customer
        sender = _Sender(user, "message_reaction.user")
        if sender.is_bot:
            return []
        new = self._reactions(reaction, "new_reaction")
        old = self._reactions(reaction, "old_reaction")
        return [
            self.build(
                "message_reaction",
                channel=Channel.TELEGRAM.value,
                kind="reaction",
                direction=Direction.INBOUND,
                occurred_at=occurred_at,
                source_id=f"{chat_id}:{message_id}:reaction:{sender.id}:{date}",
                identifiers=sender.identifiers,
                traits=sender.traits,
                content=[{"type": "custom", "name": "reaction", "data": {"new": new, "old": old}}],
                reply_to=f"{chat_id}:{message_id}",
                conversation_key=str(chat_id),
                metadata={"update_id": update_id},
            )
        ]

    # --- verification -----------------------------------------------------------------

    def verify(self, request: InboundRequest, secret: str, now: datetime | None = None) -> None:
        """Check ``X-Telegram-Bot-Api-Secret-Token`` equals ``secret`` (constant-time).

        ``secret`` is the ``secret_token`` given to ``setWebhook``
        (https://core.telegram.org/bots/api#setwebhook). Telegram sends it verbatim: it
        proves the request comes from Telegram but does not sign the body, and there is
        no timestamp, so no replay window (``now`` is unused). A redelivered update keeps
        its message ids, so ingesting it again is a no-op.

        Raises:
            SignatureError: the header is missing or does not match.
        """
        if not secret:
            raise SignatureError("the secret token is empty")
        given = request.header(_SECRET_HEADER)
        if not given:
            raise SignatureError(f"{_SECRET_HEADER} is missing")
        if not constant_time_equal(given, secret):
            raise SignatureError(f"{_SECRET_HEADER} does not match the webhook's secret token")

    # --- rendering ----------------------------------------------------------------------

    def render(self, interaction: Interaction) -> dict[str, JsonValue]:
        """The ``sendMessage`` parameters for a text reply.

        The chat is the interaction's ``conversation_key``, else its numeric telegram
        handle (a private chat's id is the user's id). A ``reply_to`` in this adapter's
        ``"{chat_id}:{message_id}"`` form becomes ``reply_parameters``.

        Raises:
            InvalidValueError: no chat to send to, no text (media needs sendPhoto and
                friends), text over 4096 characters, or an unreadable ``reply_to``.
        """
        chat_id: int | None = None
        if interaction.conversation_key is not None:
            if not _CHAT_ID_RE.match(interaction.conversation_key):
                raise InvalidValueError(
                    "conversation_key",
                    interaction.conversation_key,
                    "is not a Telegram chat id",
                    mask=False,
                )
            chat_id = int(interaction.conversation_key)
        else:
            for identifier in interaction.identifiers:
                if identifier.namespace == Channel.TELEGRAM.value and identifier.value.isdigit():
                    chat_id = int(identifier.value)
                    break
        if chat_id is None:
            raise InvalidValueError(
                "identifiers",
                [],
                "needs a conversation_key or a numeric telegram handle to send to",
                mask=False,
            )
        text = interaction.text
        if not text.strip():
            raise InvalidValueError("content", [], "needs text to send", mask=False)
        if len(text) > _MAX_TEXT_CHARS:
            raise InvalidValueError(
                "content",
                f"{len(text)} characters",
                f"is longer than {_MAX_TEXT_CHARS}",
                mask=False,
            )
        payload: dict[str, JsonValue] = {"chat_id": chat_id, "text": text}
        if interaction.reply_to is not None:
            chat, sep, message = interaction.reply_to.partition(":")
            if not sep or not _CHAT_ID_RE.match(chat) or not message.isdigit():
                raise InvalidValueError(
                    "reply_to",
                    interaction.reply_to,
                    "is not a Telegram message reference ('{chat_id}:{message_id}')",
                    mask=False,
                )
            reply: dict[str, JsonValue] = {"message_id": int(message)}
            if int(chat) != chat_id:
                reply["chat_id"] = int(chat)
            payload["reply_parameters"] = reply
        return payload
