"""Implementation of :mod:`omnichannel.privacy` (documented there)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from omnichannel._model import Consent, Conversation, Interaction, Merge, Profile, ReviewItem
from omnichannel.storage._protocol import MatchKey

__all__ = ["ForgetResult", "ProfileExport", "suppression_digest"]


def suppression_digest(salt: bytes, match: MatchKey) -> str:
    """The digest a suppression entry keeps for an identifier's match key."""
    kind, namespace, key = match
    return hashlib.sha256(salt + f"{kind}\x1f{namespace}\x1f{key}".encode()).hexdigest()


class ProfileExport(BaseModel):
    """Everything the store holds about one customer; ``model_dump_json()`` writes it.

    Attributes:
        exported_at: when the export was made.
        profile: the live profile.
        merged_profiles: the profiles merged into it, as stored.
        interactions: every interaction on the customer's timeline, newest first.
        conversations: the customer's conversations.
        consents: every consent record the customer's answers rest on.
        merges: the merges that built the profile, with their evidence and snapshots.
        reviews: review items naming the customer's profiles.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    exported_at: datetime
    profile: Profile
    merged_profiles: tuple[Profile, ...] = ()
    interactions: tuple[Interaction, ...] = ()
    conversations: tuple[Conversation, ...] = ()
    consents: tuple[Consent, ...] = ()
    merges: tuple[Merge, ...] = ()
    reviews: tuple[ReviewItem, ...] = ()


class ForgetResult(BaseModel):
    """What :meth:`Hub.forget <omnichannel.Hub.forget>` erased.

    Attributes:
        profile_ids: the erased profiles (the live one and those merged into it).
        interactions: how many interactions were deleted.
        suppressed: how many identifiers got a suppression entry.
        kept_shared: how many identifiers were left to other customers who share them.
        event_id: the ``profile.forgotten`` event recording the erasure.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    profile_ids: tuple[str, ...]
    interactions: int
    suppressed: int
    kept_shared: int
    event_id: str
