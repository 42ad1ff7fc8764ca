"""WhatsApp Cloud API: ``messages`` webhooks in, Cloud API send payloads out.

Meta posts ``{"object": "whatsapp_business_account", "entry": [{"id": WABA id,
"changes": [{"field": "messages", "value": {...}}]}]}``; one body may batch several
entries, changes, messages and statuses, and each becomes its own interaction
(https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages).

``value.messages[]`` are messages from customers (kind ``message`` unless noted):

* ``text`` (``text.body``); ``image``, ``video``, ``audio``, ``document``, ``sticker``
  (``id``, ``mime_type``, ``caption``, ``filename``) as a :class:`MediaPart` whose
  ``media_id`` is Meta's media id (download it with the Graph API); ``sha256`` and the
  ``voice``/``animated`` flags go to ``metadata["media"]``;
* ``location`` as a :class:`LocationPart` (its ``url`` in ``metadata["location_url"]``);
* ``contacts``: each card becomes a :class:`ContactCardPart`. A card listing the sender's
  own number (its ``wa_id`` or phone equals ``from``) is about the sender
  (``is_sender=True``) and its other phones and emails join the sender's identifiers;
  the numbers and emails on any other card go to ``mentions``
  (https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/contacts);
* ``interactive`` (a ``button_reply`` or ``list_reply``): the chosen title as text and a
  ``CustomPart(name="interactive")`` with ``id``, ``title`` (and ``description``); other
  interactive replies (flows) as the custom part alone;
* ``button`` (a quick-reply button of a template): its text and a ``CustomPart(name="button")``
  with ``text`` and ``payload``;
* ``reaction``: kind ``reaction``, ``reply_to`` the reacted message, emoji in a
  ``CustomPart(name="reaction")`` (no emoji: the reaction was removed);
* ``order``: kind ``order``, a ``CustomPart(name="order")`` with the catalog and items, and
  an :class:`OrderRefPart` named by the message id with the total when every item has a
  price in one currency;
* any other type (``unsupported``, ``system``, types Meta adds later): kind ``message``
  with a ``CustomPart`` named after the type holding its object, and
  ``metadata["unsupported"] = True``. Meta adds message types over time; refusing them
  would make Meta retry a webhook that can never succeed.

``from`` is the customer's ``wa_id``: their phone number's digits without ``+``, so the
sender is ``Identifier.phone("+" + wa_id)`` and meets the same customer on SMS and voice.
Where Meta sends a business-scoped user id (BSUID: ``from_user_id``, ``contacts[].user_id``,
``statuses[].recipient_user_id``, introduced with WhatsApp usernames), it is added as
``Identifier.handle("whatsapp", id)``; a username-only customer may come with that id alone,
and a ``from`` or ``recipient_id`` shaped like one (``US.13491208655302741918``) is read as
one
(https://developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids/).
``context.id`` is ``reply_to``; ``context.forwarded`` and ``frequently_forwarded`` go to
metadata. ``timestamp`` is Unix seconds (a string).

``value.statuses[]`` are receipts for the business's messages: kind ``status``, direction
outbound, the recipient's phone as identifier, ``source_id`` ``{wamid}:status:{status}``
(sent, delivered, read, failed ...), ``errors``, ``conversation`` and ``pricing`` in
metadata (https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/messages/status).
Statuses of group messages are not about one customer and are skipped.

Changes of other fields (``account_update``, ``message_template_status_update`` ...) that
Meta sends to the same URL yield no interaction rather than an error; an ``object`` other
than ``whatsapp_business_account`` is an :class:`~omnichannel.InvalidPayloadError`.

Signatures and the verify-token handshake are Meta's shared scheme (see
:mod:`omnichannel.channels._meta`): no timestamp is signed, and a replayed webhook is a
no-op on ingest because its ``wamid`` is already stored.
"""

from __future__ import annotations

import contextlib
import math
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import JsonValue

