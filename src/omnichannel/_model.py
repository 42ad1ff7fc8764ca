"""The channel-agnostic data model: identifiers, interactions, content parts, profiles.

All models are pydantic v2, frozen, with ``extra="forbid"``. Constructing one with bad
values raises pydantic's ``ValidationError`` naming the field; the classmethod constructors
of :class:`Identifier` raise :class:`~omnichannel.InvalidValueError` instead.
"""

from __future__ import annotations

import enum
import os
import re
import sys
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationInfo,
    field_validator,
    model_validator,
)

from omnichannel._errors import InvalidValueError, mask_value
from omnichannel._normalize import (
    normalize_email,
    normalize_external,
    normalize_handle,
    normalize_namespace,
    normalize_phone,
)

if sys.version_info >= (3, 11):  # pragma: no cover - depends on the interpreter
    from enum import StrEnum
else:  # pragma: no cover - depends on the interpreter

    class StrEnum(str, enum.Enum):
        """Backport of :class:`enum.StrEnum` for Python 3.10."""

        def __str__(self) -> str:
            return str(self.value)


__all__ = [
    "ANY",
    "Channel",
    "Consent",
    "ContactCardPart",
    "ContentPart",
    "Conversation",
    "ConversationStatus",
    "CustomPart",
    "Direction",
    "Event",
    "EventType",
    "FieldContribution",
    "Grade",
    "Identifier",
    "IdentifierKind",
    "IngestOutcome",
    "IngestResult",
    "Interaction",
    "InteractionKind",
    "LocationPart",
    "MediaPart",
    "Merge",
    "OrderRefPart",
    "Profile",
    "ProfileIdentifier",
    "Purpose",
    "ReviewItem",
    "ReviewStatus",
    "TextPart",
    "TimelinePage",
    "clean_topics",
    "new_id",
    "utc",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_SLUG_RE = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")


def new_id() -> str:
    """Return a new time-ordered id: a UUIDv7 as 32 lowercase hex digits."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= ((rand >> 68) & 0xFFF) << 64  # 12 random bits
    value |= 0b10 << 62  # RFC 4122 variant
    value |= rand & ((1 << 62) - 1)
    return f"{value:032x}"


def utc(moment: datetime, *, field: str = "occurred_at") -> datetime:
    """Return ``moment`` converted to UTC; a naive datetime is an :class:`InvalidValueError`."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidValueError(
            field, moment.isoformat(), "is a naive datetime; give it a timezone", mask=False
        )
    return moment.astimezone(timezone.utc)


def _to_utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


UTCDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""A timezone-aware datetime, stored in UTC. A naive datetime fails validation."""


def _check_slug(value: str) -> str:
    if not _SLUG_RE.match(value):
        raise ValueError("must be a lowercase slug: a letter, then a-z, 0-9, '_', '.', '-'")
    return value


Slug = Annotated[str, AfterValidator(_check_slug)]


class Channel(StrEnum):
    """The channels omnichannel knows. Any other lowercase slug is allowed as a channel."""

    EMAIL = "email"
    SMS = "sms"
    MMS = "mms"
    WHATSAPP = "whatsapp"
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"
    TELEGRAM = "telegram"
    WEBCHAT = "webchat"
    VOICE = "voice"
    STORE = "store"
    WEB = "web"
    APP = "app"


class InteractionKind(StrEnum):
    """Kinds of interaction. Any other lowercase slug is allowed as a kind."""

    MESSAGE = "message"
    CALL = "call"
    VISIT = "visit"
    ORDER = "order"
    RETURN = "return"
    RESERVATION = "reservation"
    PICKUP = "pickup"
    STATUS = "status"
    REACTION = "reaction"
    NOTE = "note"


class Direction(StrEnum):
    """Who an interaction went from: the customer, the business, or neither."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class IdentifierKind(StrEnum):
    """Kinds of identifier."""

    PHONE = "phone"
    EMAIL = "email"
    HANDLE = "handle"
    EXTERNAL = "external"


