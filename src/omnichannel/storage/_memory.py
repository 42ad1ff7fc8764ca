"""An in-memory store for tests and prototypes."""

from __future__ import annotations

import bisect
import os
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from omnichannel._errors import StoreConflictError, StoreError
from omnichannel._model import (
    Consent,
    Conversation,
    ConversationStatus,
    Event,
    Interaction,
    Merge,
    Profile,
    ReviewItem,
    ReviewStatus,
)
from omnichannel.storage._protocol import InteractionRecord, MatchKey

__all__ = ["MemoryStore"]

_Pos = tuple[datetime, str]
_V = TypeVar("_V")


class _Data:
    def __init__(self) -> None:
        self.profiles: dict[tuple[str, str], Profile] = {}
        self.index: dict[tuple[str, MatchKey], str] = {}
        self.owned: dict[tuple[str, str], set[MatchKey]] = {}
        self.interactions: dict[str, tuple[str, Interaction, str]] = {}
        self.origins: dict[str, str] = {}
        self.by_source: dict[tuple[str, str, str], str] = {}
        self.by_profile: dict[tuple[str, str], list[_Pos]] = {}
        self.merges: dict[str, Merge] = {}
        self.reviews: dict[str, ReviewItem] = {}
        self.apart: set[tuple[str, str, str]] = set()
        self.sharers: dict[tuple[str, MatchKey], list[str]] = {}
        self.blocking: dict[tuple[str, str], set[str]] = {}  # (ws, key) -> profile ids
        self.blocking_of: dict[tuple[str, str], frozenset[str]] = {}  # (ws, profile) -> keys
        self.by_time: dict[str, list[_Pos]] = {}  # ws -> positions of its interactions
        self.conversations: dict[tuple[str, str], tuple[Conversation, str]] = {}  # +origin
        self.consents: dict[str, list[Consent]] = {}
        self.events: list[Event] = []
        self.salts: dict[str, bytes] = {}
        self.suppressions: set[tuple[str, str]] = set()