from omnichannel._errors import InvalidPayloadError, InvalidValueError
from omnichannel._model import (
    Channel,
    Direction,
    Identifier,
    IdentifierKind,
    Interaction,
    MediaPart,
    TextPart,
)
from omnichannel.channels._base import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_FUTURE_SECONDS,
    find_mentions,
    optional,
    require,
)
from omnichannel.channels._meta import (
    MetaAdapter,
    as_object,
    coordinate,
    json_data,
    json_object,
    put,
    source_id,
    vendor_id,
)
from omnichannel.channels._protocol import InboundRequest

__all__ = ["WhatsAppAdapter"]

WEBHOOK_OBJECT = "whatsapp_business_account"
_WA_ID_RE = re.compile(r"^\+?([0-9]{6,15})$")
_BSUID_RE = re.compile(r"^[A-Z]{2}\.[A-Za-z0-9.]{1,160}$")  # US.13491208655302741918
_STATUS_RE = re.compile(r"^[a-z][a-z_]{0,31}$")
_MIME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9!#$&^_.+*-]{1,127}")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
_MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})
_MAX_TEXT_CHARS = 4096  # the Cloud API's text body limit
_MAX_CAPTION_CHARS = 1024


@dataclass(frozen=True)
class _Contact:
    """One entry of ``value.contacts``: who a message is from, as Meta knows them."""

    wa_id: str | None
    user_id: str | None
    name: str | None
    username: str | None
    path: str


@dataclass
class _Parsed:
    """What one message type contributes to its interaction."""

    kind: str = "message"
    content: list[Any] | None = None
    texts: list[str] | None = None
    identifiers: list[Identifier] | None = None
    mentions: list[Identifier] | None = None
    reply_to: str | None = None
    unsupported: bool = False
    metadata: dict[str, JsonValue] | None = None