class _Rejected:
    """A value normalization rejected; shown masked in pydantic's error output."""

    __slots__ = ("masked", "raw", "reason")

    def __init__(self, reason: str, raw: str) -> None:
        self.reason = reason
        self.raw = raw
        self.masked = mask_value(raw)

    def __repr__(self) -> str:
        return repr(self.masked)


TRUSTED: Mapping[str, Any] = MappingProxyType({"trusted": True})
"""Validation context for documents a store wrote itself: identifiers in them were
normalized when they were first validated, so reading them back skips normalizing
again (the same object, compared by identity, so user input cannot claim it)."""


class Identifier(BaseModel):
    """Something that points at one customer: a phone, an email, a handle, an external id.

    Values are normalized during validation, so two identifiers of the same mailbox or
    number compare and hash equal whatever their spelling: equality is on
    ``(kind, namespace, key)``. Build one with the constructors, or validate a mapping::

        Identifier.phone("+48 601 234 567")
        Identifier.email("John.Doe@GMail.com")
        Identifier.handle("telegram", "@JohnDoe")
        Identifier.external("shopify", "C-1001")
        Identifier.model_validate({"kind": "phone", "value": "601 234 567"},
                                  context={"default_region": "PL"})

    Attributes:
        kind: phone, email, handle or external.
        namespace: the platform of a handle or the system of an external id; empty otherwise.
        value: the normalized value (E.164 phone, lowercased email, folded handle).
        key: the match key; equal keys mean the same customer identifier.
        original: the value as written, when it differs from ``value``.
    """

    model_config = _FROZEN

    kind: IdentifierKind
    namespace: str = ""
    value: str
    key: str = ""
    original: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _normalize(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, Mapping):
            return data
        context = info.context
        if context is not None and context is TRUSTED and "key" in data:
            return data  # read back from a store: normalized when it was written
        raw_value = data.get("value")
        kind = data.get("kind")
        if not isinstance(raw_value, str) or kind not in IdentifierKind._value2member_map_:
            return data  # let field validation report it
        kind = IdentifierKind(kind)
        region = None
        if info.context and isinstance(info.context, Mapping):
            region = info.context.get("default_region")
        namespace = data.get("namespace", "")
        if not isinstance(namespace, str):
            return data
        out = dict(data)
        try:
            out.update(_normalized_fields(kind, namespace, raw_value, region))
        except InvalidValueError as exc:
            # Reported by the field validator below, so the error's location is the field.
            out["namespace" if exc.field in ("platform", "system") else "value"] = _Rejected(
                exc.reason, raw_value if exc.field not in ("platform", "system") else namespace
            )
            return out
        if data.get("original") is not None:
            out["original"] = data["original"]
        return out

    @field_validator("namespace", "value", mode="before")
    @classmethod
    def _report_rejected(cls, value: Any) -> Any:
        if isinstance(value, _Rejected):
            raise ValueError(value.reason)
        return value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Identifier):
            return NotImplemented
        return (self.kind, self.namespace, self.key) == (other.kind, other.namespace, other.key)

    def __hash__(self) -> int:
        return hash((self.kind, self.namespace, self.key))

    def __str__(self) -> str:
        if self.namespace:
            return f"{self.kind}:{self.namespace}:{self.value}"
        return f"{self.kind}:{self.value}"

    @property
    def match(self) -> tuple[str, str, str]:
        """``(kind, namespace, key)``: what the identifier index is keyed on."""
        return (self.kind.value, self.namespace, self.key)

    @classmethod
    def phone(cls, raw: str, region: str | None = None) -> Identifier:
        """A phone number, normalized to E.164; ``region`` reads national formats.

        Raises:
            InvalidValueError: not a valid phone number.
        """
        return cls._build(IdentifierKind.PHONE, "", raw, region)

    @classmethod
    def email(cls, raw: str) -> Identifier:
        """An email address, lowercased, with a provider-aware match key.

        Raises:
            InvalidValueError: not a syntactically valid address.
        """
        return cls._build(IdentifierKind.EMAIL, "", raw, None)

    @classmethod
    def handle(cls, platform: str, raw: str) -> Identifier:
        """A handle scoped by ``platform`` (``"telegram"``, ``"messenger"`` ...).

        Raises:
            InvalidValueError: bad platform name or empty handle.
        """
        return cls._build(IdentifierKind.HANDLE, platform, raw, None)

    @classmethod
    def external(cls, system: str, value: str) -> Identifier:
        """An id in another system (``"shopify"``, ``"loyalty"``), compared exactly.

        Raises:
            InvalidValueError: bad system name or empty value.
        """
        return cls._build(IdentifierKind.EXTERNAL, system, value, None)

    @classmethod
    def _build(
        cls, kind: IdentifierKind, namespace: str, raw: str, region: str | None
    ) -> Identifier:
        if not isinstance(raw, str):
            raise InvalidValueError(kind.value, raw, "must be a string", mask=False)
        fields = _normalized_fields(kind, namespace, raw, region)
        return cls.model_construct(kind=kind, **fields)


