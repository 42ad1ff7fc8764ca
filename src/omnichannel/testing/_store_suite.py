"""The store conformance suite: the behaviour every :class:`~omnichannel.storage.Store`
must show, as pytest test classes a backend author subclasses with one fixture.

Example::

    from omnichannel.testing import StoreConformance

    class TestMyStore(StoreConformance):
        @pytest.fixture
        def store(self) -> Iterator[Store]:
            store = MyStore(...)
            yield store
            store.close()
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any, cast

import pytest

from omnichannel._errors import (
    InvalidPayloadError,
    InvalidValueError,
    NotFoundError,
    StoreConflictError,
    StoreError,
)
from omnichannel._hub import Hub
from omnichannel._model import (
    Consent,
    Conversation,
    ConversationStatus,
    Event,
    EventType,
    Grade,
    Identifier,
    IngestOutcome,
    Interaction,
    Merge,
    Profile,
    ProfileIdentifier,
    ReviewItem,
    ReviewStatus,
    TextPart,
    new_id,
)
from omnichannel.storage._protocol import Store, Transaction
from omnichannel.testing._feature_suite import FeatureConformance

__all__ = ["StoreConformance", "make_interaction"]

_T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def make_interaction(
    source_id: str,
    *identifiers: Identifier,
    channel: str = "sms",
    minutes: int = 0,
    text: str | None = None,
    **fields: Any,
) -> Interaction:
    """Build an inbound test interaction ``minutes`` after a fixed instant."""
    return Interaction(
        channel=channel,
        source_id=source_id,
        occurred_at=_T0 + timedelta(minutes=minutes),
        identifiers=identifiers,
        content=(TextPart(text=text if text is not None else f"message {source_id}"),),
        **fields,
    )


PHONE = Identifier.phone("+48601234567")
EMAIL = Identifier.email("jan.kowalski@example.com")
HANDLE = Identifier.handle("telegram", "@JanK")
OTHER = Identifier.phone("+48602345678")
SHOP_1 = Identifier.external("shop", "C-1001")
SHOP_2 = Identifier.external("shop", "C-2002")


class _CountingStore:
    """A store that counts the write transactions it opens."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.writes = 0

    def transaction(self, *, readonly: bool = False) -> Any:
        self.writes += not readonly
        return self.store.transaction(readonly=readonly)

    def close(self) -> None:
        self.store.close()


class _Boom(Exception):
    pass


