"""Meta: the webhook parts WhatsApp, Messenger and Instagram share, and the Messenger and
Instagram messaging adapters.

Shared by every Meta webhook (https://developers.facebook.com/docs/graph-api/webhooks/getting-started):

* **Signature.** Meta signs each POST with the app secret: ``X-Hub-Signature-256`` is
  ``sha256=`` followed by the hex HMAC-SHA256 of the raw body. :func:`verify_signature`
  checks it in constant time. The signature covers no timestamp, so there is no replay
  window: a replayed webhook carries message ids (``wamid.…``, ``mid``) already stored,
  and ingesting it again is a no-op because ``(channel, source_id)`` is idempotent.
* **Verify-token handshake.** When the webhook URL is registered, Meta sends a GET with
  ``hub.mode=subscribe``, ``hub.verify_token`` (the string typed into the App Dashboard)
  and ``hub.challenge``; the endpoint answers with the challenge. :func:`handshake` checks
  the request and returns the challenge to send back.

Messenger (``object: "page"``) and Instagram (``object: "instagram"``) messaging webhooks
share one shape: ``entry[].messaging[]`` events (``entry[].standby[]`` for conversations
another app owns under the handover protocol), each with ``sender.id``, ``recipient.id``,
a millisecond ``timestamp`` and one of:

* ``message``: text, ``attachments`` (image, video, audio, file, location, fallback,
  reels, shares ...), ``quick_reply``, ``reply_to``; ``is_echo`` marks a message the
  business sent (direction outbound, the customer is the recipient); ``is_deleted`` an
  unsent message (kind ``status``, ``source_id`` ``{mid}:deleted``)
  (https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/messages,
  https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/message-echoes,
  https://developers.facebook.com/documentation/instagram-platform/webhooks/examples);
* ``postback``: a button tap, kind ``message`` with the button title as text and a
  ``CustomPart(name="postback")``
  (https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/messaging_postbacks);
* ``read``: kind ``status``, ``source_id`` ``read:{sender}:{watermark}`` (Instagram's
  ``messaging_seen`` carries a ``mid`` instead: ``read:{sender}:{mid}``)
  (https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/message-reads);
* ``delivery``: kind ``status``, one per delivered ``mid`` (``{mid}:status:delivered``),
  or ``delivered:{sender}:{watermark}`` when Meta sends no ``mids``
  (https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/message-deliveries);
* ``reaction``: kind ``reaction``, ``reply_to`` the reacted message
  (https://developers.facebook.com/documentation/business-messaging/messenger-platform/webhooks/webhook-events/message-reactions).

Other events (optins, referrals, handover notices, policy notices ...) and entries without
messaging events (page feed changes sent to the same URL) yield no interaction.

Senders are page-scoped ids (Messenger PSID) or Instagram-scoped ids (IGSID), digits that
are exact per page or account: ``Identifier.handle("messenger", psid)`` and
``Identifier.handle("instagram", igsid)``. A Messenger sender known only by a ``user_ref``
(checkbox and chat plugins) becomes ``Identifier.handle("messenger.user_ref", ref)``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from pydantic import JsonValue

from omnichannel._errors import InvalidPayloadError, InvalidValueError, SignatureError
from omnichannel._model import (
    Channel,
    Direction,
    Identifier,
    IdentifierKind,
    Interaction,
    MediaPart,
)
from omnichannel.channels._base import (
    BaseAdapter,
    constant_time_equal,
    find_mentions,
    hmac_digest,
    optional,
    require,
)
from omnichannel.channels._protocol import InboundRequest

__all__ = [
    "InstagramAdapter",
    "MessengerAdapter",
    "MetaAdapter",
    "as_object",
    "coordinate",
    "handshake",
    "json_data",
    "json_object",
    "put",
    "source_id",
    "vendor_id",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Hub-Signature-256"
_SIGNATURE_RE = re.compile(r"^sha256=([0-9a-fA-F]{64})$")
_CHALLENGE_RE = re.compile(r"^[A-Za-z0-9._~-]{1,512}$")
_SCOPED_ID_RE = re.compile(r"^[0-9]{1,64}$")
_MAX_ID_CHARS = 256
_MAX_JSON_DEPTH = 32
_MAX_MILLIS = 10**14  # year 5138: anything larger is not a Meta timestamp


# --- shared helpers (also used by the WhatsApp adapter) ----------------------------------


def verify_signature(request: InboundRequest, app_secret: str) -> None:
    """Check ``X-Hub-Signature-256`` (``sha256=`` + hex HMAC-SHA256 of the raw body).

    The comparison is constant-time. Meta signs no timestamp: replays are caught by the
    idempotent message ids (``wamid``, ``mid``) on ingest, not here.

    Raises:
        SignatureError: no app secret, no header, a malformed header, or a signature that
            does not match the body.
    """
    if not app_secret:
        raise SignatureError("the app secret is empty")
    given = (request.header(SIGNATURE_HEADER) or "").strip()
    if not given:
        raise SignatureError(f"{SIGNATURE_HEADER} is missing")
    match = _SIGNATURE_RE.match(given)
    if match is None:
        raise SignatureError(f"{SIGNATURE_HEADER} is not 'sha256=' and 64 hex digits")
    expected = hmac_digest(app_secret, request.body, "sha256").hex()
    if not constant_time_equal(match.group(1).lower(), expected):
        raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")


def handshake(request: InboundRequest, verify_token: str) -> str:
    """Answer Meta's verify-token handshake: return ``hub.challenge`` to send back.

    Meta calls the webhook URL with ``hub.mode=subscribe``, ``hub.verify_token`` and
    ``hub.challenge`` in the query string when the URL is registered. The token is compared
    in constant time; an empty configured token verifies nothing. The challenge is echoed
    into the response body, so only URL-safe token characters are accepted (Meta sends an
    integer).

    Raises:
        SignatureError: no verify token configured, ``hub.mode`` is not ``subscribe``, the
            token does not match, or the challenge is missing or malformed.
    """
    if not verify_token:
        raise SignatureError("the verify token is empty")
    mode = request.query.get("hub.mode")
    if mode != "subscribe":
        raise SignatureError("hub.mode is not 'subscribe'")
    given = request.query.get("hub.verify_token")
    if given is None or not constant_time_equal(given, verify_token):
        raise SignatureError("hub.verify_token does not match")
    challenge = request.query.get("hub.challenge")
    if not challenge:
        raise SignatureError("hub.challenge is missing")
    if not _CHALLENGE_RE.match(challenge):
        raise SignatureError("hub.challenge is not a plain token")
    return challenge


def as_object(value: object, field: str) -> dict[str, Any]:
    """``value`` if it is a JSON object, else InvalidPayloadError naming ``field``."""
    if not isinstance(value, dict):
        raise InvalidPayloadError(field, type(value).__name__, "must be an object")
    return value


def vendor_id(value: object, field: str) -> str:
    """A vendor id: a non-empty string of at most 256 characters without whitespace."""
    if not isinstance(value, str):
        reason = "is missing" if value is None else "must be a string"
        raise InvalidPayloadError(field, value, reason)
    if not value or len(value) > _MAX_ID_CHARS or any(ch.isspace() for ch in value):
        raise InvalidPayloadError(
            field, value, f"must be an id of 1-{_MAX_ID_CHARS} characters without spaces"
        )
    return value


def source_id(data: object, key: str, field: str) -> str:
    """The vendor id under ``data[key]`` (see :func:`vendor_id`)."""
    return vendor_id(require(data, key, field), field)


def json_data(value: object, field: str, depth: int = 0) -> JsonValue:
    """``value`` as a JSON value for metadata or custom parts, nesting bounded."""
    if depth > _MAX_JSON_DEPTH:
        raise InvalidPayloadError(field, "nesting", "is nested too deeply")
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, list):
        return [json_data(item, field, depth + 1) for item in value]
    if isinstance(value, dict):
        return {str(k): json_data(v, field, depth + 1) for k, v in value.items()}
    return str(value)


def json_object(value: object, field: str) -> dict[str, JsonValue]:
    """A JSON object copied for a custom part's ``data``."""
    data = json_data(as_object(value, field), field)
    assert isinstance(data, dict)
    return data


