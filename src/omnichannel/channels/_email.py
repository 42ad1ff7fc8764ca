"""The email channel: RFC 5322 / MIME messages in, reply payloads and messages out."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from email import policy
from email.errors import MessageError
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses, make_msgid, parsedate_to_datetime
from html.parser import HTMLParser
from typing import NamedTuple, TypeVar

from pydantic import JsonValue

from omnichannel._errors import InvalidPayloadError, InvalidValueError, SignatureError
from omnichannel._model import (
    Channel,
    Direction,
    Identifier,
    IdentifierKind,
    Interaction,
    InteractionKind,
    MediaPart,
    TextPart,
)
from omnichannel.channels._base import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_FUTURE_SECONDS,
    BaseAdapter,
    constant_time_equal,
    find_mentions,
    hmac_digest,
)
from omnichannel.channels._protocol import InboundRequest

__all__ = [
    "DEFAULT_REPLAY_WINDOW_SECONDS",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "EmailAdapter",
    "html_to_text",
]

SIGNATURE_HEADER = "X-Omnichannel-Signature"
"""The request header carrying ``sha256=<hex HMAC>`` of a relayed message."""

TIMESTAMP_HEADER = "X-Omnichannel-Timestamp"
"""The request header carrying the Unix time (seconds) the relay signed the message at."""

DEFAULT_REPLAY_WINDOW_SECONDS = 300
"""A relayed message signed further than this from ``now`` (either way) is refused."""

_MAX_SOURCE_ID_LENGTH = 512  # Interaction.source_id's limit
_MAX_MIME_DEPTH = 32
_MAX_CONTAINERS = 100
_MAX_MEDIA_PARTS = 200
_MAX_MENTIONS = 100

# CPython's header parsers (email._header_value_parser for policy.default, and the RFC 2231
# parameter code both policies share) raise assorted exceptions on malformed header values
# instead of registering a defect: IndexError, AttributeError, TypeError, ValueError and
# UnboundLocalError were all observed on 3.10-3.13. They are translated here, around single
# calls into the email package, into a fallback or an InvalidPayloadError: never around our
# own code. NameError covers UnboundLocalError; LookupError covers IndexError and KeyError.
_STDLIB_ERRORS: tuple[type[Exception], ...] = (
    MessageError,
    LookupError,
    AttributeError,
    TypeError,
    ValueError,
    NameError,
)

_PARSE_ERRORS: tuple[type[Exception], ...] = (*_STDLIB_ERRORS, RecursionError)

_MSG_ID_RE = re.compile(r"<([^<>\s]+)>")
_BARE_MSG_ID_RE = re.compile(r"^[^<>\s@]+@[^<>\s@]+$")
_HEADER_NAME_RE = re.compile(r"^[!-9;-~]+$")  # printable ASCII except ':' (RFC 5322 3.6.8)
_NEEDS_CLEANING_RE = re.compile("[\x00\ud800-\udfff]")
_AUTO_PRECEDENCE = frozenset({"auto_reply", "bulk", "junk"})
_RENDERED_HEADERS = frozenset(
    [
        "from",
        "to",
        "cc",
        "bcc",
        "subject",
        "date",
        "message-id",
        "in-reply-to",
        "references",
        "content-type",
        "content-transfer-encoding",
        "mime-version",
    ]
)

_OUTGOING_POLICY = policy.default.clone(cte_type="7bit")  # bodies as quoted-printable/base64

_T = TypeVar("_T")


class EmailAdapter(BaseAdapter):
    """Email: one RFC 5322 message per request, from an IMAP fetch or an inbound-mail hook.

    ``request.body`` is the raw message (bytes, MIME and all), parsed with the standard
    library's :mod:`email` package under ``email.policy.default``. Each request yields one
    inbound ``message`` interaction on the ``email`` channel:

    * **Sender**: the first mailbox of ``From`` is the sender's email identifier; its display
      name, RFC 2047 encoded words decoded from any charset, becomes the ``display_name``
      trait. A ``From`` without a valid address is refused (field ``"From"``).
    * **Reply-To** is recorded in ``metadata["reply_to_addresses"]`` and is *not* an
      identifier: web-form relays, help desks and mailing lists put their own, shared
      addresses there, and an identifier would merge every customer who wrote through them.
    * **To / Cc** (the business addresses the message reached, for routing) go to
      ``metadata["to"]`` and ``metadata["cc"]``; the decoded ``Subject`` to
      ``metadata["subject"]``.
    * **Date** gives ``occurred_at`` (a ``-0000`` zone is read as UTC). When ``Date`` is
      missing or not an RFC 5322 date, the date of the topmost ``Received`` header that
      carries one (stamped by the receiving server) is used and
      ``metadata["occurred_at_source"]`` says ``"Received"``; with neither, the message is
      refused naming ``"Date"``. A date too far in the future is refused naming the header
      it came from.
    * **Threading** (RFC 5322 section 3.6.4): ``Message-ID`` is the ``source_id``, without
      its angle brackets; a message without one gets ``"sha256:"`` + the SHA-256 of its raw
      bytes (and ``metadata["message_id_derived"]``), so redelivery is still idempotent. The
      first ``In-Reply-To`` id is ``reply_to``; ``References`` is
      ``metadata["references"]``; ``conversation_key`` is the thread root: the first
      ``References`` id, else the ``In-Reply-To`` id, else the message's own id.
    * **Body**: the first ``text/plain`` part that is not an attachment; failing that, the
      first ``text/html`` part turned into text (:func:`html_to_text`). Bodies are decoded
      from their transfer encoding and declared charset; an unknown charset is read as
      UTF-8 with replacement characters. Further inline text parts are not appended.
    * **Attachments**: every other leaf part (``Content-Disposition: attachment``, inline
      images, calendars, forwarded ``message/*`` parts) becomes a :class:`MediaPart` with
      its media type, file name, ``Content-ID`` as ``media_id`` and decoded size; nothing is
      stored. At most 200 are listed (``metadata["attachments_omitted"]`` counts the rest).
    * **Auto-replies** (RFC 3834): ``metadata["auto_reply"]`` is true when
      ``Auto-Submitted`` is present and not ``no``, when ``X-Autoreply`` or
      ``X-Autorespond`` is present, or when ``Precedence`` is ``auto_reply``, ``bulk`` or
      ``junk``.
    * **Mentions**: email addresses and ``+``-prefixed international phone numbers written
      in the subject or body, in the order written (at most 100), except the addresses in
      the message's own From, Reply-To, To and Cc headers.

    Malformed mail is kept where it can be. Where CPython's header registry raises on a
    malformed address header (it does on a lone ``"``), the lenient
    ``email.utils.getaddresses`` reads it instead. A message whose MIME structure the
    standard library cannot take apart (it raises on some malformed ``Content-Type``
    parameters), or that declares more than 100 ``multipart/*`` or ``message/*`` parts
    (its parser slows down steeply with the nesting depth), is recorded from its headers
    without content, and ``metadata["mime_error"]`` says why; so it is when parts nest
    deeper than 32 levels (the deeper parts are skipped). A ``multipart`` part without a
    boundary is read as plain text.

    **Signatures.** Email has no single vendor signature: SMTP delivers unsigned, and each
    inbound-mail service signs its webhook its own way. :meth:`verify` implements one
    documented scheme for a mail-forwarding relay you control (a Postfix pipe, an IMAP
    poller, a cloud function behind your inbound-mail service):

    * ``X-Omnichannel-Timestamp``: the Unix time in whole seconds when the relay signed.
    * ``X-Omnichannel-Signature``: ``sha256=`` followed by the lowercase hex HMAC-SHA256,
      keyed with the shared secret, of the ASCII timestamp, a ``.``, then the raw message
      bytes exactly as posted: ``hmac(secret, f"{timestamp}.".encode() + body)``.

    A timestamp more than ``replay_window_seconds`` (300 by default) away from ``now``, in
    either direction, is refused as stale, so a captured request cannot be replayed later;
    within the window a replay carries the same ``Message-ID`` and is a no-op on ingest.
    :meth:`signature_headers` computes both headers for relays written in Python.

    **Replies.** :meth:`render` returns a JSON dict for your SMTP code; :meth:`render_message`
    builds the ready-to-send :class:`email.message.EmailMessage`.

    Args:
        max_body_bytes: refuse larger messages. The default (1 MiB) suits text mail; raise
            it (e.g. to 25 MiB) to accept messages with attachments.
        max_future_seconds: refuse messages dated further than this ahead of now.
        default_region: region for phone numbers (unused: only ``+`` numbers are read).
        replay_window_seconds: how far a relay's signing time may be from now.
        from_address: the business address :meth:`render` puts in ``"from"`` (``None``
            leaves it for your SMTP code to fill).
    """

    name = "email"

    def __init__(
        self,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_future_seconds: int = DEFAULT_MAX_FUTURE_SECONDS,
        default_region: str | None = None,
        replay_window_seconds: int = DEFAULT_REPLAY_WINDOW_SECONDS,
        from_address: str | None = None,
    ) -> None:
        super().__init__(
            max_body_bytes=max_body_bytes,
            max_future_seconds=max_future_seconds,
            default_region=default_region,
        )
        if replay_window_seconds < 1:
            raise InvalidValueError(
                "replay_window_seconds", replay_window_seconds, "must be positive", mask=False
            )
        if from_address is not None:
            _check_from_address(from_address)
        self.replay_window_seconds = replay_window_seconds
        self.from_address = from_address

    # --- parse ---------------------------------------------------------------------

    def parse(self, request: InboundRequest) -> list[Interaction]:
        """Return the one inbound message interaction ``request.body`` (RFC 5322) holds.

        Raises:
            InvalidPayloadError: too large or empty (field ``"body"``); no ``From`` or no
                valid address in it (``"From"``); no usable date (``"Date"``); a date too
                far in the future (``"Date"`` or ``"Received"``); a ``Message-ID`` longer
                than 512 characters (``"Message-ID"``).
        """
        raw = self.check_size(request)
        message, mime_error = _parse_message(raw)
        metadata: dict[str, JsonValue] = {}

        sender_name, sender_address = _sender(message)
        try:
            sender = Identifier.email(sender_address)
        except InvalidValueError as exc:
            raise InvalidPayloadError("From", sender_address, exc.reason) from exc
        traits: dict[str, JsonValue] = {}
        if sender_name and sender_name.casefold() != sender_address.casefold():
            traits["display_name"] = sender_name

        occurred_at, date_source = self._occurred_at(message)
        metadata["occurred_at_source"] = date_source

        source_id = self._source_id(message, raw, metadata)
        in_reply_to = _msg_ids(_first_raw(message, "In-Reply-To"))
        references = _msg_ids(" ".join(_raw_values(message, "References")))
        metadata["references"] = [*references]
        reply_to = in_reply_to[0] if in_reply_to else None
        conversation_key = references[0] if references else (reply_to or source_id)

        subject = _unstructured(message, "Subject")
        if subject is not None:
            metadata["subject"] = subject
        to = [address for _, address in _addresses(message, "To")]
        cc = [address for _, address in _addresses(message, "Cc")]
        replies = [address for _, address in _addresses(message, "Reply-To")]
        metadata["to"] = [*to]
        metadata["cc"] = [*cc]
        if replies:
            metadata["reply_to_addresses"] = [*replies]
        metadata.update(_auto_reply(message))

        content: list[TextPart | MediaPart] = []
        text = ""
        if mime_error is None:
            body, media, mime_error, omitted = _content(message)
            metadata["body_format"] = body[0]
            text = body[1]
            if text.strip():
                content.append(TextPart(text=text))
            content.extend(media)
            if omitted:
                metadata["attachments_omitted"] = omitted
        else:
            metadata["body_format"] = "none"
        if mime_error is not None:
            metadata["mime_error"] = mime_error

        own = {sender, *_identifiers([*to, *cc, *replies])}
        mentions = _mentions(f"{subject or ''}\n{text}", own)

        return [
            self.build(
                "message",
                channel=Channel.EMAIL.value,
                kind=InteractionKind.MESSAGE.value,
                direction=Direction.INBOUND,
                occurred_at=occurred_at,
                source_id=source_id,
                identifiers=(sender,),
                mentions=mentions,
                traits=traits,
                content=tuple(content),
                reply_to=reply_to,
                conversation_key=conversation_key,
                metadata=metadata,
            )
        ]

    def _occurred_at(self, message: Message) -> tuple[datetime, str]:
        date_value = _first_raw(message, "Date")
        if date_value is not None:
            moment = _parse_date(date_value)
            if moment is not None:
                return self.check_time(moment, "Date"), "Date"
        for received in _raw_values(message, "Received"):
            _, separator, stamp = received.rpartition(";")
            moment = _parse_date(stamp) if separator else None
            if moment is not None:
                return self.check_time(moment, "Received"), "Received"
        if date_value is None:
            reason = "is missing and no Received header carries a date"
        else:
            reason = "is not an RFC 5322 date and no Received header carries one"
        raise InvalidPayloadError("Date", date_value, reason)

    @staticmethod
    def _source_id(message: Message, raw: bytes, metadata: dict[str, JsonValue]) -> str:
        value = _first_raw(message, "Message-ID")
        ids = _msg_ids(value)
        if not ids:
            metadata["message_id_derived"] = True
            return "sha256:" + hashlib.sha256(raw).hexdigest()
        if len(ids[0]) > _MAX_SOURCE_ID_LENGTH:
            raise InvalidPayloadError(
                "Message-ID", ids[0], f"is longer than {_MAX_SOURCE_ID_LENGTH} characters"
            )
        return ids[0]

    # --- verify --------------------------------------------------------------------

    def verify(self, request: InboundRequest, secret: str, now: datetime | None = None) -> None:
        """Check a relayed message's ``X-Omnichannel-Signature`` and timestamp.

        See the class docstring for the scheme. The comparison is constant-time.

        Raises:
            SignatureError: a header is missing or malformed, the timestamp lies outside the
                replay window (stale or replayed), or the signature does not match.
        """
        if not secret:
            raise SignatureError("the secret is empty")
        signature = request.header(SIGNATURE_HEADER)
        timestamp = request.header(TIMESTAMP_HEADER)
        if not signature:
            raise SignatureError(f"missing {SIGNATURE_HEADER} header")
        if not timestamp:
            raise SignatureError(f"missing {TIMESTAMP_HEADER} header")
        stamp = timestamp.strip()
        if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
            raise SignatureError(f"{TIMESTAMP_HEADER} is not a Unix time in seconds")
        current = (now or datetime.now(timezone.utc)).timestamp()
        if abs(current - int(stamp)) > self.replay_window_seconds:
            raise SignatureError(
                f"stale or replayed: {TIMESTAMP_HEADER} is outside the "
                f"{self.replay_window_seconds} s window"
            )
        scheme, _, given = signature.strip().partition("=")
        if scheme.strip().lower() != "sha256" or not given.strip():
            raise SignatureError(f"{SIGNATURE_HEADER} must be 'sha256=<hex digest>'")
        expected = _sign(secret, stamp, request.body)
        if not constant_time_equal(expected, given.strip().lower()):
            raise SignatureError(
                f"{SIGNATURE_HEADER} does not match the message and timestamp (forged)"
            )

    @staticmethod
    def signature_headers(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
        """The two headers a relay adds when it posts ``body`` signed at ``timestamp``.

        Example::

            headers = EmailAdapter.signature_headers(raw_mail, secret, int(time.time()))
        """
        stamp = str(int(timestamp))
        return {
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: "sha256=" + _sign(secret, stamp, body),
        }

    # --- render --------------------------------------------------------------------

    def render(self, interaction: Interaction) -> dict[str, JsonValue]:
        """Return the reply as a dict your SMTP code turns into a message.

        Keys: ``from`` (the adapter's ``from_address``, or ``None``), ``to`` (the
        interaction's first email identifier), ``subject`` (``metadata["subject"]``, else
        empty), ``text`` (the interaction's text), ``in_reply_to`` and ``references`` (the
        thread, as ``<msg-id>`` header values: ``reply_to`` appended to
        ``metadata["references"]``, or to the ``conversation_key`` when no references are
        given), and ``headers`` (``Message-ID`` when ``source_id`` is an RFC 5322 id, plus
        the string values of ``metadata["headers"]``, e.g. ``Auto-Submitted``).

        Raises:
            InvalidValueError: no email identifier (``identifiers``), no text
                (``content``), a subject or extra header with a line break, or an extra
                header the adapter sets itself.
        """
        reply = _reply(interaction)
        headers: dict[str, JsonValue] = {**reply.headers}
        return {
            "from": self.from_address,
            "to": [reply.recipient.value],
            "subject": reply.subject,
            "text": reply.text,
            "in_reply_to": f"<{reply.in_reply_to}>" if reply.in_reply_to else None,
            "references": [f"<{ref}>" for ref in reply.references],
            "headers": headers,
        }

    def render_message(self, interaction: Interaction, from_address: str | Address) -> EmailMessage:
        """Build the reply as a standard-library message, ready for ``smtplib``.

        Non-ASCII display names and subjects are encoded as RFC 2047 encoded words, the
        text as UTF-8 (quoted-printable or base64, whichever is shorter). The recipient's
        ``display_name`` trait, when present, names them in ``To``. ``Message-ID`` comes
        from ``source_id`` when that is an RFC 5322 id; otherwise a new one is made in the
        sender's domain (read it back from ``message["Message-ID"]`` to record it).

        Raises:
            InvalidValueError: as :meth:`render`, or ``from_address`` is not one valid
                mailbox.
        """
        reply = _reply(interaction)
        sender = _check_from_address(from_address)
        name = interaction.traits.get("display_name")
        try:
            to = Address(
                display_name=name if isinstance(name, str) else "",
                addr_spec=_ascii_domain(reply.recipient.value),
            )
        except _STDLIB_ERRORS as exc:
            raise InvalidValueError(
                "identifiers", reply.recipient.value, f"cannot be written as a mailbox: {exc}"
            ) from exc

        message = EmailMessage(policy=_OUTGOING_POLICY)
        message["From"] = sender
        message["To"] = to
        if reply.subject:
            message["Subject"] = reply.subject
        message["Date"] = format_datetime(interaction.occurred_at)
        message["Message-ID"] = reply.headers.get("Message-ID") or make_msgid(domain=sender.domain)
        if reply.in_reply_to:
            message["In-Reply-To"] = f"<{reply.in_reply_to}>"
        if reply.references:
            message["References"] = " ".join(f"<{ref}>" for ref in reply.references)
        for header, value in reply.headers.items():
            if header == "Message-ID":
                continue
            try:
                message[header] = value
            except _STDLIB_ERRORS as exc:
                raise InvalidValueError(
                    f"metadata.headers.{header}", value, "is not a valid value for this header"
                ) from exc
        message.set_content(reply.text)
        return message


# --- parsing helpers ------------------------------------------------------------------


def _guarded(call: Callable[[], _T], fallback: Callable[[], _T]) -> _T:
    """``call()``, or ``fallback()`` when the email package raises on malformed input."""
    try:
        return call()
    except _STDLIB_ERRORS:
        return fallback()


def _parse_message(raw: bytes) -> tuple[Message, str | None]:
    """Parse ``raw`` fully; if the standard library cannot, parse its headers only.

    The headers-only fallback uses the ``compat32`` policy, whose header handling reads no
    parameters; header values are then parsed one by one (see :func:`_registry_header`).
    """
    lowered = raw.lower()
    containers = lowered.count(b"multipart/") + lowered.count(b"message/")
    if containers > _MAX_CONTAINERS:
        # The standard library's parser slows down steeply with the nesting depth.
        reason = f"{containers} multipart or message parts (over {_MAX_CONTAINERS}): not parsed"
        return BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True), reason
    try:
        return BytesParser(policy=policy.default).parsebytes(raw), None
    except _PARSE_ERRORS as exc:
        reason = (
            "MIME parts are nested too deeply"
            if isinstance(exc, RecursionError)
            else f"the MIME structure cannot be parsed ({type(exc).__name__})"
        )
    return BytesParser(policy=policy.compat32).parsebytes(raw, headersonly=True), reason


def _registry_header(name: str, raw: str) -> object:
    """Header ``name`` parsed by the ``policy.default`` header registry, as
    ``EmailMessage.get`` would; may raise one of :data:`_STDLIB_ERRORS`."""
    return policy.default.header_factory(name, raw)


def _clean(text: str) -> str:
    """Undo the parser's surrogate escapes (raw 8-bit bytes, read as UTF-8) and drop NULs."""
    if not _NEEDS_CLEANING_RE.search(text):
        return text
    out: list[str] = []
    pending = bytearray()
    for char in text:
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:
            pending.append(code - 0xDC00)
            continue
        if pending:
            out.append(pending.decode("utf-8", errors="replace"))
            pending.clear()
        if 0xD800 <= code <= 0xDFFF:
            out.append("\ufffd")
        elif code:
            out.append(char)
    if pending:
        out.append(pending.decode("utf-8", errors="replace"))
    return "".join(out)


def _unfold(value: str) -> str:
    return " ".join(value.split())


def _raw_values(message: Message, name: str, *, clean: bool = True) -> list[str]:
    """Every value of header ``name`` as written, unfolded (and cleaned), in order."""
    wanted = name.lower()
    values = [_unfold(str(value)) for key, value in message.raw_items() if key.lower() == wanted]
    return [_clean(value) for value in values] if clean else values


def _first_raw(message: Message, name: str) -> str | None:
    values = _raw_values(message, name)
    return values[0] if values else None


def _decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words with the compat32 decoder; the value itself on failure."""
    return _clean(_guarded(lambda: str(make_header(decode_header(value))), lambda: value)).strip()


def _addresses(message: Message, name: str) -> list[tuple[str, str]]:
    """``(display name, address)`` of every mailbox in header ``name``.

    Parsed with the ``policy.default`` header registry; where it raises on a malformed
    value, with the lenient ``email.utils.getaddresses`` and RFC 2047 decoding instead.
    """

    def registry() -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for raw in _raw_values(message, name, clean=False):
            for address in getattr(_registry_header(name, raw), "addresses", ()):
                found.append((str(address.display_name), str(address.addr_spec)))
        return found

    def lenient() -> list[tuple[str, str]]:
        pairs = getaddresses(_raw_values(message, name))
        return [(_decode_words(display), address) for display, address in pairs]

    result: list[tuple[str, str]] = []
    for display, address in _guarded(registry, lenient):
        spec = _clean(address).strip()
        if spec:
            result.append((" ".join(_clean(display).split()), spec))
    return result


def _unstructured(message: Message, name: str) -> str | None:
    """The decoded value of an unstructured header (``Subject``), or None when absent."""
    values = _raw_values(message, name, clean=False)
    if not values:
        return None
    raw = values[0]
    text = _guarded(lambda: str(_registry_header(name, raw)), lambda: _decode_words(_clean(raw)))
    return " ".join(_clean(text).split())


def _sender(message: Message) -> tuple[str, str]:
    """The first From mailbox, or InvalidPayloadError naming From."""
    raw = _first_raw(message, "From")
    if raw is None or not raw.strip():
        raise InvalidPayloadError("From", None, "is missing: this is not an email message")
    mailboxes = _addresses(message, "From")
    if not mailboxes:
        raise InvalidPayloadError("From", raw, "has no email address")
    return mailboxes[0]


def _parse_date(value: str) -> datetime | None:
    """An RFC 5322 date in UTC (``-0000`` read as UTC), or None when it is not one."""
    text = value.strip()
    if not text:
        return None
    try:
        moment = parsedate_to_datetime(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


def _msg_ids(value: str | None) -> list[str]:
    """The ``id-left@id-right`` ids in a Message-ID, In-Reply-To or References value.

    Bracketed ids are taken; a value without brackets yields its bare ``x@y`` tokens
    (sent by some broken mailers). Duplicates are dropped, order kept.
    """
    if not value:
        return []
    found = _MSG_ID_RE.findall(value)
    if not found:
        found = [token for token in re.split(r"[\s,]+", value) if _BARE_MSG_ID_RE.match(token)]
    return list(dict.fromkeys(found))


def _is_msg_id(value: str | None) -> bool:
    return value is not None and _BARE_MSG_ID_RE.match(value) is not None


def _auto_reply(message: Message) -> dict[str, JsonValue]:
    """RFC 3834 ``Auto-Submitted`` and the common older auto-responder markers."""
    found: dict[str, JsonValue] = {}
    is_auto = False
    submitted = _first_raw(message, "Auto-Submitted")
    if submitted is not None:
        keyword = submitted.split(";", 1)[0].split("(", 1)[0].strip().lower()
        found["auto_submitted"] = keyword
        is_auto = keyword != "no"
    if _first_raw(message, "X-Autoreply") is not None:
        is_auto = True
    if _first_raw(message, "X-Autorespond") is not None:
        is_auto = True
    precedence = _first_raw(message, "Precedence")
    if precedence is not None:
        keyword = precedence.split(";", 1)[0].strip().lower()
        found["precedence"] = keyword
        is_auto = is_auto or keyword in _AUTO_PRECEDENCE
    found["auto_reply"] = is_auto
    return found


def _content_type(part: Message) -> str:
    def fallback() -> str:
        raw = (_first_raw(part, "Content-Type") or "").split(";", 1)[0].strip().lower()
        return raw if raw.count("/") == 1 and " " not in raw else "text/plain"

    return _clean(_guarded(part.get_content_type, fallback))


def _disposition(part: Message) -> str | None:
    def fallback() -> str | None:
        raw = _first_raw(part, "Content-Disposition")
        return raw.split(";", 1)[0].strip().lower() if raw else None

    value = _guarded(part.get_content_disposition, fallback)
    return _clean(value) if value else None


def _filename(part: Message) -> str | None:
    value = _guarded(part.get_filename, lambda: None)
    if not isinstance(value, str):
        return None
    name = _decode_words(value) if "=?" in value else _clean(value).strip()
    return name or None


def _charset(part: Message) -> str | None:
    value = _guarded(part.get_content_charset, lambda: None)
    return value if isinstance(value, str) else None


def _payload(part: Message) -> bytes | None:
    """The decoded body of a leaf part (None for a container or when it cannot be read)."""

    def fallback() -> bytes | None:
        raw = part.get_payload(decode=False)
        return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else None

    value = _guarded(
        lambda: part.get_payload(decode=True), lambda: _guarded(fallback, lambda: None)
    )
    return value if isinstance(value, bytes) else None


def _decode_text(data: bytes, charset: str | None) -> str:
    """Text in its declared charset; undeclared, ASCII or unknown charsets read as UTF-8."""
    name = (charset or "").strip().lower()
    if name in ("", "us-ascii", "ascii", "unknown-8bit", "x-unknown", "default"):
        name = "utf-8"
    try:
        text = data.decode(name, errors="replace")
    except (LookupError, ValueError):  # unknown codec, or not a text codec (base64, zlib)
        text = data.decode("utf-8", errors="replace")
    return _clean(text).replace("\r\n", "\n").replace("\r", "\n").strip()


def _content(
    message: Message,
) -> tuple[tuple[str, str], list[MediaPart], str | None, int]:
    """The body ``(format, text)``, attachments, a MIME problem (or None), media omitted."""
    leaves: list[tuple[Message, str]] = []
    problem: str | None = None
    stack: list[tuple[Message, int]] = [(message, 0)]
    while stack:
        part, depth = stack.pop()
        media_type = _content_type(part)
        if not media_type.startswith("multipart/"):
            leaves.append((part, media_type))
        elif not part.is_multipart():
            leaves.append((part, "text/plain"))  # no boundary found: its raw text is shown
        elif depth >= _MAX_MIME_DEPTH:
            problem = f"MIME parts nested deeper than {_MAX_MIME_DEPTH} levels were skipped"
        else:
            children = [child for child in part.get_payload() if isinstance(child, Message)]
            stack.extend((child, depth + 1) for child in reversed(children))

    plain: Message | None = None
    html: Message | None = None
    media: list[MediaPart] = []
    omitted = 0
    for part, media_type in leaves:
        disposition = _disposition(part)
        if media_type in ("text/plain", "text/html") and disposition != "attachment":
            if media_type == "text/plain" and plain is None:
                plain = part
            elif media_type == "text/html" and html is None:
                html = part
            continue
        if len(media) >= _MAX_MEDIA_PARTS:
            omitted += 1
            continue
        data = _payload(part) if not part.is_multipart() else None
        content_ids = _msg_ids(_first_raw(part, "Content-ID"))
        media.append(
            MediaPart(
                media_type=media_type,
                name=_filename(part),
                size_bytes=len(data) if data is not None else None,
                media_id=content_ids[0] if content_ids else None,
            )
        )

    if plain is not None:
        body = ("plain", _decode_text(_payload(plain) or b"", _charset(plain)))
    elif html is not None:
        markup = _decode_text(_payload(html) or b"", _charset(html))
        body = ("html", html_to_text(markup))
    else:
        body = ("none", "")
    return body, media, problem, omitted


def _identifiers(addresses: Iterable[str]) -> list[Identifier]:
    found: list[Identifier] = []
    for address in addresses:
        try:
            found.append(Identifier.email(address))
        except InvalidValueError:
            continue
    return found


def _mentions(text: str, own: set[Identifier]) -> tuple[Identifier, ...]:
    """Emails and ``+`` phone numbers written in ``text``, minus ``own``, deduplicated."""
    return tuple(find_mentions(text, exclude=own, limit=_MAX_MENTIONS))


# --- HTML to text ---------------------------------------------------------------------

_SKIPPED_TAGS = frozenset({"script", "style", "title", "template"})
_PARAGRAPH_TAGS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "hr"}
)
_BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "body",
        "caption",
        "center",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "header",
        "html",
        "li",
        "main",
        "nav",
        "section",
        "summary",
        "tbody",
        "tfoot",
        "thead",
        "tr",
    ]
)
_CELL_TAGS = frozenset({"td", "th"})


class _HTMLText(HTMLParser):
    """Collects the visible text of an HTML document, with line breaks for blocks.

    Text goes into ``_tokens`` as strings; a block boundary as the int 1 (a line break) or
    2 (a paragraph break). Adjacent boundaries merge, so ``</div><div>`` is one break.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)  # entities arrive unescaped in handle_data
        self._tokens: list[str | int] = []
        self._skipping = 0
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping += 1
        elif tag == "body":
            self._skipping = 0  # an unclosed <title> or <style> cannot swallow the body
        elif tag == "pre":
            self._pre += 1
        if tag == "br":
            self._tokens.append("\n")
        elif tag == "li":
            self._tokens += [1, "- "]
        elif tag in _CELL_TAGS:
            self._tokens.append(" ")
        else:
            self._boundary(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)
        self._boundary(tag)

    def _boundary(self, tag: str) -> None:
        if tag in _PARAGRAPH_TAGS:
            self._tokens.append(2)
        elif tag in _BLOCK_TAGS:
            self._tokens.append(1)

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if self._pre:  # keep the line breaks of preformatted text
            self._tokens.append(data)
            return
        words = " ".join(data.split())
        if not words:
            self._tokens.append(" ")
            return
        before = " " if data[:1].isspace() else ""
        after = " " if data[-1:].isspace() else ""
        self._tokens.append(before + words + after)

    def parse_html_declaration(self, i: int) -> int:
        # Marked sections (Outlook's <![if !mso]>, <![endif]>) carry no text. CPython's
        # _markupbase raises AssertionError on unknown section keywords, so skip them here.
        if self.rawdata.startswith("<![", i):
            end = self.rawdata.find(">", i + 3)
            return -1 if end < 0 else end + 1
        return super().parse_html_declaration(i)

    def text(self) -> str:
        """The collected text: lines trimmed, at most one blank line in a row."""
        pieces: list[str] = []
        pending = 0
        for token in self._tokens:
            if isinstance(token, int):
                pending = max(pending, token)
            elif pending and not token.strip(" \t"):
                continue  # whitespace between blocks
            else:
                if pending and pieces:
                    pieces.append("\n" * pending)
                pending = 0
                pieces.append(token)
        lines: list[str] = []
        for line in "".join(pieces).split("\n"):
            words = " ".join(line.split())
            if words or (lines and lines[-1]):
                lines.append(words)
        return "\n".join(lines).strip()


def html_to_text(markup: str) -> str:
    """Return the visible text of ``markup``: scripts and styles dropped, entities
    unescaped, a line break per ``<br>`` and block element, a blank line between
    paragraphs, list items as ``- item``."""
    parser = _HTMLText()
    parser.feed(markup)
    parser.close()
    return parser.text()


# --- rendering and signing helpers ----------------------------------------------------


class _Reply(NamedTuple):
    """What both render methods send: validated, ids without angle brackets."""

    recipient: Identifier
    subject: str
    text: str
    in_reply_to: str | None
    references: list[str]
    headers: dict[str, str]


def _reply(interaction: Interaction) -> _Reply:
    """Check an outbound interaction can be sent by email and collect what it sends."""
    recipient = _recipient(interaction)
    text = interaction.text
    if not text.strip():
        raise InvalidValueError("content", "", "has no text to send", mask=False)
    subject = interaction.metadata.get("subject", "")
    if not isinstance(subject, str):
        raise InvalidValueError("metadata.subject", subject, "must be a string", mask=False)
    _check_header_value("metadata.subject", subject)

    in_reply_to = interaction.reply_to if _is_msg_id(interaction.reply_to) else None
    given = interaction.metadata.get("references")
    references: list[str] = []
    if isinstance(given, list):
        references = [ref for ref in given if isinstance(ref, str) and _is_msg_id(ref)]
    elif interaction.conversation_key != in_reply_to and _is_msg_id(interaction.conversation_key):
        references = [str(interaction.conversation_key)]
    if in_reply_to is not None and in_reply_to not in references:
        references.append(in_reply_to)

    headers: dict[str, str] = {}
    if interaction.source_id is not None and _is_msg_id(interaction.source_id):
        headers["Message-ID"] = f"<{interaction.source_id}>"
    extra = interaction.metadata.get("headers")
    if isinstance(extra, dict):
        for name, value in extra.items():
            field = f"metadata.headers.{name}"
            if not _HEADER_NAME_RE.match(name):
                raise InvalidValueError(field, name, "is not a header name", mask=False)
            if name.lower() in _RENDERED_HEADERS:
                raise InvalidValueError(field, name, "is set by the adapter", mask=False)
            if not isinstance(value, str):
                raise InvalidValueError(field, value, "must be a string", mask=False)
            _check_header_value(field, value)
            headers[name] = value
    return _Reply(recipient, subject, text, in_reply_to, references, headers)


def _sign(secret: str, stamp: str, body: bytes) -> str:
    return hmac_digest(secret, f"{stamp}.".encode() + body).hex()


def _recipient(interaction: Interaction) -> Identifier:
    for identifier in interaction.identifiers:
        if identifier.kind is IdentifierKind.EMAIL:
            return identifier
    raise InvalidValueError(
        "identifiers",
        [str(i.kind) for i in interaction.identifiers],
        "has no email address to send to",
        mask=False,
    )


def _check_header_value(field: str, value: str) -> None:
    if "\r" in value or "\n" in value:
        raise InvalidValueError(field, value, "must not contain line breaks", mask=False)


def _check_from_address(value: str | Address) -> Address:
    """One valid mailbox (``"Shop <shop@example.com>"`` or an Address), as an Address."""
    if isinstance(value, Address):
        candidate: Address | None = value
    else:
        if not isinstance(value, str) or "\r" in value or "\n" in value:
            raise InvalidValueError("from_address", value, "must be one mailbox on one line")
        probe = EmailMessage(policy=policy.default)

        def parse() -> Address | None:
            probe["From"] = value
            found: tuple[Address, ...] = getattr(probe["From"], "addresses", ())
            return found[0] if len(found) == 1 else None

        candidate = _guarded(parse, lambda: None)
    if candidate is None or not candidate.addr_spec:
        raise InvalidValueError("from_address", value, "must be exactly one mailbox")
    try:
        Identifier.email(candidate.addr_spec)
    except InvalidValueError as exc:
        raise InvalidValueError("from_address", value, exc.reason) from exc
    return candidate


def _ascii_domain(address: str) -> str:
    """``address`` with an internationalized domain in its IDNA (``xn--``) form."""
    local, _, domain = address.rpartition("@")
    if domain.isascii():
        return address
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return address
