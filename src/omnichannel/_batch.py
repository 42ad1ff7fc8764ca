"""One ingest batch's lookups, made once for the whole batch.

Resolving an interaction asks the store whether it is already stored, who owns its
identifiers, who shares them and whether a forgotten customer's digests match them: four
lookups per interaction, each a statement (and on PostgreSQL a round trip).
:class:`BatchTransaction` asks each question once for the whole batch before the first
interaction is resolved, then answers the per-interaction calls from what it read,
keeping those answers true as the batch writes (claims, releases, shares, inserts).

Writes of interactions and conversations are grouped too: they are kept until the batch
ends (or until something reads those tables through the store) and then written with
one statement each (``executemany``); lookups of them in the meantime are answered from
what is pending.

Nothing is skipped: every interaction is still checked for duplicates, resolved under
the merge policy and checked against suppressions; only the reads and writes are
grouped. Writers
racing on PostgreSQL are caught as before, by the locks and checks of the writes
themselves (a claim of an identifier someone else took, a profile merged meanwhile),
which raise :class:`~omnichannel.StoreConflictError` and retry the batch with fresh
reads.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from omnichannel._errors import StoreConflictError
from omnichannel._model import Conversation, ConversationStatus, Interaction, Profile
from omnichannel.storage._protocol import InteractionRecord, MatchKey, Transaction

__all__ = ["BatchTransaction"]

_SourceKey = tuple[str, str]

# Store methods that neither read nor change interactions or conversations: they need no
# pending write flushed first.
_UNRELATED = frozenset(
    {
        "add_apart",
        "add_consent",
        "add_events",
        "add_suppressions",
        "candidates",
        "consents",
        "get_merge",
        "get_profile",
        "get_review",
        "is_apart",
        "list_profiles",
        "merges",
        "put_merge",
        "put_review",
        "reviews",
        "salt",
        "set_blocking_keys",
    }
)


class BatchTransaction:
    """``tx`` answering one batch's duplicate, owner, sharer and suppression lookups
    from reads made up front, and holding its interaction and conversation writes until
    :meth:`flush`. Any other store call flushes first, then goes to ``tx`` unchanged,
    unless it touches neither table (``_UNRELATED``)."""

    def __init__(self, tx: Transaction, workspace: str) -> None:
        self._tx = tx
        self._workspace = workspace
        self._stored: dict[_SourceKey, InteractionRecord | None] = {}
        self._owners: dict[MatchKey, str | None] = {}
        self._sharers: dict[MatchKey, list[str]] = {}
        self._suppressed: dict[str, bool] = {}
        self._new_interactions: list[tuple[Interaction, str]] = []
        self._conversations: dict[str, Conversation] = {}  # pending writes, latest each
        self._threads: dict[str, set[str]] = {}  # profile id -> its pending conversations

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._tx, name)
        if name in _UNRELATED or not callable(found):
            return found

        def after_pending_writes(*args: Any, **kwargs: Any) -> Any:
            self.flush()  # what the store answers must include the pending writes
            return found(*args, **kwargs)

        return after_pending_writes

    def flush(self) -> None:
        """Write the pending interactions and conversations to the store."""
        if self._new_interactions:
            rows, self._new_interactions = self._new_interactions, []
            self._tx.insert_interactions(self._workspace, rows)
        if self._conversations:
            pending = list(self._conversations.values())
            self._conversations, self._threads = {}, {}
            self._tx.put_conversations(pending)

    def prefetch(self, batch: Iterable[Interaction], digest: Callable[[MatchKey], str]) -> None:
        """Read what resolving ``batch`` will ask: stored source keys, owners and sharers
        of its identifiers, and whether those nobody owns are suppressed (``digest`` is
        the suppression digest of an identifier)."""
        items = list(batch)
        sources = list(dict.fromkeys((i.channel, i.idempotency_key) for i in items))
        stored = self._tx.find_interactions(self._workspace, sources)
        self._stored.update({key: stored.get(key) for key in sources})
        matches = list(dict.fromkeys(ident.match for i in items for ident in i.identifiers))
        owners = self._tx.owners(self._workspace, matches)
        self._owners.update({match: owners.get(match) for match in matches})
        owned = [match for match in matches if owners.get(match) is not None]
        sharers = self._tx.sharers(self._workspace, owned)
        self._sharers.update({match: sharers.get(match, []) for match in owned})
        digests = {digest(match) for match in matches if owners.get(match) is None}
        hits = self._tx.suppressed(self._workspace, digests)
        self._suppressed.update({d: d in hits for d in digests})

    # --- reads answered from the batch's reads -----------------------------------------

    def find_interaction(
        self, workspace: str, channel: str, idempotency_key: str
    ) -> InteractionRecord | None:
        key = (channel, idempotency_key)
        if workspace == self._workspace and key in self._stored:
            return self._stored[key]  # every pending insert is recorded here
        return self._tx.find_interaction(workspace, channel, idempotency_key)

    def get_conversation(self, workspace: str, conversation_id: str) -> Conversation | None:
        pending = self._conversations.get(conversation_id)
        if pending is not None and pending.workspace == workspace:
            return pending
        return self._tx.get_conversation(workspace, conversation_id)

    def conversations(
        self,
        workspace: str,
        profile_id: str,
        *,
        status: ConversationStatus | None = None,
        limit: int = 100,
    ) -> list[Conversation]:
        pending = [self._conversations[c] for c in self._threads.get(profile_id, ())]
        pending = [c for c in pending if c.workspace == workspace]
        # each pending version can displace at most one stored row: read that many more
        stored = self._tx.conversations(
            workspace, profile_id, status=status, limit=limit + len(pending)
        )
        merged = {c.id: c for c in stored}
        merged.update({c.id: c for c in pending})
        found = [c for c in merged.values() if status is None or c.status is status]
        found.sort(key=lambda c: (c.last_activity_at, c.id), reverse=True)
        return found[:limit]

    def owners(self, workspace: str, matches: Collection[MatchKey]) -> dict[MatchKey, str]:
        if workspace != self._workspace:
            return self._tx.owners(workspace, matches)
        missing = [m for m in matches if m not in self._owners]
        if missing:
            read = self._tx.owners(workspace, missing)
            self._owners.update({m: read.get(m) for m in missing})
        return {m: owner for m in matches if (owner := self._owners[m]) is not None}

    def sharers(self, workspace: str, matches: Collection[MatchKey]) -> dict[MatchKey, list[str]]:
        if workspace != self._workspace:
            return self._tx.sharers(workspace, matches)
        missing = [m for m in matches if m not in self._sharers]
        if missing:
            read = self._tx.sharers(workspace, missing)
            self._sharers.update({m: read.get(m, []) for m in missing})
        return {m: list(found) for m in matches if (found := self._sharers[m])}

    def suppressed(self, workspace: str, digests: Collection[str]) -> set[str]:
        if workspace != self._workspace or any(d not in self._suppressed for d in digests):
            return self._tx.suppressed(workspace, digests)
        return {d for d in digests if self._suppressed[d]}

    # --- writes that change those answers ------------------------------------------------

    def put_profile(
        self,
        profile: Profile,
        *,
        claim: Collection[MatchKey] = (),
        release: Collection[MatchKey] = (),
    ) -> None:
        self._tx.put_profile(profile, claim=claim, release=release)
        if profile.workspace != self._workspace:
            return
        for match in release:  # the store releases only what this profile owns
            if self._owners.get(match) == profile.id:
                self._owners[match] = None
        for match in claim:
            self._owners[match] = profile.id

    def add_sharer(self, workspace: str, match: MatchKey, profile_id: str) -> None:
        self._tx.add_sharer(workspace, match, profile_id)
        known = self._sharers.get(match) if workspace == self._workspace else None
        if known is not None and profile_id not in known:
            self._sharers[match] = [*known, profile_id]

    def insert_interaction(self, workspace: str, interaction: Interaction, profile_id: str) -> None:
        key = (interaction.channel, interaction.idempotency_key)
        if workspace != self._workspace or key not in self._stored:
            self.flush()
            self._tx.insert_interaction(workspace, interaction, profile_id)
            return
        if self._stored[key] is not None:
            raise StoreConflictError("interaction already stored")
        self._new_interactions.append((interaction, profile_id))
        self._stored[key] = InteractionRecord(
            interaction.id, profile_id, interaction.conversation_id
        )

    def put_conversation(self, conversation: Conversation) -> None:
        if conversation.workspace != self._workspace:
            self.flush()
            self._tx.put_conversation(conversation)
            return
        previous = self._conversations.get(conversation.id)
        if previous is not None and previous.profile_id != conversation.profile_id:
            self._threads[previous.profile_id].discard(conversation.id)
        self._conversations[conversation.id] = conversation
        self._threads.setdefault(conversation.profile_id, set()).add(conversation.id)

    def move_interactions(
        self,
        workspace: str,
        from_profile: str,
        to_profile: str,
        *,
        origins: Collection[str] | None = None,
    ) -> int:
        # A merge moves stored interactions, so records read for this batch may name the
        # absorbed profile. They would still resolve (merged ids lead to the survivor);
        # they are read again instead, so that nothing stale is handed out.
        self.flush()
        self._stored = {key: None for key, record in self._stored.items() if record is None}
        return self._tx.move_interactions(workspace, from_profile, to_profile, origins=origins)

    def erase(self, workspace: str, profile_ids: Collection[str]) -> int:
        self.flush()
        self._stored.clear()
        self._owners.clear()
        self._sharers.clear()
        self._suppressed.clear()
        return self._tx.erase(workspace, profile_ids)