def coordinate(data: object, key: str, field: str, limit: float) -> float:
    """A latitude (``limit`` 90) or longitude (180): a finite number within the limit."""
    value = require(data, key, field, (int, float))
    if isinstance(value, int) and abs(value) > limit:  # float() of a huge int overflows
        raise InvalidPayloadError(field, value, f"must lie between -{limit:g} and {limit:g}")
    number = float(value)
    if not math.isfinite(number) or abs(number) > limit:
        raise InvalidPayloadError(field, value, f"must lie between -{limit:g} and {limit:g}")
    return number


def put(target: dict[str, JsonValue], key: str, value: JsonValue) -> None:
    """Set ``target[key]`` unless ``value`` is None or empty."""
    if value is not None and value != "" and value != [] and value != {}:
        target[key] = value


class MetaAdapter(BaseAdapter):
    """Common part of the Meta adapters: ``X-Hub-Signature-256`` and the handshake."""

    name = "meta"

    def verify(self, request: InboundRequest, secret: str, now: datetime | None = None) -> None:
        """Check ``X-Hub-Signature-256`` with the Meta app secret as ``secret``.

        Meta signs no timestamp, so ``now`` is unused and there is no replay window: a
        replayed webhook carries message ids already stored, and ingesting it again is a
        no-op (see :func:`verify_signature`).

        Raises:
            SignatureError: missing, malformed or forged signature, or an empty secret.
        """
        verify_signature(request, secret)

    def handshake(self, request: InboundRequest, verify_token: str) -> str:
        """Answer Meta's verify-token GET: return ``hub.challenge`` (see :func:`handshake`).

        Raises:
            SignatureError: wrong mode or token, or no usable challenge.
        """
        return handshake(request, verify_token)