def _normalized_fields(
    kind: IdentifierKind, namespace: str, raw: str, region: str | None
) -> dict[str, Any]:
    """The one place that maps an identifier kind to its normalize function."""
    if kind is IdentifierKind.PHONE:
        ns = ""
        value = key = normalize_phone(raw, region, field="phone")
    elif kind is IdentifierKind.EMAIL:
        ns = ""
        value, key = normalize_email(raw, field="email")
    elif kind is IdentifierKind.HANDLE:
        ns = normalize_namespace(namespace, field="platform")
        value = key = normalize_handle(ns, raw, field="handle")
    else:
        ns = normalize_namespace(namespace, field="system")
        value = key = normalize_external(raw, field="external")
    original = raw if raw != value else None
    return {"namespace": ns, "value": value, "key": key, "original": original}


# --- content parts -------------------------------------------------------------------


class TextPart(BaseModel):
    """Plain text (an email body turned into text, a chat message, a call summary)."""

    model_config = _FROZEN
    type: Literal["text"] = "text"
    text: str
    language: str | None = None


class MediaPart(BaseModel):
    """An attachment or media item, described, never stored as a blob."""

    model_config = _FROZEN
    type: Literal["media"] = "media"
    media_type: str = Field(description="MIME type, e.g. image/jpeg")
    url: str | None = None
    name: str | None = None
    size_bytes: int | None = Field(default=None, ge=0)
    caption: str | None = None
    media_id: str | None = None


class LocationPart(BaseModel):
    """A shared location."""

    model_config = _FROZEN
    type: Literal["location"] = "location"
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    name: str | None = None
    address: str | None = None


class ContactCardPart(BaseModel):
    """A contact card (vCard, WhatsApp contacts, Telegram contact).

    ``is_sender`` says the card describes the sender themself; only then may its
    identifiers be linked to the sender's profile.
    """

    model_config = _FROZEN
    type: Literal["contact"] = "contact"
    name: str | None = None
    identifiers: tuple[Identifier, ...] = ()
    is_sender: bool = False


class OrderRefPart(BaseModel):
    """A reference to an order, with its amount when known."""

    model_config = _FROZEN
    type: Literal["order"] = "order"
    order_id: str = Field(min_length=1)
    amount: Decimal | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    status: str | None = None
    store_id: str | None = None


class CustomPart(BaseModel):
    """Anything else, under a name of the caller's choosing, with JSON data."""

    model_config = _FROZEN
    type: Literal["custom"] = "custom"
    name: str = Field(min_length=1)
    data: dict[str, JsonValue] = Field(default_factory=dict)


ContentPart = Annotated[
    TextPart | MediaPart | LocationPart | ContactCardPart | OrderRefPart | CustomPart,
    Field(discriminator="type"),
]
"""One part of an interaction's content, discriminated by its ``type``."""


# --- interactions ----------------------------------------------------------------------


