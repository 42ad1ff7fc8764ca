"""Fellegi-Sunter scoring: weights, probabilities, term frequencies, explanations."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from omnichannel.resolution import (
    DateComparison,
    ExactMatch,
    NameComparison,
    Or,
    PairScore,
    PostcodeComparison,
    Settings,
    block_on,
    explain_score,
    score,
)

COMPARISONS = (
    NameComparison("surname", term_frequency=False),
    DateComparison("date_of_birth"),
    PostcodeComparison("postcode"),
)
M = ((0.8, 0.1, 0.05, 0.05), (0.85, 0.03, 0.05, 0.02, 0.05), (0.8, 0.1, 0.05, 0.05))
U = (
    (0.001, 0.001, 0.002, 0.996),
    (0.0001, 0.00001, 0.001, 0.001, 0.99789),
    (0.01, 0.05, 0.1, 0.84),
)


def make_settings(**changes: object) -> Settings:
    values: dict[str, object] = {
        "comparisons": COMPARISONS,
        "blocking": block_on("surname"),
        "m_probabilities": M,
        "u_probabilities": U,
        "prior": 0.001,
    }
    values.update(changes)
    return Settings(**values)  # type: ignore[arg-type]


def weight(m: float, u: float) -> float:
    return math.log2(m / u)


def test_match_weight_is_the_prior_plus_each_field() -> None:
    settings = make_settings()
    a = {"surname": "Kowalski", "date_of_birth": "1980-04-09", "postcode": "00-950"}
    b = {"surname": "kowalski", "date_of_birth": "1980-09-04", "postcode": "31-000"}
    result = score(a, b, settings)
    prior = math.log2(0.001 / 0.999)
    expected = prior + weight(0.8, 0.001) + weight(0.03, 0.00001) + weight(0.05, 0.84)
    assert result.prior_weight == pytest.approx(prior)
    assert result.match_weight == pytest.approx(expected)
    assert result.probability == pytest.approx(2**expected / (1 + 2**expected))
    assert [(c.field, c.level) for c in result.contributions] == [
        ("surname", "exact"),
        ("date_of_birth", "day/month swapped"),
        ("postcode", "else"),
    ]
    assert sum(c.weight for c in result.contributions) + prior == pytest.approx(expected)


def test_missing_fields_weigh_nothing() -> None:
    settings = make_settings()
    result = score({"surname": "Nowak"}, {"surname": "Nowak", "postcode": "00-950"}, settings)
    assert [(c.field, c.level, c.weight) for c in result.contributions][1:] == [
        ("date_of_birth", "missing", 0.0),
        ("postcode", "missing", 0.0),
    ]
    assert result.match_weight == pytest.approx(result.prior_weight + weight(0.8, 0.001))


DECISIONS = [
    (0.95, "link"),
    (0.9, "link"),
    (0.7, "review"),
    (0.5, "review"),
    (0.2, "distinct"),
]


@pytest.mark.parametrize(("probability", "decision"), DECISIONS)
def test_thresholds_decide(probability: float, decision: str) -> None:
    assert make_settings().decide(probability) == decision


def test_explanation_names_every_field() -> None:
    settings = make_settings()
    a = {"surname": "Kowalski", "date_of_birth": "1980-04-09", "postcode": "00-950"}
    b = {"surname": "Kowalski", "date_of_birth": "1980-09-04", "postcode": "00-950"}
    result = score(a, b, settings)
    text = explain_score(result)
    assert result.decision == "link"
    assert text == result.explain()
    assert text.startswith("linked with probability 1.000")
    assert "surname exact (+9.6)" in text
    assert "date_of_birth day/month swapped (+11.6)" in text
    assert "postcode exact (+6.3)" in text
    far = score(a, {"surname": "Nowak", "postcode": "99-999"}, settings)
    assert far.decision == "distinct"
    assert explain_score(far).startswith("not linked with probability 0.000")
    assert "postcode differs (-4.1)" in explain_score(far)
    assert "date_of_birth missing (+0.0)" in explain_score(far)


def test_term_frequencies_weaken_common_values() -> None:
    comparison = NameComparison("surname")
    settings = Settings(
        comparisons=(comparison,),
        blocking=block_on("surname"),
        m_probabilities=((0.9, 0.05, 0.03, 0.02),),
        u_probabilities=((0.002, 0.002, 0.004, 0.992),),
        prior=0.001,
        term_frequencies={"surname": {"smith": 0.02, "kowalski": 0.01, "szczepaniak": 0.0001}},
    )
    common = score({"surname": "Smith"}, {"surname": "SMITH"}, settings)
    middle = score({"surname": "Kowalski"}, {"surname": "Kowalski"}, settings)
    rare = score({"surname": "Szczepaniak"}, {"surname": "Szczepaniak"}, settings)
    unseen = score({"surname": "Zielinski"}, {"surname": "Zielinski"}, settings)
    assert common.match_weight < middle.match_weight < rare.match_weight
    assert common.contributions[0].weight == pytest.approx(math.log2(0.9 / 0.02))
    assert rare.contributions[0].weight == pytest.approx(math.log2(0.9 / 0.0001))
    assert common.contributions[0].level == "exact (term frequency)"
    # a value the table does not hold keeps the plain exact weight
    assert unseen.contributions[0].weight == pytest.approx(math.log2(0.9 / 0.002))
    assert unseen.contributions[0].level == "exact"
    # term frequencies touch only the exact level
    near = score({"surname": "Smith"}, {"surname": "Smyth"}, settings)
    assert near.contributions[0].weight == pytest.approx(math.log2(0.03 / 0.004))


def test_defaults_are_filled_and_validated() -> None:
    settings = Settings(
        comparisons=COMPARISONS,
        blocking=[block_on("surname"), block_on("postcode")],  # type: ignore[arg-type]
    )
    assert [len(row) for row in settings.m_probabilities] == [4, 5, 4]
    assert all(math.isclose(sum(row), 1.0) for row in settings.m_probabilities)
    assert all(math.isclose(sum(row), 1.0) for row in settings.u_probabilities)
    assert settings.blocking == Or(block_on("surname"), block_on("postcode"))
    assert (settings.link_threshold, settings.review_threshold) == (0.9, 0.5)
    assert "surname:" in settings.describe()
    assert "day/month swapped" in settings.describe()
    one = Settings(comparisons=COMPARISONS, blocking=[block_on("surname")])  # type: ignore[arg-type]
    assert one.blocking == block_on("surname")


INVALID: list[tuple[dict[str, object], str]] = [
    ({"m_probabilities": M[:2]}, "one row per comparison"),
    ({"u_probabilities": (U[0], U[1], (0.5, 0.5))}, "postcode has 4 levels"),
    ({"m_probabilities": ((0.0, 0.1, 0.1, 0.8), M[1], M[2])}, "each must be in"),
    ({"prior": 0.0}, "prior"),
    ({"prior": 1.0}, "prior"),
    ({"link_threshold": 0.4}, "review_threshold must not exceed"),
    ({"review_threshold": 1.5}, "review_threshold"),
    ({"comparisons": ()}, "at least one comparison"),
    ({"comparisons": (ExactMatch("a"), ExactMatch("a"))}, "compared once"),
    ({"comparisons": ("surname",)}, "comparisons"),
    ({"blocking": "surname"}, "blocking"),
    ({"extra": 1}, "extra"),
]


@pytest.mark.parametrize(("changes", "message"), INVALID)
def test_invalid_settings(changes: dict[str, object], message: str) -> None:
    if "comparisons" in changes:
        changes = {"m_probabilities": (), "u_probabilities": (), **changes}
    with pytest.raises(ValidationError, match=message):
        make_settings(**changes)


def test_settings_are_frozen() -> None:
    settings = make_settings()
    with pytest.raises(ValidationError):
        settings.prior = 0.5  # type: ignore[misc]


def test_score_rejects_other_settings() -> None:
    from omnichannel import InvalidValueError

    with pytest.raises(InvalidValueError, match="must be a Settings"):
        score({}, {}, {"prior": 0.1})  # type: ignore[arg-type]


def test_pair_score_is_a_frozen_model() -> None:
    result = score({"surname": "a"}, {"surname": "a"}, make_settings())
    assert isinstance(result, PairScore)
    assert PairScore.model_validate(result.model_dump()) == result


def test_extreme_thresholds() -> None:
    settings = make_settings(link_threshold=1.0, review_threshold=0.0)
    assert settings.decide(0.0) == "review"
    assert settings.decide(0.999) == "review"
    assert settings.decide(1.0) == "link"


def test_several_fields_in_one_comparison_score_together() -> None:
    from omnichannel.resolution import AddressComparison

    settings = Settings(
        comparisons=(AddressComparison(("street_number", "street")),),
        blocking=block_on("street"),
    )
    a = {"street_number": "12", "street": "High Street"}
    b = {"street_number": 12, "street": "high street"}
    assert score(a, b, settings).contributions[0].level == "exact"
    assert score(a, b, settings).contributions[0].field == "street_number+street"
