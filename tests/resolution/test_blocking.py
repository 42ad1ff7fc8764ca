"""Blocking rules compose as sets of pairs: Or is the union, And the intersection."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import pytest

from omnichannel import InvalidValueError, OmnichannelError
from omnichannel.resolution import (
    And,
    BlockingRule,
    Not,
    Or,
    TooManyPairsError,
    block_on,
    dedupe_pairs,
    link_pairs,
)

RECORDS: list[dict[str, object]] = [
    {"surname": "Nowak", "dob": "1980-01-01", "city": "Kraków"},
    {"surname": "nowak", "dob": "1980-01-01", "city": "Warszawa"},
    {"surname": "Nowak", "dob": "1975-05-05", "city": "krakow"},
    {"surname": "Kowalski", "dob": "1980-01-01", "city": "Kraków"},
    {"surname": "Kowalski", "dob": "1990-12-31", "city": None},
    {"surname": None, "dob": "1990-12-31", "city": "Gdańsk"},
    {"surname": "Łukasik", "dob": None, "city": "Gdansk"},
    {"surname": "lukasik", "dob": "2000-02-02", "city": "  "},
]


def brute_force(records: list[dict[str, object]], *fields: str) -> set[tuple[int, int]]:
    """Pairs i < j equal on every field, computed the slow way."""
    from omnichannel.resolution._comparisons import fold_text

    found = set()
    for i, j in itertools.combinations(range(len(records)), 2):
        values = [(fold_text(records[i].get(f)), fold_text(records[j].get(f))) for f in fields]
        if all(a is not None and a == b for a, b in values):
            found.add((i, j))
    return found


SURNAME = brute_force(RECORDS, "surname")
DOB = brute_force(RECORDS, "dob")
CITY = brute_force(RECORDS, "city")

COMPOSITIONS: list[tuple[str, BlockingRule, set[tuple[int, int]]]] = [
    ("surname", block_on("surname"), SURNAME),
    ("dob", block_on("dob"), DOB),
    ("or", Or(block_on("surname"), block_on("dob")), SURNAME | DOB),
    ("or3", Or(block_on("surname"), block_on("dob"), block_on("city")), SURNAME | DOB | CITY),
    (
        "nested-or",
        Or(Or(block_on("surname"), block_on("dob")), block_on("city")),
        SURNAME | DOB | CITY,
    ),
    ("and", And(block_on("surname"), block_on("dob")), SURNAME & DOB),
    ("and-is-block-on-both", block_on("surname", "dob"), SURNAME & DOB),
    ("and-not", And(block_on("surname"), Not(block_on("dob"))), SURNAME - DOB),
    (
        "and-or",
        And(block_on("city"), Or(block_on("surname"), block_on("dob"))),
        CITY & (SURNAME | DOB),
    ),
    (
        "and-not-or",
        And(Or(block_on("surname"), block_on("city")), Not(block_on("dob"))),
        (SURNAME | CITY) - DOB,
    ),
]


@pytest.mark.parametrize(
    ("rule", "expected"), [(r, e) for _, r, e in COMPOSITIONS], ids=[n for n, _, _ in COMPOSITIONS]
)
def test_composition_is_set_algebra(rule: BlockingRule, expected: set[tuple[int, int]]) -> None:
    pairs = dedupe_pairs(RECORDS, rule)
    assert len(pairs) == len(set(pairs))  # each pair once
    assert set(pairs) == expected
    assert pairs == sorted(pairs)
    assert all(i < j for i, j in pairs)


def test_normalized_values_block_together() -> None:
    assert (0, 1) in SURNAME  # case
    assert (6, 7) in SURNAME  # Ł and l
    assert (5, 6) in CITY  # diacritics
    assert not any(7 in pair for pair in CITY)  # a blank value is missing


def test_missing_values_never_block() -> None:
    records: list[Mapping[str, object]] = [{"x": None}, {"x": None}, {}, {"x": float("nan")}]
    assert dedupe_pairs(records, block_on("x")) == []


def test_link_pairs_are_left_by_right() -> None:
    left = [{"k": "a"}, {"k": "b"}, {"k": "a"}]
    right = [{"k": "A"}, {"k": "c"}, {"k": "b"}, {"k": "a"}]
    assert link_pairs(left, right, block_on("k")) == [(0, 0), (0, 3), (1, 2), (2, 0), (2, 3)]
    rule = Or(block_on("k"), block_on("k"))
    assert link_pairs(left, right, rule) == link_pairs(left, right, block_on("k"))
    assert link_pairs(left, [], block_on("k")) == []
    assert link_pairs([], right, block_on("k")) == []


def test_link_with_not() -> None:
    left = [{"k": "a", "d": 1}, {"k": "a", "d": 2}]
    right = [{"k": "a", "d": 1}]
    assert link_pairs(left, right, And(block_on("k"), Not(block_on("d")))) == [(1, 0)]


def test_fields_and_parts() -> None:
    rule = Or(block_on("a", "b"), And(block_on("c"), Not(block_on("d"))))
    assert rule.fields == frozenset("abcd")
    assert rule.parts() == (block_on("a", "b"), And(block_on("c"), Not(block_on("d"))))
    assert block_on("a").parts() == (block_on("a"),)
    assert repr(rule) == "Or(block_on('a', 'b'), And(block_on('c'), Not(block_on('d'))))"
    assert hash(block_on("a")) == hash(block_on("a"))


INVALID: list[tuple[str, object]] = [
    ("Not alone", lambda: dedupe_pairs(RECORDS, Not(block_on("surname")))),
    ("Not in Or", lambda: Or(block_on("dob"), Not(block_on("surname")))),
    ("And of Nots", lambda: And(Not(block_on("surname")))),
    ("empty block_on", lambda: block_on()),
    ("empty Or", lambda: Or()),
    ("not a rule", lambda: Or("surname")),  # type: ignore[arg-type]
    ("not a rule to pair", lambda: dedupe_pairs(RECORDS, "surname")),  # type: ignore[arg-type]
]


@pytest.mark.parametrize("make", [m for _, m in INVALID], ids=[n for n, _ in INVALID])
def test_invalid_rules(make: object) -> None:
    assert callable(make)
    with pytest.raises(InvalidValueError):
        make()


def test_runaway_block_is_refused_before_pairing() -> None:
    records = [{"state": "nsw", "n": str(n)} for n in range(200)]
    with pytest.raises(TooManyPairsError) as caught:
        dedupe_pairs(records, block_on("state"), max_pairs=1000)
    error = caught.value
    assert isinstance(error, InvalidValueError)
    assert isinstance(error, OmnichannelError)
    assert error.pair_count == 200 * 199 // 2
    assert error.limit == 1000
    assert error.field == "blocking"
    assert error.rule == block_on("state")
    assert "19,900 candidate pairs" in str(error)
    assert "largest block holds 200 records" in str(error)
    assert "max_pairs" in str(error)
    assert len(dedupe_pairs(records, block_on("state"), max_pairs=19_900)) == 19_900


def test_runaway_union_is_refused() -> None:
    records = [{"a": str(n % 2), "b": str(n % 3)} for n in range(60)]
    rule = Or(block_on("a"), block_on("b"))
    with pytest.raises(TooManyPairsError) as caught:
        dedupe_pairs(records, rule, max_pairs=1000)
    assert caught.value.pair_count > 1000


def test_large_unique_keys_are_linear() -> None:
    records = [{"id": str(n)} for n in range(50_000)]
    assert dedupe_pairs(records, block_on("id"), max_pairs=1) == []


def test_rules_hash_by_value() -> None:
    rules = [
        Or(block_on("a"), block_on("b")),
        And(block_on("a"), Not(block_on("b"))),
        Not(And(block_on("a"), block_on("b"))),
    ]
    again = [
        Or(block_on("a"), block_on("b")),
        And(block_on("a"), Not(block_on("b"))),
        Not(And(block_on("a"), block_on("b"))),
    ]
    assert [hash(r) for r in rules] == [hash(r) for r in again]
    assert rules == again
    assert len(set(rules)) == 3


def test_not_of_and() -> None:
    rule = And(block_on("city"), Not(And(block_on("surname"), block_on("dob"))))
    assert set(dedupe_pairs(RECORDS, rule)) == CITY - (SURNAME & DOB)


def test_unhashable_values_are_compared_as_text() -> None:
    records: list[Mapping[str, object]] = [{"tags": ["a", "b"]}, {"tags": ["A", "B"]}, {}]
    assert dedupe_pairs(records, block_on("tags")) == [(0, 1)]