class Interaction(BaseModel):
    """One contact with a customer on any channel: a message, call, visit, order ...

    ``(channel, source_id)`` names the interaction: delivering it again is a no-op. Without
    a ``source_id`` the interaction's ``id`` is its idempotency key.

    Attributes:
        id: omnichannel's id (time-ordered; generated when not given).
        channel: a lowercase slug; the known ones are in :class:`Channel`.
        kind: a lowercase slug; the known ones are in :class:`InteractionKind`.
        direction: inbound (from the customer), outbound (to them) or internal.
        occurred_at: when it happened; must be timezone-aware; kept in UTC.
        source_id: the channel's own id for it (message id, call sid, order number).
        identifiers: the customer's identifiers seen on it (at least one to ingest it).
        mentions: phones, emails or handles written in the content or in a card about
            someone else: kept as evidence, never used to decide who the customer is.
        traits: what was observed about the customer (``display_name``, ``first_name`` ...).
        content: text, media, location, contact cards, order references, custom parts.
        reply_to: the ``source_id`` of the interaction this one answers.
        conversation_key: a channel's own thread or conversation id.
        conversation_id: the omnichannel conversation it belongs to. The Hub sets it on
            ingest; pass one to file the interaction in that conversation (a CRM ticket),
            which is created if it does not exist.
        topics: topic labels.
        agent: who handled it on the business side.
        metadata: any other JSON values.
    """

    model_config = _FROZEN

    id: str = Field(default_factory=new_id, min_length=1, max_length=64)
    channel: Slug
    kind: Slug = InteractionKind.MESSAGE.value
    direction: Direction = Direction.INBOUND
    occurred_at: UTCDatetime
    source_id: str | None = Field(default=None, min_length=1, max_length=512)
    identifiers: tuple[Identifier, ...] = ()
    mentions: tuple[Identifier, ...] = ()
    traits: dict[str, JsonValue] = Field(default_factory=dict)
    content: tuple[ContentPart, ...] = ()
    reply_to: str | None = None
    conversation_key: str | None = None
    conversation_id: str | None = Field(default=None, min_length=1, max_length=64)
    topics: tuple[str, ...] = ()
    agent: str | None = None
    metadata: dict[str, JsonValue] = Field(default_factory=dict)

    @field_validator("topics", mode="after")
    @classmethod
    def _clean_topics(cls, topics: tuple[str, ...]) -> tuple[str, ...]:
        return clean_topics(topics)

    @property
    def idempotency_key(self) -> str:
        """The key this interaction is stored under within its channel."""
        return self.source_id if self.source_id is not None else f"id:{self.id}"

    @property
    def text(self) -> str:
        """All text parts joined by newlines (captions included)."""
        texts: list[str] = []
        for part in self.content:
            if isinstance(part, TextPart):
                texts.append(part.text)
            elif isinstance(part, MediaPart) and part.caption:
                texts.append(part.caption)
        return "\n".join(texts)

    @property
    def summary(self) -> str:
        """One line for people: the text, else a short description of each part."""
        if self.text:
            return " ".join(self.text.split())
        bits: list[str] = []
        for part in self.content:
            if isinstance(part, OrderRefPart):
                amount = f" {part.amount} {part.currency or ''}".rstrip() if part.amount else ""
                bits.append(f"order {part.order_id}{amount}")
            elif isinstance(part, MediaPart):
                bits.append(f"[{part.media_type}{' ' + part.name if part.name else ''}]")
            elif isinstance(part, LocationPart):
                bits.append(f"[location {part.name or f'{part.latitude},{part.longitude}'}]")
            elif isinstance(part, ContactCardPart):
                bits.append(f"[contact {part.name or ''}]".replace(" ]", "]"))
            elif isinstance(part, CustomPart):
                bits.append(f"[{part.name}]")
        return "; ".join(bits)


# --- profiles and resolution records --------------------------------------------------


class ProfileIdentifier(BaseModel):
    """An identifier on a profile, with where and when it was seen."""

    model_config = _FROZEN
    identifier: Identifier
    first_seen: UTCDatetime
    last_seen: UTCDatetime
    channel: str
    interaction_id: str | None = None