# --- Messenger and Instagram --------------------------------------------------------------

_MEDIA_ATTACHMENTS = {
    "image": "image/*",
    "video": "video/*",
    "audio": "audio/*",
    "file": "application/octet-stream",
}
_MAX_TEXT_CHARS = 2000  # the Send API's text limit


class _PageMessagingAdapter(MetaAdapter):
    """Messenger Platform and Instagram messaging webhooks (they share one shape)."""

    channel: ClassVar[str]
    webhook_object: ClassVar[str]

    def parse(self, request: InboundRequest) -> list[Interaction]:
        """Return the interactions in a messaging webhook, several per body when Meta
        batches entries and events.

        Raises:
            InvalidPayloadError: not JSON, another ``object``, or a malformed event
                (``field`` is the path, e.g. ``"entry.0.messaging.0.sender.id"``).
        """
        data = self.decode_json(request)
        kind = require(data, "object", "object")
        if kind != self.webhook_object:
            raise InvalidPayloadError("object", kind, f"must be {self.webhook_object!r}")
        entries = require(data, "entry", "entry", list)
        found: list[Interaction] = []
        for index, raw_entry in enumerate(entries):
            path = f"entry.{index}"
            entry = as_object(raw_entry, path)
            context = _Entry(
                account_id=optional(entry, "id", f"{path}.id"),
                time=entry.get("time"),
                time_field=f"{path}.time",
            )
            for key in ("messaging", "standby"):
                events = optional(entry, key, f"{path}.{key}", list) or []
                for number, event in enumerate(events):
                    found.extend(
                        self._event(
                            as_object(event, f"{path}.{key}.{number}"),
                            f"{path}.{key}.{number}",
                            context,
                            standby=key == "standby",
                        )
                    )
        return found

    # --- events -------------------------------------------------------------------------

    def _party(self, event: dict[str, Any], key: str, path: str) -> Identifier:
        party = require(event, key, f"{path}.{key}", dict)
        raw_id = optional(party, "id", f"{path}.{key}.id")
        if raw_id is None:
            ref = optional(party, "user_ref", f"{path}.{key}.user_ref")
            if ref is None:
                raise InvalidPayloadError(f"{path}.{key}.id", None, "is missing")
            try:
                return Identifier.handle(f"{self.channel}.user_ref", ref)
            except InvalidValueError as exc:
                raise InvalidPayloadError(f"{path}.{key}.user_ref", ref, exc.reason) from None
        if not _SCOPED_ID_RE.match(raw_id):
            raise InvalidPayloadError(f"{path}.{key}.id", raw_id, "must be a numeric Meta id")
        return Identifier.handle(self.channel, raw_id)

    def _event(
        self, event: dict[str, Any], path: str, entry: _Entry, *, standby: bool
    ) -> list[Interaction]:
        handlers = {
            "message": self._message,
            "postback": self._postback,
            "read": self._read,
            "delivery": self._delivery,
            "reaction": self._reaction,
        }
        for key, handler in handlers.items():
            if key in event:
                body = require(event, key, f"{path}.{key}", dict)
                occurred = self._occurred_at(event, path, entry, body)
                base: dict[str, JsonValue] = {}
                put(base, "account_id", entry.account_id)
                if standby:
                    base["standby"] = True
                return handler(event, body, f"{path}.{key}", path, occurred, base)
        return []  # optins, referrals, handover and policy notices: no customer contact

    def _occurred_at(
        self, event: dict[str, Any], path: str, entry: _Entry, body: dict[str, Any]
    ) -> datetime:
        """The event's ``timestamp``; else the entry's ``time``; else a receipt watermark."""
        for value, field in (
            (event.get("timestamp"), f"{path}.timestamp"),
            (entry.time, entry.time_field),
            (body.get("watermark"), f"{path}.watermark"),
        ):
            if value is not None:
                return self._millis(value, field)
        raise InvalidPayloadError(f"{path}.timestamp", None, "is missing")

    def _millis(self, value: object, field: str) -> datetime:
        if isinstance(value, bool):
            pass  # from_unix_millis refuses it
        elif isinstance(value, int):
            if abs(value) >= _MAX_MILLIS:  # also keeps float() of a huge int from overflowing
                raise InvalidPayloadError(field, value, "is not a Unix time in milliseconds")
        elif isinstance(value, float):
            if not math.isfinite(value) or abs(value) >= _MAX_MILLIS:
                raise InvalidPayloadError(field, value, "is not a Unix time in milliseconds")
        elif isinstance(value, str) and len(value) > 20:
            raise InvalidPayloadError(field, value, "is not a Unix time in milliseconds")
        return self.from_unix_millis(value, field)

    def _message(
        self,
        event: dict[str, Any],
        message: dict[str, Any],
        path: str,
        event_path: str,
        occurred: datetime,
        metadata: dict[str, JsonValue],
    ) -> list[Interaction]:
        mid = source_id(message, "mid", f"{path}.mid")
        is_echo = optional(message, "is_echo", f"{path}.is_echo", bool) or False
        customer = self._party(event, "recipient" if is_echo else "sender", event_path)
        business = "sender" if is_echo else "recipient"
        put(metadata, "business_id", _plain_id(event.get(business)))
        if optional(message, "is_deleted", f"{path}.is_deleted", bool):
            metadata.update({"status": "deleted", "message_id": mid})
            return [
                self.build(
                    path,
                    channel=self.channel,
                    kind="status",
                    direction=Direction.OUTBOUND if is_echo else Direction.INBOUND,
                    occurred_at=occurred,
                    source_id=f"{mid}:deleted",
                    identifiers=[customer],
                    metadata=metadata,
                )
            ]
        content: list[dict[str, Any]] = []
        text = optional(message, "text", f"{path}.text")
        if text:
            content.append({"type": "text", "text": text})
        attachments = optional(message, "attachments", f"{path}.attachments", list) or []
        for index, attachment in enumerate(attachments):
            content.append(self._attachment(attachment, f"{path}.attachments.{index}"))
        quick_reply = optional(message, "quick_reply", f"{path}.quick_reply", dict)
        if quick_reply is not None:
            payload = optional(quick_reply, "payload", f"{path}.quick_reply.payload")
            content.append({"type": "custom", "name": "quick_reply", "data": {"payload": payload}})
        reply_to: str | None = None
        replied = optional(message, "reply_to", f"{path}.reply_to", dict)
        if replied is not None:
            if replied.get("mid") is not None:
                reply_to = source_id(replied, "mid", f"{path}.reply_to.mid")
            if replied.get("story") is not None:
                metadata["reply_to_story"] = json_data(replied["story"], f"{path}.reply_to")
            put(metadata, "is_self_reply", replied.get("is_self_reply") is True or None)
        if message.get("referral") is not None:
            metadata["referral"] = json_data(message["referral"], f"{path}.referral")
        if optional(message, "is_unsupported", f"{path}.is_unsupported", bool):
            metadata["unsupported"] = True
        if is_echo:
            metadata["is_echo"] = True
            put(metadata, "app_id", json_data(message.get("app_id"), f"{path}.app_id"))
            put(metadata, "echo_metadata", optional(message, "metadata", f"{path}.metadata"))
        mentions = [m for m in find_mentions(text or "", self.default_region) if m != customer]
        return [
            self.build(
                path,
                channel=self.channel,
                kind="message",
                direction=Direction.OUTBOUND if is_echo else Direction.INBOUND,
                occurred_at=occurred,
                source_id=mid,
                identifiers=[customer],
                mentions=mentions,
                content=content,
                reply_to=reply_to,
                metadata=metadata,
            )
        ]

    def _attachment(self, raw: object, path: str) -> dict[str, Any]:
        attachment = as_object(raw, path)
        kind = require(attachment, "type", f"{path}.type")
        payload = optional(attachment, "payload", f"{path}.payload", dict) or {}
        if kind in _MEDIA_ATTACHMENTS:
            url = optional(payload, "url", f"{path}.payload.url")
            return {"type": "media", "media_type": _MEDIA_ATTACHMENTS[kind], "url": url or None}
        if kind == "location":
            point = require(payload, "coordinates", f"{path}.payload.coordinates", dict)
            title = optional(attachment, "title", f"{path}.title")
            return {
                "type": "location",
                "latitude": coordinate(point, "lat", f"{path}.payload.coordinates.lat", 90),
                "longitude": coordinate(point, "long", f"{path}.payload.coordinates.long", 180),
                "name": title or None,
            }
        if not kind:
            raise InvalidPayloadError(f"{path}.type", kind, "is empty")
        data = {k: v for k, v in attachment.items() if k != "type"}
        return {"type": "custom", "name": kind, "data": json_object(data, path)}

    def _postback(
        self,
        event: dict[str, Any],
        postback: dict[str, Any],
        path: str,
        event_path: str,
        occurred: datetime,
        metadata: dict[str, JsonValue],
    ) -> list[Interaction]:
        customer = self._party(event, "sender", event_path)
        put(metadata, "business_id", _plain_id(event.get("recipient")))
        title = optional(postback, "title", f"{path}.title")
        payload = optional(postback, "payload", f"{path}.payload")
        if postback.get("mid") is not None:
            event_id = source_id(postback, "mid", f"{path}.mid")
        else:  # older postbacks carry no mid: the customer and the instant name it
            event_id = f"postback:{customer.value}:{_millis_of(occurred)}"
        data: dict[str, JsonValue] = {"title": title, "payload": payload}
        if postback.get("referral") is not None:
            data["referral"] = json_data(postback["referral"], f"{path}.referral")
        content: list[dict[str, Any]] = []
        if title:
            content.append({"type": "text", "text": title})
        content.append({"type": "custom", "name": "postback", "data": data})
        return [
            self.build(
                path,
                channel=self.channel,
                kind="message",
                direction=Direction.INBOUND,
                occurred_at=occurred,
                source_id=event_id,
                identifiers=[customer],
                content=content,
                metadata=metadata,
            )
        ]

    def _read(
        self,
        event: dict[str, Any],
        read: dict[str, Any],
        path: str,
        event_path: str,
        occurred: datetime,
        metadata: dict[str, JsonValue],
    ) -> list[Interaction]:
        customer = self._party(event, "sender", event_path)
        watermark = _watermark(read, path)
        if watermark is not None:
            marker = str(watermark)
            metadata["watermark"] = watermark
        elif read.get("mid") is not None:  # Instagram messaging_seen names the message
            marker = source_id(read, "mid", f"{path}.mid")
            metadata["message_id"] = marker
        else:
            raise InvalidPayloadError(f"{path}.watermark", None, "is missing")
        metadata["status"] = "read"
        return [
            self.build(
                path,
                channel=self.channel,
                kind="status",
                direction=Direction.OUTBOUND,
                occurred_at=occurred,
                source_id=f"read:{customer.value}:{marker}",
                identifiers=[customer],
                metadata=metadata,
            )
        ]

    def _delivery(
        self,
        event: dict[str, Any],
        delivery: dict[str, Any],
        path: str,
        event_path: str,
        occurred: datetime,
        metadata: dict[str, JsonValue],
    ) -> list[Interaction]:
        customer = self._party(event, "sender", event_path)
        watermark = _watermark(delivery, path)
        mids = optional(delivery, "mids", f"{path}.mids", list) or []
        metadata["status"] = "delivered"
        if watermark is not None:
            metadata["watermark"] = watermark
        if mids:
            keys = [
                (vendor_id(mid, f"{path}.mids.{index}"), True) for index, mid in enumerate(mids)
            ]
        elif watermark is not None:
            keys = [(f"delivered:{customer.value}:{watermark}", False)]
        else:
            raise InvalidPayloadError(f"{path}.watermark", None, "is missing")
        found = []
        for key, is_mid in keys:
            item = dict(metadata)
            if is_mid:
                item["message_id"] = key
            found.append(
                self.build(
                    path,
                    channel=self.channel,
                    kind="status",
                    direction=Direction.OUTBOUND,
                    occurred_at=occurred,
                    source_id=f"{key}:status:delivered" if is_mid else key,
                    identifiers=[customer],
                    metadata=item,
                )
            )
        return found

    def _reaction(
        self,
        event: dict[str, Any],
        reaction: dict[str, Any],
        path: str,
        event_path: str,
        occurred: datetime,
        metadata: dict[str, JsonValue],
    ) -> list[Interaction]:
        customer = self._party(event, "sender", event_path)
        mid = source_id(reaction, "mid", f"{path}.mid")
        action = optional(reaction, "action", f"{path}.action") or "react"
        data: dict[str, JsonValue] = {"message_id": mid, "action": action}
        put(data, "emoji", optional(reaction, "emoji", f"{path}.emoji"))
        put(data, "reaction", optional(reaction, "reaction", f"{path}.reaction"))
        return [
            self.build(
                path,
                channel=self.channel,
                kind="reaction",
                direction=Direction.INBOUND,
                occurred_at=occurred,
                source_id=f"{mid}:reaction:{customer.value}:{_millis_of(occurred)}",
                identifiers=[customer],
                content=[{"type": "custom", "name": "reaction", "data": data}],
                reply_to=mid,
                metadata=metadata,
            )
        ]

    # --- rendering ------------------------------------------------------------------------

    def render(self, interaction: Interaction) -> dict[str, JsonValue]:
        """The Send API body: ``{"recipient": {"id"}, "messaging_type": "RESPONSE",
        "message": {"text"}}``, or one attachment by URL when there is no text
        (https://developers.facebook.com/docs/messenger-platform/reference/send-api/).

        The recipient is the interaction's first handle on this channel (the PSID or
        IGSID the customer wrote from).

        Raises:
            InvalidValueError: another channel, no handle to send to, neither text nor a
                media URL, both (send them as two messages), or text over 2000 characters.
        """
        if interaction.channel != self.channel:
            raise InvalidValueError(
                "channel", interaction.channel, f"this adapter sends {self.channel}", mask=False
            )
        recipient = next(
            (
                i.value
                for i in interaction.identifiers
                if i.kind is IdentifierKind.HANDLE and i.namespace == self.channel
            ),
            None,
        )
        if recipient is None:
            raise InvalidValueError(
                "identifiers", [], f"needs a {self.channel} handle to send to", mask=False
            )
        text = interaction.text
        media = [p for p in interaction.content if isinstance(p, MediaPart) and p.url]
        if text and media:
            raise InvalidValueError(
                "content",
                f"text and {len(media)} media",
                "holds text and media: the Send API sends one or the other per message",
                mask=False,
            )
        message: dict[str, JsonValue]
        if text:
            if len(text) > _MAX_TEXT_CHARS:
                raise InvalidValueError(
                    "content",
                    f"{len(text)} characters",
                    f"is longer than {_MAX_TEXT_CHARS}",
                    mask=False,
                )
            message = {"text": text}
        elif len(media) == 1:
            part = media[0]
            kind = part.media_type.split("/", 1)[0]
            message = {
                "attachment": {
                    "type": kind if kind in ("image", "video", "audio") else "file",
                    "payload": {"url": part.url, "is_reusable": True},
                }
            }
        else:
            raise InvalidValueError(
                "content",
                f"{len(media)} media",
                "needs text or exactly one media URL to send",
                mask=False,
            )
        return {
            "recipient": {"id": recipient},
            "messaging_type": "RESPONSE",
            "message": message,
        }


