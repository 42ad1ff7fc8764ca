"""Web chat: the JSON events a shop's chat widget posts, in omnichannel's own shape.

No vendor defines this shape: it is omnichannel's, documented as a JSON Schema (draft
2020-12) in ``webchat.schema.json`` beside this module, also returned by
:meth:`WebchatAdapter.json_schema`. The adapter validates bodies with pydantic models that
mirror the schema, field for field. A document::

    {"version": 1, "events": [
        {"type": "message", "id": "evt_01", "sent_at": "2025-11-18T10:00:00+01:00",
         "conversation_id": "conv_7", "visitor": {"id": "v_8Fq2"},
         "text": "Is the green jacket in stock?"}]}

What becomes an interaction (channel ``webchat``, ``source_id`` the event's ``id``,
``conversation_key`` its ``conversation_id``):

* ``message``: kind ``message``; inbound from the visitor, or outbound (``"direction":
  "outbound"``) when sent to them from the agent console or a bot. Text becomes a
  :class:`~omnichannel.TextPart`, each attachment a :class:`~omnichannel.MediaPart`;
  ``reply_to`` is the answered event's id, ``agent.id`` the interaction's ``agent``.
* ``visitor_identified``: kind ``identify``, inbound: the visitor said who they are (a
  pre-chat form, a login). A :class:`~omnichannel.CustomPart` named
  ``webchat.visitor_identified`` lists which fields were given.
* ``conversation_closed``: kind ``status`` with a ``webchat.conversation_closed`` custom
  part; inbound when the visitor closed it, outbound when an agent did, else internal.
* ``typing``: accepted, but yields nothing (a typing indicator is not a contact).

Identity: the widget's visitor id is ``Identifier.handle("webchat", id)``, kept exactly. The
email, phone and ``customer_id`` of the ``visitor`` block are the visitor's own
identifiers (``customer_id`` is ``Identifier.external(customer_system, id)``, the system an
adapter option, ``"shop"`` by default); ``name`` is the ``display_name`` trait. Emails and
``+``-prefixed phone numbers written in a message's text are only ``mentions``.

Authenticity: header ``X-Webchat-Signature: t=<unix>,v1=<hex>``, the Stripe-style scheme of
:mod:`omnichannel.channels._hmac_scheme`, with a replay window (300 s by default).

The module also holds what the store adapter shares with it: the strict base model, the
field types both schemas use, and the translation of validation errors into
:class:`~omnichannel.InvalidPayloadError` with the field's JSON path.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from importlib import resources
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    PlainValidator,
    StringConstraints,
    ValidationError,
    model_validator,
)

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
from omnichannel._normalize import normalize_namespace
from omnichannel.channels._base import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_FUTURE_SECONDS,
    BaseAdapter,
    find_mentions,
)
from omnichannel.channels._hmac_scheme import (
    DEFAULT_REPLAY_WINDOW_SECONDS,
    check_replay_window,
    verify_signature,
)
from omnichannel.channels._protocol import InboundRequest

__all__ = [
    "DATE_TIME_PATTERN",
    "EMAIL_PATTERN",
    "ID_PATTERN",
    "PATTERN_REASONS",
    "PHONE_PATTERN",
    "DateTimeText",
    "EmailText",
    "JsonInt",
    "Metadata",
    "NameText",
    "NonNegativeInt",
    "OwnModel",
    "PhoneText",
    "PlainId",
    "Version",
    "WebchatAdapter",
    "check_system",
    "check_unique_ids",
    "date_time_text",
    "load_schema",
    "make_identifier",
    "parse_date_time",
    "validate_document",
]

# --- shared with the store adapter: field types of our own JSON shapes -------------------

ID_PATTERN = r"^[!-~]+$"
"""An id: printable ASCII without spaces (the schemas' ``#/$defs/id``)."""
DATE_TIME_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})$"
)
"""An RFC 3339 date-time with its offset; upper-case ``T`` and ``Z``."""
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"
"""The shape of an email address; the adapter then normalizes it."""
PHONE_PATTERN = r"^\+?[0-9 ().-]{3,32}$"
"""The characters of a phone number; the adapter then normalizes it."""
_TEXT_PATTERN = r"\S"
_VISITOR_ID_PATTERN = r"^[!-?A-~][!-~]*$"
_URL_PATTERN = r"^https?://[^\s]+$"
_MEDIA_TYPE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$"

