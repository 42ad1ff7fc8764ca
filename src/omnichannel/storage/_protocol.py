"""The storage contract: a :class:`Store` hands out :class:`Transaction` objects.

The Hub does identity resolution; a store only keeps records and holds the invariants
that must survive many processes writing at once:

* one live owner per identifier match key: ``(workspace, kind, namespace, key)`` is unique
  in the identifier index;
* ``(workspace, channel, idempotency key)`` names one interaction;
* a transaction is atomic: everything it wrote is kept on a clean exit and nothing on an
  exception.

When a concurrent writer got there first (a unique key taken, a row changed, a deadlock
or serialization failure), the store raises :class:`~omnichannel.StoreConflictError` and
the Hub retries the whole unit of work.
"""

from __future__ import annotations

from collections.abc import Collection
from contextlib import AbstractContextManager
from datetime import datetime
from typing import NamedTuple, Protocol, runtime_checkable

from omnichannel._model import Interaction, Merge, Profile, ReviewItem, ReviewStatus

__all__ = ["InteractionRecord", "MatchKey", "Store", "Transaction"]

MatchKey = tuple[str, str, str]
"""``(kind, namespace, key)`` of an identifier: what the identifier index is keyed on."""


class InteractionRecord(NamedTuple):
    """Where a stored interaction lives."""

    interaction_id: str
    profile_id: str
    """The profile it is attached to now (after merges, the survivor)."""


@runtime_checkable
class Transaction(Protocol):
    """One unit of work against a store. Every method is scoped by ``workspace``; records
    of one workspace are invisible to every other.
    """

    def find_interaction(
        self, workspace: str, channel: str, idempotency_key: str
    ) -> InteractionRecord | None:
        """Return where the interaction ``(channel, idempotency_key)`` is stored, or None."""

    def owners(self, workspace: str, matches: Collection[MatchKey]) -> dict[MatchKey, str]:
        """Return the live profile owning each of ``matches`` that has an owner.

        Keys without an owner are absent from the result.
        """

    def get_profile(self, workspace: str, profile_id: str, *, lock: bool = False) -> Profile | None:
        """Return the stored profile (live or merged), or None.

        With ``lock=True`` the row is locked until the transaction ends, so a concurrent
        merge or update of the same profile waits (or fails with StoreConflictError).
        """

    def list_profiles(
        self, workspace: str, *, after_id: str | None = None, limit: int = 100
    ) -> list[Profile]:
        """Return up to ``limit`` live profiles ordered by id, starting after ``after_id``."""

    def put_profile(
        self,
        profile: Profile,
        *,
        claim: Collection[MatchKey] = (),
        release: Collection[MatchKey] = (),
    ) -> None:
        """Insert or replace ``profile`` and update the identifier index.

        ``release`` entries owned by this profile are removed from the index first; then
        each ``claim`` entry is pointed at this profile. Claiming a key that another
        profile owns raises StoreConflictError (the unique index is the arbiter).
        """

    def insert_interaction(self, workspace: str, interaction: Interaction, profile_id: str) -> None:
        """Store ``interaction`` attached to ``profile_id`` (also kept as its origin).

        Raises StoreConflictError if ``(channel, idempotency_key)`` is already stored,
        which happens when a concurrent writer delivered the same interaction.
        """

    def move_interactions(
        self,
        workspace: str,
        from_profile: str,
        to_profile: str,
        *,
        origins: Collection[str] | None = None,
    ) -> int:
        """Re-attach interactions of ``from_profile`` to ``to_profile``; return how many.

        With ``origins``, only those first attached to one of these profiles move (what
        an unmerge sends back). The origin profile of each interaction is kept.
        """

    def put_merge(self, merge: Merge) -> None:
        """Insert or replace a merge record (evidence, snapshots, unmerge time)."""

    def get_merge(self, workspace: str, merge_id: str) -> Merge | None:
        """Return the merge record ``merge_id``, or None."""

    def put_review(self, item: ReviewItem) -> None:
        """Insert or replace a review item."""

    def get_review(self, workspace: str, review_id: str) -> ReviewItem | None:
        """Return the review item ``review_id``, or None."""

    def reviews(
        self,
        workspace: str,
        *,
        status: ReviewStatus | None = None,
        profile_id: str | None = None,
        limit: int = 100,
    ) -> list[ReviewItem]:
        """Review items, oldest first, filtered by status and by a profile on either side."""

    def add_apart(self, workspace: str, first: str, second: str) -> None:
        """Record that two profiles are different people (idempotent, order-free)."""

    def is_apart(self, workspace: str, first: str, second: str) -> bool:
        """True when the pair was recorded apart."""

    def add_sharer(self, workspace: str, match: MatchKey, profile_id: str) -> None:
        """Record that ``profile_id`` uses the shared identifier ``match`` (idempotent)."""

    def sharers(self, workspace: str, matches: Collection[MatchKey]) -> dict[MatchKey, list[str]]:
        """For each of ``matches`` recorded as shared, the profiles sharing it, in the order
        they were recorded (one lookup for all: this runs on every ingest). Matches nobody
        shares are absent."""

    def set_blocking_keys(self, workspace: str, profile_id: str, keys: Collection[str]) -> None:
        """Replace the blocking keys ``profile_id`` is filed under (online matching)."""

    def candidates(self, workspace: str, keys: Collection[str], *, limit: int) -> list[str]:
        """Up to ``limit`` distinct profile ids filed under any of ``keys``, sorted.

        Ids may belong to merged profiles; the caller follows them to the survivor.
        """

    def merges(self, workspace: str, profile_id: str) -> list[Merge]:
        """Return the merges in which ``profile_id`` survived or was absorbed, oldest first."""

    def timeline(
        self,
        workspace: str,
        profile_id: str,
        *,
        limit: int,
        before: tuple[datetime, str] | None = None,
    ) -> list[Interaction]:
        """Return up to ``limit`` interactions attached to ``profile_id``, newest first.

        Ordered by ``(occurred_at, id)`` descending; with ``before`` only those strictly
        older than that position. Must use an index (O(log n) to the first row).
        """


class Store(Protocol):
    """A storage backend: :class:`~omnichannel.storage.MemoryStore`,
    :class:`~omnichannel.storage.SQLStore` or a third party's.

    Run the conformance suite in :mod:`omnichannel.testing` against a new backend.
    """

    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[Transaction]:
        """Begin a transaction; commit when the block exits cleanly, roll back otherwise.

        ``readonly=True`` promises no writes, letting the backend avoid write locks.
        Driver errors leave as :class:`~omnichannel.StoreError` subclasses.
        """

    def close(self) -> None:
        """Release connections and files. Calling it twice is harmless."""
