"""Conformance of the features over the spine: conversations, topics, consent, privacy,
customer context and the event outbox. Part of :class:`StoreConformance`."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from omnichannel._errors import InvalidValueError, NotFoundError
from omnichannel._hub import Hub
from omnichannel._model import (
    ConversationStatus,
    Direction,
    Event,
    EventType,
    Identifier,
    IngestOutcome,
    Interaction,
    OrderRefPart,
    TextPart,
)
from omnichannel._topics import TopicRule, TopicRules
from omnichannel.storage._protocol import Store

__all__ = ["FeatureConformance"]

_T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
ANNA_PHONE = Identifier.phone("+48601100200")
ANNA_EMAIL = Identifier.email("anna.nowak@example.com")
PIOTR_PHONE = Identifier.phone("+48601300400")
HOME_PHONE = Identifier.phone("+48221234567")


def _msg(
    source_id: str,
    *identifiers: Identifier,
    channel: str = "sms",
    hours: float = 0,
    text: str = "hello",
    **fields: Any,
) -> Interaction:
    return Interaction(
        channel=channel,
        source_id=source_id,
        occurred_at=_T0 + timedelta(hours=hours),
        identifiers=identifiers,
        content=(TextPart(text=text),),
        **fields,
    )


class FeatureConformance:
    """Feature behaviour every store must support (mixed into StoreConformance)."""

    # --- conversations ---------------------------------------------------------------

    def test_conversation_continues_across_channels(self, hub: Hub) -> None:
        sms = hub.ingest(_msg("s1", ANNA_PHONE, text="Is my parcel on its way?"))
        email = hub.ingest(
            _msg("e1", ANNA_PHONE, ANNA_EMAIL, channel="email", hours=2, text="Order W-1?")
        )
        reply = hub.ingest(
            _msg("e2", ANNA_EMAIL, channel="email", hours=3, direction=Direction.OUTBOUND)
        )
        assert sms.conversation_id is not None
        assert sms.conversation_id == email.conversation_id == reply.conversation_id
        conversation = hub.conversation(sms.conversation_id)
        assert conversation.channels == ("sms", "email")
        assert conversation.interaction_count == 3
        assert conversation.first_inbound_at == _T0
        assert conversation.first_response_at == _T0 + timedelta(hours=3)
        assert conversation.status is ConversationStatus.OPEN
        stored = hub.timeline(sms.profile_id).items
        assert {i.conversation_id for i in stored} == {sms.conversation_id}

    def test_after_the_window_a_new_conversation_opens_and_the_idle_one_closes(
        self, hub: Hub
    ) -> None:
        first = hub.ingest(_msg("s1", ANNA_PHONE))
        later = hub.ingest(_msg("w1", ANNA_PHONE, channel="whatsapp", hours=30))
        assert later.conversation_id != first.conversation_id
        assert first.conversation_id is not None
        old = hub.conversation(first.conversation_id)
        assert old.status is ConversationStatus.CLOSED
        assert old.closed_at == _T0
        opened = hub.conversations(first.profile_id, ConversationStatus.OPEN)
        assert [c.id for c in opened] == [later.conversation_id]
        kinds = [e.type for e in hub.events(limit=1000)]
        assert kinds.count(EventType.CONVERSATION_OPENED) == 2
        assert kinds.count(EventType.CONVERSATION_CLOSED) == 1

    def test_a_reply_reference_threads_across_the_window_and_reopens(self, hub: Hub) -> None:
        ask = hub.ingest(_msg("<q1@shop>", ANNA_EMAIL, channel="email", text="Invoice please"))
        assert ask.conversation_id is not None
        hub.close_conversation(ask.conversation_id, at=_T0 + timedelta(hours=1))
        other = hub.ingest(_msg("s9", ANNA_EMAIL, ANNA_PHONE, hours=50, text="new question"))
        reply = hub.ingest(
            _msg("<r1@mail>", ANNA_EMAIL, channel="email", hours=72, reply_to="<q1@shop>")
        )
        assert other.conversation_id != ask.conversation_id
        assert reply.conversation_id == ask.conversation_id
        reopened = hub.conversation(ask.conversation_id)
        assert reopened.status is ConversationStatus.OPEN
        assert reopened.closed_at is None
        assert reopened.interaction_count == 2

    def test_email_references_chain_threads(self, hub: Hub) -> None:
        root = hub.ingest(_msg("<a@x>", ANNA_EMAIL, channel="email"))
        hub.ingest(_msg("s1", ANNA_EMAIL, hours=40))  # another conversation in between
        late = hub.ingest(
            _msg(
                "<c@x>",
                ANNA_EMAIL,
                channel="email",
                hours=80,
                reply_to="<unknown@x>",
                metadata={"references": ["<a@x>", "<unknown@x>"]},
            )
        )
        assert late.conversation_id == root.conversation_id

    def test_explicit_conversation_id_files_and_guards_other_customers(self, hub: Hub) -> None:
        ticket = hub.ingest(_msg("c1", ANNA_PHONE, channel="voice", conversation_id="TICKET-7"))
        assert ticket.conversation_id == "TICKET-7"
        follow = hub.ingest(_msg("c2", ANNA_PHONE, hours=90, conversation_id="TICKET-7"))
        assert follow.conversation_id == "TICKET-7"
        assert hub.conversation("TICKET-7").interaction_count == 2
        with pytest.raises(InvalidValueError, match="another customer"):
            hub.ingest(_msg("p1", PIOTR_PHONE, conversation_id="TICKET-7"))
        assert hub.find(PIOTR_PHONE) is None  # nothing was stored

    def test_orders_stay_outside_conversations(self, hub: Hub) -> None:
        order = hub.ingest(
            Interaction(
                channel="web",
                kind="order",
                source_id="W-1",
                occurred_at=_T0,
                identifiers=(ANNA_EMAIL,),
                content=(OrderRefPart(order_id="W-1"),),
            )
        )
        assert order.conversation_id is None
        assert hub.conversations(order.profile_id) == []

    def test_redelivery_returns_the_same_conversation(self, hub: Hub) -> None:
        first = hub.ingest(_msg("s1", ANNA_PHONE))
        again = hub.ingest(_msg("s1", ANNA_PHONE))
        assert again.outcome is IngestOutcome.DUPLICATE
        assert again.conversation_id == first.conversation_id
        assert first.conversation_id is not None
        assert hub.conversation(first.conversation_id).interaction_count == 1

    def test_close_reopen_assign_and_tag(self, hub: Hub) -> None:
        cid = hub.ingest(_msg("s1", ANNA_PHONE)).conversation_id
        assert cid is not None
        assert hub.assign_conversation(cid, "agent-7").assignee == "agent-7"
        assert hub.tag_conversation(cid, "Delivery", "delivery", "refund").topics == (
            "delivery",
            "refund",
        )
        closed = hub.close_conversation(cid, at=_T0 + timedelta(hours=2))
        assert (closed.status, closed.closed_at) == (
            ConversationStatus.CLOSED,
            _T0 + timedelta(hours=2),
        )
        assert hub.close_conversation(cid) == closed  # closing twice changes nothing
        assert hub.reopen_conversation(cid).is_open
        with pytest.raises(NotFoundError):
            hub.conversation("nope")
        with pytest.raises(InvalidValueError, match="topics"):
            hub.tag_conversation(cid, "   ")

    def test_merge_brings_conversations_and_unmerge_takes_them_back(self, hub: Hub) -> None:
        sms = hub.ingest(_msg("s1", ANNA_PHONE))
        mail = hub.ingest(_msg("e1", ANNA_EMAIL, channel="email", hours=1))
        merged = hub.ingest(_msg("w1", ANNA_PHONE, ANNA_EMAIL, channel="whatsapp", hours=2))
        assert merged.outcome is IngestOutcome.MERGED
        mine = {c.id for c in hub.conversations(merged.profile_id)}
        assert {sms.conversation_id, mail.conversation_id} <= mine
        hub.unmerge(mail.profile_id)
        assert {c.id for c in hub.conversations(mail.profile_id)} == {mail.conversation_id}
        assert mail.conversation_id not in {c.id for c in hub.conversations(sms.profile_id)}

    # --- topics --------------------------------------------------------------------

    def test_topic_rules_and_classifier_tag_interactions_and_conversations(
        self, store: Store
    ) -> None:
        rules = TopicRules(
            [
                TopicRule("payment problem", keywords=["card declined", "payment failed"]),
                TopicRule("payment problem", keywords=["płatność nie przeszła"], language="pl"),
                TopicRule("delivery", patterns=[r"\bwhere is my (order|parcel)\b"]),
            ]
        )

        def vip(interaction: Interaction) -> list[str]:
            return ["vip"] if interaction.traits.get("tier") == "gold" else []

        hub = Hub(store, topics=[rules, vip])
        first = hub.ingest(_msg("s1", ANNA_PHONE, text="My CARD was declined?? Card declined!"))
        polish = hub.ingest(
            Interaction(
                channel="whatsapp",
                source_id="w1",
                occurred_at=_T0 + timedelta(hours=1),
                identifiers=(ANNA_PHONE,),
                traits={"tier": "gold"},
                content=(TextPart(text="Płatność NIE przeszła, where is my order", language="pl"),),
                topics=("Manual Topic",),
            )
        )
        stored = {i.id: i for i in hub.history(first.profile_id)}
        assert stored[first.interaction_id].topics == ("payment problem",)
        assert stored[polish.interaction_id].topics == (
            "manual topic",
            "payment problem",
            "delivery",
            "vip",
        )
        assert polish.conversation_id is not None
        assert hub.conversation(polish.conversation_id).topics == (
            "payment problem",
            "manual topic",
            "delivery",
            "vip",
        )

    def test_a_tagger_returning_a_bad_label_stores_nothing(self, store: Store) -> None:
        def broken(interaction: Interaction) -> list[str]:
            return [""]

        hub = Hub(store, topics=broken)
        with pytest.raises(InvalidValueError, match="broken"):
            hub.ingest(_msg("s1", ANNA_PHONE))
        assert hub.find(ANNA_PHONE) is None

    # --- consent -------------------------------------------------------------------

    def test_consent_defaults_grants_and_the_newest_answer(self, hub: Hub) -> None:
        pid = hub.ingest(_msg("s1", ANNA_PHONE)).profile_id
        assert not hub.can_contact(pid, "email", "marketing")
        assert hub.can_contact(pid, "email", "service")
        hub.record_consent(pid, "email", "marketing", granted=True, source="web-form")
        decision = hub.can_contact("+48 601 100 200", "email", "marketing")
        assert decision.allowed
        assert "web-form" in decision.reason
        hub.record_consent(
            ANNA_PHONE, "email", "marketing", granted=False, source="crm", evidence={"by": "x"}
        )
        assert not hub.can_contact(pid, "email", "marketing")
        hub.record_consent(pid, "*", "*", granted=False, source="phone call")
        assert not hub.can_contact(pid, "sms", "service")
        assert [c.source for c in hub.consents(pid)] == ["web-form", "crm", "phone call"]
        with pytest.raises(NotFoundError):
            hub.can_contact(PIOTR_PHONE, "sms", "service")

    def test_stop_keyword_records_an_opt_out_on_that_channel(self, hub: Hub) -> None:
        pid = hub.ingest(_msg("s1", ANNA_PHONE, text="Hi")).profile_id
        hub.record_consent(pid, "sms", "marketing", granted=True, source="checkout", at=_T0)
        hub.ingest(_msg("s2", ANNA_PHONE, hours=1, text=" Stop. "))
        assert not hub.can_contact(pid, "sms", "marketing")
        assert not hub.can_contact(pid, "sms", "service")
        assert hub.can_contact(pid, "email", "service")
        hub.ingest(_msg("w1", ANNA_PHONE, channel="whatsapp", hours=2, text="stop it now"))
        hub.ingest(_msg("w2", ANNA_PHONE, channel="whatsapp", hours=3, text="СТОП"))
        assert not hub.can_contact(pid, "whatsapp", "service")
        hub.ingest(_msg("s3", ANNA_PHONE, hours=4, text="START"))
        assert hub.can_contact(pid, "sms", "marketing")
        changes = [e for e in hub.events(limit=1000) if e.type is EventType.CONSENT_CHANGED]
        assert [e.data["granted"] for e in changes] == [
            True,
            False,
            False,
            False,
            False,
            True,
            True,
        ]
        keyword = [c for c in hub.consents(pid) if c.source == "keyword"]
        assert keyword[0].interaction_id is not None

    def test_merge_takes_the_most_restrictive_answer_and_unmerge_gives_each_their_own(
        self, hub: Hub
    ) -> None:
        anna = hub.ingest(_msg("s1", ANNA_PHONE)).profile_id
        other = hub.ingest(_msg("e1", ANNA_EMAIL, channel="email", hours=1)).profile_id
        hub.record_consent(anna, "email", "marketing", granted=True, source="form")
        hub.record_consent(
            other, "email", "marketing", granted=False, source="unsubscribe link",
            at=_T0 - timedelta(days=30),
        )  # fmt: skip
        merged = hub.ingest(_msg("w1", ANNA_PHONE, ANNA_EMAIL, channel="whatsapp", hours=2))
        assert merged.outcome is IngestOutcome.MERGED
        decision = hub.can_contact(merged.profile_id, "email", "marketing")
        assert not decision.allowed
        assert "most restrictive" in decision.reason
        hub.unmerge(other)
        assert hub.can_contact(anna, "email", "marketing")
        assert not hub.can_contact(other, "email", "marketing")
        hub.force_link(anna, other)
        hub.record_consent(anna, "email", "marketing", granted=True, source="asked again")
        assert hub.can_contact(anna, "email", "marketing")  # one person answering again
        assert hub.can_contact(other, "email", "marketing")

    def test_bad_consent_input_names_the_field(self, hub: Hub) -> None:
        pid = hub.ingest(_msg("s1", ANNA_PHONE)).profile_id
        with pytest.raises(InvalidValueError, match="channel"):
            hub.record_consent(pid, "E-Mail!", "marketing", granted=True, source="x")
        with pytest.raises(InvalidValueError, match="at"):
            hub.record_consent(
                pid, "email", "marketing", granted=True, source="x", at=datetime(2026, 1, 1)
            )
        assert hub.consents(pid) == []

    # --- customer context ----------------------------------------------------------

    def test_context_gives_an_agent_everything_in_one_call(self, hub: Hub) -> None:
        hub.ingest(_msg("s1", ANNA_PHONE, text="card declined", topics=("payment problem",)))
        hub.ingest(_msg("w1", ANNA_PHONE, channel="whatsapp", hours=1, text="hello?"))
        hub.ingest(_msg("w2", ANNA_PHONE, channel="whatsapp", hours=2, text="anyone?"))
        hub.ingest(
            Interaction(
                channel="web",
                kind="order",
                source_id="W-9",
                occurred_at=_T0 + timedelta(hours=3),
                identifiers=(ANNA_PHONE, ANNA_EMAIL),
                content=(OrderRefPart(order_id="W-9"),),
            )
        )
        hub.ingest(
            Interaction(
                channel="store",
                kind="return",
                source_id="R-1",
                occurred_at=_T0 + timedelta(hours=4),
                identifiers=(ANNA_EMAIL,),
                content=(OrderRefPart(order_id="W-9", status="returned"),),
            )
        )
        hub.record_consent(ANNA_EMAIL, "email", "marketing", granted=True, source="form")
        context = hub.context("anna.nowak@example.com")
        assert context.profile.id == hub.context(context.profile.id).profile.id
        assert [i.source_id for i in context.recent_interactions] == [
            "R-1",
            "W-9",
            "w2",
            "w1",
            "s1",
        ]
        assert [o.source_id for o in context.recent_orders] == ["W-9"]
        assert [r.source_id for r in context.recent_returns] == ["R-1"]
        assert len(context.open_conversations) == 1
        assert context.open_conversations[0].channels == ("sms", "whatsapp")
        assert context.preferred_channel == "whatsapp"
        assert context.last_channel == "store"
        assert context.topics == ("payment problem",)
        answers = {(c.channel, c.purpose): c.allowed for c in context.consents}
        assert answers[("email", "marketing")] is True
        assert answers[("sms", "marketing")] is False
        assert answers[("sms", "service")] is True
        assert {e.identifier for e in context.identifiers} == {ANNA_PHONE, ANNA_EMAIL}
        with pytest.raises(NotFoundError):
            hub.context(PIOTR_PHONE)
        with pytest.raises(InvalidValueError):
            hub.context(context.profile.id, interactions=0)

    # --- privacy -------------------------------------------------------------------

    def test_export_holds_everything_about_the_person_as_json(self, hub: Hub) -> None:
        hub.ingest(_msg("s1", ANNA_PHONE, traits={"display_name": "Anna"}))
        hub.ingest(_msg("e1", ANNA_EMAIL, channel="email", hours=1))
        merged = hub.ingest(_msg("w1", ANNA_PHONE, ANNA_EMAIL, channel="whatsapp", hours=2))
        hub.ingest(_msg("p1", PIOTR_PHONE, text="not Anna's"))
        hub.record_consent(ANNA_PHONE, "sms", "marketing", granted=True, source="form")
        export = hub.export(merged.profile_id)
        assert {i.source_id for i in export.interactions} == {"s1", "e1", "w1"}
        assert len(export.merged_profiles) == 1
        assert len(export.merges) == 1
        assert len(export.consents) == 1
        assert export.conversations
        document = json.loads(export.model_dump_json())
        assert document["profile"]["traits"] == {"display_name": "Anna"}
        assert "not Anna's" not in export.model_dump_json()

    def test_forget_erases_everywhere_and_suppresses_reimport(self, hub: Hub) -> None:
        hub.ingest(_msg("s1", ANNA_PHONE, traits={"display_name": "Anna Nowak"}))
        mail = hub.ingest(_msg("e1", ANNA_EMAIL, channel="email", hours=1))
        merged = hub.ingest(_msg("w1", ANNA_PHONE, ANNA_EMAIL, channel="whatsapp", hours=2))
        piotr = hub.ingest(_msg("p1", PIOTR_PHONE, text="Piotr here"))
        hub.record_consent(ANNA_PHONE, "sms", "marketing", granted=True, source="form")
        result = hub.forget(ANNA_EMAIL)
        assert set(result.profile_ids) == {merged.profile_id, mail.profile_id}
        assert (result.interactions, result.suppressed, result.kept_shared) == (3, 2, 0)
        assert hub.find(ANNA_PHONE) is None
        assert hub.find(ANNA_EMAIL) is None
        for pid in result.profile_ids:
            with pytest.raises(NotFoundError):
                hub.profile(pid)
        assert [i.source_id for _, i in hub.scan()] == ["p1"]
        assert hub.reviews(None) == []
        assert hub.merges(merged.profile_id) == []
        # what stays: the fact of the erasure, without personal data
        forgotten = [e for e in hub.events(limit=1000) if e.type is EventType.PROFILE_FORGOTTEN]
        assert len(forgotten) == 1
        assert forgotten[0].id == result.event_id
        trail = json.dumps([e.model_dump(mode="json") for e in hub.events(limit=1000)])
        for secret in ("601100200", "anna.nowak", "Anna", "hello"):
            assert secret not in trail
        # an old import brings nobody back; other customers are untouched
        summary = hub.ingest_many(
            [
                _msg("s1", ANNA_PHONE),
                _msg("old-2", Identifier.email("Anna.Nowak@EXAMPLE.com"), channel="email"),
                _msg("p2", PIOTR_PHONE, hours=1),
            ]
        )
        assert (summary.suppressed, summary.attached) == (2, 1)
        again = hub.ingest(_msg("s1", ANNA_PHONE))
        assert (again.outcome, again.profile_id) == (IngestOutcome.SUPPRESSED, "")
        assert hub.find(ANNA_PHONE) is None
        assert len(list(hub.history(piotr.profile_id))) == 2

    def test_forget_leaves_a_shared_phone_to_the_other_person(self, hub: Hub) -> None:
        anna = hub.ingest(_msg("h1", HOME_PHONE, traits={"first_name": "Anna"}))
        jan = hub.ingest(_msg("h2", HOME_PHONE, hours=1, traits={"first_name": "Jan"}))
        assert jan.profile_id != anna.profile_id  # a shared household phone
        result = hub.forget(anna.profile_id)
        assert (result.suppressed, result.kept_shared) == (0, 1)
        owner = hub.find(HOME_PHONE)
        assert owner is not None
        assert owner.id == jan.profile_id
        later = hub.ingest(_msg("h3", HOME_PHONE, hours=2, traits={"first_name": "Jan"}))
        assert later.profile_id == jan.profile_id

    # --- events --------------------------------------------------------------------

    def test_outbox_records_each_change_and_drains_at_least_once(self, hub: Hub) -> None:
        hub.ingest(_msg("s1", ANNA_PHONE))
        hub.ingest(_msg("e1", ANNA_EMAIL, channel="email", hours=1))
        hub.ingest(_msg("w1", ANNA_PHONE, ANNA_EMAIL, channel="whatsapp", hours=2))
        kinds = [e.type.value for e in hub.events(limit=1000)]
        assert kinds[:3] == ["profile.created", "conversation.opened", "interaction.ingested"]
        assert "profile.merged" in kinds
        seqs = [e.seq or 0 for e in hub.events(limit=1000)]
        assert seqs == sorted(seqs)
        assert len(set(seqs)) == len(seqs)

        received: list[Event] = []
        assert hub.drain_events(received.append, batch_size=2) == len(kinds)
        assert [e.type.value for e in received] == kinds
        assert all(e.delivered_at is None for e in received)
        assert hub.drain_events(received.append) == 0
        assert all(e.delivered_at is not None for e in hub.events(limit=1000))
        first_seq = hub.events(limit=1)[0].seq
        assert first_seq is not None
        assert [e.seq for e in hub.events(after_seq=first_seq, limit=1)] == [seqs[1]]

    def test_a_failing_handler_loses_nothing(self, hub: Hub) -> None:
        hub.ingest(_msg("s1", ANNA_PHONE))
        pending = [e.id for e in hub.events(limit=1000)]
        seen: list[str] = []

        def flaky(event: Event) -> None:
            if len(seen) == 1:
                seen.append("failed")
                raise ConnectionError("CRM is down")
            seen.append(event.id)

        with pytest.raises(ConnectionError):
            hub.drain_events(flaky)
        later: list[str] = []
        assert hub.drain_events(lambda e: later.append(e.id)) == len(pending) - 1
        assert [seen[0], *later] == pending

    def test_subscribers_get_events_after_commit_and_failures_are_contained(
        self, hub: Hub, caplog: pytest.LogCaptureFixture
    ) -> None:
        got: list[EventType] = []

        def broken(event: Event) -> None:
            raise RuntimeError("subscriber bug")

        hub.subscribe(broken)
        stop = hub.subscribe(lambda e: got.append(e.type))
        with caplog.at_level(logging.ERROR, logger="omnichannel"):
            result = hub.ingest(_msg("s1", ANNA_PHONE))
        assert result.outcome is IngestOutcome.CREATED
        assert got == [
            EventType.PROFILE_CREATED,
            EventType.CONVERSATION_OPENED,
            EventType.INTERACTION_INGESTED,
        ]
        assert "subscriber bug" in caplog.text
        assert hub.drain_events(lambda e: None) == 3  # the outbox kept everything
        stop()
        hub.ingest(_msg("s2", ANNA_PHONE, hours=1))
        assert len(got) == 3

    def test_a_failed_ingest_writes_no_event(self, hub: Hub) -> None:
        bad = {"channel": "sms", "occurred_at": "yesterday", "identifiers": []}
        with pytest.raises(InvalidValueError, match=r"items\[1\]"):
            hub.ingest_many([_msg("s1", ANNA_PHONE), bad])
        assert hub.events() == []
        hub.ingest(_msg("t1", ANNA_PHONE, conversation_id="T-1"))
        with pytest.raises(InvalidValueError):
            hub.ingest(_msg("t2", PIOTR_PHONE, conversation_id="T-1"))
        assert [e.type for e in hub.events()][-1] is EventType.INTERACTION_INGESTED
        assert len(hub.events()) == 3

    # --- scans ---------------------------------------------------------------------

    def test_scan_pages_through_the_workspace_in_time_order(self, hub: Hub) -> None:
        for n in range(7):
            hub.ingest(_msg(f"s{n}", ANNA_PHONE if n % 2 else PIOTR_PHONE, hours=6 - n))
        everything = list(hub.scan(page_size=3))
        assert [i.source_id for _, i in everything] == [f"s{n}" for n in range(6, -1, -1)]
        window = list(
            hub.scan(since=_T0 + timedelta(hours=2), until=_T0 + timedelta(hours=5), page_size=2)
        )
        assert [i.source_id for _, i in window] == ["s4", "s3", "s2"]
        conversations = list(hub.scan_conversations(page_size=1))
        assert len(conversations) == 2
        assert [c.opened_at for c in conversations] == sorted(c.opened_at for c in conversations)
        with pytest.raises(InvalidValueError, match="since"):
            list(hub.scan(since=datetime(2026, 1, 1)))