class _Entry:
    """What an entry tells every event in it."""

    __slots__ = ("account_id", "time", "time_field")

    def __init__(self, account_id: str | None, time: object, time_field: str) -> None:
        self.account_id = account_id
        self.time = time
        self.time_field = time_field


def _plain_id(party: object) -> str | None:
    if isinstance(party, Mapping):
        value = party.get("id")
        if isinstance(value, str) and _SCOPED_ID_RE.match(value):
            return value
    return None


def _watermark(body: dict[str, Any], path: str) -> int | None:
    value: int | None = optional(body, "watermark", f"{path}.watermark", int)
    if value is not None and not 0 <= value < _MAX_MILLIS:
        raise InvalidPayloadError(f"{path}.watermark", value, "is not a Unix time in milliseconds")
    return value


def _millis_of(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


class MessengerAdapter(_PageMessagingAdapter):
    """Messenger Platform webhooks (``object: "page"``) and Send API replies.

    Args:
        max_body_bytes: refuse larger bodies.
        max_future_seconds: refuse events dated further ahead than this.
        default_region: region for national-format numbers written in message text.
    """

    name = "messenger"
    channel = Channel.MESSENGER.value
    webhook_object = "page"


class InstagramAdapter(_PageMessagingAdapter):
    """Instagram messaging webhooks (``object: "instagram"``) and Send API replies.

    Echoes of the business's own messages come with the ``messages`` field; read receipts
    (``messaging_seen``) name the read message by ``mid``.

    Args:
        max_body_bytes: refuse larger bodies.
        max_future_seconds: refuse events dated further ahead than this.
        default_region: region for national-format numbers written in message text.
    """

    name = "instagram"
    channel = Channel.INSTAGRAM.value
    webhook_object = "instagram"
