"""Privacy: everything held about a customer, and erasure that stays erased.

:meth:`Hub.export <omnichannel.Hub.export>` gathers what the store holds about a person
(a data subject access request): the profile, the profiles merged into it, identifiers,
every interaction, conversations, consents, merges and review items.

:meth:`Hub.forget <omnichannel.Hub.forget>` erases it: the profile and those merged into
it, their identifiers, interactions (content and traits with them), conversations,
consents, merge snapshots and review items. What stays:

* a **suppression entry** per identifier: a SHA-256 digest of the identifier's match key
  with a secret salt of the workspace, so an old import or a redelivered webhook
  carrying it is recognised and not stored (outcome ``suppressed``), while the digest
  alone does not reveal the phone number or address;
* a ``profile.forgotten`` event recording that an erasure happened, with profile ids and
  counts but no personal data.

Identifiers another customer still uses (a shared family phone) are neither suppressed
nor taken from that customer. Phones or addresses written inside *other* customers'
messages (their ``mentions``) are theirs and stay.
"""

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