class _MemoryTransaction:
    """A transaction over :class:`_Data` with an undo log (all-or-nothing)."""

    def __init__(self, data: _Data, readonly: bool) -> None:
        self._d = data
        self._readonly = readonly
        self.undo: list[Callable[[], None]] = []

    def _writable(self) -> None:
        if self._readonly:
            raise StoreError("write attempted in a read-only transaction")

    def find_interaction(
        self, workspace: str, channel: str, idempotency_key: str
    ) -> InteractionRecord | None:
        iid = self._d.by_source.get((workspace, channel, idempotency_key))
        if iid is None:
            return None
        _, interaction, profile_id = self._d.interactions[iid]
        return InteractionRecord(iid, profile_id, interaction.conversation_id)

    def find_interactions(
        self, workspace: str, keys: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], InteractionRecord]:
        found: dict[tuple[str, str], InteractionRecord] = {}
        for channel, key in keys:
            record = self.find_interaction(workspace, channel, key)
            if record is not None:
                found[(channel, key)] = record
        return found

    def owners(self, workspace: str, matches: Collection[MatchKey]) -> dict[MatchKey, str]:
        found: dict[MatchKey, str] = {}
        for match in matches:
            owner = self._d.index.get((workspace, match))
            if owner is not None:
                found[match] = owner
        return found

    def get_profile(self, workspace: str, profile_id: str, *, lock: bool = False) -> Profile | None:
        return self._d.profiles.get((workspace, profile_id))

    def get_profiles(
        self, workspace: str, profile_ids: Collection[str], *, lock: bool = False
    ) -> dict[str, Profile]:
        found = {pid: self._d.profiles.get((workspace, pid)) for pid in profile_ids}
        return {pid: profile for pid, profile in found.items() if profile is not None}

    def list_profiles(
        self, workspace: str, *, after_id: str | None = None, limit: int = 100
    ) -> list[Profile]:
        ids = sorted(
            pid
            for (ws, pid), p in self._d.profiles.items()
            if ws == workspace and p.merged_into is None and (after_id is None or pid > after_id)
        )
        return [self._d.profiles[(workspace, pid)] for pid in ids[:limit]]

    def put_profile(
        self,
        profile: Profile,
        *,
        claim: Collection[MatchKey] = (),
        release: Collection[MatchKey] = (),
    ) -> None:
        self._writable()
        ws, pid = profile.workspace, profile.id
        for match in claim:
            owner = self._d.index.get((ws, match))
            if owner is not None and owner != pid:
                raise StoreConflictError(f"identifier {match[0]} is owned by another profile")
        key = (ws, pid)
        previous = self._d.profiles.get(key)
        owned = self._d.owned.setdefault(key, set())
        released: list[MatchKey] = []
        for match in release:
            if self._d.index.get((ws, match)) == pid:
                del self._d.index[(ws, match)]
                owned.discard(match)
                released.append(match)
        claimed: list[MatchKey] = []
        for match in claim:
            if self._d.index.get((ws, match)) == pid:
                continue
            claimed.append(match)
            self._d.index[(ws, match)] = pid
            owned.add(match)
        self._d.profiles[key] = profile

        def undo() -> None:
            for match in claimed:
                del self._d.index[(ws, match)]
                owned.discard(match)
            for match in released:
                self._d.index[(ws, match)] = pid
                owned.add(match)
            if previous is None:
                del self._d.profiles[key]
            else:
                self._d.profiles[key] = previous

        self.undo.append(undo)

    def insert_interaction(self, workspace: str, interaction: Interaction, profile_id: str) -> None:
        self._writable()
        source = (workspace, interaction.channel, interaction.idempotency_key)
        if source in self._d.by_source or interaction.id in self._d.interactions:
            raise StoreConflictError("interaction already stored")
        self._d.interactions[interaction.id] = (workspace, interaction, profile_id)
        self._d.origins[interaction.id] = profile_id
        self._d.by_source[source] = interaction.id
        pos = (interaction.occurred_at, interaction.id)
        bisect.insort(self._d.by_profile.setdefault((workspace, profile_id), []), pos)
        bisect.insort(self._d.by_time.setdefault(workspace, []), pos)

        def undo() -> None:
            del self._d.interactions[interaction.id]
            del self._d.origins[interaction.id]
            del self._d.by_source[source]
            self._d.by_profile[(workspace, profile_id)].remove(pos)
            self._d.by_time[workspace].remove(pos)

        self.undo.append(undo)

    def put_profiles(
        self,
        profiles: Sequence[Profile],
        *,
        claim: Collection[tuple[MatchKey, str]] = (),
        release: Collection[tuple[MatchKey, str]] = (),
    ) -> None:
        self._writable()
        by_id = {profile.id: profile for profile in profiles}
        releasing: dict[str, list[MatchKey]] = {}
        for match, pid in release:
            releasing.setdefault(pid, []).append(match)
        claiming: dict[str, list[MatchKey]] = {}
        for match, pid in claim:
            claiming.setdefault(pid, []).append(match)
        for pid, matches in releasing.items():  # every release before any claim
            self.put_profile(by_id[pid], release=matches)
        for pid, matches in claiming.items():
            self.put_profile(by_id[pid], claim=matches)
        for profile in profiles:
            if profile.id not in releasing and profile.id not in claiming:
                self.put_profile(profile)

    def insert_interactions(self, workspace: str, rows: Sequence[tuple[Interaction, str]]) -> None:
        for interaction, profile_id in rows:
            self.insert_interaction(workspace, interaction, profile_id)

    def move_interactions(
        self,
        workspace: str,
        from_profile: str,
        to_profile: str,
        *,
        origins: Collection[str] | None = None,
    ) -> int:
        self._writable()
        src_key, dst_key = (workspace, from_profile), (workspace, to_profile)
        src_before = list(self._d.by_profile.get(src_key, []))
        dst_before = list(self._d.by_profile.get(dst_key, []))
        wanted = None if origins is None else set(origins)
        moving: list[_Pos] = []
        staying: list[_Pos] = []
        for pos in src_before:
            origin = self._d.origins[pos[1]]
            (moving if wanted is None or origin in wanted else staying).append(pos)
        for _, iid in moving:
            ws, interaction, _ = self._d.interactions[iid]
            self._d.interactions[iid] = (ws, interaction, to_profile)
        self._d.by_profile[src_key] = staying
        self._d.by_profile[dst_key] = sorted(dst_before + moving)

        def undo() -> None:
            for _, iid in moving:
                ws, interaction, _ = self._d.interactions[iid]
                self._d.interactions[iid] = (ws, interaction, from_profile)
            self._d.by_profile[src_key] = src_before
            self._d.by_profile[dst_key] = dst_before

        self.undo.append(undo)
        return len(moving)

    def _put(self, table: dict[str, _V], key: str, value: _V) -> None:
        self._writable()
        previous = table.get(key)
        table[key] = value

        def undo() -> None:
            if previous is None:
                del table[key]
            else:
                table[key] = previous

        self.undo.append(undo)

    def put_merge(self, merge: Merge) -> None:
        self._put(self._d.merges, merge.id, merge)

    def get_merge(self, workspace: str, merge_id: str) -> Merge | None:
        merge = self._d.merges.get(merge_id)
        return merge if merge is not None and merge.workspace == workspace else None

    def merges(self, workspace: str, profile_id: str) -> list[Merge]:
        found = [
            m
            for m in self._d.merges.values()
            if m.workspace == workspace and profile_id in (m.survivor_id, m.absorbed_id)
        ]
        return sorted(found, key=lambda m: (m.merged_at, m.id))

    def put_review(self, item: ReviewItem) -> None:
        self._put(self._d.reviews, item.id, item)

    def get_review(self, workspace: str, review_id: str) -> ReviewItem | None:
        item = self._d.reviews.get(review_id)
        return item if item is not None and item.workspace == workspace else None

    def reviews(
        self,
        workspace: str,
        *,
        status: ReviewStatus | None = None,
        profile_id: str | None = None,
        limit: int = 100,
    ) -> list[ReviewItem]:
        found = [
            item
            for item in self._d.reviews.values()
            if item.workspace == workspace
            and (status is None or item.status == status)
            and (profile_id is None or profile_id in item.profile_ids)
        ]
        return sorted(found, key=lambda r: (r.created_at, r.id))[:limit]

    def add_apart(self, workspace: str, first: str, second: str) -> None:
        self._writable()
        low, high = sorted((first, second))
        pair = (workspace, low, high)
        if pair in self._d.apart:
            return
        self._d.apart.add(pair)
        self.undo.append(lambda: self._d.apart.discard(pair))

    def is_apart(self, workspace: str, first: str, second: str) -> bool:
        low, high = sorted((first, second))
        return (workspace, low, high) in self._d.apart

    def add_sharer(self, workspace: str, match: MatchKey, profile_id: str) -> None:
        self._writable()
        sharers = self._d.sharers.setdefault((workspace, match), [])
        if profile_id in sharers:
            return
        sharers.append(profile_id)
        self.undo.append(lambda: sharers.remove(profile_id))

    def sharers(self, workspace: str, matches: Collection[MatchKey]) -> dict[MatchKey, list[str]]:
        found = {match: self._d.sharers.get((workspace, match)) for match in matches}
        return {match: list(ids) for match, ids in found.items() if ids}

    def _file(self, workspace: str, profile_id: str, keys: frozenset[str]) -> None:
        old = self._d.blocking_of.get((workspace, profile_id), frozenset())
        for key in old - keys:
            self._d.blocking[(workspace, key)].discard(profile_id)
        for key in keys - old:
            self._d.blocking.setdefault((workspace, key), set()).add(profile_id)
        self._d.blocking_of[(workspace, profile_id)] = keys

    def set_blocking_keys(self, workspace: str, profile_id: str, keys: Collection[str]) -> None:
        self._writable()
        previous = self._d.blocking_of.get((workspace, profile_id), frozenset())
        self._file(workspace, profile_id, frozenset(keys))
        self.undo.append(lambda: self._file(workspace, profile_id, previous))

    def candidates(self, workspace: str, keys: Collection[str], *, limit: int) -> list[str]:
        found: set[str] = set()
        for key in keys:
            found |= self._d.blocking.get((workspace, key), set())
        return sorted(found)[:limit]

    def timeline(
        self,
        workspace: str,
        profile_id: str,
        *,
        limit: int,
        before: tuple[datetime, str] | None = None,
    ) -> list[Interaction]:
        positions = self._d.by_profile.get((workspace, profile_id), [])
        end = len(positions) if before is None else bisect.bisect_left(positions, before)
        start = max(0, end - limit)
        return [self._d.interactions[iid][1] for _, iid in reversed(positions[start:end])]

    def scan_interactions(
        self,
        workspace: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int = 1000,
    ) -> list[tuple[str, Interaction]]:
        positions = self._d.by_time.get(workspace, [])
        found: list[tuple[str, Interaction]] = []
        for _, iid in positions[_start(positions, since, after) :]:
            _, interaction, profile_id = self._d.interactions[iid]
            if len(found) == limit or (until is not None and interaction.occurred_at >= until):
                break
            found.append((profile_id, interaction))
        return found

    def put_conversation(self, conversation: Conversation) -> None:
        self._writable()
        key = (conversation.workspace, conversation.id)
        previous = self._d.conversations.get(key)
        origin = conversation.profile_id if previous is None else previous[1]
        self._d.conversations[key] = (conversation, origin)

        def undo() -> None:
            if previous is None:
                del self._d.conversations[key]
            else:
                self._d.conversations[key] = previous

        self.undo.append(undo)

    def put_conversations(self, conversations: Sequence[Conversation]) -> None:
        for conversation in conversations:
            self.put_conversation(conversation)

    def get_conversation(self, workspace: str, conversation_id: str) -> Conversation | None:
        found = self._d.conversations.get((workspace, conversation_id))
        return None if found is None else found[0]

    def conversations(
        self,
        workspace: str,
        profile_id: str,
        *,
        status: ConversationStatus | None = None,
        limit: int = 100,
    ) -> list[Conversation]:
        found = [
            c
            for (ws, _), (c, _) in self._d.conversations.items()
            if ws == workspace and c.profile_id == profile_id and status in (None, c.status)
        ]
        found.sort(key=lambda c: (c.last_activity_at, c.id), reverse=True)
        return found[:limit]

    def open_conversations(
        self, workspace: str, profile_ids: Collection[str]
    ) -> dict[str, list[Conversation]]:
        wanted = set(profile_ids)
        found: dict[str, list[Conversation]] = {}
        for (ws, _), (c, _) in self._d.conversations.items():
            if ws == workspace and c.profile_id in wanted and c.status is ConversationStatus.OPEN:
                found.setdefault(c.profile_id, []).append(c)
        for conversations in found.values():
            conversations.sort(key=lambda c: (c.last_activity_at, c.id), reverse=True)
        return found

    def move_conversations(
        self,
        workspace: str,
        from_profile: str,
        to_profile: str,
        *,
        origins: Collection[str] | None = None,
    ) -> int:
        self._writable()
        moving = [
            c
            for (ws, _), (c, origin) in self._d.conversations.items()
            if ws == workspace
            and c.profile_id == from_profile
            and (origins is None or origin in origins)
        ]
        for conversation in moving:
            self.put_conversation(conversation.model_copy(update={"profile_id": to_profile}))
        return len(moving)

    def scan_conversations(
        self,
        workspace: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int = 1000,
    ) -> list[Conversation]:
        ordered = sorted(
            (c for (ws, _), (c, _) in self._d.conversations.items() if ws == workspace),
            key=lambda c: (c.opened_at, c.id),
        )
        positions = [(c.opened_at, c.id) for c in ordered]
        start = _start(positions, since, after)
        return [c for c in ordered[start:] if until is None or c.opened_at < until][:limit]

    def add_consent(self, consent: Consent) -> None:
        self._writable()
        history = self._d.consents.setdefault(consent.workspace, [])
        history.append(consent)
        self.undo.append(lambda: history.remove(consent))

    def consents(self, workspace: str, profile_ids: Collection[str]) -> list[Consent]:
        wanted = set(profile_ids)
        found = [c for c in self._d.consents.get(workspace, []) if c.profile_id in wanted]
        return sorted(found, key=lambda c: (c.recorded_at, c.id))

    def add_events(self, events: Sequence[Event]) -> None:
        self._writable()
        log = self._d.events
        start = len(log)
        for event in events:
            log.append(event.model_copy(update={"seq": len(log) + 1, "delivered_at": None}))
        self.undo.append(lambda: log.__delitem__(slice(start, None)))

    def pending_events(self, workspace: str, *, limit: int = 100) -> list[Event]:
        pending = (e for e in self._d.events if e.workspace == workspace and not e.delivered_at)
        return list(islice(pending, limit))

    def ack_events(self, workspace: str, event_ids: Collection[str], at: datetime) -> None:
        self._writable()
        log = self._d.events
        wanted = set(event_ids)
        for n, event in enumerate(log):
            if event.workspace == workspace and event.id in wanted:
                log[n] = event.model_copy(update={"delivered_at": at})

                def undo(n: int = n, event: Event = event) -> None:
                    log[n] = event

                self.undo.append(undo)

    def list_events(
        self, workspace: str, *, after_seq: int | None = None, limit: int = 100
    ) -> list[Event]:
        found = (e for e in self._d.events[after_seq or 0 :] if e.workspace == workspace)
        return list(islice(found, limit))

    def salt(self, workspace: str) -> bytes:
        salt = self._d.salts.get(workspace)
        if salt is None:
            self._writable()
            salt = self._d.salts[workspace] = os.urandom(32)
            self.undo.append(lambda: self._d.salts.__delitem__(workspace))
        return salt

    def add_suppressions(self, workspace: str, digests: Collection[str]) -> None:
        self._writable()
        new = {(workspace, d) for d in digests} - self._d.suppressions
        self._d.suppressions |= new
        self.undo.append(lambda: self._d.suppressions.difference_update(new))

    def suppressed(self, workspace: str, digests: Collection[str]) -> set[str]:
        return {d for d in digests if (workspace, d) in self._d.suppressions}

    def _pop(self, table: dict[Any, Any], key: object) -> None:
        """Delete ``table[key]`` if present, undoably."""
        if key in table:
            value = table.pop(key)
            self.undo.append(lambda: table.__setitem__(key, value))

    def _replace(self, items: list[Any], keep: Callable[[Any], bool]) -> None:
        """Keep only the ``items`` for which ``keep`` is true, in place and undoably."""
        before = list(items)
        items[:] = [item for item in before if keep(item)]
        self.undo.append(lambda: items.__setitem__(slice(None), before))

    def erase(self, workspace: str, profile_ids: Collection[str]) -> int:
        self._writable()
        d = self._d
        ids = set(profile_ids)
        doomed = {
            iid
            for iid, (ws, _, pid) in d.interactions.items()
            if ws == workspace and (pid in ids or d.origins[iid] in ids)
        }
        for iid in doomed:
            _, interaction, pid = d.interactions[iid]
            self._pop(d.interactions, iid)
            self._pop(d.origins, iid)
            self._pop(d.by_source, (workspace, interaction.channel, interaction.idempotency_key))
        for positions in [
            d.by_time.get(workspace, []),
            *(v for (ws, _), v in d.by_profile.items() if ws == workspace),
        ]:
            if any(iid in doomed for _, iid in positions):
                self._replace(positions, lambda pos: pos[1] not in doomed)
        for pid in ids:
            self._pop(d.profiles, (workspace, pid))
            for match in d.owned.get((workspace, pid), set()):
                self._pop(d.index, (workspace, match))
            self._pop(d.owned, (workspace, pid))
            self.set_blocking_keys(workspace, pid, ())
        for key, (conversation, origin) in list(d.conversations.items()):
            if key[0] == workspace and (conversation.profile_id in ids or origin in ids):
                self._pop(d.conversations, key)
        self._replace(d.consents.get(workspace, []), lambda c: c.profile_id not in ids)
        for mid, merge in list(d.merges.items()):
            if merge.workspace == workspace and {merge.survivor_id, merge.absorbed_id} & ids:
                self._pop(d.merges, mid)
        for rid, item in list(d.reviews.items()):
            if item.workspace == workspace and set(item.profile_ids) & ids:
                self._pop(d.reviews, rid)
        gone = {a for a in d.apart if a[0] == workspace and {a[1], a[2]} & ids}
        d.apart -= gone
        self.undo.append(lambda: d.apart.update(gone))
        for (ws, _), sharers in d.sharers.items():
            if ws == workspace and ids & set(sharers):
                self._replace(sharers, lambda pid: pid not in ids)
        return len(doomed)


def _start(positions: list[_Pos], since: datetime | None, after: _Pos | None) -> int:
    """Index of the first position at or after ``since`` and strictly after ``after``."""
    start = 0 if since is None else bisect.bisect_left(positions, (since, ""))
    if after is not None:
        start = max(start, bisect.bisect_right(positions, after))
    return start


class MemoryStore:
    """Keeps everything in process memory, behind one lock; gone when the process ends.

    Transactions are serialized and atomic (an undo log rolls back a failed one), so it
    holds the same invariants as the SQL store and passes the same conformance suite.
    """

    def __init__(self) -> None:
        self._data = _Data()
        self._lock = threading.RLock()
        self._closed = False

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[_MemoryTransaction]:
        """Begin a serialized transaction; see :meth:`omnichannel.storage.Store.transaction`."""
        if self._closed:
            raise StoreError("the store is closed")
        with self._lock:
            tx = _MemoryTransaction(self._data, readonly)
            try:
                yield tx
            except BaseException:
                for undo in reversed(tx.undo):
                    undo()
                raise

    def close(self) -> None:
        """Mark the store closed; later transactions raise StoreError."""
        self._closed = True
