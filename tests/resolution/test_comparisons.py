"""Every level of every comparison, table-driven."""

from __future__ import annotations

import math
from datetime import date, datetime

import pytest

from omnichannel import InvalidValueError
from omnichannel.resolution import (
    NULL_LEVEL,
    AddressComparison,
    Comparison,
    DateComparison,
    EmailComparison,
    ExactMatch,
    LevenshteinComparison,
    NameComparison,
    PhoneComparison,
    PostcodeComparison,
)

CASES: list[tuple[Comparison, object, object, str]] = [
    # exact match: casefolded, trimmed
    (ExactMatch("state"), "NSW", " nsw ", "exact"),
    (ExactMatch("state"), "nsw", "vic", "else"),
    (ExactMatch("state"), 4223.0, "4223", "exact"),
    # names: diacritics, Polish ł, Jaro-Winkler thresholds
    (NameComparison("first_name"), "Łukasz", "Lukasz", "exact"),
    (NameComparison("first_name"), "ŁUKASZ", "łukasz", "exact"),
    (NameComparison("first_name"), "Zoë", "zoe", "exact"),
    (NameComparison("first_name"), "Søren", "Soren", "exact"),
    (NameComparison("first_name"), "Jonathan", "Jonathon", "jaro-winkler >= 0.92"),
    (NameComparison("surname"), "Kowalski", "Kowalsky", "jaro-winkler >= 0.92"),
    (NameComparison("surname"), "Smith", "Smyth", "jaro-winkler >= 0.85"),
    (NameComparison("surname"), "Anna", "Zbigniew", "else"),
    (NameComparison("surname", (0.8,)), "Smith", "Smyth", "jaro-winkler >= 0.8"),
    # dates: ISO, compact, objects; swapped day/month; one-digit typos; same month
    (DateComparison("dob"), "1956-04-09", "19560409", "exact"),
    (DateComparison("dob"), date(1956, 4, 9), "1956-04-09", "exact"),
    (DateComparison("dob"), datetime(1956, 4, 9, 12, 30), "19560409", "exact"),
    (DateComparison("dob"), 19560409, "1956-4-9", "exact"),
    (DateComparison("dob"), "1956-04-09T00:00:00", "19560409", "exact"),
    (DateComparison("dob"), "19560409", "19560904", "day/month swapped"),
    (DateComparison("dob"), "1956-04-09", "1956-09-04", "day/month swapped"),
    (DateComparison("dob"), "19560409", "19560408", "one digit off"),
    (DateComparison("dob"), "19560409", "19660409", "one digit off"),
    (DateComparison("dob"), "19560409", "19560309", "one digit off"),
    (DateComparison("dob"), "19560409", "19560421", "same year and month"),
    (DateComparison("dob"), "19560409", "19701231", "else"),
    (DateComparison("dob"), "unknown", "19560409", "else"),
    # postcodes: British with and without the space, districts, typos
    (PostcodeComparison("postcode"), "SW1A 1AA", "sw1a1aa", "exact"),
    (PostcodeComparison("postcode"), "SW1A 1AA", "SW1A 2BB", "same district"),
    (PostcodeComparison("postcode"), "4223", "4228", "same district"),
    (PostcodeComparison("postcode"), "00-950", "00-001", "same district"),
    (PostcodeComparison("postcode"), "4223", "5223", "one character off"),
    (PostcodeComparison("postcode"), "4223", "7000", "else"),
    # addresses: token sets
    (AddressComparison("address"), "12 High Street", "12 high street", "exact"),
    (
        AddressComparison("address"),
        "12 high street flat 2",
        "flat 2 12 high street",
        "token-set >= 0.9",
    ),
    (AddressComparison("address"), "12 high street", "12 high stret", "token-set >= 0.9"),
    (AddressComparison("address"), "12 high street", "12 high road", "token-set >= 0.7"),
    (AddressComparison("address"), "12 high street", "40 low road", "else"),
    # hand-typed identifiers: edit distance
    (LevenshteinComparison("ssn"), "1234567", "123 4567", "exact"),
    (LevenshteinComparison("ssn"), "1234567", "1234568", "levenshtein <= 1"),
    (LevenshteinComparison("ssn"), "1234567", "1234576", "levenshtein <= 2"),
    (LevenshteinComparison("ssn"), "1234567", "7654321", "else"),
    # email: match keys, local parts
    (EmailComparison("email"), "John.Smith@Gmail.com", "johnsmith@gmail.com", "exact"),
    (EmailComparison("email"), "anna@example.com", "ANNA@example.org", "same local part"),
    (
        EmailComparison("email"),
        "annakowalska@example.com",
        "annakowalsky@example.org",
        "local part jaro-winkler >= 0.9",
    ),
    (EmailComparison("email"), "anna@example.com", "bob@example.org", "else"),
    (EmailComparison("email"), "not an address", "not an address", "exact"),
    # phones: E.164 digits, national forms by their last seven digits
    (PhoneComparison("phone"), "+48 601 234 567", "+48601234567", "exact"),
    (PhoneComparison("phone", region="PL"), "601 234 567", "+48 601 234 567", "exact"),
    (PhoneComparison("phone"), "601 234 567", "+48 601 234 567", "last 7 digits equal"),
    (PhoneComparison("phone"), "+48601234567", "+48601999999", "else"),
]