PATTERN_REASONS: dict[str, str] = {
    ID_PATTERN: "must be printable ASCII without spaces",
    DATE_TIME_PATTERN: "must be an RFC 3339 date-time with an offset (2025-11-18T10:00:00+01:00)",
    EMAIL_PATTERN: "is not an email address",
    PHONE_PATTERN: "is not a phone number",
    _TEXT_PATTERN: "must not be blank",
    _VISITOR_ID_PATTERN: "must be printable ASCII without spaces, not starting with '@'",
    _URL_PATTERN: "must be an http(s) URL",
    _MEDIA_TYPE_PATTERN: "must be a MIME type (type/subtype)",
}
"""How the failure of each pattern is worded, by pattern; the store adapter extends a copy."""

_DATE_TIME_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
    r"(?:(Z)|([+-])([0-9]{2}):([0-9]{2}))"
)


def parse_date_time(text: str) -> datetime:
    """Read an RFC 3339 date-time with an offset (``2025-11-18T10:00:00.250+01:00``).

    Fractions beyond microseconds are truncated.

    Raises:
        ValueError: not that shape, or not a date-time that exists.
    """
    match = _DATE_TIME_RE.fullmatch(text)
    if match is None:
        raise ValueError(PATTERN_REASONS[DATE_TIME_PATTERN])
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    micros = int((match.group(7) or "").ljust(6, "0")[:6])
    if match.group(8):
        zone = timezone.utc
    else:
        hours, minutes = int(match.group(10)), int(match.group(11))
        if hours > 23 or minutes > 59:
            raise ValueError("has a time-zone offset out of range")
        sign = -1 if match.group(9) == "-" else 1
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        moment = datetime(year, month, day, hour, minute, second, micros, tzinfo=zone)
        moment.astimezone(timezone.utc)  # the UTC instant must exist too (year 1, 9999)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"is not a date-time that exists ({exc})") from None
    return moment


def date_time_text(moment: datetime) -> str:
    """``moment`` in UTC as RFC 3339 (``2025-11-18T09:00:00Z``), microseconds when set."""
    text = moment.astimezone(timezone.utc).isoformat()
    return text.removesuffix("+00:00") + "Z"


def _check_date_time(text: str) -> str:
    parse_date_time(text)
    return text


def _json_scalar(value: object) -> str | int | float | bool | None:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    raise ValueError("must be a string, number, boolean or null")


def _json_integer(value: object) -> object:
    """JSON Schema's integers include ``3.0``; booleans are not numbers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _version_one(value: object) -> int:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == 1:
        return 1
    raise ValueError("must be 1 (the only version of this shape)")


class OwnModel(BaseModel):
    """Base of the models mirroring our JSON Schemas: strict types (no coercion of
    ``"1"`` to ``1``), unknown fields refused (``additionalProperties: false``), frozen."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


PlainId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=ID_PATTERN)]
"""``#/$defs/id``."""
DateTimeText = Annotated[
    str, StringConstraints(pattern=DATE_TIME_PATTERN), AfterValidator(_check_date_time)
]
"""``#/$defs/date_time``: kept as text; read it with :func:`parse_date_time`."""
EmailText = Annotated[str, StringConstraints(max_length=254, pattern=EMAIL_PATTERN)]
"""``#/$defs/email``."""
PhoneText = Annotated[str, StringConstraints(max_length=32, pattern=PHONE_PATTERN)]
"""``#/$defs/phone``."""
NameText = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=_TEXT_PATTERN)]
"""``#/$defs/name``."""
Metadata = Annotated[
    dict[
        Annotated[str, StringConstraints(min_length=1, max_length=64)],
        Annotated[str | int | float | bool | None, PlainValidator(_json_scalar)],
    ],
    Field(max_length=50),
]
"""``#/$defs/metadata``: a flat object of JSON scalars."""
Version = Annotated[int, PlainValidator(_version_one)]
"""``version``: the constant 1."""
JsonInt = Annotated[int, BeforeValidator(_json_integer)]
"""A JSON integer: ``3`` or ``3.0``, never ``true``."""
NonNegativeInt = Annotated[JsonInt, Field(ge=0)]
"""A JSON integer of at least 0."""

