"""Topic rules, keyword folding, consent decisions and conversation settings in isolation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnichannel import Consent, Direction, Interaction, InvalidValueError, TextPart
from omnichannel.consent import ConsentPolicy, decide
from omnichannel.topics import TopicRule, TopicRules, fold_text, tag

T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)


def _text(text: str, *, language: str | None = None, **fields: object) -> Interaction:
    return Interaction.model_validate(
        {
            "channel": "sms",
            "occurred_at": T0,
            "content": [{"type": "text", "text": text, "language": language}],
            **fields,
        }
    )


def test_fold_text_ignores_case_accents_and_punctuation() -> None:
    assert fold_text("  Płatność NIE przeszła!!! ") == "platnosc nie przeszla"
    assert fold_text("ÀRRÊT") == "arret"
    assert fold_text("СТОП.") == "стоп"


@given(st.text(max_size=40))
def test_fold_text_is_idempotent(text: str) -> None:
    assert fold_text(fold_text(text)) == fold_text(text)


def test_keywords_match_whole_words_only() -> None:
    rules = TopicRules([TopicRule("refund", keywords=["refund"])])
    assert rules(_text("I want a REFUND.")) == ["refund"]
    assert rules(_text("refunds policy?")) == []
    assert rules(_text("")) == []


def test_rules_filter_by_language_channel_and_kind() -> None:
    rule = TopicRule(
        "zwrot", keywords=["zwrot"], language="pl", channels=["sms"], kinds=["message"]
    )
    rules = TopicRules([rule])
    assert rules(_text("zwrot towaru", language="pl-PL")) == ["zwrot"]
    assert rules(_text("zwrot towaru", language="en")) == []
    assert rules(_text("zwrot", metadata={"language": "pl"})) == ["zwrot"]
    assert rules(_text("zwrot", language="pl", channel="email")) == []
    assert rules(_text("zwrot", language="pl", kind="note")) == []
    assert "zwrot" in repr(rule)


def test_patterns_search_the_original_text() -> None:
    rules = TopicRules([TopicRule("order", patterns=[r"\b[A-Z]-\d{4}\b"])])
    assert rules(_text("status of W-1234?")) == ["order"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "keywords"),
        ({"keywords": ["ok", "!!"]}, "keywords"),
        ({"patterns": ["(unclosed"]}, "patterns"),
    ],
)
def test_bad_rules_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        TopicRule("topic", **kwargs)
    assert caught.value.field == field


def test_an_empty_topic_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="topic"):
        TopicRule(" ", keywords=["x"])


def test_tag_merges_topics_and_accepts_a_single_label() -> None:
    interaction = _text("hi", topics=["Sales"])
    assert tag(interaction, []) is interaction
    tagged = tag(interaction, [lambda i: "greeting", lambda i: ["sales", "VIP"]])
    assert tagged.topics == ("sales", "greeting", "vip")
    assert tag(tagged, [lambda i: ["vip"]]) is tagged


def _consent(profile: str, granted: bool, days: int, **fields: object) -> Consent:
    values: dict[str, object] = {
        "workspace": "w",
        "profile_id": profile,
        "channel": "email",
        "purpose": "marketing",
        "granted": granted,
        "source": "test",
        "recorded_at": T0 + timedelta(days=days),
    }
    values.update(fields)
    return Consent.model_validate(values)


def test_decide_defaults_by_purpose() -> None:
    policy = ConsentPolicy()
    assert not decide([], {"a"}, "email", "marketing", policy)
    assert decide([], {"a"}, "email", "service", policy)
    strict = ConsentPolicy(requires_grant=frozenset({"marketing", "service"}))
    assert not decide([], {"a"}, "email", "service", strict)


def test_decide_newest_answer_per_person_and_most_restrictive_across_people() -> None:
    policy = ConsentPolicy()
    a_yes = _consent("a", True, 5)
    b_no = _consent("b", False, 1)
    assert decide([a_yes], {"a"}, "email", "marketing", policy).allowed
    mixed = decide([b_no, a_yes], {"a", "b"}, "email", "marketing", policy)
    assert not mixed.allowed
    assert mixed.deciding == (b_no,)
    again = _consent("a", True, 9, covers=("a", "b"))
    assert decide([b_no, a_yes, again], {"a", "b"}, "email", "marketing", policy).allowed
    # a record on another channel or purpose does not answer
    other = _consent("a", False, 10, channel="sms")
    assert decide([a_yes, other], {"a"}, "email", "marketing", policy).allowed


def test_keywords_only_on_inbound_short_messages_and_chosen_channels() -> None:
    policy = ConsentPolicy(keyword_channels=frozenset({"sms"}))
    assert policy.keyword(_text("STOP")) is False
    assert policy.keyword(_text("unstop")) is True
    assert policy.keyword(_text("STOP", channel="email")) is None
    assert policy.keyword(_text("STOP", direction=Direction.OUTBOUND)) is None
    assert policy.keyword(_text("stop " * 20)) is None
    custom = ConsentPolicy(opt_out_keywords={"pl": ("Nie chcę SMS-ów",)})
    assert custom.keyword(_text("nie chce sms ow")) is False
    assert custom.keyword(_text("STOP")) is None
    no_text = Interaction(channel="sms", occurred_at=T0, content=(TextPart(text=" "),))
    assert ConsentPolicy().keyword(no_text) is None


def test_consent_fields_are_validated() -> None:
    with pytest.raises(ValueError, match="slug"):
        _consent("a", True, 0, channel="E Mail")
    assert _consent("a", True, 0, channel="*", purpose="*").channel == "*"
