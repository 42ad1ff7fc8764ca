"""Twilio: Programmable Messaging (SMS, MMS, WhatsApp) and Voice status callbacks.

Twilio posts ``application/x-www-form-urlencoded`` bodies. One adapter reads the four
shapes Twilio sends to a webhook URL:

* an **incoming message** (``MessageSid``, ``From``, ``To``, ``Body``, ``NumMedia`` with
  ``MediaUrl{N}``/``MediaContentType{N}``): channel ``sms``, ``mms`` when it carries media,
  or ``whatsapp`` when ``From`` is a ``whatsapp:+E164`` address
  (https://www.twilio.com/docs/messaging/guides/webhook-request);
* a **message status callback** (``MessageStatus`` queued/sent/delivered/read/undelivered/
  failed, ``ErrorCode``): kind ``status``, direction outbound, the recipient ``To`` as the
  customer (https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks);
* a **voice status callback** or incoming-call request (``CallSid``, ``CallStatus``,
  ``Direction``, ``CallDuration``): channel ``voice``. A call in a final state (completed,
  busy, no-answer, failed, canceled) is one interaction of kind ``call`` whose
  ``source_id`` is the ``CallSid``; progress callbacks (queued, initiated, ringing,
  in-progress) become kind ``status`` with ``source_id`` ``{CallSid}:status:{CallStatus}``,
  so the final record is never shadowed by an earlier callback of the same call
  (https://www.twilio.com/docs/voice/twiml#request-parameters,
  https://www.twilio.com/docs/voice/api/call-resource#statuscallback).

Time: Twilio's message webhooks carry no timestamp, so ``occurred_at`` is the time the
request is parsed, read from the adapter's ``clock``. Parsing the same message webhook
twice therefore gives two receipt times; pass a fixed ``clock`` where determinism matters
(tests, replays of stored requests). A ``Timestamp`` parameter (RFC 2822, sent with voice
status callbacks) is used when present.

Only POST webhooks are read: configure Twilio to use POST (the default).
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit, urlunsplit

from pydantic import JsonValue

from omnichannel._errors import InvalidPayloadError, InvalidValueError, SignatureError
from omnichannel._model import Channel, Direction, Identifier, Interaction, MediaPart
from omnichannel.channels._base import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_FUTURE_SECONDS,
    BaseAdapter,
    constant_time_equal,
    find_mentions,
    hmac_digest,
)
from omnichannel.channels._protocol import InboundRequest

__all__ = ["TwilioAdapter"]

_FORM = "application/x-www-form-urlencoded"
_MAX_FIELDS = 1000
_MAX_MEDIA = 10  # Twilio delivers at most ten media items per message
_MAX_BODY_CHARS = 1600  # the Messages API refuses longer bodies
_SID_RE = re.compile(r"^[A-Za-z]{2}[0-9a-fA-F]{32}$")
_STATUS_RE = re.compile(r"^[a-z][a-z_-]{0,31}$")
_DIGITS_RE = re.compile(r"^[0-9]{1,12}$")
_WA_ID_RE = re.compile(r"^[0-9]{6,15}$")
_CLIENT_RE = re.compile(r"^[A-Za-z0-9_.@-]{1,256}$")
_INBOUND_STATUSES = frozenset({"received", "receiving"})
_FINAL_CALL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
_CALL_DIRECTIONS = {
    "inbound": Direction.INBOUND,
    "outbound-api": Direction.OUTBOUND,
    "outbound-dial": Direction.OUTBOUND,
    "trunking-originating": Direction.INBOUND,
    "trunking-terminating": Direction.OUTBOUND,
}

Params = dict[str, list[str]]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _one(params: Params, key: str) -> str | None:
    """The single value of ``key``; None when absent. A repeated key is refused."""
    values = params.get(key)
    if not values:
        return None
    if len(values) > 1:
        raise InvalidPayloadError(key, f"{len(values)} values", "appears more than once")
    return values[0]


def _required(params: Params, key: str) -> str:
    value = _one(params, key)
    if value is None or not value.strip():
        raise InvalidPayloadError(key, value, "is missing")
    return value


def _sid(params: Params, *keys: str) -> str:
    """The first of ``keys`` present, checked to be a Twilio SID (two letters, 32 hex)."""
    for key in keys:
        value = _one(params, key)
        if value:
            if not _SID_RE.match(value):
                raise InvalidPayloadError(key, value, "is not a Twilio SID")
            return value
    raise InvalidPayloadError(keys[0], None, "is missing")


def _count(params: Params, key: str, maximum: int) -> int | None:
    value = _one(params, key)
    if value is None or value == "":
        return None
    if not _DIGITS_RE.match(value):
        raise InvalidPayloadError(key, value, "must be a non-negative integer")
    number = int(value)
    if number > maximum:
        raise InvalidPayloadError(key, value, f"must be at most {maximum}")
    return number


def _coordinate(params: Params, key: str, limit: float) -> float:
    raw = _required(params, key)
    try:
        value = float(raw)
    except ValueError:
        raise InvalidPayloadError(key, raw, "is not a number") from None
    if not math.isfinite(value) or abs(value) > limit:
        raise InvalidPayloadError(key, raw, f"must lie between -{limit:g} and {limit:g}")
    return value


def _set(target: dict[str, JsonValue], key: str, value: JsonValue) -> None:
    if value is not None and value != "":
        target[key] = value


class TwilioAdapter(BaseAdapter):
    """Twilio Programmable Messaging and Voice webhooks (form-encoded POST requests).

    Args:
        from_number: the business's Twilio number (E.164) that :meth:`render` sends from.
        messaging_service_sid: a Messaging Service to send through instead of
            ``from_number`` (Twilio picks the sender).
        status_callback: a URL :meth:`render` asks Twilio to post status callbacks to.
        clock: returns the receipt time used as ``occurred_at`` when the request carries
            no timestamp (message webhooks never do); must return an aware datetime.
        max_body_bytes: refuse larger bodies.
        max_future_seconds: refuse ``Timestamp`` values further ahead than this.
        default_region: region for phone numbers written without ``+`` (Twilio sends E.164,
            so this rarely matters).

    Raises:
        InvalidValueError: ``from_number`` is not a phone number, or an SID is malformed.
    """

    name = "twilio"

    def __init__(
        self,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        status_callback: str | None = None,
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
        self.from_number: str | None = None
        if from_number is not None:
            raw = from_number.removeprefix("whatsapp:")
            try:
                self.from_number = Identifier.phone(raw, default_region).value
            except InvalidValueError as exc:
                raise InvalidValueError("from_number", from_number, exc.reason) from None
        if messaging_service_sid is not None and not _SID_RE.match(messaging_service_sid):
            raise InvalidValueError(
                "messaging_service_sid", messaging_service_sid, "is not a Twilio SID", mask=False
            )
        self.messaging_service_sid = messaging_service_sid
        self.status_callback = status_callback
        self.clock = clock

    # --- parsing ---------------------------------------------------------------------

    def parse(self, request: InboundRequest) -> list[Interaction]:
        """Return the one interaction a Twilio webhook describes.

        Raises:
            InvalidPayloadError: not a form body, or a parameter is missing or malformed
                (``field`` is the Twilio parameter name, e.g. ``"MediaUrl0"``).
        """
        params = self._form(request)
        if _one(params, "CallSid") and not (_one(params, "MessageSid") or _one(params, "SmsSid")):
            return [self._call(params)]
        status = _one(params, "MessageStatus") or _one(params, "SmsStatus")
        if status and status not in _INBOUND_STATUSES:
            return [self._message_status(params)]
        return [self._message(params)]

    def _form(self, request: InboundRequest) -> Params:
        text = self.decode_text(request)
        media_type = request.media_type
        if media_type and media_type != _FORM:
            raise InvalidPayloadError("content_type", media_type, f"must be {_FORM}")
        try:
            return parse_qs(
                text,
                keep_blank_values=True,
                strict_parsing=True,
                errors="strict",
                max_num_fields=_MAX_FIELDS,
            )
        except ValueError as exc:  # UnicodeDecodeError included
            raise InvalidPayloadError(
                "body", text[:40], f"is not a form-encoded body: {exc}"
            ) from exc

    def _now(self) -> datetime:
        moment = self.clock()
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            raise InvalidValueError(
                "clock", moment, "must return a timezone-aware datetime", mask=False
            )
        return moment.astimezone(timezone.utc)

    def _occurred_at(self, params: Params) -> datetime:
        raw = _one(params, "Timestamp")
        if not raw:
            return self._now()
        try:
            moment = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError, OverflowError):
            raise InvalidPayloadError("Timestamp", raw, "is not an RFC 2822 date") from None
        if moment.tzinfo is None:  # "-0000": UTC with no claim about the local zone
            moment = moment.replace(tzinfo=timezone.utc)
        return self.check_time(moment, "Timestamp")

    def _address(self, raw: str, field: str) -> tuple[str | None, Identifier]:
        """Read a Twilio address: ``+E164``, ``whatsapp:+E164`` or (voice) ``client:name``.

        Returns the channel the prefix implies (``whatsapp``, or None) and the identifier.
        """
        text = raw.strip()
        prefix, sep, rest = text.partition(":")
        lowered = prefix.lower()
        if sep and lowered == "client":
            if not _CLIENT_RE.match(rest):
                raise InvalidPayloadError(field, raw, "is not a Twilio client identity")
            return None, Identifier.handle("twilio-client", rest)
        channel = None
        if sep and lowered == "whatsapp":
            channel, text = Channel.WHATSAPP.value, rest
        elif sep and lowered not in ("tel", "sms"):
            raise InvalidPayloadError(field, raw, "is not a phone number or whatsapp: address")
        try:
            return channel, Identifier.phone(text, self.default_region)
        except InvalidValueError as exc:
            raise InvalidPayloadError(field, raw, exc.reason) from None

    def _message(self, params: Params) -> Interaction:
        sid = _sid(params, "MessageSid", "SmsSid")
        address_channel, sender = self._address(_required(params, "From"), "From")
        identifiers: dict[Identifier, None] = {sender: None}
        wa_id = _one(params, "WaId")
        if wa_id:
            if not _WA_ID_RE.match(wa_id):
                raise InvalidPayloadError("WaId", wa_id, "must be the WhatsApp user's digits")
            try:
                identifiers[Identifier.phone("+" + wa_id)] = None
            except InvalidValueError as exc:
                raise InvalidPayloadError("WaId", wa_id, exc.reason) from None

        content: list[dict[str, Any]] = []
        body = _one(params, "Body") or ""
        if body.strip():
            content.append({"type": "text", "text": body})
        num_media = _count(params, "NumMedia", _MAX_MEDIA) or 0
        for index in range(num_media):
            url = _required(params, f"MediaUrl{index}")
            media_type = _required(params, f"MediaContentType{index}").strip().lower()
            if "/" not in media_type:
                raise InvalidPayloadError(
                    f"MediaContentType{index}", media_type, "is not a MIME type"
                )
            content.append({"type": "media", "media_type": media_type, "url": url})
        latitude, longitude = _one(params, "Latitude"), _one(params, "Longitude")
        if latitude or longitude:
            content.append(
                {
                    "type": "location",
                    "latitude": _coordinate(params, "Latitude", 90),
                    "longitude": _coordinate(params, "Longitude", 180),
                    "name": _one(params, "Label") or None,
                    "address": _one(params, "Address") or None,
                }
            )
        button_text, button_payload = _one(params, "ButtonText"), _one(params, "ButtonPayload")
        if button_text or button_payload:
            content.append(
                {
                    "type": "custom",
                    "name": "quick_reply",
                    "data": {"text": button_text, "payload": button_payload},
                }
            )
        list_id, list_title = _one(params, "ListId"), _one(params, "ListTitle")
        if list_id or list_title:
            content.append(
                {
                    "type": "custom",
                    "name": "list_reply",
                    "data": {"id": list_id, "title": list_title},
                }
            )

        channel = address_channel or (Channel.MMS.value if num_media else Channel.SMS.value)
        traits: dict[str, JsonValue] = {}
        _set(traits, "display_name", (_one(params, "ProfileName") or "").strip() or None)
        metadata: dict[str, JsonValue] = {"message_sid": sid}
        for key, name in (
            ("AccountSid", "account_sid"),
            ("MessagingServiceSid", "messaging_service_sid"),
            ("To", "to"),
            ("MessageType", "message_type"),
            ("FromCity", "from_city"),
            ("FromState", "from_state"),
            ("FromZip", "from_zip"),
            ("FromCountry", "from_country"),
        ):
            _set(metadata, name, _one(params, key))
        _set(metadata, "num_segments", _count(params, "NumSegments", 10_000))
        if num_media:
            metadata["num_media"] = num_media
        reply_to = _one(params, "OriginalRepliedMessageSid") or None
        if reply_to is not None and not _SID_RE.match(reply_to):
            raise InvalidPayloadError("OriginalRepliedMessageSid", reply_to, "is not a Twilio SID")
        return self.build(
            "message",
            channel=channel,
            kind="message",
            direction=Direction.INBOUND,
            occurred_at=self._now(),
            source_id=sid,
            identifiers=list(identifiers),
            mentions=find_mentions(body, self.default_region, exclude=identifiers),
            traits=traits,
            content=content,
            reply_to=reply_to,
            metadata=metadata,
        )

    def _message_status(self, params: Params) -> Interaction:
        sid = _sid(params, "MessageSid", "SmsSid")
        status = (_one(params, "MessageStatus") or _one(params, "SmsStatus") or "").strip()
        field = "MessageStatus" if _one(params, "MessageStatus") else "SmsStatus"
        if not _STATUS_RE.match(status):
            raise InvalidPayloadError(field, status, "is not a message status")
        address_channel, recipient = self._address(_required(params, "To"), "To")
        num_media = _count(params, "NumMedia", _MAX_MEDIA) or 0
        channel = address_channel or (Channel.MMS.value if num_media else Channel.SMS.value)
        metadata: dict[str, JsonValue] = {"message_sid": sid, "status": status}
        error_code = _one(params, "ErrorCode")
        if error_code:
            metadata["error_code"] = int(error_code) if _DIGITS_RE.match(error_code) else error_code
        for key, name in (
            ("ErrorMessage", "error_message"),
            ("AccountSid", "account_sid"),
            ("MessagingServiceSid", "messaging_service_sid"),
            ("From", "from"),
            ("RawDlrDoneDate", "raw_dlr_done_date"),
            ("ChannelStatusMessage", "channel_status_message"),
        ):
            _set(metadata, name, _one(params, key))
        return self.build(
            "status",
            channel=channel,
            kind="status",
            direction=Direction.OUTBOUND,
            occurred_at=self._occurred_at(params),
            source_id=f"{sid}:status:{status}",
            identifiers=[recipient],
            metadata=metadata,
        )

    def _call(self, params: Params) -> Interaction:
        sid = _sid(params, "CallSid")
        status = _required(params, "CallStatus").strip()
        if not _STATUS_RE.match(status):
            raise InvalidPayloadError("CallStatus", status, "is not a call status")
        twilio_direction = _required(params, "Direction").strip()
        direction = _CALL_DIRECTIONS.get(twilio_direction)
        if direction is None:
            known = ", ".join(_CALL_DIRECTIONS)
            raise InvalidPayloadError("Direction", twilio_direction, f"must be one of {known}")
        if direction is Direction.INBOUND:
            key, fallback, other = "From", "Caller", "To"
        else:
            key, fallback, other = "To", "Called", "From"
        raw = _one(params, key) or _one(params, fallback)
        if not raw:
            raise InvalidPayloadError(key, raw, "is missing")
        address_channel, customer = self._address(raw, key if _one(params, key) else fallback)

        metadata: dict[str, JsonValue] = {
            "call_sid": sid,
            "status": status,
            "twilio_direction": twilio_direction,
        }
        duration = _count(params, "CallDuration", 10**9)
        if duration is not None:
            metadata["duration_seconds"] = duration
        if address_channel is not None:
            metadata["address_channel"] = address_channel
        for param, name in (
            ("AccountSid", "account_sid"),
            (other, "business_number"),
            ("ParentCallSid", "parent_call_sid"),
            ("CallerName", "caller_name"),
            ("AnsweredBy", "answered_by"),
            ("CallbackSource", "callback_source"),
            ("RecordingSid", "recording_sid"),
        ):
            _set(metadata, name, _one(params, param))
        _set(metadata, "sequence_number", _count(params, "SequenceNumber", 10**9))
        content: list[dict[str, Any]] = []
        recording = _one(params, "RecordingUrl")
        if recording:
            content.append({"type": "media", "media_type": "audio/wav", "url": recording})
            _set(metadata, "recording_seconds", _count(params, "RecordingDuration", 10**9))
        final = status in _FINAL_CALL_STATUSES
        return self.build(
            "call",
            channel=Channel.VOICE.value,
            kind="call" if final else "status",
            direction=direction,
            occurred_at=self._occurred_at(params),
            source_id=sid if final else f"{sid}:status:{status}",
            identifiers=[customer],
            content=content,
            metadata=metadata,
        )

    # --- verification -----------------------------------------------------------------

    def verify(self, request: InboundRequest, secret: str, now: datetime | None = None) -> None:
        """Check ``X-Twilio-Signature`` with the account's auth token as ``secret``.

        The signature is the base64 HMAC-SHA1 of the full webhook URL followed by every
        POST parameter, sorted by name, as name and value concatenated
        (https://www.twilio.com/docs/usage/webhooks/webhooks-security). A URL carrying
        ``bodySHA256`` (JSON webhooks) is signed alone and the body checked against the
        hash. The URL is tried as given and with its default port added or removed, as
        Twilio's own helpers do.

        Twilio signs no timestamp, so there is no replay window (``now`` is unused): a
        replayed webhook carries a ``MessageSid``/``CallSid`` already stored, and ingesting
        it again is a no-op.

        Raises:
            SignatureError: no signature, no request URL, or a signature that does not match.
        """
        if not secret:
            raise SignatureError("the auth token is empty")
        given = (request.header("X-Twilio-Signature") or "").strip()
        if not given:
            raise SignatureError("X-Twilio-Signature is missing")
        if not request.url:
            raise SignatureError(
                "Twilio's scheme needs the request URL (set InboundRequest.url to the "
                "full URL Twilio called)"
            )
        body_hash = self._body_hash(request.url)
        if body_hash is not None:
            actual = hashlib.sha256(request.body).hexdigest()
            if not constant_time_equal(actual, body_hash.lower()):
                raise SignatureError("the body does not match the bodySHA256 in the URL")
            suffix = ""
        else:
            suffix = self._signed_params(request.body)
        matched = False
        for url in self._url_variants(request.url):
            digest = hmac_digest(secret, (url + suffix).encode("utf-8"), "sha1")
            expected = base64.b64encode(digest).decode("ascii")
            matched |= constant_time_equal(given, expected)
        if not matched:
            raise SignatureError("X-Twilio-Signature does not match the URL and parameters")

    @staticmethod
    def _body_hash(url: str) -> str | None:
        try:
            query = urlsplit(url).query
        except ValueError:
            return None
        for key, value in parse_qsl(query, keep_blank_values=True):
            if key == "bodySHA256":
                return value
        return None

    @staticmethod
    def _signed_params(body: bytes) -> str:
        if not body:
            return ""
        try:
            pairs = parse_qsl(
                body.decode("utf-8"),
                keep_blank_values=True,
                strict_parsing=True,
                errors="strict",
                max_num_fields=_MAX_FIELDS,
            )
        except ValueError as exc:
            raise SignatureError("the body is not form-encoded, so it cannot be checked") from exc
        grouped: dict[str, set[str]] = {}
        for key, value in pairs:
            grouped.setdefault(key, set()).add(value)
        return "".join(key + value for key in sorted(grouped) for value in sorted(grouped[key]))

    @staticmethod
    def _url_variants(url: str) -> list[str]:
        variants = [url]
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return variants
        default = {"https": 443, "http": 80}.get(parts.scheme.lower())
        host = parts.hostname or ""
        if default is None or not host:
            return variants
        if ":" in host:
            host = f"[{host}]"
        userinfo = parts.netloc.rpartition("@")[0]
        prefix = f"{userinfo}@" if userinfo else ""
        if port is None:
            netloc = f"{prefix}{host}:{default}"
        elif port == default:
            netloc = f"{prefix}{host}"
        else:
            return variants
        variants.append(urlunsplit(parts._replace(netloc=netloc)))
        return variants

    # --- rendering ----------------------------------------------------------------------

    def render(self, interaction: Interaction) -> dict[str, JsonValue]:
        """The Messages API create parameters (``To``, ``From``, ``Body``, ``MediaUrl``).

        The recipient is the interaction's first phone identifier; for channel
        ``whatsapp`` both numbers get the ``whatsapp:`` prefix. The sender is the
        adapter's ``from_number`` (or its ``messaging_service_sid``).

        Raises:
            InvalidValueError: a channel Twilio messaging does not send on, no phone to
                send to, no sender configured, or neither text nor media URLs (or text
                over 1600 characters).
        """
        channel = interaction.channel
        if channel not in (Channel.SMS.value, Channel.MMS.value, Channel.WHATSAPP.value):
            raise InvalidValueError(
                "channel", channel, "Twilio messaging sends sms, mms or whatsapp", mask=False
            )
        phone = next((i for i in interaction.identifiers if i.kind.value == "phone"), None)
        if phone is None:
            raise InvalidValueError(
                "identifiers", [], "needs a phone number to send to", mask=False
            )
        prefix = "whatsapp:" if channel == Channel.WHATSAPP.value else ""
        payload: dict[str, JsonValue] = {"To": prefix + phone.value}
        if self.from_number is not None:
            payload["From"] = prefix + self.from_number
        elif self.messaging_service_sid is not None:
            payload["MessagingServiceSid"] = self.messaging_service_sid
        else:
            raise InvalidValueError(
                "from_number",
                None,
                "is not configured: give the adapter from_number or messaging_service_sid",
                mask=False,
            )
        text = interaction.text
        media: list[JsonValue] = [
            part.url for part in interaction.content if isinstance(part, MediaPart) and part.url
        ]
        if not text and not media:
            raise InvalidValueError("content", [], "needs text or media URLs to send", mask=False)
        if len(text) > _MAX_BODY_CHARS:
            raise InvalidValueError(
                "content",
                f"{len(text)} characters",
                f"is longer than {_MAX_BODY_CHARS}",
                mask=False,
            )
        if text:
            payload["Body"] = text
        if media:
            payload["MediaUrl"] = media
        if self.status_callback:
            payload["StatusCallback"] = self.status_callback
        return payload