_Model = TypeVar("_Model", bound=BaseModel)


def _error_path(loc: Sequence[int | str], document: object) -> list[str]:
    """The JSON path of an error, walking the document along pydantic's ``loc``.

    pydantic adds the tag of a discriminated union (``events.0.message.text``) and the
    member of a plain union to the location: those are not in the document, so dropped.
    """
    parts: list[str] = []
    node: object = document
    after_index = False
    for element in loc:
        if isinstance(node, list) and isinstance(element, int) and 0 <= element < len(node):
            parts.append(str(element))
            node, after_index = node[element], True
            continue
        if isinstance(node, dict):
            if after_index and node.get("type") == element:
                after_index = False  # the union's tag, once, right after a list index
                continue
            parts.append(str(element))
            node, after_index = node.get(element), False
            continue
        break  # below a leaf: a union member's label
    return parts


def _error_reason(error: Mapping[str, Any], reasons: Mapping[str, str]) -> str:
    kind: str = error["type"]
    context: Mapping[str, Any] = error.get("ctx") or {}
    message: str = error["msg"]
    if kind in ("missing", "union_tag_not_found"):
        return "is missing"
    if kind == "extra_forbidden":
        return "is not a known field here"
    if kind == "union_tag_invalid":
        return f"must be one of {context.get('expected_tags')}"
    if kind == "string_pattern_mismatch":
        pattern = str(context.get("pattern"))
        return reasons.get(pattern, f"must match the pattern {pattern}")
    if kind == "string_too_short":
        minimum = context.get("min_length")
        return "must not be empty" if minimum == 1 else f"must be at least {minimum} characters"
    if kind == "string_too_long":
        return f"must be at most {context.get('max_length')} characters"
    if kind == "too_short":
        return f"must hold at least {context.get('min_length')} items"
    if kind == "too_long":
        return f"must hold at most {context.get('max_length')} items"
    if kind == "greater_than_equal":
        return f"must be at least {context.get('ge')}"
    if kind == "literal_error":
        return f"must be {context.get('expected')}"
    simple = {
        "string_type": "must be a string",
        "int_type": "must be an integer",
        "bool_type": "must be true or false",
        "list_type": "must be an array",
        "dict_type": "must be an object",
        "model_type": "must be an object",
        "model_attributes_type": "must be an object",
    }
    if kind in simple:
        return simple[kind]
    return message.removeprefix("Value error, ")


def validate_document(
    model: type[_Model],
    document: dict[str, Any],
    reasons: Mapping[str, str] = PATTERN_REASONS,
) -> _Model:
    """Validate a decoded body against ``model``; failures become InvalidPayloadError.

    The error names the first failing field by its JSON path (``events.0.visitor.email``);
    ``errors`` lists every failure. ``reasons`` words the failures of string patterns.

    Raises:
        InvalidPayloadError: the document does not validate.
    """
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        found: list[tuple[str, str]] = []
        for error in exc.errors(include_url=False):
            parts = _error_path(error["loc"], document)
            if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
                parts.append("type")
            reason = _error_reason(error, reasons)
            if "[key]" in error["loc"]:
                reason = f"key {reason}"
            found.append((".".join(parts) or "body", reason))
        first = exc.errors(include_url=False)[0]
        raw = first.get("input")
        shown = raw if raw is None or isinstance(raw, (str, int, float, bool)) else None
        if first["type"] in ("missing", "union_tag_not_found"):
            shown = None
        field, reason = found[0]
        raise InvalidPayloadError(field, shown, reason, tuple(found)) from exc