class WhatsAppAdapter(MetaAdapter):
    """WhatsApp Cloud API webhooks (``messages`` field) and send payloads.

    Args:
        preview_url: ask WhatsApp to render a link preview in rendered text messages.
        max_body_bytes: refuse larger bodies.
        max_future_seconds: refuse messages dated further ahead than this.
        default_region: region for national-format numbers on shared contact cards.
    """

    name = "whatsapp"

    def __init__(
        self,
        *,
        preview_url: bool = False,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_future_seconds: int = DEFAULT_MAX_FUTURE_SECONDS,
        default_region: str | None = None,
    ) -> None:
        super().__init__(
            max_body_bytes=max_body_bytes,
            max_future_seconds=max_future_seconds,
            default_region=default_region,
        )
        self.preview_url = preview_url

    # --- parsing ---------------------------------------------------------------------

    def parse(self, request: InboundRequest) -> list[Interaction]:
        """Return one interaction per message and per status in the webhook.

        Raises:
            InvalidPayloadError: not JSON, another ``object``, or a malformed message or
                status (``field`` is its path, e.g.
                ``"entry.0.changes.0.value.messages.0.from"``).
        """
        data = self.decode_json(request)
        kind = require(data, "object", "object")
        if kind != WEBHOOK_OBJECT:
            raise InvalidPayloadError("object", kind, f"must be {WEBHOOK_OBJECT!r}")
        entries = require(data, "entry", "entry", list)
        found: list[Interaction] = []
        for index, raw_entry in enumerate(entries):
            path = f"entry.{index}"
            entry = as_object(raw_entry, path)
            waba_id = optional(entry, "id", f"{path}.id")
            changes = optional(entry, "changes", f"{path}.changes", list) or []
            for number, raw_change in enumerate(changes):
                change_path = f"{path}.changes.{number}"
                change = as_object(raw_change, change_path)
                field = require(change, "field", f"{change_path}.field")
                if field != "messages":
                    continue  # account, template and quality updates: no customer contact
                value = require(change, "value", f"{change_path}.value", dict)
                found.extend(self._value(value, f"{change_path}.value", waba_id))
        return found

    def _value(self, value: dict[str, Any], path: str, waba_id: str | None) -> list[Interaction]:
        base: dict[str, JsonValue] = {}
        put(base, "waba_id", waba_id)
        business = optional(value, "metadata", f"{path}.metadata", dict) or {}
        for key in ("phone_number_id", "display_phone_number"):
            put(base, key, optional(business, key, f"{path}.metadata.{key}"))
        contacts = self._contacts(value, path)
        found: list[Interaction] = []
        messages = optional(value, "messages", f"{path}.messages", list) or []
        for index, raw in enumerate(messages):
            item_path = f"{path}.messages.{index}"
            message = as_object(raw, item_path)
            found.append(self._message(message, item_path, contacts, dict(base)))
        statuses = optional(value, "statuses", f"{path}.statuses", list) or []
        for index, raw in enumerate(statuses):
            item_path = f"{path}.statuses.{index}"
            status = self._status(as_object(raw, item_path), item_path, dict(base))
            if status is not None:
                found.append(status)
        return found

    def _contacts(self, value: dict[str, Any], path: str) -> list[_Contact]:
        contacts: list[_Contact] = []
        for index, raw in enumerate(optional(value, "contacts", f"{path}.contacts", list) or []):
            item_path = f"{path}.contacts.{index}"
            contact = as_object(raw, item_path)
            profile = optional(contact, "profile", f"{item_path}.profile", dict) or {}
            contacts.append(
                _Contact(
                    wa_id=optional(contact, "wa_id", f"{item_path}.wa_id"),
                    user_id=optional(contact, "user_id", f"{item_path}.user_id"),
                    name=optional(profile, "name", f"{item_path}.profile.name"),
                    username=optional(profile, "username", f"{item_path}.profile.username"),
                    path=item_path,
                )
            )
        return contacts

    def _time(self, data: dict[str, Any], field: str) -> datetime:
        value = data.get("timestamp")
        if value is None:
            raise InvalidPayloadError(field, None, "is missing")
        return self.from_unix(value, field)

    @staticmethod
    def _phone(raw: str, field: str) -> Identifier:
        """A ``wa_id`` (digits without ``+``) as a phone identifier."""
        match = _WA_ID_RE.match(raw)
        if match is None:
            raise InvalidPayloadError(
                field, raw, "must be a WhatsApp id: the phone number's digits without +"
            )
        try:
            return Identifier.phone("+" + match.group(1))
        except InvalidValueError as exc:
            raise InvalidPayloadError(field, raw, exc.reason) from None

    @staticmethod
    def _user_id(raw: object, field: str) -> Identifier:
        """A business-scoped user id (``US.13491208655302741918``) as a whatsapp handle."""
        value = vendor_id(raw, field)
        try:
            return Identifier.handle(Channel.WHATSAPP.value, value)
        except InvalidValueError as exc:
            raise InvalidPayloadError(field, raw, exc.reason) from None

    def _message(
        self,
        message: dict[str, Any],
        path: str,
        contacts: list[_Contact],
        metadata: dict[str, JsonValue],
    ) -> Interaction:
        message_id = source_id(message, "id", f"{path}.id")
        message_type = require(message, "type", f"{path}.type")
        if not message_type:
            raise InvalidPayloadError(f"{path}.type", message_type, "is empty")
        occurred = self._time(message, f"{path}.timestamp")

        raw_from = optional(message, "from", f"{path}.from")
        raw_user = optional(message, "from_user_id", f"{path}.from_user_id")
        user_field = f"{path}.from_user_id"
        if raw_from is not None and raw_user is None and _BSUID_RE.match(raw_from):
            raw_from, raw_user = None, raw_from  # a username-only customer: no phone at all
            user_field = f"{path}.from"
        sender_phone = self._phone(raw_from, f"{path}.from") if raw_from is not None else None
        wa_id = sender_phone.value.removeprefix("+") if sender_phone is not None else None
        contact = next(
            (
                c
                for c in contacts
                if (wa_id is not None and c.wa_id is not None and c.wa_id.lstrip("+") == wa_id)
                or (raw_user is not None and c.user_id == raw_user)
            ),
            None,
        )
        identifiers: dict[Identifier, None] = {}
        if sender_phone is not None:
            identifiers[sender_phone] = None
        if raw_user is not None:
            identifiers[self._user_id(raw_user, user_field)] = None
        elif contact is not None and contact.user_id is not None:
            identifiers[self._user_id(contact.user_id, f"{contact.path}.user_id")] = None
        if not identifiers:
            raise InvalidPayloadError(f"{path}.from", None, "is missing")
        traits: dict[str, JsonValue] = {}
        if contact is not None:
            put(traits, "display_name", (contact.name or "").strip() or None)
            put(traits, "username", contact.username)

        metadata["message_type"] = message_type
        reply_to = self._context(message, path, metadata)
        if message.get("referral") is not None:
            metadata["referral"] = json_data(message["referral"], f"{path}.referral")
        if message.get("errors") is not None:
            metadata["errors"] = json_data(message["errors"], f"{path}.errors")
        group_id = optional(message, "group_id", f"{path}.group_id")
        put(metadata, "group_id", group_id)

        parsed = self._content(message, message_type, path, sender_phone)
        if parsed.unsupported:
            metadata["unsupported"] = True
        metadata.update(parsed.metadata or {})
        for extra in parsed.identifiers or []:
            identifiers[extra] = None
        mentions: dict[Identifier, None] = dict.fromkeys(parsed.mentions or [])
        for text in parsed.texts or []:
            mentions.update(dict.fromkeys(find_mentions(text, self.default_region)))
        return self.build(
            path,
            channel=Channel.WHATSAPP.value,
            kind=parsed.kind,
            direction=Direction.INBOUND,
            occurred_at=occurred,
            source_id=message_id,
            identifiers=list(identifiers),
            mentions=[m for m in mentions if m not in identifiers],
            traits=traits,
            content=parsed.content or [],
            reply_to=parsed.reply_to or reply_to,
            conversation_key=group_id or None,
            metadata=metadata,
        )

    @staticmethod
    def _context(message: dict[str, Any], path: str, metadata: dict[str, JsonValue]) -> str | None:
        context = optional(message, "context", f"{path}.context", dict)
        if context is None:
            return None
        reply_to = None
        if context.get("id") is not None:
            reply_to = source_id(context, "id", f"{path}.context.id")
        put(metadata, "context_from", optional(context, "from", f"{path}.context.from"))
        for flag in ("forwarded", "frequently_forwarded"):
            if optional(context, flag, f"{path}.context.{flag}", bool):
                metadata[flag] = True
        if context.get("referred_product") is not None:
            metadata["referred_product"] = json_data(
                context["referred_product"], f"{path}.context.referred_product"
            )
        return reply_to

    def _content(
        self, message: dict[str, Any], message_type: str, path: str, sender: Identifier | None
    ) -> _Parsed:
        field = f"{path}.{message_type}"
        if message_type == "text":
            text = require(message, "text", field, dict)
            body = require(text, "body", f"{field}.body")
            return _Parsed(content=[TextPart(text=body)] if body else [], texts=[body])
        if message_type in _MEDIA_TYPES:
            return self._media(require(message, message_type, field, dict), field)
        if message_type == "location":
            location = require(message, "location", field, dict)
            part: dict[str, Any] = {
                "type": "location",
                "latitude": coordinate(location, "latitude", f"{field}.latitude", 90),
                "longitude": coordinate(location, "longitude", f"{field}.longitude", 180),
                "name": optional(location, "name", f"{field}.name") or None,
                "address": optional(location, "address", f"{field}.address") or None,
            }
            url = optional(location, "url", f"{field}.url")
            return _Parsed(content=[part], metadata={"location_url": url} if url else None)
        if message_type == "contacts":
            return self._cards(require(message, "contacts", field, list), field, sender)
        if message_type == "interactive":
            return self._interactive(require(message, "interactive", field, dict), field)
        if message_type == "button":
            button = require(message, "button", field, dict)
            text = optional(button, "text", f"{field}.text")
            payload = optional(button, "payload", f"{field}.payload")
            content: list[Any] = [TextPart(text=text)] if text else []
            content.append(
                {"type": "custom", "name": "button", "data": {"text": text, "payload": payload}}
            )
            return _Parsed(content=content)
        if message_type == "reaction":
            reaction = require(message, "reaction", field, dict)
            target = source_id(reaction, "message_id", f"{field}.message_id")
            emoji = optional(reaction, "emoji", f"{field}.emoji")
            data: dict[str, JsonValue] = {"message_id": target, "emoji": emoji or None}
            if not emoji:
                data["removed"] = True
            return _Parsed(
                kind="reaction",
                content=[{"type": "custom", "name": "reaction", "data": data}],
                reply_to=target,
            )
        if message_type == "order":
            return self._order(require(message, "order", field, dict), field, message["id"])
        raw = message.get(message_type)
        data = json_object(raw, field) if isinstance(raw, dict) else {}
        return _Parsed(
            content=[{"type": "custom", "name": message_type, "data": data}], unsupported=True
        )

    @staticmethod
    def _media(media: dict[str, Any], field: str) -> _Parsed:
        media_id = source_id(media, "id", f"{field}.id")
        mime = optional(media, "mime_type", f"{field}.mime_type")
        if mime is not None and not _MIME_RE.match(mime):
            raise InvalidPayloadError(f"{field}.mime_type", mime, "is not a MIME type")
        caption = optional(media, "caption", f"{field}.caption")
        part = MediaPart(
            media_type=mime or "application/octet-stream",
            url=optional(media, "url", f"{field}.url") or None,
            name=optional(media, "filename", f"{field}.filename") or None,
            caption=caption or None,
            media_id=media_id,
        )
        extras: dict[str, JsonValue] = {}
        put(extras, "sha256", optional(media, "sha256", f"{field}.sha256"))
        for flag in ("voice", "animated"):
            if optional(media, flag, f"{field}.{flag}", bool):
                extras[flag] = True
        return _Parsed(
            content=[part],
            texts=[caption] if caption else [],
            metadata={"media": extras} if extras else None,
        )

    def _cards(self, cards: list[Any], field: str, sender: Identifier | None) -> _Parsed:
        content: list[Any] = []
        own: list[Identifier] = []
        others: list[Identifier] = []
        for index, raw in enumerate(cards):
            card_path = f"{field}.{index}"
            card = as_object(raw, card_path)
            found: dict[Identifier, None] = {}
            is_sender = False
            phones = optional(card, "phones", f"{card_path}.phones", list) or []
            for number, raw_phone in enumerate(phones):
                entry = as_object(raw_phone, f"{card_path}.phones.{number}")
                wa_id = optional(entry, "wa_id", f"{card_path}.phones.{number}.wa_id")
                written = optional(entry, "phone", f"{card_path}.phones.{number}.phone")
                phone = self._card_phone(wa_id, written)
                if phone is not None:
                    found[phone] = None
                    is_sender = is_sender or phone == sender
            emails = optional(card, "emails", f"{card_path}.emails", list) or []
            for number, raw_email in enumerate(emails):
                entry = as_object(raw_email, f"{card_path}.emails.{number}")
                address = optional(entry, "email", f"{card_path}.emails.{number}.email")
                if address:
                    with contextlib.suppress(InvalidValueError):  # unreadable: dropped
                        found[Identifier.email(address)] = None
            name = _card_name(card, card_path)
            content.append(
                {
                    "type": "contact",
                    "name": name,
                    "identifiers": list(found),
                    "is_sender": is_sender,
                }
            )
            (own if is_sender else others).extend(found)
        return _Parsed(content=content, identifiers=own, mentions=others)

    def _card_phone(self, wa_id: str | None, written: str | None) -> Identifier | None:
        """A card's number: its ``wa_id`` when WhatsApp resolved one, else the written phone."""
        if wa_id:
            match = _WA_ID_RE.match(wa_id)
            if match is not None:
                try:
                    return Identifier.phone("+" + match.group(1))
                except InvalidValueError:
                    pass
        if written:
            try:
                return Identifier.phone(written, self.default_region)
            except InvalidValueError:
                return None  # a number nobody can dial is dropped, not an error
        return None

    @staticmethod
    def _interactive(interactive: dict[str, Any], field: str) -> _Parsed:
        reply_type = require(interactive, "type", f"{field}.type")
        if reply_type in ("button_reply", "list_reply"):
            reply = require(interactive, reply_type, f"{field}.{reply_type}", dict)
            title = require(reply, "title", f"{field}.{reply_type}.title")
            data: dict[str, JsonValue] = {
                "type": reply_type,
                "id": require(reply, "id", f"{field}.{reply_type}.id"),
                "title": title,
            }
            put(
                data,
                "description",
                optional(reply, "description", f"{field}.{reply_type}.description"),
            )
            content: list[Any] = [TextPart(text=title)] if title else []
            content.append({"type": "custom", "name": "interactive", "data": data})
            return _Parsed(content=content)
        return _Parsed(
            content=[
                {"type": "custom", "name": "interactive", "data": json_object(interactive, field)}
            ]
        )

    @staticmethod
    def _order(order: dict[str, Any], field: str, message_id: str) -> _Parsed:
        items = require(order, "product_items", f"{field}.product_items", list)
        for index, item in enumerate(items):
            entry = as_object(item, f"{field}.product_items.{index}")
            require(
                entry, "product_retailer_id", f"{field}.product_items.{index}.product_retailer_id"
            )
        text = optional(order, "text", f"{field}.text")
        content: list[Any] = [TextPart(text=text)] if text else []
        content.append({"type": "custom", "name": "order", "data": json_object(order, field)})
        total = _order_total(items)
        if total is not None:
            content.append(
                {
                    "type": "order",
                    "order_id": message_id,
                    "amount": total[0],
                    "currency": total[1],
                }
            )
        return _Parsed(kind="order", content=content, texts=[text] if text else [])

    def _status(
        self, status: dict[str, Any], path: str, metadata: dict[str, JsonValue]
    ) -> Interaction | None:
        message_id = source_id(status, "id", f"{path}.id")
        state = require(status, "status", f"{path}.status")
        if not _STATUS_RE.match(state):
            raise InvalidPayloadError(f"{path}.status", state, "is not a message status")
        occurred = self._time(status, f"{path}.timestamp")
        if optional(status, "recipient_type", f"{path}.recipient_type") == "group":
            return None  # a receipt for a group message is about no single customer
        identifiers: list[Identifier] = []
        recipient = optional(status, "recipient_id", f"{path}.recipient_id")
        user = optional(status, "recipient_user_id", f"{path}.recipient_user_id")
        if recipient is not None and _BSUID_RE.match(recipient):
            identifiers.append(self._user_id(recipient, f"{path}.recipient_id"))
        elif recipient is not None:
            identifiers.append(self._phone(recipient, f"{path}.recipient_id"))
        if user is not None and user != recipient:
            identifiers.append(self._user_id(user, f"{path}.recipient_user_id"))
        if not identifiers:
            raise InvalidPayloadError(f"{path}.recipient_id", None, "is missing")
        metadata.update({"message_id": message_id, "status": state})
        for key in ("errors", "conversation", "pricing"):
            if status.get(key) is not None:
                metadata[key] = json_data(status[key], f"{path}.{key}")
        put(
            metadata,
            "biz_opaque_callback_data",
            optional(status, "biz_opaque_callback_data", f"{path}.biz_opaque_callback_data"),
        )
        return self.build(
            path,
            channel=Channel.WHATSAPP.value,
            kind="status",
            direction=Direction.OUTBOUND,
            occurred_at=occurred,
            source_id=f"{message_id}:status:{state}",
            identifiers=identifiers,
            metadata=metadata,
        )

    # --- rendering ----------------------------------------------------------------------

    def render(self, interaction: Interaction) -> dict[str, JsonValue]:
        """The Cloud API ``POST /{phone-number-id}/messages`` body.

        Text becomes ``{"type": "text", "text": {"body", "preview_url"}}``
        (https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/text-messages/).
        One media part with a ``media_id`` (or a ``url``) becomes an ``image``, ``video``,
        ``audio`` or ``document`` message by its MIME type, with the text as caption. A
        ``reply_to`` becomes ``context.message_id``. The recipient is the first phone
        identifier (as a ``wa_id``, digits without ``+``); without one, a whatsapp
        business-scoped user id goes in ``recipient``.

        Raises:
            InvalidValueError: another channel, nobody to send to, nothing to send, more
                than one media part, text too long, or text with an audio part.
        """
        if interaction.channel != Channel.WHATSAPP.value:
            raise InvalidValueError(
                "channel", interaction.channel, "this adapter sends whatsapp", mask=False
            )
        payload: dict[str, JsonValue] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
        }
        phone = next((i for i in interaction.identifiers if i.kind is IdentifierKind.PHONE), None)
        user = next(
            (
                i
                for i in interaction.identifiers
                if i.kind is IdentifierKind.HANDLE and i.namespace == Channel.WHATSAPP.value
            ),
            None,
        )
        if phone is not None:
            payload["to"] = phone.value.removeprefix("+")
        elif user is not None:
            payload["recipient"] = user.value
        else:
            raise InvalidValueError(
                "identifiers", [], "needs a phone number or whatsapp user id", mask=False
            )
        text = "\n".join(p.text for p in interaction.content if isinstance(p, TextPart) and p.text)
        media = [
            p for p in interaction.content if isinstance(p, MediaPart) and (p.media_id or p.url)
        ]
        if len(media) > 1:
            raise InvalidValueError(
                "content", f"{len(media)} media", "holds more than one media part", mask=False
            )
        if media:
            message_type, body = self._render_media(media[0], text)
        elif text:
            if len(text) > _MAX_TEXT_CHARS:
                raise InvalidValueError(
                    "content",
                    f"{len(text)} characters",
                    f"is longer than {_MAX_TEXT_CHARS}",
                    mask=False,
                )
            message_type, body = "text", {"body": text, "preview_url": self.preview_url}
        else:
            raise InvalidValueError(
                "content", [], "needs text or a media id or URL to send", mask=False
            )
        payload["type"] = message_type
        payload[message_type] = body
        if interaction.reply_to:
            payload["context"] = {"message_id": interaction.reply_to}
        return payload

    @staticmethod
    def _render_media(part: MediaPart, text: str) -> tuple[str, dict[str, JsonValue]]:
        major = part.media_type.split("/", 1)[0].lower()
        message_type = major if major in ("image", "video", "audio") else "document"
        body: dict[str, JsonValue] = {"id": part.media_id} if part.media_id else {"link": part.url}
        caption = part.caption or text
        if message_type == "audio":
            if caption:
                raise InvalidValueError(
                    "content", "audio with text", "an audio message carries no text", mask=False
                )
        elif caption:
            if len(caption) > _MAX_CAPTION_CHARS:
                raise InvalidValueError(
                    "content",
                    f"{len(caption)} characters",
                    f"is longer than a caption's {_MAX_CAPTION_CHARS}",
                    mask=False,
                )
            body["caption"] = caption
        if message_type == "document" and part.name:
            body["filename"] = part.name
        return message_type, body