@pytest.mark.parametrize(
    ("comparison", "a", "b", "label"),
    CASES,
    ids=[f"{type(c).__name__}-{label}-{n}" for n, (c, _, _, label) in enumerate(CASES)],
)
def test_level(comparison: Comparison, a: object, b: object, label: str) -> None:
    level = comparison.level(a, b)
    assert comparison.levels[level] == label
    assert comparison.level(b, a) == level  # symmetric


ALL = [
    ExactMatch("f"),
    NameComparison("f"),
    DateComparison("f"),
    PostcodeComparison("f"),
    AddressComparison("f"),
    LevenshteinComparison("f"),
    EmailComparison("f"),
    PhoneComparison("f"),
]


@pytest.mark.parametrize("comparison", ALL, ids=[type(c).__name__ for c in ALL])
@pytest.mark.parametrize("missing", [None, math.nan, "", "   "])
def test_missing_values_are_the_null_level(comparison: Comparison, missing: object) -> None:
    assert comparison.level(missing, "x") == NULL_LEVEL
    assert comparison.level("x", missing) == NULL_LEVEL


@pytest.mark.parametrize("comparison", ALL, ids=[type(c).__name__ for c in ALL])
def test_levels_start_exact_and_end_else(comparison: Comparison) -> None:
    assert comparison.levels[0] == "exact"
    assert comparison.levels[-1] == "else"
    assert len(set(comparison.levels)) == len(comparison.levels)


def test_several_fields_are_joined() -> None:
    comparison = AddressComparison(("street_number", "address_1"))
    assert comparison.name == "street_number+address_1"
    assert comparison.field == ("street_number", "address_1")
    record = {"street_number": 12.0, "address_1": "High Street"}
    assert comparison.extract(record) == "12 High Street"
    assert comparison.extract({"address_1": "High Street"}) == "High Street"
    assert comparison.extract({}) is None


def test_term_frequency_defaults() -> None:
    assert NameComparison("surname").term_frequency
    assert not NameComparison("surname", term_frequency=False).term_frequency
    assert not ExactMatch("state").term_frequency
    assert ExactMatch("state", term_frequency=True).term_frequency


def test_equality_and_repr() -> None:
    assert NameComparison("surname") == NameComparison("surname")
    assert NameComparison("surname") != NameComparison("surname", (0.9,))
    assert NameComparison("surname") != ExactMatch("surname")
    assert hash(ExactMatch("a")) == hash(ExactMatch("a"))
    assert repr(LevenshteinComparison("ssn", (1,))) == "LevenshteinComparison('ssn', (1,))"


INVALID: list[tuple[type[Comparison], tuple[object, ...], str, str]] = [
    (NameComparison, ("f", (0.8, 0.9)), "thresholds", "strongest first"),
    (NameComparison, ("f", (1.5,)), "thresholds", "strongest first"),
    (NameComparison, ("f", ()), "thresholds", "strongest first"),
    (AddressComparison, ("f", (0.0,)), "thresholds", "strongest first"),
    (LevenshteinComparison, ("f", (2, 1)), "thresholds", "increasing"),
    (LevenshteinComparison, ("f", (0,)), "thresholds", "increasing"),
    (ExactMatch, ("",), "field", "record key"),
    (ExactMatch, ((),), "field", "record key"),
    (PhoneComparison, ("f", "XX"), "region", "region"),
]


@pytest.mark.parametrize(("cls", "args", "field", "message"), INVALID)
def test_invalid_options(
    cls: type[Comparison], args: tuple[object, ...], field: str, message: str
) -> None:
    with pytest.raises(InvalidValueError, match=message) as caught:
        cls(*args)  # type: ignore[arg-type]
    assert caught.value.field == field