class _FailingTransactionStore:
    """Wraps a store; its transactions raise when ``insert_interaction`` is called."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[Transaction]:
        with self.inner.transaction(readonly=readonly) as tx:
            yield _FailingTransaction(tx)

    def close(self) -> None:
        self.inner.close()


class _FailingTransaction:
    def __init__(self, inner: Transaction) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def insert_interaction(self, workspace: str, interaction: Interaction, profile_id: str) -> None:
        raise _Boom("injected failure after the profile was written")


def _write_everything_then_fail(store: Store, profile: Profile, other: Profile) -> None:
    with store.transaction() as tx:
        tx.put_profile(profile, claim=[PHONE.match])
        tx.insert_interaction("default", make_interaction("m1", PHONE), profile.id)
        tx.move_interactions("default", other.id, profile.id)
        tx.put_profile(other, release=[EMAIL.match])
        tx.put_merge(
            Merge(
                workspace="default",
                survivor_id=profile.id,
                absorbed_id=other.id,
                rule="test",
                merged_at=_T0,
                survivor_before=profile,
                absorbed_before=other,
            )
        )
        tx.put_review(
            ReviewItem(
                workspace="default",
                grade=Grade.POSSIBLE,
                profile_ids=(profile.id, other.id),
                reason="test",
                created_at=_T0,
            )
        )
        tx.add_apart("default", profile.id, other.id)
        tx.add_sharer("default", PHONE.match, other.id)
        tx.put_conversation(
            Conversation(
                workspace="default", profile_id=other.id, opened_at=_T0, last_activity_at=_T0
            )
        )
        tx.move_conversations("default", other.id, profile.id)
        tx.add_consent(
            Consent(
                workspace="default",
                profile_id=other.id,
                channel="sms",
                purpose="marketing",
                granted=True,
                source="test",
                recorded_at=_T0,
            )
        )
        tx.add_events([Event(workspace="default", type=EventType.PROFILE_CREATED, occurred_at=_T0)])
        tx.salt("default")
        tx.add_suppressions("default", ["d" * 64])
        tx.erase("default", [other.id])
        raise _Boom


class StoreConformance(FeatureConformance):
    """Behaviour every store must show. Subclass it and provide a ``store`` fixture that
    yields a new, empty store for each test."""

    @pytest.fixture
    def store(self) -> Iterator[Store]:
        """Override: yield a fresh, empty store."""
        raise NotImplementedError("subclass StoreConformance and override the store fixture")

    @pytest.fixture
    def hub(self, store: Store) -> Hub:
        """A Hub on the store under test, workspace ``default``."""
        return Hub(store)

    # --- deterministic resolution --------------------------------------------------

    def test_first_interaction_creates_profile(self, hub: Hub) -> None:
        result = hub.ingest(make_interaction("m1", PHONE, traits={"display_name": "Jan"}))
        assert result.outcome is IngestOutcome.CREATED
        profile = hub.profile(result.profile_id)
        assert [e.identifier for e in profile.identifiers] == [PHONE]
        assert profile.identifiers[0].channel == "sms"
        assert profile.identifiers[0].interaction_id == result.interaction_id
        assert profile.traits == {"display_name": "Jan"}
        assert profile.workspace == "default"

    def test_known_identifier_attaches_and_adds_new_ones(self, hub: Hub) -> None:
        first = hub.ingest(make_interaction("m1", PHONE))
        second = hub.ingest(make_interaction("e1", PHONE, EMAIL, channel="email", minutes=5))
        assert second.outcome is IngestOutcome.ATTACHED
        assert second.profile_id == first.profile_id
        profile = hub.profile(first.profile_id)
        assert {e.identifier for e in profile.identifiers} == {PHONE, EMAIL}
        phone = next(e for e in profile.identifiers if e.identifier == PHONE)
        assert phone.first_seen == _T0
        assert phone.last_seen == _T0 + timedelta(minutes=5)
        found = hub.find(EMAIL)
        assert found is not None
        assert found.id == first.profile_id

    def test_interaction_tying_two_profiles_merges_them(self, hub: Hub, store: Store) -> None:
        by_phone = hub.ingest(make_interaction("v1", PHONE, channel="voice"))
        by_email = hub.ingest(make_interaction("e1", EMAIL, channel="email", minutes=1))
        assert by_phone.profile_id != by_email.profile_id
        tie = hub.ingest(make_interaction("o1", EMAIL, PHONE, channel="store", minutes=2))
        assert tie.outcome is IngestOutcome.MERGED
        assert tie.profile_id == by_phone.profile_id  # the oldest profile survives
        assert tie.merged_ids == (by_email.profile_id,)
        # the absorbed id keeps resolving to the survivor
        assert hub.profile(by_email.profile_id).id == by_phone.profile_id
        channels = [i.channel for i in hub.timeline(by_email.profile_id).items]
        assert channels == ["store", "email", "voice"]
        with store.transaction(readonly=True) as tx:
            merges = tx.merges("default", by_email.profile_id)
            absorbed = tx.get_profile("default", by_email.profile_id)
        assert len(merges) == 1
        merge = merges[0]
        assert (merge.survivor_id, merge.absorbed_id) == (by_phone.profile_id, by_email.profile_id)
        assert merge.rule == "shared-identifier"
        assert set(merge.evidence) == {EMAIL, PHONE}
        assert merge.interaction_id == tie.interaction_id
        assert merge.absorbed_before.id == by_email.profile_id
        assert merge.absorbed_before.merged_into is None
        assert absorbed is not None
        assert absorbed.merged_into == by_phone.profile_id  # kept, not deleted

    def test_merge_of_three_profiles(self, hub: Hub) -> None:
        ids = [
            hub.ingest(make_interaction("a", PHONE, minutes=0)).profile_id,
            hub.ingest(make_interaction("b", EMAIL, channel="email", minutes=1)).profile_id,
            hub.ingest(make_interaction("c", HANDLE, channel="telegram", minutes=2)).profile_id,
        ]
        result = hub.ingest(make_interaction("d", HANDLE, EMAIL, PHONE, channel="store", minutes=3))
        assert result.outcome is IngestOutcome.MERGED
        assert result.profile_id == ids[0]
        assert set(result.merged_ids) == set(ids[1:])
        live = list(hub.profiles())
        assert [p.id for p in live] == [ids[0]]
        assert {e.identifier for e in live[0].identifiers} == {PHONE, EMAIL, HANDLE}
        assert len(hub.timeline(ids[2]).items) == 4

    def test_newer_trait_observation_wins_whatever_the_ingest_order(self, hub: Hub) -> None:
        hub.ingest(make_interaction("new", PHONE, minutes=10, traits={"city": "Kraków"}))
        result = hub.ingest(make_interaction("old", PHONE, minutes=0, traits={"city": "Łódź"}))
        assert hub.profile(result.profile_id).traits["city"] == "Kraków"

    def test_interaction_without_identifier_is_rejected(self, hub: Hub) -> None:
        with pytest.raises(InvalidValueError, match="identifiers"):
            hub.ingest(make_interaction("x"))
        assert list(hub.profiles()) == []

    # --- batches -------------------------------------------------------------------

    def test_find_interactions_answers_many_keys_at_once(self, hub: Hub, store: Store) -> None:
        a = hub.ingest(make_interaction("s1", PHONE))
        b = hub.ingest(make_interaction("e1", EMAIL, channel="email", minutes=1))
        Hub(store, workspace="other").ingest(make_interaction("s2", PHONE))
        with store.transaction(readonly=True) as tx:
            found = tx.find_interactions(
                "default", [("sms", "s1"), ("email", "e1"), ("sms", "s2"), ("sms", "e1")]
            )
            many = tx.find_interactions("default", [("sms", f"n{n}") for n in range(120)])
        assert set(found) == {("sms", "s1"), ("email", "e1")}
        assert found[("sms", "s1")].interaction_id == a.interaction_id
        assert found[("sms", "s1")].profile_id == a.profile_id
        assert found[("email", "e1")].conversation_id == b.conversation_id
        assert many == {}

    def test_a_batch_resolves_exactly_as_one_by_one(self, store: Store) -> None:
        from omnichannel.testing._generator import generate

        dataset = generate(120, seed=5, days=60)
        items = list(dataset.interactions)
        counting = _CountingStore(store)
        single = Hub(store, workspace="single")
        batched = Hub(cast(Store, counting), workspace="batched")
        outcomes = {
            "single": [single.ingest(item).outcome for item in items],
            "batched": [],
        }
        # interaction ids are unique in a store, whatever the workspace
        copies = [item.model_copy(update={"id": new_id()}) for item in items]
        summary = batched.ingest_many(copies, batch_size=97)
        again = batched.ingest_many(copies[:150], batch_size=40)
        assert again.duplicate == 150
        assert summary.total == len(items)
        # each batch committed as one transaction: none fell back to one per interaction
        assert counting.writes == -(-len(items) // 97) + -(-150 // 40)
        counted = {o: outcomes["single"].count(o) for o in IngestOutcome}
        assert summary.created == counted[IngestOutcome.CREATED]
        assert summary.merged == counted[IngestOutcome.MERGED]
        assert summary.attached == counted[IngestOutcome.ATTACHED]

        def partition(hub: Hub) -> set[frozenset[tuple[str, str | None]]]:
            return {
                frozenset((i.channel, i.source_id) for i in hub.history(p.id))
                for p in hub.profiles()
            }

        def threads(hub: Hub) -> set[frozenset[tuple[str, str | None]]]:
            found: dict[str, set[tuple[str, str | None]]] = {}
            for profile in hub.profiles():
                for item in hub.history(profile.id):
                    if item.conversation_id is not None:
                        found.setdefault(item.conversation_id, set()).add(
                            (item.channel, item.source_id)
                        )
            return {frozenset(v) for v in found.values()}

        assert partition(batched) == partition(single)
        assert threads(batched) == threads(single)
        grades = sorted(r.grade.value for r in single.reviews())
        assert sorted(r.grade.value for r in batched.reviews()) == grades

    def test_a_batch_sees_its_own_writes(self, hub: Hub) -> None:
        jan = {"first_name": "Jan"}
        batch = [
            make_interaction("1", PHONE, traits=jan),
            make_interaction("1", PHONE, traits=jan),  # delivered twice in one batch
            make_interaction("2", EMAIL, channel="email", minutes=1),
            make_interaction("3", EMAIL, PHONE, channel="store", minutes=2),  # merges
            make_interaction("2", EMAIL, channel="email", minutes=1),  # again, after it
            make_interaction("4", PHONE, minutes=3, traits={"first_name": "Anna"}),  # shared
            make_interaction("5", PHONE, minutes=4, traits={"first_name": "Ania"}),
        ]
        summary = hub.ingest_many(batch, batch_size=len(batch))
        assert (summary.created, summary.duplicate, summary.merged) == (3, 2, 1)
        jan_id = hub.profile(hub.find(EMAIL).id).id  # type: ignore[union-attr]
        anna = [p for p in hub.profiles() if p.id != jan_id]
        assert len(anna) == 1
        assert {i.source_id for i in hub.history(anna[0].id)} == {"4", "5"}
        assert [r.grade for r in hub.reviews()] == [Grade.RELATED]

    def test_a_batch_threads_replies_and_continues_its_own_conversations(self, hub: Hub) -> None:
        days = 24 * 60
        batch = [
            make_interaction("q1", PHONE),
            make_interaction("q2", PHONE, minutes=3 * days, reply_to="q1"),  # threads back
            make_interaction("q3", PHONE, minutes=3 * days + 5),  # continues it
            make_interaction("q4", PHONE, minutes=9 * days),  # a new one
        ]
        hub.ingest_many(batch, batch_size=len(batch))
        profile = hub.find(PHONE)
        assert profile is not None
        threads = {i.source_id: i.conversation_id for i in hub.history(profile.id)}
        assert threads["q1"] == threads["q2"] == threads["q3"] != threads["q4"]
        first = hub.conversation(threads["q1"] or "")
        assert first.interaction_count == 3
        assert first.status is ConversationStatus.CLOSED  # passed over when q4 came
        assert [c.id for c in hub.conversations(profile.id)] == [threads["q4"], first.id]

    def test_a_batch_continues_conversations_across_a_merge(self, hub: Hub) -> None:
        before = [
            make_interaction("p1", PHONE),  # one customer by phone ...
            make_interaction("e1", EMAIL, channel="email", minutes=1),  # ... and by email
        ]
        batch = [
            make_interaction("o1", PHONE, EMAIL, channel="store", minutes=2),  # merges them
            make_interaction("p2", PHONE, minutes=3),  # continues the open conversation
            make_interaction("e2", EMAIL, channel="email", minutes=4),
        ]
        # stored profiles and conversations (read up front), then ones the batch made
        for first, rest in ((before, batch), ([], before + batch)):
            hub = Hub(hub.store, workspace=new_id())
            for item in first:
                hub.ingest(item.model_copy(update={"id": new_id()}))
            copies = [item.model_copy(update={"id": new_id()}) for item in rest]
            summary = hub.ingest_many(copies, batch_size=len(rest))
            assert summary.merged == 1
            self._assert_continued(hub)

    def _assert_continued(self, hub: Hub) -> None:
        profile = hub.find(PHONE)
        assert profile is not None
        assert hub.find(EMAIL) == profile
        threads = {i.source_id: i.conversation_id for i in hub.history(profile.id)}
        # the latest active of the two open conversations the merge brought together
        assert threads["p2"] == threads["e2"] == threads["o1"] == threads["e1"] != threads["p1"]
        conversations = hub.conversations(profile.id)
        assert len(conversations) == 2
        assert sum(c.interaction_count for c in conversations) == 5
        assert [c.status for c in conversations] == [ConversationStatus.OPEN] * 2

    # --- idempotency ---------------------------------------------------------------

    def test_redelivery_is_stored_once_with_the_same_result(self, hub: Hub) -> None:
        first = hub.ingest(make_interaction("wamid.1", PHONE, channel="whatsapp"))
        again = hub.ingest(make_interaction("wamid.1", PHONE, channel="whatsapp"))
        assert again.outcome is IngestOutcome.DUPLICATE
        assert (again.profile_id, again.interaction_id) == (first.profile_id, first.interaction_id)
        assert len(hub.timeline(first.profile_id).items) == 1

    def test_same_source_id_on_another_channel_is_another_interaction(self, hub: Hub) -> None:
        hub.ingest(make_interaction("42", PHONE, channel="sms"))
        result = hub.ingest(make_interaction("42", PHONE, channel="whatsapp"))
        assert result.outcome is IngestOutcome.ATTACHED

    def test_duplicate_after_merge_reports_the_survivor(self, hub: Hub) -> None:
        first = hub.ingest(make_interaction("e1", EMAIL, channel="email"))
        hub.ingest(make_interaction("v1", PHONE, channel="voice"))
        hub.ingest(make_interaction("o1", PHONE, EMAIL, channel="store"))
        again = hub.ingest(make_interaction("e1", EMAIL, channel="email"))
        assert again.outcome is IngestOutcome.DUPLICATE
        assert again.profile_id == first.profile_id

    def test_store_rejects_a_second_copy_of_an_interaction(self, store: Store) -> None:
        interaction = make_interaction("m1", PHONE)
        profile = Profile(created_at=_T0, updated_at=_T0)
        with store.transaction() as tx:
            tx.put_profile(profile)
            tx.insert_interaction("default", interaction, profile.id)
        copy = interaction.model_copy(update={"id": "another-id"})
        with pytest.raises(StoreConflictError), store.transaction() as tx:
            tx.insert_interaction("default", copy, profile.id)

    # --- the identifier index ------------------------------------------------------

    def test_identifier_has_one_live_owner(self, store: Store) -> None:
        entry = ProfileIdentifier(identifier=PHONE, first_seen=_T0, last_seen=_T0, channel="sms")
        first = Profile(identifiers=(entry,), created_at=_T0, updated_at=_T0)
        second = Profile(identifiers=(entry,), created_at=_T0, updated_at=_T0)
        with store.transaction() as tx:
            tx.put_profile(first, claim=[PHONE.match])
        with pytest.raises(StoreConflictError), store.transaction() as tx:
            tx.put_profile(second, claim=[PHONE.match])
        with store.transaction(readonly=True) as tx:
            assert tx.owners("default", [PHONE.match]) == {PHONE.match: first.id}
            assert tx.get_profile("default", second.id) is None

    def test_release_then_claim_moves_ownership(self, store: Store) -> None:
        first = Profile(created_at=_T0, updated_at=_T0)
        second = Profile(created_at=_T0, updated_at=_T0)
        with store.transaction() as tx:
            tx.put_profile(first, claim=[PHONE.match, EMAIL.match])
            tx.put_profile(first, claim=[PHONE.match])  # claiming one's own key is a no-op
        with store.transaction() as tx:
            tx.put_profile(first, release=[EMAIL.match])
            tx.put_profile(second, claim=[EMAIL.match])
        with store.transaction(readonly=True) as tx:
            owners = tx.owners("default", [PHONE.match, EMAIL.match, HANDLE.match])
        assert owners == {PHONE.match: first.id, EMAIL.match: second.id}

    def test_many_profiles_are_read_and_written_at_once(self, store: Store) -> None:
        first = Profile(created_at=_T0, updated_at=_T0)
        second = Profile(created_at=_T0, updated_at=_T0)
        with store.transaction() as tx:
            tx.put_profiles([first, second], claim=[(PHONE.match, first.id)])
        moved = first.model_copy(update={"merged_into": second.id})
        with store.transaction() as tx:
            # every release before any claim, whatever the order of the profiles
            tx.put_profiles(
                [second, moved],
                claim=[(PHONE.match, second.id), (EMAIL.match, second.id)],
                release=[(PHONE.match, first.id), (HANDLE.match, first.id)],
            )
        with store.transaction(readonly=True) as tx:
            many = [new_id() for _ in range(70)]
            found = tx.get_profiles("default", [first.id, second.id, "nobody", *many], lock=True)
            owners = tx.owners("default", [PHONE.match, EMAIL.match, HANDLE.match])
            other = tx.get_profiles("other", [first.id])
        assert found == {first.id: moved, second.id: second}
        assert owners == {PHONE.match: second.id, EMAIL.match: second.id}
        assert other == {}
        third = Profile(created_at=_T0, updated_at=_T0)
        with pytest.raises(StoreConflictError), store.transaction() as tx:
            tx.put_profiles([third], claim=[(EMAIL.match, third.id)])
        with store.transaction(readonly=True) as tx:
            assert tx.get_profiles("default", [third.id]) == {}

    def test_open_conversations_of_many_profiles(self, store: Store) -> None:
        def conversation(pid: str, minutes: int, status: ConversationStatus) -> Conversation:
            at = _T0 + timedelta(minutes=minutes)
            return Conversation(profile_id=pid, opened_at=at, last_activity_at=at, status=status)

        first, second, third = new_id(), new_id(), new_id()
        a = conversation(first, 0, ConversationStatus.OPEN)
        b = conversation(first, 5, ConversationStatus.OPEN)
        closed = conversation(first, 9, ConversationStatus.CLOSED)
        c = conversation(second, 1, ConversationStatus.OPEN)
        with store.transaction() as tx:
            tx.put_conversations(
                [a, b, closed, c, conversation(third, 2, ConversationStatus.CLOSED)]
            )
            tx.put_conversation(c.model_copy(update={"workspace": "other", "id": new_id()}))
        with store.transaction(readonly=True) as tx:
            found = tx.open_conversations("default", [first, second, third, *map(str, range(60))])
        assert found == {first: [b, a], second: [c]}

    def test_a_conversation_whose_opening_moves_is_listed_by_it(self, store: Store) -> None:
        # An interaction delivered late opens its conversation earlier; both ways of
        # writing it, and the by-time listing, see that.
        def at(minutes: int) -> datetime:
            return _T0 + timedelta(minutes=minutes)

        pid = new_id()
        first = Conversation(profile_id=pid, opened_at=at(10), last_activity_at=at(10))
        second = Conversation(profile_id=pid, opened_at=at(20), last_activity_at=at(20))
        with store.transaction() as tx:
            tx.put_conversations([first, second])
        moved = first.model_copy(update={"opened_at": at(30), "last_activity_at": at(40)})
        with store.transaction() as tx:
            tx.put_conversations([moved])
        with store.transaction(readonly=True) as tx:
            assert tx.get_conversation("default", first.id) == moved
            listed = tx.scan_conversations("default", since=at(0), until=at(60))
        assert [c.id for c in listed] == [second.id, first.id]
        back = moved.model_copy(update={"opened_at": at(5)})
        with store.transaction() as tx:
            tx.put_conversation(back)
        with store.transaction(readonly=True) as tx:
            assert tx.get_conversation("default", first.id) == back
            listed = tx.scan_conversations("default", since=at(0), until=at(60))
        assert [c.id for c in listed] == [first.id, second.id]

    def test_erase_reaches_what_profiles_they_were_merged_into_hold(self, store: Store) -> None:
        # third was merged into second, second into first: the rows first attached to
        # third are held by first, and erasing third alone removes them, nothing else.
        first, second, third = (Profile(created_at=_T0, updated_at=_T0) for _ in range(3))
        items = {
            p.id: make_interaction(f"m-{n}", PHONE, minutes=n)
            for n, p in enumerate((first, second, third))
        }
        talks = {
            p.id: Conversation(profile_id=p.id, opened_at=_T0, last_activity_at=_T0)
            for p in (first, second, third)
        }
        with store.transaction() as tx:
            for profile in (first, second, third):
                tx.put_profile(profile)
                tx.insert_interaction("default", items[profile.id], profile.id)
                tx.put_conversation(talks[profile.id])
            for absorbed, survivor in ((third, second), (second, first)):
                tx.put_profile(absorbed.model_copy(update={"merged_into": survivor.id}))
                tx.move_interactions("default", absorbed.id, survivor.id)
                tx.move_conversations("default", absorbed.id, survivor.id)
        with store.transaction() as tx:
            assert tx.erase("default", [third.id]) == 1
        with store.transaction(readonly=True) as tx:
            assert tx.find_interaction("default", "sms", "m-2") is None
            assert tx.get_conversation("default", talks[third.id].id) is None
            assert tx.get_profile("default", third.id) is None
            kept = [i.source_id or "" for i in tx.timeline("default", first.id, limit=10)]
            assert sorted(kept) == ["m-0", "m-1"]
            assert tx.get_conversation("default", talks[second.id].id) is not None
        with store.transaction() as tx:  # the survivor's own and what it holds
            assert tx.erase("default", [first.id, second.id]) == 2
        with store.transaction(readonly=True) as tx:
            assert tx.timeline("default", first.id, limit=10) == []
            assert tx.conversations("default", first.id) == []

    # --- atomicity -----------------------------------------------------------------

    def test_transaction_rolls_back_everything_on_error(self, store: Store) -> None:
        profile = Profile(created_at=_T0, updated_at=_T0)
        other = Profile(created_at=_T0, updated_at=_T0)
        with store.transaction() as tx:
            tx.put_profile(other, claim=[EMAIL.match])
            tx.insert_interaction("default", make_interaction("keep", EMAIL), other.id)
        with pytest.raises(_Boom):
            _write_everything_then_fail(store, profile, other)
        with store.transaction(readonly=True) as tx:
            assert tx.get_profile("default", profile.id) is None
            assert tx.owners("default", [PHONE.match, EMAIL.match]) == {EMAIL.match: other.id}
            assert tx.find_interaction("default", "sms", "m1") is None
            record = tx.find_interaction("default", "sms", "keep")
            assert record is not None
            assert record.profile_id == other.id
            assert tx.merges("default", profile.id) == []
            assert tx.reviews("default") == []
            assert not tx.is_apart("default", other.id, profile.id)
            assert tx.sharers("default", [PHONE.match]) == {}
            assert [i.source_id for i in tx.timeline("default", other.id, limit=10)] == ["keep"]
            assert tx.timeline("default", profile.id, limit=10) == []
            assert tx.conversations("default", other.id) == []
            assert tx.conversations("default", profile.id) == []
            assert tx.consents("default", [other.id]) == []
            assert tx.list_events("default") == []
            assert tx.suppressed("default", ["d" * 64]) == set()
            assert [i.source_id for _, i in tx.scan_interactions("default")] == ["keep"]

    def test_salt_is_stable_per_workspace(self, store: Store) -> None:
        with store.transaction() as tx:
            salt = tx.salt("default")
            assert tx.salt("default") == salt
        with store.transaction() as tx:
            assert tx.salt("default") == salt
            other = tx.salt("other")
        assert len(salt) >= 16
        assert other != salt

    def test_failed_ingest_stores_nothing(self, store: Store) -> None:
        hub = Hub(_FailingTransactionStore(store))
        with pytest.raises(_Boom):
            hub.ingest(make_interaction("m1", PHONE, EMAIL))
        plain = Hub(store)
        assert plain.find(PHONE) is None
        assert plain.find(EMAIL) is None
        assert list(plain.profiles()) == []

    def test_a_salt_from_a_rolled_back_transaction_is_not_reused(self, store: Store) -> None:
        failing = Hub(_FailingTransactionStore(store))
        with pytest.raises(_Boom):
            failing.ingest(make_interaction("m1", PHONE))  # creates the salt, rolls back
        other = Hub(store)
        other.ingest(make_interaction("m1", PHONE))
        other.forget(PHONE)  # suppressed under the salt that was committed
        again = Hub(store).ingest(make_interaction("m2", PHONE))
        assert again.outcome is IngestOutcome.SUPPRESSED
        # the first Hub reads the committed salt: it had not kept the rolled-back one
        assert failing.ingest(make_interaction("m3", PHONE)).outcome is IngestOutcome.SUPPRESSED

    def test_review_items_apart_pairs_and_sharers(self, store: Store) -> None:
        item = ReviewItem(
            workspace="default",
            grade=Grade.POSSIBLE,
            profile_ids=("p1", "p2"),
            reason="similar names",
            created_at=_T0,
        )
        later = item.model_copy(update={"id": "r2", "profile_ids": ("p3", "p1")})
        with store.transaction() as tx:
            tx.put_review(item)
            tx.put_review(later.model_copy(update={"created_at": _T0 + timedelta(hours=1)}))
            tx.add_apart("default", "p2", "p1")
            tx.add_apart("default", "p1", "p2")
            tx.add_sharer("default", PHONE.match, "p1")
            tx.add_sharer("default", PHONE.match, "p2")
            tx.add_sharer("default", PHONE.match, "p1")
        with store.transaction() as tx:
            tx.put_review(item.model_copy(update={"status": ReviewStatus.REJECTED}))
        with store.transaction(readonly=True) as tx:
            assert [r.id for r in tx.reviews("default")] == [item.id, "r2"]
            assert [r.id for r in tx.reviews("default", status=ReviewStatus.OPEN)] == ["r2"]
            assert [r.id for r in tx.reviews("default", profile_id="p2")] == [item.id]
            assert [r.id for r in tx.reviews("default", profile_id="p1", limit=1)] == [item.id]
            stored = tx.get_review("default", item.id)
            assert stored is not None
            assert stored.status is ReviewStatus.REJECTED
            assert tx.get_review("other", item.id) is None
            assert tx.is_apart("default", "p1", "p2")
            assert tx.is_apart("default", "p2", "p1")
            assert not tx.is_apart("other", "p1", "p2")
            assert tx.sharers("default", [PHONE.match]) == {PHONE.match: ["p1", "p2"]}
            assert tx.sharers("default", [EMAIL.match]) == {}

    def test_readonly_transaction_refuses_writes(self, store: Store) -> None:
        with pytest.raises(StoreError), store.transaction(readonly=True) as tx:
            tx.put_profile(Profile(created_at=_T0, updated_at=_T0))

    # --- workspaces ----------------------------------------------------------------

    def test_workspaces_neither_see_nor_merge_each_other(self, store: Store) -> None:
        shop_a, shop_b = Hub(store, workspace="shop-a"), Hub(store, workspace="shop-b")
        a = shop_a.ingest(make_interaction("m1", PHONE))
        b = shop_b.ingest(make_interaction("m1", PHONE))  # same channel and source id too
        assert b.outcome is IngestOutcome.CREATED
        assert a.profile_id != b.profile_id
        b2 = shop_b.ingest(make_interaction("m2", PHONE, EMAIL))
        assert b2.outcome is IngestOutcome.ATTACHED
        assert shop_a.find(EMAIL) is None
        found = shop_a.find(PHONE)
        assert found is not None
        assert found.id == a.profile_id
        with pytest.raises(NotFoundError):
            shop_a.profile(b.profile_id)
        with pytest.raises(NotFoundError):
            shop_a.timeline(b.profile_id)
        assert [p.id for p in shop_a.profiles()] == [a.profile_id]
        assert len(shop_a.timeline(a.profile_id).items) == 1

    # --- timelines -----------------------------------------------------------------

    def test_timeline_is_newest_first_across_channels_with_cursor(self, hub: Hub) -> None:
        channels = ["sms", "email", "whatsapp", "voice", "store", "webchat", "telegram"]
        for n in range(23):
            hub.ingest(make_interaction(f"m{n}", PHONE, channel=channels[n % 7], minutes=n))
        # two interactions at the same instant are ordered by id
        hub.ingest(make_interaction("same1", PHONE, minutes=5))
        hub.ingest(make_interaction("same2", PHONE, minutes=5))
        profile = hub.find(PHONE)
        assert profile is not None
        seen: list[Interaction] = []
        cursor: str | None = None
        pages = 0
        while True:
            page = hub.timeline(profile.id, limit=10, before=cursor)
            seen.extend(page.items)
            pages += 1
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert pages == 3
        assert len(seen) == 25
        assert len({i.id for i in seen}) == 25
        keys = [(i.occurred_at, i.id) for i in seen]
        assert keys == sorted(keys, reverse=True)
        assert {i.channel for i in seen} == set(channels)
        assert list(hub.history(profile.id)) == seen

    def test_timeline_of_unknown_profile(self, hub: Hub) -> None:
        with pytest.raises(NotFoundError):
            hub.timeline("no-such-profile")

    def test_profiles_are_listed_in_pages(self, hub: Hub) -> None:
        for n in range(7):
            hub.ingest(make_interaction(f"m{n}", Identifier.external("shop", f"C{n}")))
        listed = list(hub.profiles(page_size=3))
        assert len(listed) == 7
        assert [p.id for p in listed] == sorted(p.id for p in listed)

    # --- bulk ----------------------------------------------------------------------

    def test_ingest_many_counts_outcomes_and_dedupes_within_a_batch(self, hub: Hub) -> None:
        stream = [
            make_interaction("a", PHONE),
            make_interaction("b", EMAIL, channel="email"),
            make_interaction("c", PHONE, minutes=1),
            make_interaction("a", PHONE),
            make_interaction("d", PHONE, EMAIL, channel="store", minutes=2),
        ]
        summary = hub.ingest_many(iter(stream), batch_size=2)
        assert (summary.total, summary.created, summary.attached) == (5, 2, 1)
        assert (summary.merged, summary.duplicate) == (1, 1)
        again = hub.ingest_many(stream)
        assert again.duplicate == 5

    def test_ingest_many_rejects_a_bad_batch_whole(self, hub: Hub) -> None:
        good = {
            "channel": "sms",
            "source_id": "ok",
            "occurred_at": "2026-11-02T09:00:00Z",
            "identifiers": [{"kind": "phone", "value": "+48601234567"}],
        }
        bad = dict(good, source_id="bad", occurred_at="2026-11-02T09:00:00")
        with pytest.raises(InvalidPayloadError) as caught:
            hub.ingest_many([good, bad])
        assert caught.value.field == "items[1].occurred_at"
        assert hub.find(PHONE) is None

    # --- merge policy, review queue, unmerge -------------------------------------------

    def test_placeholders_and_role_mailboxes_never_merge(self, hub: Hub) -> None:
        a = hub.ingest(make_interaction("a", PHONE, Identifier.email("test@test.com")))
        b = hub.ingest(make_interaction("b", OTHER, Identifier.email("test@test.com")))
        c = hub.ingest(make_interaction("c", EMAIL, Identifier.email("info@acme.example.com")))
        d = hub.ingest(make_interaction("d", HANDLE, Identifier.email("Info@acme.example.com")))
        assert len({a.profile_id, b.profile_id}) == 2
        assert len({c.profile_id, d.profile_id}) == 2
        assert hub.find("test@test.com") is None
        assert hub.find("info@acme.example.com") is None  # kept on profiles, not indexed
        kept = {e.identifier.value for e in hub.profile(c.profile_id).identifiers}
        assert "info@acme.example.com" in kept

    def test_a_shared_phone_relates_people_instead_of_merging(self, hub: Hub) -> None:
        jan = hub.ingest(make_interaction("1", PHONE, traits={"first_name": "Jan"}))
        anna = hub.ingest(make_interaction("2", PHONE, minutes=1, traits={"first_name": "Anna"}))
        assert anna.profile_id != jan.profile_id
        assert anna.outcome is IngestOutcome.CREATED
        (review,) = hub.reviews()
        assert review.grade is Grade.RELATED
        assert set(review.profile_ids) == {jan.profile_id, anna.profile_id}
        assert review.id in anna.review_ids
        # later: the name picks the sharer; no name falls back to the first owner
        again = hub.ingest(make_interaction("3", PHONE, minutes=2, traits={"first_name": "Ania"}))
        assert again.profile_id == anna.profile_id
        plain = hub.ingest(make_interaction("4", PHONE, minutes=3))
        assert plain.profile_id == jan.profile_id
        assert len(hub.reviews()) == 1  # not raised twice
        assert not hub.why(jan.profile_id, anna.profile_id).same

    def test_an_interaction_tying_two_named_people_relates_them(self, hub: Hub) -> None:
        # Petra gave the household landline with her order; Julia writes from her own
        # mailbox; then a till record carries Julia's email and the landline, no name.
        petra = hub.ingest(make_interaction("1", PHONE, traits={"first_name": "Petra"}))
        julia = hub.ingest(
            make_interaction("2", EMAIL, minutes=1, traits={"display_name": "Schäfer, Julia"})
        )
        till = hub.ingest(make_interaction("3", EMAIL, PHONE, minutes=2))
        assert till.outcome is IngestOutcome.ATTACHED
        assert till.profile_id == julia.profile_id  # the email outranks the phone
        assert hub.profile(petra.profile_id).id == petra.profile_id  # not merged
        (review,) = hub.reviews()
        assert review.grade is Grade.RELATED
        assert set(review.profile_ids) == {petra.profile_id, julia.profile_id}
        # the landline is shared now: a name picks the sharer
        again = hub.ingest(make_interaction("4", PHONE, minutes=3, traits={"first_name": "Jule"}))
        assert again.profile_id == julia.profile_id
        plain = hub.ingest(make_interaction("5", PHONE, minutes=4, traits={"first_name": "Petra"}))
        assert plain.profile_id == petra.profile_id

    def test_one_person_under_two_spellings_still_merges(self, hub: Hub) -> None:
        cyrillic = hub.ingest(make_interaction("1", PHONE, traits={"first_name": "Юлія"}))
        latin = hub.ingest(
            make_interaction("2", EMAIL, minutes=1, traits={"display_name": "Yulia Shevchenko"})
        )
        both = hub.ingest(make_interaction("3", EMAIL, PHONE, minutes=2))
        assert both.outcome is IngestOutcome.MERGED
        assert set(both.merged_ids) | {both.profile_id} == {
            cyrillic.profile_id,
            latin.profile_id,
        }
        assert hub.reviews() == []

    def test_second_customer_number_is_a_conflict_not_a_merge(self, hub: Hub) -> None:
        first = hub.ingest(make_interaction("1", PHONE, SHOP_1))
        other = hub.ingest(make_interaction("2", PHONE, SHOP_2, minutes=1))
        assert other.profile_id == first.profile_id  # the phone's owner keeps the contact
        (review,) = hub.reviews()
        assert review.grade is Grade.CONFLICT
        split = next(p for p in review.profile_ids if p != first.profile_id)
        assert hub.find(SHOP_2) is not None
        found = hub.find(SHOP_2)
        assert found is not None
        assert found.id == split
        rejected = hub.reject(review.id)
        assert rejected.status is ReviewStatus.REJECTED
        assert hub.reviews() == []
        with pytest.raises(InvalidValueError, match="already rejected"):
            hub.accept(review.id)
        # a rejected pair is never proposed again
        hub.ingest(make_interaction("3", SHOP_2, PHONE, minutes=2))
        assert hub.reviews() == []
        assert hub.why(first.profile_id, split).apart

    def test_two_profiles_with_different_customer_numbers_are_not_merged(self, hub: Hub) -> None:
        a = hub.ingest(make_interaction("1", PHONE, SHOP_1))
        b = hub.ingest(make_interaction("2", EMAIL, SHOP_2, channel="email"))
        tie = hub.ingest(make_interaction("3", PHONE, EMAIL, channel="store", minutes=5))
        assert tie.outcome is IngestOutcome.ATTACHED
        assert tie.merged_ids == ()
        assert tie.profile_id in (a.profile_id, b.profile_id)
        (review,) = hub.reviews()
        assert review.grade is Grade.CONFLICT
        merged = hub.accept(review.id)  # a person may still decide they are one
        assert merged.status is ReviewStatus.ACCEPTED
        assert hub.profile(a.profile_id).id == hub.profile(b.profile_id).id
        assert hub.merges(b.profile_id)[-1].rule == "review-accepted"

    def test_merge_then_unmerge_is_the_identity_on_the_store(self, hub: Hub) -> None:
        a = hub.ingest(make_interaction("1", PHONE, traits={"city": "Kraków"}))
        hub.ingest(make_interaction("2", PHONE, channel="voice", minutes=1))
        b = hub.ingest(
            make_interaction("3", EMAIL, channel="email", minutes=2, traits={"city": "Gdańsk"})
        )
        hub.ingest(make_interaction("4", EMAIL, HANDLE, channel="telegram", minutes=3))
        before = self._snapshot(hub, [a.profile_id, b.profile_id])
        merge = hub.force_link(a.profile_id, b.profile_id)
        assert merge is not None
        assert merge.rule == "manual"
        assert self._snapshot(hub, [a.profile_id, b.profile_id]) != before
        holder, restored = hub.unmerge(merge.id)
        assert (holder.id, restored.id) == (merge.survivor_id, merge.absorbed_id)
        assert self._snapshot(hub, [a.profile_id, b.profile_id]) == before
        (record,) = [m for m in hub.merges(a.profile_id) if m.id == merge.id]
        assert record.unmerged_at is not None  # nothing deleted: the record says it was undone
        with pytest.raises(InvalidValueError, match="already undone"):
            hub.unmerge(merge.id)

    def test_unmerge_sends_interactions_back_and_keeps_later_ones(self, hub: Hub) -> None:
        a = hub.ingest(make_interaction("1", PHONE))
        b = hub.ingest(make_interaction("2", EMAIL, channel="email", minutes=1))
        tie = hub.ingest(make_interaction("3", PHONE, EMAIL, channel="store", minutes=2))
        later = hub.ingest(make_interaction("4", PHONE, channel="sms", minutes=3))
        assert tie.merged_ids == (b.profile_id,)
        hub.unmerge(b.profile_id)  # by the absorbed id
        assert hub.profile(b.profile_id).id == b.profile_id
        back = [i.source_id for i in hub.timeline(b.profile_id).items]
        kept = [i.source_id for i in hub.timeline(a.profile_id).items]
        assert back == ["2"]
        assert kept == ["4", "3", "1"]
        assert later.profile_id == a.profile_id
        email_owner = hub.find(EMAIL)
        assert email_owner is not None
        assert email_owner.id == b.profile_id
        # the pair is now apart: the same evidence no longer merges them
        again = hub.ingest(make_interaction("5", PHONE, EMAIL, channel="store", minutes=4))
        assert again.merged_ids == ()

    def test_force_apart_undoes_the_merge_and_remembers(self, hub: Hub) -> None:
        a = hub.ingest(make_interaction("1", PHONE))
        b = hub.ingest(make_interaction("2", EMAIL, channel="email", minutes=1))
        hub.ingest(make_interaction("3", PHONE, EMAIL, channel="store", minutes=2))
        undone = hub.force_apart(a.profile_id, b.profile_id)
        assert [m.absorbed_id for m in undone] == [b.profile_id]
        assert hub.why(a.profile_id, b.profile_id).apart
        assert hub.force_apart(a.profile_id, b.profile_id) == []

    def test_explanations_name_the_evidence(self, hub: Hub) -> None:
        a = hub.ingest(make_interaction("1", PHONE, traits={"display_name": "Jan Kowalski"}))
        b = hub.ingest(make_interaction("2", EMAIL, channel="email", minutes=1))
        hub.ingest(make_interaction("3", PHONE, EMAIL, channel="store", minutes=2))
        explanation = hub.explain(b.profile_id)
        assert explanation.profile_id == a.profile_id
        assert explanation.display_name == "Jan Kowalski"
        assert len(explanation.merges) == 1
        assert "shared-identifier" in explanation.text
        assert "+48******567" in explanation.text  # masked
        assert "+48601234567" not in explanation.text
        pair = hub.why(a.profile_id, b.profile_id)
        assert pair.same
        assert pair.merges[0].absorbed_id == b.profile_id
        lone = hub.ingest(make_interaction("4", HANDLE, channel="telegram"))
        assert "no interaction carried" in hub.why(a.profile_id, lone.profile_id).text

    @staticmethod
    def _snapshot(hub: Hub, ids: list[str]) -> list[Any]:
        """Everything observable about the given profile ids."""
        state: list[Any] = []
        for pid in ids:
            profile = hub.profile(pid)
            state.append(profile.model_dump())
            state.append([i.model_dump() for i in hub.history(pid)])
        for ident in (PHONE, EMAIL, HANDLE):
            found = hub.find(ident)
            state.append(None if found is None else found.id)
        return state

    # --- online probabilistic matching ---------------------------------------------------

    def test_weak_evidence_links_when_no_identifier_decides(self, store: Store) -> None:
        hub = Hub(store, matching=_matching_settings())
        first = hub.ingest(make_interaction("a", EMAIL, traits=LUKASZ))
        again = hub.ingest(
            make_interaction("b", PHONE, minutes=1, traits={**LUKASZ, "first_name": "Lukasz"})
        )
        assert again.outcome is IngestOutcome.ATTACHED
        assert again.profile_id == first.profile_id
        (stored,) = [i for i in hub.history(first.profile_id) if i.source_id == "b"]
        evidence = stored.metadata["resolution"]
        assert isinstance(evidence, dict)
        assert evidence["rule"] == "probabilistic"
        assert isinstance(evidence["score"], float)
        assert evidence["score"] >= 0.9
        assert "surname exact" in str(evidence["explanation"])
        # the phone it brought now resolves deterministically
        found = hub.find(PHONE)
        assert found is not None
        assert found.id == first.profile_id

    def test_households_and_namesakes_are_never_linked(self, store: Store) -> None:
        hub = Hub(store, matching=_matching_settings())
        jan = hub.ingest(make_interaction("a", EMAIL, traits=LUKASZ))
        sister = {**LUKASZ, "first_name": "Anna", "date_of_birth": "1990-01-01"}
        anna = hub.ingest(make_interaction("b", PHONE, minutes=1, traits=sister))
        assert anna.outcome is IngestOutcome.CREATED  # same address, another given name
        assert anna.profile_id != jan.profile_id
        namesake = {"first_name": "Łukasz", "surname": "Wójcik"}  # a name and nothing else
        other = hub.ingest(make_interaction("c", OTHER, minutes=2, traits=namesake))
        assert other.profile_id != jan.profile_id
        (review,) = [r for r in hub.reviews() if r.grade is Grade.POSSIBLE]
        assert set(review.profile_ids) == {jan.profile_id, other.profile_id}
        assert review.score is not None
        assert review.contributions
        hub.reject(review.id)
        again = hub.ingest(make_interaction("d", Identifier.phone("+48604567890"), traits=namesake))
        assert again.profile_id != jan.profile_id


LUKASZ = {
    "first_name": "Łukasz",
    "surname": "Wójcik",
    "date_of_birth": "1985-03-12",
    "postcode": "00-950",
    "city": "Warszawa",
    "address": "ul. Długa 12",
}


@functools.cache
def _matching_settings() -> Any:
    """Settings trained (EM, no labels) on a synthetic CRM export."""
    from omnichannel.resolution import infer_settings, train
    from omnichannel.testing._generator import generate, records

    rows = [{k: v for k, v in r.items() if k != "truth"} for r in records(generate(400, seed=3))]
    return train(rows, infer_settings(rows), seed=0)
