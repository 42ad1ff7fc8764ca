"""EM training recovers known parameters from unlabelled synthetic data, deterministically."""

from __future__ import annotations

import random
import string

import pytest

from omnichannel import InvalidValueError
from omnichannel.resolution import (
    Comparison,
    ExactMatch,
    NameComparison,
    Or,
    Settings,
    block_on,
    train,
)

FIELDS = ("f1", "f2", "f3", "f4")
CARDINALITY = {"f1": 300, "f2": 500, "f3": 1000, "f4": 400}
TRUE_M = {"f1": 0.9, "f2": 0.8, "f3": 0.95, "f4": 0.7}
ENTITIES = 800
SINGLES = 400

Record = dict[str, object]


def _value(rng: random.Random, field: str) -> str:
    return f"{field}-{rng.randrange(CARDINALITY[field])}"


def _name(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 9)))


def synthetic(seed: int = 7) -> list[Record]:
    """Entities recorded twice: each field of the copy agrees with probability TRUE_M."""
    rng = random.Random(seed)
    records: list[Record] = []
    for _ in range(ENTITIES):
        original: Record = {f: _value(rng, f) for f in FIELDS}
        original["name"] = _name(rng)
        copy: Record = {
            f: original[f] if rng.random() < TRUE_M[f] else _value(rng, f) for f in FIELDS
        }
        copy["name"] = original["name"] if rng.random() < 0.8 else _name(rng)
        records += [original, copy]
    for _ in range(SINGLES):
        single: Record = {f: _value(rng, f) for f in FIELDS}
        single["name"] = _name(rng)
        records.append(single)
    rng.shuffle(records)
    return records


def settings_for(name: bool = False) -> Settings:
    comparisons: list[Comparison] = [ExactMatch(f) for f in FIELDS]
    if name:
        comparisons.append(NameComparison("name", term_frequency=False))
    return Settings(comparisons=tuple(comparisons), blocking=Or(*(block_on(f) for f in FIELDS)))


@pytest.fixture(scope="module")
def records() -> list[Record]:
    return synthetic()


@pytest.fixture(scope="module")
def trained(records: list[Record]) -> Settings:
    return train(records, settings_for(), seed=0)


@pytest.mark.parametrize("field", FIELDS)
def test_m_is_recovered(trained: Settings, field: str) -> None:
    index = FIELDS.index(field)
    # P(agree | match): kept with TRUE_M, or redrawn onto the same value by chance
    expected = TRUE_M[field] + (1 - TRUE_M[field]) / CARDINALITY[field]
    assert trained.m_probabilities[index][0] == pytest.approx(expected, abs=0.04)


@pytest.mark.parametrize("field", FIELDS)
def test_u_is_recovered(trained: Settings, field: str) -> None:
    index = FIELDS.index(field)
    assert trained.u_probabilities[index][0] == pytest.approx(1 / CARDINALITY[field], rel=0.25)
    assert sum(trained.u_probabilities[index]) == pytest.approx(1.0)


def test_prior_is_recovered(trained: Settings, records: list[Record]) -> None:
    n = len(records)
    expected = ENTITIES / (n * (n - 1) / 2)
    assert trained.prior == pytest.approx(expected, rel=0.3)


def test_thresholds_and_rules_are_kept(trained: Settings) -> None:
    base = settings_for()
    assert trained.link_threshold == base.link_threshold
    assert trained.review_threshold == base.review_threshold
    assert trained.blocking == base.blocking
    assert trained.comparisons == base.comparisons


def test_same_seed_same_settings(records: list[Record]) -> None:
    first = train(records, settings_for(name=True), seed=3)
    second = train(records, settings_for(name=True), seed=3)
    assert first == second
    other = train(records, settings_for(name=True), seed=4)
    # the exact level is counted, not sampled; the fuzzy levels differ only by sampling
    assert other.u_probabilities[4][0] == first.u_probabilities[4][0]
    for a, b in zip(other.u_probabilities[4], first.u_probabilities[4], strict=True):
        assert a == pytest.approx(b, abs=0.01)


def test_link_training_recovers_m() -> None:
    rng = random.Random(11)
    left: list[Record] = []
    right: list[Record] = []
    for _ in range(600):
        original: Record = {f: _value(rng, f) for f in FIELDS}
        left.append(original)
        right.append(
            {f: original[f] if rng.random() < TRUE_M[f] else _value(rng, f) for f in FIELDS}
        )
    right.extend({f: _value(rng, f) for f in FIELDS} for _ in range(300))
    trained = train(left, settings_for(), right=right, seed=0)
    for index, field in enumerate(FIELDS):
        assert trained.m_probabilities[index][0] == pytest.approx(TRUE_M[field], abs=0.05)
    assert trained.prior == pytest.approx(600 / (600 * 900), rel=0.3)


def test_term_frequencies_are_learned(records: list[Record]) -> None:
    settings = Settings(
        comparisons=(ExactMatch("f1", term_frequency=True), ExactMatch("f2")),
        blocking=Or(block_on("f1"), block_on("f2")),
    )
    trained = train(records, settings)
    table = trained.term_frequencies["f1"]
    assert "f2" not in trained.term_frequencies
    assert sum(table.values()) == pytest.approx(1.0)
    some = str(records[0]["f1"]).casefold()
    assert table[some] == pytest.approx(
        sum(1 for r in records if str(r["f1"]).casefold() == some) / len(records)
    )


def test_tiny_and_empty_data_keep_starting_values() -> None:
    settings = settings_for()
    empty = train([], settings)
    assert empty.m_probabilities == settings.m_probabilities
    assert empty.prior == settings.prior
    one = train([{"f1": "a"}], settings)
    assert one.m_probabilities == settings.m_probabilities


def test_invalid_arguments() -> None:
    with pytest.raises(InvalidValueError, match="must be a Settings"):
        train([], {"comparisons": []})  # type: ignore[arg-type]
    for option, value in (("u_sample_size", 0), ("max_iterations", 0), ("tolerance", 0.0)):
        with pytest.raises(InvalidValueError, match="must be positive") as caught:
            train([{"f1": "a"}], settings_for(), **{option: value})  # type: ignore[arg-type]
        assert caught.value.field == option


def test_prior_without_plain_rules_keeps_the_start(records: list[Record]) -> None:
    from omnichannel.resolution import And, Not

    settings = Settings(
        comparisons=tuple(ExactMatch(f) for f in FIELDS),
        blocking=Or(And(block_on("f1"), Not(block_on("f2"))), block_on("f3", "missing")),
        prior=0.0005,
    )
    trained = train(records, settings)
    assert trained.prior == 0.0005  # no session on a plain block_on to count matches with
    assert trained.m_probabilities != settings.m_probabilities  # m was still learned


def test_unhashable_values_are_prepared_one_by_one() -> None:
    records: list[Record] = [{"f1": ["x"], "f2": "a"}, {"f1": ["x"], "f2": "b"}] * 10
    trained = train(records, settings_for())
    assert trained.u_probabilities[0][0] > 0.0