class Profile(BaseModel):
    """One customer. Its ``id`` is stable: after a merge the absorbed id resolves to the
    survivor (``merged_into``), and the Hub follows it.

    Attributes:
        id: the profile id.
        workspace: the tenant it belongs to.
        identifiers: identifiers with first/last seen, channel and source interaction.
        traits: the latest observed value of each trait.
        trait_seen_at: when each trait value was observed (newer observations win).
        created_at: when the profile was created.
        updated_at: when it last changed.
        merged_into: the survivor's id when this profile was merged into another.
    """

    model_config = _FROZEN
    id: str = Field(default_factory=new_id)
    workspace: str = "default"
    identifiers: tuple[ProfileIdentifier, ...] = ()
    traits: dict[str, JsonValue] = Field(default_factory=dict)
    trait_seen_at: dict[str, UTCDatetime] = Field(default_factory=dict)
    created_at: UTCDatetime
    updated_at: UTCDatetime
    merged_into: str | None = None

    @property
    def is_live(self) -> bool:
        """True unless the profile was merged into another."""
        return self.merged_into is None

    @property
    def display_name(self) -> str | None:
        """The best name known: ``display_name``, else first and last name."""
        name = self.traits.get("display_name") or self.traits.get("name")
        if isinstance(name, str) and name:
            return name
        parts = [self.traits.get("first_name"), self.traits.get("last_name")]
        joined = " ".join(p for p in parts if isinstance(p, str) and p)
        return joined or None


class ConversationStatus(StrEnum):
    """Whether a conversation is open or closed."""

    OPEN = "open"
    CLOSED = "closed"


class Conversation(BaseModel):
    """A thread of interactions with one customer, possibly across channels.

    Attributes:
        id: the conversation id.
        workspace: the tenant.
        profile_id: the customer (after merges, the survivor).
        status: open or closed.
        channels: the channels it went through, in the order first used.
        topics: topic labels of its interactions and those set by hand.
        assignee: who on the business side owns it.
        opened_at: its first interaction.
        last_activity_at: its latest interaction.
        first_inbound_at: the customer's first interaction in it.
        first_response_at: the business's first outbound interaction after that.
        closed_at: when it was closed (None while open).
        interaction_count: how many interactions it holds.
    """

    model_config = _FROZEN
    id: str = Field(default_factory=new_id, min_length=1, max_length=64)
    workspace: str = "default"
    profile_id: str
    status: ConversationStatus = ConversationStatus.OPEN
    channels: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    assignee: str | None = None
    opened_at: UTCDatetime
    last_activity_at: UTCDatetime
    first_inbound_at: UTCDatetime | None = None
    first_response_at: UTCDatetime | None = None
    closed_at: UTCDatetime | None = None
    interaction_count: int = Field(default=0, ge=0)

    @field_validator("topics", mode="after")
    @classmethod
    def _clean_topics(cls, topics: tuple[str, ...]) -> tuple[str, ...]:
        return clean_topics(topics)

    @property
    def first_channel(self) -> str | None:
        """The channel it started on."""
        return self.channels[0] if self.channels else None

    @property
    def is_open(self) -> bool:
        """True while the conversation is open."""
        return self.status is ConversationStatus.OPEN


def clean_topics(topics: Iterable[str]) -> tuple[str, ...]:
    """Topic labels stripped, lowercased, de-duplicated, in first-seen order.

    Raises:
        ValueError: an empty label or one longer than 64 characters.
    """
    cleaned: dict[str, None] = {}
    for topic in topics:
        label = " ".join(str(topic).split()).lower()
        if not label or len(label) > 64:
            raise ValueError(f"topic {topic!r} must be 1-64 characters")
        cleaned[label] = None
    return tuple(cleaned)


