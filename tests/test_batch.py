"""BatchTransaction's paths that ingest_many rarely takes: other workspaces, calls it does
not answer itself, and conversation reads other than the open ones."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, cast

from omnichannel import Conversation, ConversationStatus, Identifier, Profile
from omnichannel._batch import BatchTransaction
from omnichannel.storage import MemoryStore, Transaction
from omnichannel.testing import make_interaction

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
PHONE = Identifier.phone("+48601234567")
EMAIL = Identifier.email("jan@example.com")


def _profile() -> Profile:
    return Profile(created_at=T0, updated_at=T0)


def _conversation(pid: str, minutes: int, status: ConversationStatus) -> Conversation:
    at = T0 + timedelta(minutes=minutes)
    return Conversation(profile_id=pid, opened_at=at, last_activity_at=at, status=status)


def test_other_workspaces_go_straight_to_the_store() -> None:
    store = MemoryStore()
    other = _profile().model_copy(update={"workspace": "other"})
    with store.transaction() as tx:
        batch = BatchTransaction(tx, "default")
        batch.put_profile(other, claim=[PHONE.match])
        item = make_interaction("o1", PHONE)
        batch.insert_interaction("other", item, other.id)
        batch.put_conversation(
            _conversation(other.id, 0, ConversationStatus.OPEN).model_copy(
                update={"workspace": "other"}
            )
        )
        # written at once, not held back: the store answers
        assert tx.owners("other", [PHONE.match]) == {PHONE.match: other.id}
        assert tx.find_interaction("other", "sms", "o1") is not None
        assert batch.get_profile("other", other.id) == other
        assert batch.owners("other", [PHONE.match]) == {PHONE.match: other.id}
        assert batch.sharers("other", [PHONE.match]) == {}
        assert batch.suppressed("other", {"x"}) == set()
        assert batch.find_interaction("other", "sms", "o1") is not None
        assert len(batch.conversations("other", other.id, status=ConversationStatus.OPEN)) == 1
        assert batch.move_conversations("other", other.id, "elsewhere") == 1


def test_a_call_it_does_not_answer_sees_the_pending_writes() -> None:
    store = MemoryStore()
    profile = _profile()
    item = make_interaction("m1", PHONE)
    with store.transaction() as tx:
        batch = BatchTransaction(tx, "default")
        batch.prefetch([item], lambda match: "digest")
        batch.put_profile(profile, claim=[PHONE.match])
        batch.insert_interaction("default", item, profile.id)
        assert tx.get_profile("default", profile.id) is None  # held back ...
        assert tx.find_interaction("default", "sms", "m1") is None
        timeline = batch.timeline("default", profile.id, limit=10)  # ... until then
        assert [i.source_id for i in timeline] == ["m1"]
        assert tx.owners("default", [PHONE.match]) == {PHONE.match: profile.id}
        assert batch.salt("default") == tx.salt("default")  # unrelated: passed on as is


def test_conversations_by_any_status_include_the_pending_versions() -> None:
    store = MemoryStore()
    pid = _profile().id
    stored = _conversation(pid, 0, ConversationStatus.OPEN)
    older = _conversation(pid, -5, ConversationStatus.CLOSED)
    with store.transaction() as tx:
        tx.put_conversations([stored, older])
    with store.transaction() as tx:
        batch = BatchTransaction(tx, "default")
        closed = stored.model_copy(update={"status": ConversationStatus.CLOSED})
        batch.put_conversation(closed)
        batch.put_conversation(closed.model_copy(update={"profile_id": "someone"}))
        fresh = _conversation(pid, 9, ConversationStatus.OPEN)
        batch.put_conversation(fresh)
        assert batch.get_conversation("default", fresh.id) == fresh
        assert tx.get_conversation("default", fresh.id) is None
        every = batch.conversations("default", pid)
        assert [c.id for c in every] == [fresh.id, older.id]
        assert batch.conversations("default", pid, status=ConversationStatus.CLOSED) == [older]
        # the open ones are learnt once, then kept up to date
        assert batch.conversations("default", pid, status=ConversationStatus.OPEN) == [fresh]
        batch.put_conversation(fresh.model_copy(update={"status": ConversationStatus.CLOSED}))
        assert batch.conversations("default", pid, status=ConversationStatus.OPEN) == []


def test_profiles_are_read_once_and_locked_when_asked() -> None:
    store = MemoryStore()
    profile = _profile()
    with store.transaction() as tx:
        tx.put_profile(profile, claim=[PHONE.match])
    with store.transaction() as tx:
        batch = BatchTransaction(tx, "default")
        assert batch.get_profile("default", profile.id) == profile
        assert batch.get_profile("default", profile.id, lock=True) == profile
        assert batch.get_profile("default", "nobody", lock=True) is None
        changed = profile.model_copy(update={"traits": {"city": "Gdańsk"}})
        batch.put_profile(changed, release=[PHONE.match, EMAIL.match])
        assert batch.get_profile("default", profile.id) == changed
        assert batch.owners("default", [PHONE.match, EMAIL.match]) == {}
        batch.flush()
        assert tx.get_profile("default", profile.id) == changed
        assert tx.owners("default", [PHONE.match]) == {}


def test_an_unmerge_move_and_an_erase_forget_what_was_read() -> None:
    store = MemoryStore()
    first, second = _profile(), _profile()
    item = make_interaction("m1", PHONE)
    with store.transaction() as tx:
        tx.put_profiles([first, second], claim=[(PHONE.match, first.id)])
        tx.insert_interaction("default", item, first.id)
    with store.transaction() as tx:
        batch = BatchTransaction(tx, "default")
        batch.prefetch([item], lambda match: "digest")
        assert batch.move_interactions("default", first.id, second.id, origins=[first.id]) == 1
        record = batch.find_interaction("default", "sms", "m1")
        assert record is not None
        assert record.profile_id == second.id  # read again, not the stale record
        assert batch.move_conversations("default", first.id, second.id, origins=[]) == 0
        assert batch.erase("default", [first.id, second.id]) == 1  # interactions deleted
        assert batch.owners("default", [PHONE.match]) == {}
        assert batch.get_profile("default", first.id) is None


class _Recording:
    """A transaction wrapper that records what ``put_profiles`` was given."""

    def __init__(self, tx: Any) -> None:
        self._tx = tx
        self.calls: list[tuple[list[str], list[Any], list[Any]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)

    def put_profiles(
        self, profiles: Sequence[Profile], *, claim: Any = (), release: Any = ()
    ) -> None:
        self.calls.append(([p.id for p in profiles], list(claim), list(release)))
        self._tx.put_profiles(profiles, claim=claim, release=release)


def test_profiles_claims_and_releases_are_written_in_sorted_order() -> None:
    # One lock order for every batch: two PostgreSQL writers wait instead of deadlocking.
    store = MemoryStore()
    keys = [Identifier.phone(f"+4860123{n:04d}") for n in (7, 3, 9, 1, 5)]
    profiles = [_profile() for _ in keys]
    with store.transaction() as tx:
        recording = _Recording(tx)
        batch = BatchTransaction(cast(Transaction, recording), "default")
        batch.prefetch([make_interaction("s1", *keys)], lambda match: "digest")
        for profile, key in zip(reversed(profiles), keys, strict=True):
            batch.put_profile(profile, claim=[key.match])
        batch.flush()
    [(ids, claim, release)] = recording.calls
    assert ids == sorted(ids)
    assert len(ids) == len(profiles)
    assert [match for match, _ in claim] == sorted(key.match for key in keys)
    assert release == []


class _StaleOwners(_Recording):
    """The first owners read is from before a concurrent merge: it names the absorbed."""

    def __init__(self, tx: Any, stale: dict[Any, str]) -> None:
        super().__init__(tx)
        self.stale: dict[Any, str] | None = stale
        self.owner_reads = 0

    def owners(self, workspace: str, matches: Any) -> Any:
        self.owner_reads += 1
        if self.stale is not None:
            stale, self.stale = self.stale, None
            return stale
        return self._tx.owners(workspace, matches)


def test_a_prefetch_that_locked_a_merged_profile_reads_the_owners_again() -> None:
    store = MemoryStore()
    survivor = _profile()
    absorbed = _profile().model_copy(update={"merged_into": survivor.id})
    with store.transaction() as tx:
        tx.put_profiles([survivor, absorbed], claim=[(PHONE.match, survivor.id)])
    item = make_interaction("late", PHONE)
    with store.transaction() as tx:
        stale = _StaleOwners(tx, {PHONE.match: absorbed.id})
        batch = BatchTransaction(cast(Transaction, stale), "default")
        batch.prefetch([item], lambda match: "digest")
        assert stale.owner_reads == 2
        assert batch.owners("default", [PHONE.match]) == {PHONE.match: survivor.id}
        locked = batch.get_profile("default", survivor.id, lock=True)
        assert locked == survivor
        assert stale.owner_reads == 2  # answered from the batch: read and locked once