def _card_name(card: dict[str, Any], path: str) -> str | None:
    name = optional(card, "name", f"{path}.name", dict)
    if name is None:
        return None
    formatted = optional(name, "formatted_name", f"{path}.name.formatted_name")
    if formatted and formatted.strip():
        return str(formatted.strip())
    parts = [optional(name, key, f"{path}.name.{key}") for key in ("first_name", "last_name")]
    joined = " ".join(p.strip() for p in parts if p and p.strip())
    return joined or None


def _order_total(items: list[Any]) -> tuple[Decimal, str] | None:
    """The order's total when every item has a finite price and quantity in one currency."""
    total = Decimal(0)
    currencies: set[str] = set()
    for item in items:
        price, quantity, currency = (
            item.get("item_price"),
            item.get("quantity"),
            item.get("currency"),
        )
        if not isinstance(currency, str) or not _CURRENCY_RE.match(currency):
            return None
        currencies.add(currency)
        try:
            amount = _decimal(price) * _decimal(quantity)
        except (ArithmeticError, TypeError, ValueError):  # decimal errors included
            return None
        if not amount.is_finite():
            return None
        total += amount
    if len(currencies) != 1:
        return None
    return total, currencies.pop()


def _decimal(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError("not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("not finite")
    if isinstance(value, str) and len(value) > 32:
        raise ValueError("too long")
    number = Decimal(str(value)) if not isinstance(value, int) else Decimal(value)
    # adjusted() reads the exponent without arithmetic, which could overflow the context
    if not number.is_finite() or number < 0 or (number and not -12 <= number.adjusted() <= 15):
        raise ValueError("out of range")
    return number