class Merge(BaseModel):
    """The record of one merge. Nothing is deleted: the absorbed profile is kept with
    ``merged_into`` set, and the snapshots make an exact unmerge possible.

    Attributes:
        id: the merge id.
        workspace: the tenant.
        survivor_id: the profile that lives on.
        absorbed_id: the profile merged into it.
        rule: the rule that decided it (``"shared-identifier"`` ...).
        evidence: the identifiers that tied the two profiles together.
        interaction_id: the interaction whose ingest caused it.
        merged_at: when it happened.
        survivor_before: the survivor as it was just before the merge.
        absorbed_before: the absorbed profile as it was just before the merge.
        score: the match probability, for a merge decided by scoring.
        contributions: each field's weight, for a merge decided by scoring.
        unmerged_at: when the merge was undone, if it was.
    """

    model_config = _FROZEN
    id: str = Field(default_factory=new_id)
    workspace: str
    survivor_id: str
    absorbed_id: str
    rule: str
    evidence: tuple[Identifier, ...] = ()
    interaction_id: str | None = None
    merged_at: UTCDatetime
    survivor_before: Profile
    absorbed_before: Profile
    score: float | None = Field(default=None, ge=0, le=1)
    contributions: tuple[FieldContribution, ...] = ()
    unmerged_at: UTCDatetime | None = None

    @property
    def is_active(self) -> bool:
        """True until the merge is undone."""
        return self.unmerged_at is None


class FieldContribution(BaseModel):
    """One field's part in a probabilistic decision (a Fellegi-Sunter match weight)."""

    model_config = _FROZEN
    field: str
    level: str
    weight: float


class Grade(StrEnum):
    """How strongly evidence says two profiles are one person."""

    SAME = "same"
    """One person: linked or merged automatically."""
    POSSIBLE = "possible"
    """Maybe one person: a review item, never merged without a decision."""
    RELATED = "related"
    """Different people who share something (a household phone, a company mailbox)."""
    CONFLICT = "conflict"
    """Evidence for and against (two customer numbers of one shop): never auto-merged."""


class ReviewStatus(StrEnum):
    """Where a review item stands."""

    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class ReviewItem(BaseModel):
    """A pair of profiles the resolver would not decide alone.

    Accepting merges the pair; rejecting records them as different people, and the pair
    is never proposed again.

    Attributes:
        id: the item id.
        workspace: the tenant.
        grade: possible, related or conflict.
        profile_ids: the two profiles, the existing one first.
        reason: why it was raised, in words.
        evidence: the identifiers involved.
        score: the match probability when scoring raised it.
        contributions: each field's weight when scoring raised it.
        interaction_id: the interaction whose ingest raised it.
        status: open, accepted or rejected.
        created_at: when it was raised.
        decided_at: when it was accepted or rejected.
    """

    model_config = _FROZEN
    id: str = Field(default_factory=new_id)
    workspace: str
    grade: Grade
    profile_ids: tuple[str, str]
    reason: str
    evidence: tuple[Identifier, ...] = ()
    score: float | None = Field(default=None, ge=0, le=1)
    contributions: tuple[FieldContribution, ...] = ()
    interaction_id: str | None = None
    status: ReviewStatus = ReviewStatus.OPEN
    created_at: UTCDatetime
    decided_at: UTCDatetime | None = None


class Purpose(StrEnum):
    """Why a business contacts a customer. Any other lowercase slug is allowed."""

    MARKETING = "marketing"
    """Offers and newsletters: needs the customer's consent by default."""
    SERVICE = "service"
    """Replies, order and delivery updates: allowed unless the customer objected."""


ANY = "*"
"""In a :class:`Consent`, ``channel`` or ``purpose`` ``"*"`` covers every channel or purpose."""


def _slug_or_any(value: str) -> str:
    return value if value == ANY else _check_slug(value)


