"""What an agent needs about a customer, on any channel, in one call."""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel, ConfigDict

from omnichannel._consent import ConsentPolicy, ContactDecision, decide
from omnichannel._model import (
    ANY,
    Consent,
    Conversation,
    ConversationStatus,
    Direction,
    Interaction,
    InteractionKind,
    Profile,
    ProfileIdentifier,
    Purpose,
)
from omnichannel.storage._protocol import Transaction

__all__ = ["CustomerContext", "build_context"]


class CustomerContext(BaseModel):
    """The customer at a glance (:meth:`Hub.context <omnichannel.Hub.context>`).

    Attributes:
        profile: the live profile.
        identifiers: its identifiers, most recently seen first.
        consents: the contact answer for each channel the customer used or answered
            about, for marketing and service (and any other purpose on record).
        open_conversations: open conversations, latest activity first.
        recent_interactions: the latest interactions across all channels, newest first.
        recent_orders: the latest orders among those interactions.
        recent_returns: the latest returns among them.
        topics: topics of the recent interactions and open conversations, most frequent
            first.
        preferred_channel: the channel the customer wrote or called on most among the
            recent interactions (the latest wins a tie); None if they never did.
        last_channel: the channel of the newest interaction.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    profile: Profile
    identifiers: tuple[ProfileIdentifier, ...]
    consents: tuple[ContactDecision, ...]
    open_conversations: tuple[Conversation, ...]
    recent_interactions: tuple[Interaction, ...]
    recent_orders: tuple[Interaction, ...]
    recent_returns: tuple[Interaction, ...]
    topics: tuple[str, ...]
    preferred_channel: str | None
    last_channel: str | None


def _preferred(recent: list[Interaction]) -> str | None:
    inbound = [i.channel for i in recent if i.direction is Direction.INBOUND]
    if not inbound:
        return None
    counts = Counter(inbound)
    best = max(counts.values())
    return next(channel for channel in inbound if counts[channel] == best)  # newest first


def build_context(
    tx: Transaction,
    profile: Profile,
    people: set[str],
    policy: ConsentPolicy,
    *,
    interactions: int,
) -> CustomerContext:
    """Assemble the context of the live ``profile`` (whose histories are ``people``)."""
    workspace = profile.workspace
    recent = tx.timeline(workspace, profile.id, limit=interactions)
    open_ = tx.conversations(workspace, profile.id, status=ConversationStatus.OPEN, limit=20)
    records: list[Consent] = tx.consents(workspace, people)
    channels = dict.fromkeys(i.channel for i in recent)
    channels.update(dict.fromkeys(r.channel for r in records if r.channel != ANY))
    purposes = dict.fromkeys([Purpose.MARKETING.value, Purpose.SERVICE.value])
    purposes.update(dict.fromkeys(r.purpose for r in records if r.purpose != ANY))
    decisions = tuple(
        decide(records, people, channel, purpose, policy)
        for channel in channels
        for purpose in purposes
    )
    topics = Counter(t for i in recent for t in i.topics)
    topics.update(t for c in open_ for t in c.topics)
    return CustomerContext(
        profile=profile,
        identifiers=tuple(sorted(profile.identifiers, key=lambda e: e.last_seen, reverse=True)),
        consents=decisions,
        open_conversations=tuple(open_),
        recent_interactions=tuple(recent),
        recent_orders=tuple(i for i in recent if i.kind == InteractionKind.ORDER.value),
        recent_returns=tuple(i for i in recent if i.kind == InteractionKind.RETURN.value),
        topics=tuple(t for t, _ in topics.most_common()),
        preferred_channel=_preferred(recent),
        last_channel=recent[0].channel if recent else None,
    )
