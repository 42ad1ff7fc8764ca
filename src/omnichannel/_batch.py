"""One ingest batch's reads, made once for the whole batch, and its writes, made once.

Resolving an interaction asks the store whether it is already stored, who owns its
identifiers, who shares them, whether a forgotten customer's digests match them, the
profiles involved and their open conversations: six lookups per interaction, each a
statement (and on PostgreSQL a round trip). :class:`BatchTransaction` asks each question
once for the whole batch before the first interaction is resolved, then answers the
per-interaction calls from what it read, keeping those answers true as the batch writes
(claims, releases, shares, inserts, profile and conversation updates).

Writes of profiles (with their identifier claims), interactions and conversations are
grouped too: they are kept until the batch ends (or until something reads those tables
through the store) and then written with one statement each (``executemany``); a
profile or conversation updated by several interactions of the batch is written once.
Lookups in the meantime are answered from what is pending.

Nothing is skipped: every interaction is still checked for duplicates, resolved under
the merge policy and checked against suppressions; only the reads and writes are
grouped. Writers racing on PostgreSQL are caught as before: the batch's profiles are
locked when they are read, and a claim of an identifier someone else took raises
:class:`~omnichannel.StoreConflictError` when the claims are written, which retries the
batch with fresh reads.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from omnichannel._errors import StoreConflictError
from omnichannel._model import Conversation, ConversationStatus, Interaction, Profile
from omnichannel.storage._protocol import InteractionRecord, MatchKey, Transaction

__all__ = ["BatchTransaction"]

_SourceKey = tuple[str, str]

# Store methods that neither read nor change what the batch holds back (profiles,
# identifier owners, interactions, conversations): they need no pending write flushed.
_UNRELATED = frozenset(
    {
        "add_apart",
        "add_consent",
        "add_events",
        "add_suppressions",
        "candidates",
        "consents",
        "get_merge",
        "get_review",
        "is_apart",
        "merges",
        "put_merge",
        "put_review",
        "reviews",
        "salt",
        "set_blocking_keys",
    }
)


_REREADS = 3
"""Times a prefetch reads owners again after finding a profile it locked merged away."""


class BatchTransaction:
    """``tx`` answering one batch's lookups from reads made up front, and holding its
    profile, interaction and conversation writes until :meth:`flush`. Any other store
    call flushes first, then goes to ``tx`` unchanged, unless it touches none of what is
    held back (``_UNRELATED``)."""

    def __init__(self, tx: Transaction, workspace: str) -> None:
        self._tx = tx
        self._workspace = workspace
        self._stored: dict[_SourceKey, InteractionRecord | None] = {}
        self._owners: dict[MatchKey, str | None] = {}  # as the batch has left them
        self._owners_stored: dict[MatchKey, str | None] = {}  # as the store has them
        self._claimed: set[MatchKey] = set()  # owners changed since the last flush
        self._sharers: dict[MatchKey, list[str]] = {}
        self._suppressed: dict[str, bool] = {}
        self._profiles: dict[str, Profile] = {}  # latest version of each profile read
        self._locked: set[str] = set()
        self._new_profiles: dict[str, Profile] = {}  # pending writes
        self._new_interactions: list[tuple[Interaction, str]] = []
        self._conversations: dict[str, Conversation] = {}  # pending writes, latest each
        self._threads: dict[str, set[str]] = {}  # profile id -> its pending conversations
        # profile id -> every open conversation it has (stored or pending), when known
        self._open: dict[str, dict[str, Conversation]] = {}
        self._open_of: dict[str, str] = {}  # conversation id -> its profile in _open

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._tx, name)
        if name in _UNRELATED or not callable(found):
            return found

        def after_pending_writes(*args: Any, **kwargs: Any) -> Any:
            self.flush()  # what the store answers must include the pending writes
            return found(*args, **kwargs)

        return after_pending_writes

    def flush(self) -> None:
        """Write the pending profiles, claims, interactions and conversations."""
        self._flush_profiles()
        self._flush_rows()

    def _flush_rows(self) -> None:
        if self._new_interactions:
            rows, self._new_interactions = self._new_interactions, []
            self._tx.insert_interactions(self._workspace, rows)
        if self._conversations:
            pending = list(self._conversations.values())
            self._conversations, self._threads = {}, {}
            self._tx.put_conversations(pending)

    def _flush_profiles(self) -> None:
        if not self._new_profiles:
            return
        stored, now = self._owners_stored, self._owners
        # Keys and profiles in sorted order: concurrent batches take their row and key
        # locks in one order on PostgreSQL, so they wait for each other instead of
        # deadlocking.
        changed = sorted(self._claimed)
        release = [
            (m, before)
            for m in changed
            if (before := stored.get(m)) is not None and before != now[m]
        ]
        claim = [(m, owner) for m in changed if (owner := now[m]) not in (None, stored.get(m))]
        profiles = [self._new_profiles[pid] for pid in sorted(self._new_profiles)]
        self._new_profiles = {}
        self._tx.put_profiles(profiles, claim=claim, release=release)
        stored.update((m, now[m]) for m in self._claimed)
        self._claimed.clear()

    def prefetch(self, batch: Iterable[Interaction], digest: Callable[[MatchKey], str]) -> None:
        """Read what resolving ``batch`` will ask: stored source keys, owners and sharers
        of its identifiers, whether those nobody owns are suppressed (``digest`` is the
        suppression digest of an identifier), the profiles involved (locked) and their
        open conversations."""
        ws, tx = self._workspace, self._tx
        items = list(batch)
        sources = list(dict.fromkeys((i.channel, i.idempotency_key) for i in items))
        stored = tx.find_interactions(ws, sources)
        self._stored.update({key: stored.get(key) for key in sources})
        matches = list(dict.fromkeys(ident.match for i in items for ident in i.identifiers))
        self._read_owners(matches)
        locked: list[str] = []
        for _ in range(_REREADS):
            owned = [match for match in matches if self._owners[match] is not None]
            sharers = tx.sharers(ws, owned)
            self._sharers.update({match: sharers.get(match, []) for match in owned})
            digests = {digest(m) for m in matches if self._owners[m] is None} - set(
                self._suppressed
            )
            hits = tx.suppressed(ws, digests)
            self._suppressed.update({d: d in hits for d in digests})
            involved = {self._owners[m] for m in owned}
            involved.update(p for m in owned for p in self._sharers[m])
            wanted = sorted(p for p in involved if p is not None and p not in self._locked)
            self._profiles.update(tx.get_profiles(ws, wanted, lock=True))
            self._locked.update(wanted)
            locked.extend(wanted)
            if all(p in self._profiles and self._profiles[p].is_live for p in wanted):
                break
            # A concurrent writer merged or erased some of them while this batch waited
            # for their locks (PostgreSQL): their identifiers have other owners now.
            # Read the owners again and lock those, instead of failing the batch later.
            fresh = tx.owners(ws, matches)
            for m in matches:
                self._owners[m] = self._owners_stored[m] = fresh.get(m)
        live = [p for p in locked if p in self._profiles and self._profiles[p].is_live]
        found = tx.open_conversations(ws, live)
        for pid in live:
            self._know_open(pid, found.get(pid, []))

    def _read_owners(self, matches: Collection[MatchKey]) -> None:
        missing = [m for m in matches if m not in self._owners]
        if missing:
            read = self._tx.owners(self._workspace, missing)
            for m in missing:
                self._owners[m] = self._owners_stored[m] = read.get(m)

    def _know_open(self, profile_id: str, conversations: Iterable[Conversation]) -> None:
        self._forget_open(profile_id)
        self._open[profile_id] = {c.id: c for c in conversations}
        self._open_of.update((cid, profile_id) for cid in self._open[profile_id])

    def _forget_open(self, profile_id: str) -> list[Conversation] | None:
        known = self._open.pop(profile_id, None)
        if known is None:
            return None
        for cid in known:
            del self._open_of[cid]
        return list(known.values())

    # --- reads answered from the batch's reads -----------------------------------------

    def find_interaction(
        self, workspace: str, channel: str, idempotency_key: str
    ) -> InteractionRecord | None:
        key = (channel, idempotency_key)
        if workspace == self._workspace and key in self._stored:
            return self._stored[key]  # every pending insert is recorded here
        return self._tx.find_interaction(workspace, channel, idempotency_key)

    def get_profile(self, workspace: str, profile_id: str, *, lock: bool = False) -> Profile | None:
        if workspace != self._workspace:
            return self._tx.get_profile(workspace, profile_id, lock=lock)
        pending = self._new_profiles.get(profile_id)
        if pending is not None:
            return pending  # written by this batch: new, or read (and locked) before
        known = self._profiles.get(profile_id)
        if known is not None and (not lock or profile_id in self._locked):
            return known
        found = self._tx.get_profile(workspace, profile_id, lock=lock)
        if found is not None:
            self._profiles[profile_id] = found
            if lock:
                self._locked.add(profile_id)
        return found

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
        if workspace == self._workspace and status is ConversationStatus.OPEN:
            if profile_id not in self._open:
                self._read_open(profile_id)
            found = sorted(
                self._open[profile_id].values(),
                key=lambda c: (c.last_activity_at, c.id),
                reverse=True,
            )
            return found[:limit]
        if workspace != self._workspace:
            return self._tx.conversations(workspace, profile_id, status=status, limit=limit)
        # each pending version can displace at most one stored row: read that many more
        stored = self._tx.conversations(
            workspace, profile_id, status=status, limit=limit + len(self._conversations)
        )
        merged = {c.id: self._conversations.get(c.id, c) for c in stored}
        merged.update((c, self._conversations[c]) for c in self._threads.get(profile_id, ()))
        found = [
            c
            for c in merged.values()
            if c.profile_id == profile_id and (status is None or c.status is status)
        ]
        found.sort(key=lambda c: (c.last_activity_at, c.id), reverse=True)
        return found[:limit]

    def _read_open(self, profile_id: str) -> None:
        """Learn every open conversation of ``profile_id``: the stored ones, as the
        pending writes have changed them, and the pending ones."""
        stored = self._tx.open_conversations(self._workspace, [profile_id]).get(profile_id, [])
        current = [self._conversations.get(c.id, c) for c in stored]
        current.extend(self._conversations[c] for c in self._threads.get(profile_id, ()))
        self._know_open(
            profile_id,
            [
                c
                for c in current
                if c.profile_id == profile_id and c.status is ConversationStatus.OPEN
            ],
        )

    def owners(self, workspace: str, matches: Collection[MatchKey]) -> dict[MatchKey, str]:
        if workspace != self._workspace:
            return self._tx.owners(workspace, matches)
        self._read_owners(matches)
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

    # --- writes, held back or passed on -------------------------------------------------

    def put_profile(
        self,
        profile: Profile,
        *,
        claim: Collection[MatchKey] = (),
        release: Collection[MatchKey] = (),
    ) -> None:
        if profile.workspace != self._workspace:
            self._tx.put_profile(profile, claim=claim, release=release)
            return
        pid = profile.id
        self._read_owners([*release, *claim])
        for match in release:  # the store releases only what this profile owns
            if self._owners[match] == pid:
                self._owners[match] = None
                self._claimed.add(match)
        for match in claim:
            owner = self._owners[match]
            if owner is not None and owner != pid:
                raise StoreConflictError("an identifier is owned by another profile")
            self._owners[match] = pid
            self._claimed.add(match)
        self._profiles[pid] = self._new_profiles[pid] = profile

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
        cid, pid = conversation.id, conversation.profile_id
        previous = self._conversations.get(cid)
        if previous is not None and previous.profile_id != pid:
            self._threads[previous.profile_id].discard(cid)
        self._conversations[cid] = conversation
        self._threads.setdefault(pid, set()).add(cid)
        held_by = self._open_of.pop(cid, None)
        if held_by is not None:
            del self._open[held_by][cid]
        if conversation.status is ConversationStatus.OPEN and pid in self._open:
            self._open[pid][cid] = conversation
            self._open_of[cid] = pid

    def move_interactions(
        self,
        workspace: str,
        from_profile: str,
        to_profile: str,
        *,
        origins: Collection[str] | None = None,
    ) -> int:
        # Pending rows are written first, so that they move (and keep their origin).
        self._flush_rows()
        if origins is None and workspace == self._workspace:
            self._stored = {
                key: record
                if record is None or record.profile_id != from_profile
                else record._replace(profile_id=to_profile)
                for key, record in self._stored.items()
            }
        else:  # records read for this batch may be stale: they are read again
            self._stored = {key: None for key, record in self._stored.items() if record is None}
        return self._tx.move_interactions(workspace, from_profile, to_profile, origins=origins)

    def move_conversations(
        self,
        workspace: str,
        from_profile: str,
        to_profile: str,
        *,
        origins: Collection[str] | None = None,
    ) -> int:
        self._flush_rows()  # the store moves what it holds
        moved = self._tx.move_conversations(workspace, from_profile, to_profile, origins=origins)
        if workspace != self._workspace:
            return moved
        leaving = self._forget_open(from_profile)
        staying = self._forget_open(to_profile)
        if origins is None and leaving is not None and staying is not None:
            joined = [c.model_copy(update={"profile_id": to_profile}) for c in leaving]
            self._know_open(to_profile, [*staying, *joined])
        return moved

    def erase(self, workspace: str, profile_ids: Collection[str]) -> int:
        self.flush()
        for known in (self._stored, self._owners, self._owners_stored, self._sharers):
            known.clear()
        self._suppressed.clear()
        self._profiles.clear()
        self._locked.clear()
        self._open.clear()
        self._open_of.clear()
        return self._tx.erase(workspace, profile_ids)
