"""An in-memory store for tests and prototypes."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

from omnichannel._errors import StoreConflictError, StoreError
from omnichannel._model import Interaction, Merge, Profile, ReviewItem, ReviewStatus
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
        return InteractionRecord(iid, self._d.interactions[iid][2])

    def owners(self, workspace: str, matches: Collection[MatchKey]) -> dict[MatchKey, str]:
        found: dict[MatchKey, str] = {}
        for match in matches:
            owner = self._d.index.get((workspace, match))
            if owner is not None:
                found[match] = owner
        return found

    def get_profile(self, workspace: str, profile_id: str, *, lock: bool = False) -> Profile | None:
        return self._d.profiles.get((workspace, profile_id))

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

        def undo() -> None:
            del self._d.interactions[interaction.id]
            del self._d.origins[interaction.id]
            del self._d.by_source[source]
            self._d.by_profile[(workspace, profile_id)].remove(pos)

        self.undo.append(undo)

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
