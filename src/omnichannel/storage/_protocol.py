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

from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import NamedTuple, Protocol, runtime_checkable

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

__all__ = ["InteractionRecord", "MatchKey", "Store", "Transaction"]

MatchKey = tuple[str, str, str]
"""``(kind, namespace, key)`` of an identifier: what the identifier index is keyed on."""


class InteractionRecord(NamedTuple):
    """Where a stored interaction lives."""

    interaction_id: str
    profile_id: str
    """The profile it is attached to now (after merges, the survivor)."""
    conversation_id: str | None = None
    """The conversation it was filed in, if any."""


@runtime_checkable
class Transaction(Protocol):
    """One unit of work against a store. Every method is scoped by ``workspace``; records
    of one workspace are invisible to every other.
    """

    def find_interaction(
        self, workspace: str, channel: str, idempotency_key: str
    ) -> InteractionRecord | None:
        """Return where the interaction ``(channel, idempotency_key)`` is stored, or None."""

    def find_interactions(
        self, workspace: str, keys: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], InteractionRecord]:
        """:meth:`find_interaction` for many ``(channel, idempotency_key)`` pairs at once
        (a batch of ingest checks them all in one go). Pairs not stored are absent."""

    def owners(self, workspace: str, matches: Collection[MatchKey]) -> dict[MatchKey, str]:
        """Return the live profile owning each of ``matches`` that has an owner.

        Keys without an owner are absent from the result.
        """

    def get_profile(self, workspace: str, profile_id: str, *, lock: bool = False) -> Profile | None:
        """Return the stored profile (live or merged), or None.

        With ``lock=True`` the row is locked until the transaction ends, so a concurrent
        merge or update of the same profile waits (or fails with StoreConflictError).
        """

    def get_profiles(
        self, workspace: str, profile_ids: Collection[str], *, lock: bool = False
    ) -> dict[str, Profile]:
        """:meth:`get_profile` for many ids at once (a batch of ingest reads its customers
        in one go); unknown ids are absent. With ``lock=True`` the rows are locked in id
        order."""

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

    def put_profiles(
        self,
        profiles: Sequence[Profile],
        *,
        claim: Collection[tuple[MatchKey, str]] = (),
        release: Collection[tuple[MatchKey, str]] = (),
    ) -> None:
        """:meth:`put_profile` for many profiles of one workspace at once (a batch of
        ingest writes them together).

        Every profile is inserted or replaced. Then each ``(match, profile_id)`` of
        ``release`` is removed from the identifier index where that profile owns it, and
        then each of ``claim`` points its match at its profile; the profile ids named
        are among ``profiles``. Claiming a key that another profile owns raises
        StoreConflictError, as :meth:`put_profile` does.
        """

    def insert_interaction(self, workspace: str, interaction: Interaction, profile_id: str) -> None:
        """Store ``interaction`` attached to ``profile_id`` (also kept as its origin).

        Raises StoreConflictError if ``(channel, idempotency_key)`` is already stored,
        which happens when a concurrent writer delivered the same interaction.
        """

    def insert_interactions(self, workspace: str, rows: Sequence[tuple[Interaction, str]]) -> None:
        """:meth:`insert_interaction` for many ``(interaction, profile_id)`` rows at once,
        in order (a batch of ingest writes them together). Raises StoreConflictError as
        :meth:`insert_interaction` does; then nothing of the transaction is kept."""

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

    def scan_interactions(
        self,
        workspace: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int = 1000,
    ) -> list[tuple[str, Interaction]]:
        """``(profile_id, interaction)`` pairs of the workspace, oldest first (reports).

        Ordered by ``(occurred_at, id)``; ``since`` inclusive, ``until`` exclusive; with
        ``after`` only those strictly after that position. Must use an index.
        """

    # --- conversations -------------------------------------------------------------

    def put_conversation(self, conversation: Conversation) -> None:
        """Insert or replace a conversation. Its first ``profile_id`` stays its origin."""

    def put_conversations(self, conversations: Sequence[Conversation]) -> None:
        """:meth:`put_conversation` for many conversations at once, in order."""

    def get_conversation(self, workspace: str, conversation_id: str) -> Conversation | None:
        """Return the conversation, or None."""

    def conversations(
        self,
        workspace: str,
        profile_id: str,
        *,
        status: ConversationStatus | None = None,
        limit: int = 100,
    ) -> list[Conversation]:
        """The profile's conversations, latest activity first, optionally by status."""

    def open_conversations(
        self, workspace: str, profile_ids: Collection[str]
    ) -> dict[str, list[Conversation]]:
        """Every open conversation of each of ``profile_ids``, latest activity first (a
        batch of ingest reads them for all its customers at once). Profiles without one
        are absent."""

    def move_conversations(
        self,
        workspace: str,
        from_profile: str,
        to_profile: str,
        *,
        origins: Collection[str] | None = None,
    ) -> int:
        """Re-attach conversations as :meth:`move_interactions` does interactions."""

    def scan_conversations(
        self,
        workspace: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int = 1000,
    ) -> list[Conversation]:
        """Conversations of the workspace by ``(opened_at, id)``, as
        :meth:`scan_interactions` does interactions."""

    # --- consent -------------------------------------------------------------------

    def add_consent(self, consent: Consent) -> None:
        """Append a consent record (the history is never rewritten)."""

    def consents(self, workspace: str, profile_ids: Collection[str]) -> list[Consent]:
        """Consent records made on any of ``profile_ids``, by ``(recorded_at, id)``."""

    # --- outbox --------------------------------------------------------------------

    def add_events(self, events: Sequence[Event]) -> None:
        """Append events to the outbox, in order; the store numbers them (``seq``)."""

    def pending_events(self, workspace: str, *, limit: int = 100) -> list[Event]:
        """Undelivered events, oldest (lowest ``seq``) first."""

    def ack_events(self, workspace: str, event_ids: Collection[str], at: datetime) -> None:
        """Mark events delivered at ``at``."""

    def list_events(
        self, workspace: str, *, after_seq: int | None = None, limit: int = 100
    ) -> list[Event]:
        """Events delivered or not, by ``seq``, starting after ``after_seq``."""

    # --- privacy -------------------------------------------------------------------

    def salt(self, workspace: str) -> bytes:
        """The workspace's secret salt for suppression digests, created on first use."""

    def add_suppressions(self, workspace: str, digests: Collection[str]) -> None:
        """Record digests of forgotten identifiers (idempotent)."""

    def suppressed(self, workspace: str, digests: Collection[str]) -> set[str]:
        """Those of ``digests`` that are recorded as suppressed."""

    def erase(self, workspace: str, profile_ids: Collection[str]) -> int:
        """Delete everything recorded about ``profile_ids``: the profiles, their index
        entries, interactions and conversations attached to them or first attached to
        them (those are held by the profile they were first attached to or by one it was
        merged into, following ``merged_into``: a store may look only there), consents,
        merges and review items naming them, pairs apart, shares and blocking keys.
        Events stay. Returns how many interactions were deleted."""


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
