"""Conversations that continue across channels: which conversation an interaction joins.

In the transaction that stores the interaction, once its customer is known:

1. An explicit ``conversation_id`` files it there (a CRM ticket); the conversation is
   created if it does not exist.
2. A reply reference threads it: ``reply_to``, then the email ``References`` chain
   (``metadata["references"]``, newest first), looked up as source ids on the same
   channel. A closed conversation is reopened by a reply to it.
3. Otherwise an interaction of a conversing kind (messages, calls, visits by default)
   joins the customer's most recently active open conversation if that was active within
   the window, whatever the channel. Open conversations idle longer than the window are
   closed as they are passed over.
4. Otherwise a conversing kind opens a new conversation; an order or a status update
   stays outside conversations.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from omnichannel._errors import InvalidValueError
from omnichannel._model import (
    Conversation,
    ConversationStatus,
    Direction,
    Event,
    EventType,
    Interaction,
    InteractionKind,
    clean_topics,
    new_id,
)
from omnichannel.storage._protocol import Transaction

__all__ = ["ConversationSettings", "file_interaction", "with_interaction"]

_MAX_REFERENCES = 10


class ConversationSettings(BaseModel):
    """How interactions are grouped into conversations.

    Attributes:
        window: an interaction joins the customer's open conversation if that was active
            at most this long before (or after: imports arrive out of order).
        kinds: the kinds that converse; others (orders, returns, status updates) join a
            conversation only through an explicit id or a reply reference.
        close_idle: close an open conversation idle for longer than the window when a
            newer interaction passes it over.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    window: timedelta = Field(default=timedelta(hours=24), gt=timedelta(0))
    kinds: frozenset[str] = frozenset(
        {
            InteractionKind.MESSAGE.value,
            InteractionKind.CALL.value,
            InteractionKind.VISIT.value,
            InteractionKind.NOTE.value,
        }
    )
    close_idle: bool = True


def with_interaction(conversation: Conversation, interaction: Interaction) -> Conversation:
    """``conversation`` updated by one more interaction (reopened if it was closed)."""
    at = interaction.occurred_at
    inbound = interaction.direction is Direction.INBOUND
    first_inbound = conversation.first_inbound_at
    if inbound and (first_inbound is None or at < first_inbound):
        first_inbound = at
    response = conversation.first_response_at
    if (
        interaction.direction is Direction.OUTBOUND
        and first_inbound is not None
        and at >= first_inbound
        and (response is None or at < response)
    ):
        response = at
    channels = conversation.channels
    if interaction.channel not in channels:
        channels = (*channels, interaction.channel)
    return conversation.model_copy(
        update={
            "status": ConversationStatus.OPEN,
            "closed_at": None,
            "channels": channels,
            "topics": clean_topics((*conversation.topics, *interaction.topics)),
            "opened_at": min(conversation.opened_at, at),
            "last_activity_at": max(conversation.last_activity_at, at),
            "first_inbound_at": first_inbound,
            "first_response_at": response,
            "interaction_count": conversation.interaction_count + 1,
        }
    )


def _references(interaction: Interaction) -> list[str]:
    refs = [interaction.reply_to] if interaction.reply_to else []
    chain = interaction.metadata.get("references")
    if isinstance(chain, list):
        refs.extend(str(r) for r in reversed(chain[-_MAX_REFERENCES:]) if r)
    return list(dict.fromkeys(refs))


def _threaded(
    tx: Transaction, workspace: str, interaction: Interaction, profile_id: str
) -> Conversation | None:
    for ref in _references(interaction):
        record = tx.find_interaction(workspace, interaction.channel, ref)
        if record is None or record.conversation_id is None:
            continue
        found = tx.get_conversation(workspace, record.conversation_id)
        if found is not None and found.profile_id == profile_id:
            return found
    return None


def _event(kind: EventType, conversation: Conversation, at: datetime) -> Event:
    return Event(
        workspace=conversation.workspace,
        type=kind,
        occurred_at=at,
        profile_id=conversation.profile_id,
        data={"conversation_id": conversation.id, "channels": list(conversation.channels)},
    )


def file_interaction(
    tx: Transaction,
    workspace: str,
    interaction: Interaction,
    profile_id: str,
    settings: ConversationSettings,
    now: datetime,
    events: list[Event],
    *,
    new_profile: bool = False,
) -> Interaction:
    """File ``interaction`` (about to be stored on ``profile_id``) in its conversation,
    writing the conversation; returns the interaction carrying ``conversation_id``.
    ``new_profile``: the profile was created for this interaction, so it has no
    conversation to continue and none is looked up.

    Raises:
        InvalidValueError: ``conversation_id`` names another customer's conversation.
    """
    found: Conversation | None = None
    explicit = interaction.conversation_id
    if explicit is not None:
        found = tx.get_conversation(workspace, explicit)
        if found is not None and found.profile_id != profile_id:
            raise InvalidValueError(
                "conversation_id", explicit, "is another customer's conversation", mask=False
            )
    if found is None and explicit is None and not new_profile:
        found = _threaded(tx, workspace, interaction, profile_id)
    if found is None and explicit is None:
        if interaction.kind not in settings.kinds:
            return interaction
        if not new_profile:
            found = _open_within(tx, workspace, interaction, profile_id, settings, now, events)
    if found is None:
        found = Conversation(
            id=explicit or new_id(),
            workspace=workspace,
            profile_id=profile_id,
            opened_at=interaction.occurred_at,
            last_activity_at=interaction.occurred_at,
        )
        events.append(_event(EventType.CONVERSATION_OPENED, found, now))
    updated = with_interaction(found, interaction)
    tx.put_conversation(updated)
    return interaction.model_copy(update={"conversation_id": updated.id})


def _open_within(
    tx: Transaction,
    workspace: str,
    interaction: Interaction,
    profile_id: str,
    settings: ConversationSettings,
    now: datetime,
    events: list[Event],
) -> Conversation | None:
    """The open conversation the interaction joins by the window rule, closing idle ones."""
    at = interaction.occurred_at
    candidates: Sequence[Conversation] = tx.conversations(
        workspace, profile_id, status=ConversationStatus.OPEN, limit=20
    )
    chosen: Conversation | None = None
    for conversation in candidates:
        if chosen is None and abs(at - conversation.last_activity_at) <= settings.window:
            chosen = conversation
        elif settings.close_idle and at - conversation.last_activity_at > settings.window:
            closed = conversation.model_copy(
                update={
                    "status": ConversationStatus.CLOSED,
                    "closed_at": conversation.last_activity_at,
                }
            )
            tx.put_conversation(closed)
            events.append(_event(EventType.CONVERSATION_CLOSED, closed, now))
    return chosen
