"""An in-memory store for tests and prototypes."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import datetime

from omnichannel._errors import StoreConflictError, StoreError
from omnichannel._model import Interaction, Merge, Profile
from omnichannel.storage._protocol import InteractionRecord, MatchKey

__all__ = ["MemoryStore"]

_Pos = tuple[datetime, str]


class _Data:
    def __init__(self) -> None:
        self.profiles: dict[tuple[str, str], Profile] = {}
        self.index: dict[tuple[str, MatchKey], str] = {}
        self.owned: dict[tuple[str, str], set[MatchKey]] = {}
        self.interactions: dict[str, tuple[str, Interaction, str]] = {}
        self.by_source: dict[tuple[str, str, str], str] = {}
        self.by_profile: dict[tuple[str, str], list[_Pos]] = {}
        self.merges: list[Merge] = []


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
        self._d.by_source[source] = interaction.id
        pos = (interaction.occurred_at, interaction.id)
        bisect.insort(self._d.by_profile.setdefault((workspace, profile_id), []), pos)

        def undo() -> None:
            del self._d.interactions[interaction.id]
            del self._d.by_source[source]
            self._d.by_profile[(workspace, profile_id)].remove(pos)

        self.undo.append(undo)

    def move_interactions(self, workspace: str, from_profile: str, to_profile: str) -> int:
        self._writable()
        src = self._d.by_profile.pop((workspace, from_profile), [])
        dst = self._d.by_profile.setdefault((workspace, to_profile), [])
        before_dst = list(dst)
        for _, iid in src:
            ws, interaction, _ = self._d.interactions[iid]
            self._d.interactions[iid] = (ws, interaction, to_profile)
        dst.extend(src)
        dst.sort()

        def undo() -> None:
            for _, iid in src:
                ws, interaction, _ = self._d.interactions[iid]
                self._d.interactions[iid] = (ws, interaction, from_profile)
            self._d.by_profile[(workspace, from_profile)] = src
            self._d.by_profile[(workspace, to_profile)] = before_dst

        self.undo.append(undo)
        return len(src)

    def add_merge(self, merge: Merge) -> None:
        self._writable()
        self._d.merges.append(merge)
        self.undo.append(lambda: self._d.merges.remove(merge))

    def merges(self, workspace: str, profile_id: str) -> list[Merge]:
        return [
            m
            for m in self._d.merges
            if m.workspace == workspace and profile_id in (m.survivor_id, m.absorbed_id)
        ]

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