def check_unique_ids(ids: Sequence[str], path: str = "events") -> None:
    """Refuse two events of one document with the same id.

    Raises:
        InvalidPayloadError: naming the second one (``events.3.id``).
    """
    seen: dict[str, int] = {}
    for index, value in enumerate(ids):
        if value in seen:
            raise InvalidPayloadError(
                f"{path}.{index}.id", value, f"repeats the id of {path}.{seen[value]}"
            )
        seen[value] = index


def make_identifier(build: Callable[[], Identifier], field: str, raw: str) -> Identifier:
    """Call an :class:`~omnichannel.Identifier` constructor; a rejection becomes an
    InvalidPayloadError naming ``field``."""
    try:
        return build()
    except InvalidValueError as exc:
        raise InvalidPayloadError(field, raw, exc.reason) from exc


def check_system(system: object, field: str) -> str:
    """Normalize an adapter option naming an external id's system (``"shop"``).

    Raises:
        InvalidValueError: not a slug.
    """
    if not isinstance(system, str):
        raise InvalidValueError(field, system, "must be a string", mask=False)
    return normalize_namespace(system, field=field)


def load_schema(filename: str) -> dict[str, JsonValue]:
    """The JSON Schema shipped beside the adapters (``webchat.schema.json``)."""
    text = resources.files("omnichannel.channels").joinpath(filename).read_text("utf-8")
    schema: dict[str, JsonValue] = json.loads(text)
    return schema


# --- the webchat shape -----------------------------------------------------------------

_SIGNATURE_HEADER = "X-Webchat-Signature"
_SCHEMA_FILE = "webchat.schema.json"
_MAX_TEXT_CHARS = 10_000

_Text = Annotated[
    str, StringConstraints(min_length=1, max_length=_MAX_TEXT_CHARS, pattern=_TEXT_PATTERN)
]
_Url = Annotated[str, StringConstraints(max_length=2048, pattern=_URL_PATTERN)]


class _Visitor(OwnModel):
    id: Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=_VISITOR_ID_PATTERN)]
    email: EmailText | None = None
    phone: PhoneText | None = None
    name: NameText | None = None
    customer_id: PlainId | None = None


class _IdentifiedVisitor(_Visitor):
    @model_validator(mode="after")
    def _says_who(self) -> _IdentifiedVisitor:
        if all(value is None for value in (self.email, self.phone, self.customer_id, self.name)):
            raise ValueError("needs at least one of email, phone, customer_id or name")
        return self


class _Attachment(OwnModel):
    url: _Url
    media_type: Annotated[str, StringConstraints(max_length=255, pattern=_MEDIA_TYPE_PATTERN)]
    name: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    size_bytes: NonNegativeInt | None = None


class _Agent(OwnModel):
    id: Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=_TEXT_PATTERN)]
    name: NameText | None = None


class _Event(OwnModel):
    id: PlainId
    sent_at: DateTimeText
    conversation_id: PlainId
    visitor: _Visitor
    page_url: _Url | None = None
    metadata: Metadata | None = None


class _Message(_Event):
    type: Literal["message"]
    direction: Literal["inbound", "outbound"] | None = None
    text: _Text | None = None
    attachments: Annotated[list[_Attachment], Field(max_length=10)] | None = None
    reply_to: PlainId | None = None
    agent: _Agent | None = None

    @model_validator(mode="after")
    def _has_content(self) -> _Message:
        if self.text is None and not self.attachments:
            raise ValueError("needs text or at least one attachment")
        return self


class _VisitorIdentified(_Event):
    type: Literal["visitor_identified"]
    visitor: _IdentifiedVisitor


class _ConversationClosed(_Event):
    type: Literal["conversation_closed"]
    closed_by: Literal["visitor", "agent", "system"] | None = None
    agent: _Agent | None = None


class _Typing(_Event):
    type: Literal["typing"]