class Consent(BaseModel):
    """One recorded answer of a customer: may we contact them on a channel for a purpose.

    Consents are kept as a history; the newest answer per channel and purpose counts.
    ``channel`` or ``purpose`` ``"*"`` answers for all of them (an objection to any
    contact at all).

    Attributes:
        id: the record id.
        workspace: the tenant.
        profile_id: the profile it was recorded on.
        channel: the channel slug, or ``"*"``.
        purpose: the purpose slug (see :class:`Purpose`), or ``"*"``.
        granted: True for consent given, False for consent refused or withdrawn.
        source: where the answer came from (``"sms-keyword"``, ``"web-form"``, ``"crm"``).
        recorded_at: when the customer gave it.
        evidence: what proves it (the message text, a form id, an IP address).
        interaction_id: the interaction that carried it, if any.
        covers: the profiles the answer speaks for: the profile and those merged into it
            when it was recorded. An unmerge gives each person back their own answers.
    """

    model_config = _FROZEN
    id: str = Field(default_factory=new_id)
    workspace: str
    profile_id: str
    channel: Annotated[str, AfterValidator(_slug_or_any)]
    purpose: Annotated[str, AfterValidator(_slug_or_any)]
    granted: bool
    source: str = Field(min_length=1, max_length=64)
    recorded_at: UTCDatetime
    evidence: dict[str, JsonValue] = Field(default_factory=dict)
    interaction_id: str | None = None
    covers: tuple[str, ...] = ()


class EventType(StrEnum):
    """What an :class:`Event` reports."""

    INTERACTION_INGESTED = "interaction.ingested"
    PROFILE_CREATED = "profile.created"
    PROFILE_MERGED = "profile.merged"
    PROFILE_UNMERGED = "profile.unmerged"
    PROFILE_FORGOTTEN = "profile.forgotten"
    REVIEW_CREATED = "review.created"
    CONSENT_CHANGED = "consent.changed"
    CONVERSATION_OPENED = "conversation.opened"
    CONVERSATION_CLOSED = "conversation.closed"


class Event(BaseModel):
    """A change, written to the store's outbox in the transaction that made it.

    Events carry ids and facts, never personal data (no identifier values, no content),
    so they outlive :meth:`Hub.forget`.

    Attributes:
        id: the event id (deliveries of one event share it: deduplicate on it).
        workspace: the tenant.
        type: what happened.
        occurred_at: when it was written.
        profile_id: the profile concerned, if any.
        data: the ids and facts of the change.
        seq: the store's sequence number (set when stored; orders events of one store).
        delivered_at: when :meth:`Hub.drain_events` delivered it (None while pending).
    """

    model_config = _FROZEN
    id: str = Field(default_factory=new_id)
    workspace: str
    type: EventType
    occurred_at: UTCDatetime
    profile_id: str | None = None
    data: dict[str, JsonValue] = Field(default_factory=dict)
    seq: int | None = None
    delivered_at: UTCDatetime | None = None


class IngestOutcome(StrEnum):
    """What ingesting an interaction did."""

    CREATED = "created"
    """No profile owned any identifier: a new profile was created."""
    ATTACHED = "attached"
    """One profile owned the identifiers; the interaction (and any new ones) joined it."""
    MERGED = "merged"
    """Several profiles owned them; they were merged into one."""
    DUPLICATE = "duplicate"
    """The interaction was already stored (same channel and source id); nothing changed."""
    SUPPRESSED = "suppressed"
    """An identifier belongs to a forgotten customer (``Hub.forget``); nothing was stored."""


class IngestResult(BaseModel):
    """The result of :meth:`Hub.ingest`."""

    model_config = _FROZEN
    profile_id: str
    """The customer's profile; the empty string when the outcome is ``suppressed``
    (nothing was stored, no profile is concerned)."""
    interaction_id: str
    outcome: IngestOutcome
    conversation_id: str | None = None
    """The conversation the interaction joined or opened (None for kinds that do not
    converse, such as orders)."""
    merged_ids: tuple[str, ...] = ()
    """Profiles absorbed into ``profile_id`` by this ingest."""
    review_ids: tuple[str, ...] = ()
    """Review items this ingest raised (possible matches, conflicts, shared identifiers)."""


class TimelinePage(BaseModel):
    """One page of a customer's timeline, newest first.

    Pass ``next_cursor`` as ``before=`` to get the following (older) page; it is ``None``
    on the last page.
    """

    model_config = _FROZEN
    items: tuple[Interaction, ...]
    next_cursor: str | None = None