_AnyEvent = Annotated[
    _Message | _VisitorIdentified | _ConversationClosed | _Typing, Field(discriminator="type")
]


class _Document(OwnModel):
    version: Version
    events: Annotated[list[_AnyEvent], Field(min_length=1, max_length=100)]


class WebchatAdapter(BaseAdapter):
    """Events of a shop's own chat widget, in omnichannel's documented JSON shape.

    Args:
        customer_system: the system the visitors' ``customer_id`` belongs to
            (``Identifier.external(customer_system, id)``).
        replay_window_seconds: how far a signature's timestamp may lie from the
            verifier's clock, either way.
        max_body_bytes: refuse larger bodies.
        max_future_seconds: refuse events dated further ahead than this.
        default_region: region for phone numbers written in national format.

    Raises:
        InvalidValueError: an option is out of range.
    """

    name = "webchat"

    def __init__(
        self,
        *,
        customer_system: str = "shop",
        replay_window_seconds: int = DEFAULT_REPLAY_WINDOW_SECONDS,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_future_seconds: int = DEFAULT_MAX_FUTURE_SECONDS,
        default_region: str | None = None,
    ) -> None:
        super().__init__(
            max_body_bytes=max_body_bytes,
            max_future_seconds=max_future_seconds,
            default_region=default_region,
        )
        self.customer_system = check_system(customer_system, "customer_system")
        self.replay_window_seconds = check_replay_window(replay_window_seconds)

    @staticmethod
    def json_schema() -> dict[str, JsonValue]:
        """The JSON Schema (draft 2020-12) of the documents :meth:`parse` reads and
        :meth:`render` writes; hand it to whoever builds the widget."""
        return load_schema(_SCHEMA_FILE)

    # --- parsing ---------------------------------------------------------------------

    def parse(self, request: InboundRequest) -> list[Interaction]:
        """Return the interactions of a webchat document, in event order (typing
        events yield none).

        Raises:
            InvalidPayloadError: not JSON, not the documented shape (``field`` is the
                JSON path, e.g. ``"events.0.visitor.email"``), an email or phone that
                does not normalize, an event dated too far in the future, or two events
                with one id.
        """
        document = validate_document(_Document, self.decode_json(request))
        check_unique_ids([event.id for event in document.events])
        found: list[Interaction] = []
        for index, event in enumerate(document.events):
            path = f"events.{index}"
            occurred_at = self.check_time(parse_date_time(event.sent_at), f"{path}.sent_at")
            if isinstance(event, _Message):
                found.append(self._message(event, path, occurred_at))
            elif isinstance(event, _VisitorIdentified):
                found.append(self._identified(event, path, occurred_at))
            elif isinstance(event, _ConversationClosed):
                found.append(self._closed(event, path, occurred_at))
            # _Typing: nothing to record
        return found

    def _visitor(self, visitor: _Visitor, path: str) -> tuple[list[Identifier], dict[str, Any]]:
        found = [
            make_identifier(
                lambda: Identifier.handle(Channel.WEBCHAT.value, visitor.id),
                f"{path}.id",
                visitor.id,
            )
        ]
        if visitor.email is not None:
            email = visitor.email
            found.append(make_identifier(lambda: Identifier.email(email), f"{path}.email", email))
        if visitor.phone is not None:
            phone = visitor.phone
            found.append(
                make_identifier(
                    lambda: Identifier.phone(phone, self.default_region), f"{path}.phone", phone
                )
            )
        if visitor.customer_id is not None:
            customer = visitor.customer_id
            found.append(
                make_identifier(
                    lambda: Identifier.external(self.customer_system, customer),
                    f"{path}.customer_id",
                    customer,
                )
            )
        traits: dict[str, Any] = {}
        if visitor.name is not None:
            traits["display_name"] = visitor.name.strip()
        return list(dict.fromkeys(found)), traits

    @staticmethod
    def _metadata(event: _Event, **extra: JsonValue) -> dict[str, JsonValue]:
        metadata: dict[str, JsonValue] = {k: v for k, v in extra.items() if v is not None}
        if event.page_url is not None:
            metadata["page_url"] = event.page_url
        if event.metadata:
            metadata["custom"] = dict(event.metadata)
        return metadata

    def _message(self, event: _Message, path: str, occurred_at: datetime) -> Interaction:
        identifiers, traits = self._visitor(event.visitor, f"{path}.visitor")
        content: list[dict[str, Any]] = []
        mentions: list[Identifier] = []
        if event.text is not None:
            content.append({"type": "text", "text": event.text})
            mentions = [
                m for m in find_mentions(event.text, self.default_region) if m not in identifiers
            ]
        for attachment in event.attachments or []:
            content.append(
                {
                    "type": "media",
                    "media_type": attachment.media_type.lower(),
                    "url": attachment.url,
                    "name": attachment.name,
                    "size_bytes": attachment.size_bytes,
                }
            )
        outbound = event.direction == "outbound"
        return self.build(
            path,
            channel=Channel.WEBCHAT.value,
            kind="message",
            direction=Direction.OUTBOUND if outbound else Direction.INBOUND,
            occurred_at=occurred_at,
            source_id=event.id,
            identifiers=identifiers,
            mentions=mentions,
            traits=traits,
            content=content,
            reply_to=event.reply_to,
            conversation_key=event.conversation_id,
            agent=event.agent.id if event.agent else None,
            metadata=self._metadata(event, agent_name=event.agent.name if event.agent else None),
        )

    def _identified(
        self, event: _VisitorIdentified, path: str, occurred_at: datetime
    ) -> Interaction:
        identifiers, traits = self._visitor(event.visitor, f"{path}.visitor")
        given: list[JsonValue] = [
            key
            for key in ("email", "phone", "customer_id", "name")
            if getattr(event.visitor, key) is not None
        ]
        return self.build(
            path,
            channel=Channel.WEBCHAT.value,
            kind="identify",
            direction=Direction.INBOUND,
            occurred_at=occurred_at,
            source_id=event.id,
            identifiers=identifiers,
            traits=traits,
            content=[
                {"type": "custom", "name": "webchat.visitor_identified", "data": {"given": given}}
            ],
            conversation_key=event.conversation_id,
            metadata=self._metadata(event),
        )

    def _closed(self, event: _ConversationClosed, path: str, occurred_at: datetime) -> Interaction:
        identifiers, traits = self._visitor(event.visitor, f"{path}.visitor")
        direction = {"visitor": Direction.INBOUND, "agent": Direction.OUTBOUND}.get(
            event.closed_by or "system", Direction.INTERNAL
        )
        return self.build(
            path,
            channel=Channel.WEBCHAT.value,
            kind="status",
            direction=direction,
            occurred_at=occurred_at,
            source_id=event.id,
            identifiers=identifiers,
            traits=traits,
            content=[
                {
                    "type": "custom",
                    "name": "webchat.conversation_closed",
                    "data": {"closed_by": event.closed_by},
                }
            ],
            conversation_key=event.conversation_id,
            agent=event.agent.id if event.agent else None,
            metadata=self._metadata(
                event,
                status="conversation_closed",
                agent_name=event.agent.name if event.agent else None,
            ),
        )

    # --- verification -----------------------------------------------------------------

    def verify(self, request: InboundRequest, secret: str, now: datetime | None = None) -> None:
        """Check ``X-Webchat-Signature`` (``t=<unix>,v1=<hex HMAC-SHA256>``).

        The HMAC, under ``secret``, is of ``f"{t}."`` followed by the raw body; ``t``
        must lie within ``replay_window_seconds`` of ``now`` (default: the current
        time), either way. A replay inside the window verifies: the event ids make
        ingesting it again a no-op.

        Raises:
            SignatureError: missing, malformed, forged, stale or future-dated.
        """
        verify_signature(
            request,
            header=_SIGNATURE_HEADER,
            secret=secret,
            window_seconds=self.replay_window_seconds,
            now=now,
        )

    # --- rendering ----------------------------------------------------------------------

    def render(self, interaction: Interaction) -> dict[str, JsonValue]:
        """The webchat document that shows an outbound message in the widget.

        One ``message`` event with ``"direction": "outbound"``: its ``id`` is the
        interaction's ``source_id`` (else its ``id``), ``conversation_id`` its
        ``conversation_key``, the visitor its ``webchat`` handle, the text its text
        (captions included), each media part with a URL an attachment, ``agent`` its
        agent. The document satisfies ``webchat.schema.json``.

        Raises:
            InvalidValueError: not outbound, no webchat handle or conversation key, a
                part the widget cannot show (location, contact, order, custom, media
                without a URL), no text and no attachment, text over 10000 characters,
                or an id the schema refuses.
        """
        if interaction.direction is not Direction.OUTBOUND:
            raise InvalidValueError(
                "direction", interaction.direction.value, "must be outbound to render", mask=False
            )
        visitor = next(
            (
                i.value
                for i in interaction.identifiers
                if i.kind is IdentifierKind.HANDLE and i.namespace == Channel.WEBCHAT.value
            ),
            None,
        )
        if visitor is None or not re.fullmatch(_VISITOR_ID_PATTERN, visitor):
            raise InvalidValueError(
                "identifiers", visitor, "needs the visitor's webchat handle to send to"
            )
        if interaction.conversation_key is None:
            raise InvalidValueError(
                "conversation_key", None, "names the chat to post in; webchat needs one", mask=False
            )
        event: dict[str, JsonValue] = {
            "type": "message",
            "direction": "outbound",
            "id": self._render_id(interaction.source_id or interaction.id, "source_id"),
            "sent_at": date_time_text(interaction.occurred_at),
            "conversation_id": self._render_id(interaction.conversation_key, "conversation_key"),
            "visitor": {"id": visitor},
        }
        attachments: list[JsonValue] = []
        for index, part in enumerate(interaction.content):
            if isinstance(part, TextPart):
                continue
            if (
                isinstance(part, MediaPart)
                and part.url
                and len(part.url) <= 2048
                and re.fullmatch(_URL_PATTERN, part.url)
                and re.fullmatch(_MEDIA_TYPE_PATTERN, part.media_type)
            ):
                attachment: dict[str, JsonValue] = {"url": part.url, "media_type": part.media_type}
                if part.name:
                    attachment["name"] = part.name[:255]
                if part.size_bytes is not None:
                    attachment["size_bytes"] = part.size_bytes
                attachments.append(attachment)
                continue
            reason = (
                "needs an http(s) URL the widget can load and a MIME type"
                if isinstance(part, MediaPart)
                else f"is a {part.type} part, which the widget cannot show"
            )
            raise InvalidValueError(f"content.{index}", part.type, reason, mask=False)
        text = interaction.text
        if text.strip():
            if len(text) > _MAX_TEXT_CHARS:
                raise InvalidValueError(
                    "content",
                    f"{len(text)} characters",
                    f"is longer than {_MAX_TEXT_CHARS}",
                    mask=False,
                )
            event["text"] = text
        elif not attachments:
            raise InvalidValueError("content", [], "needs text or an attachment", mask=False)
        if attachments:
            event["attachments"] = attachments
        if interaction.reply_to is not None:
            event["reply_to"] = self._render_id(interaction.reply_to, "reply_to")
        if interaction.agent is not None and interaction.agent.strip():
            if len(interaction.agent) > 128:
                raise InvalidValueError(
                    "agent", interaction.agent, "must be at most 128 characters", mask=False
                )
            event["agent"] = {"id": interaction.agent}
        return {"version": 1, "events": [event]}

    @staticmethod
    def _render_id(value: str, field: str) -> str:
        if len(value) > 128 or not re.fullmatch(ID_PATTERN, value):
            raise InvalidValueError(
                field, value, "must be 1-128 printable ASCII characters without spaces"
            )
        return value
