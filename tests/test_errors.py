"""Tests of the exception tree, value masking and ``parse_identifier``."""

from __future__ import annotations

import re

import pytest

import omnichannel
from omnichannel import (
    Identifier,
    InvalidPayloadError,
    InvalidValueError,
    NotFoundError,
    OmnichannelError,
    SchemaVersionError,
    StoreConflictError,
    StoreError,
    StoreUnavailableError,
    mask_value,
    parse_identifier,
)

# --- mask_value ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("+48601234567", "+48******567"),
        ("48601234567", "486*****567"),
        ("12345678", "123**678"),
        ("john@example.com", "j***@example.com"),
        ("John.Doe+tag@gmail.com", "J***@gmail.com"),
        ("a@b.co", "a***@b.co"),
        ("a@b@c.com", "a@b***com"),
        ("@handle", "@*****e"),
        ("1234567", "1*****7"),
        ("abc", "a*c"),
        ("ab", "**"),
        ("a", "*"),
        ("", ""),
        (12345678, "123**678"),
    ],
)
def test_mask_value(value: object, masked: str) -> None:
    assert mask_value(value) == masked


@pytest.mark.parametrize("value", ["+48601234567", "john@example.com", "abcdefghij", "abc"])
def test_mask_value_keeps_the_length_of_phones_and_other_strings(value: str) -> None:
    if "@" not in value:
        assert len(mask_value(value)) == len(value)
    assert mask_value(value) != value


# --- the exception tree ----------------------------------------------------------------


def test_invalid_value_error_carries_field_value_reason() -> None:
    exc = InvalidValueError("identifiers.0.value", "+48601234567", "is not a phone number")
    assert isinstance(exc, ValueError)
    assert isinstance(exc, OmnichannelError)
    assert exc.field == "identifiers.0.value"
    assert exc.value == "+48601234567"
    assert exc.reason == "is not a phone number"
    assert str(exc) == "identifiers.0.value: is not a phone number (got +48******567)"
    assert "+48601234567" not in str(exc)


def test_invalid_value_error_unmasked_shows_repr() -> None:
    exc = InvalidValueError("region", "XX", "not a region", mask=False)
    assert str(exc) == "region: not a region (got 'XX')"
    assert InvalidValueError("limit", 0, "must be positive", mask=False).args == (
        "limit: must be positive (got 0)",
    )


def test_invalid_value_error_can_be_caught_as_value_error() -> None:
    with pytest.raises(ValueError, match=re.escape("email: is empty (got )")):
        raise InvalidValueError("email", "", "is empty")


def test_invalid_payload_error_defaults_errors_to_its_field() -> None:
    exc = InvalidPayloadError("channel", "SMS", "must be a lowercase slug")
    assert isinstance(exc, InvalidValueError)
    assert exc.errors == (("channel", "must be a lowercase slug"),)
    assert (exc.field, exc.value, exc.reason) == ("channel", "SMS", "must be a lowercase slug")
    assert str(exc).startswith("channel: must be a lowercase slug (got ")


def test_invalid_payload_error_keeps_every_error() -> None:
    errors = (("channel", "bad"), ("occurred_at", "missing"))
    exc = InvalidPayloadError("channel", "SMS", "bad", errors)
    assert exc.errors == errors


@pytest.mark.parametrize(
    ("cls", "bases"),
    [
        (InvalidValueError, (OmnichannelError, ValueError)),
        (InvalidPayloadError, (InvalidValueError,)),
        (NotFoundError, (OmnichannelError, LookupError)),
        (StoreError, (OmnichannelError,)),
        (StoreUnavailableError, (StoreError,)),
        (StoreConflictError, (StoreError,)),
        (SchemaVersionError, (StoreError,)),
    ],
)
def test_exception_tree(cls: type[Exception], bases: tuple[type[Exception], ...]) -> None:
    for base in bases:
        assert issubclass(cls, base)


def test_every_public_exception_derives_from_omnichannel_error() -> None:
    exported = [getattr(omnichannel, name) for name in omnichannel.__all__]
    exceptions = [
        obj for obj in exported if isinstance(obj, type) and issubclass(obj, BaseException)
    ]
    assert len(exceptions) >= 8
    assert OmnichannelError in exceptions
    for exc in exceptions:
        assert issubclass(exc, OmnichannelError), exc.__name__
        assert exc.__name__.endswith("Error"), exc.__name__
    assert OmnichannelError.__bases__ == (Exception,)


# --- parse_identifier ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("phone:+48601234567", None, Identifier.phone("+48601234567")),
        ("PHONE: +48 601 234 567", None, Identifier.phone("+48601234567")),
        ("phone:601234567", "PL", Identifier.phone("+48601234567")),
        ("email:A@B.com", None, Identifier.email("a@b.com")),
        ("handle:telegram:@Jan", None, Identifier.handle("telegram", "jan")),
        ("external:shopify:C-1", None, Identifier.external("shopify", "C-1")),
        ("external:Shopify:C:1", None, Identifier.external("shopify", "C:1")),
        ("jan@example.com", None, Identifier.email("jan@example.com")),
        ("  Jan@Example.com  ", None, Identifier.email("jan@example.com")),
        ("+48 601 234 567", None, Identifier.phone("+48601234567")),
        ("+48 (601) 234-567", None, Identifier.phone("+48601234567")),
        ("601234567", "PL", Identifier.phone("+48601234567")),
        ("601 234 567", "pl", Identifier.phone("+48601234567")),
        ("telegram:@jan", None, Identifier.handle("telegram", "jan")),
        ("Messenger:1234567890", None, Identifier.handle("messenger", "1234567890")),
    ],
)
def test_parse_identifier(text: str, region: str | None, expected: Identifier) -> None:
    parsed = parse_identifier(text, region=region)
    assert parsed == expected
    assert parsed.match == expected.match
    assert parsed.value == expected.value


def test_parse_identifier_keeps_the_value_as_typed() -> None:
    assert parse_identifier("email:A@B.com").original == "A@B.com"
    assert parse_identifier("handle:telegram:@Jan").original == "@Jan"


@pytest.mark.parametrize(
    ("text", "region", "field", "reason"),
    [
        ("handle:telegram", None, "identifier", "write handle:NAMESPACE:VALUE"),
        ("external:shopify", None, "identifier", "write external:NAMESPACE:VALUE"),
        ("???", None, "identifier", "is not a phone, an email, or kind:value"),
        ("", None, "identifier", "is not a phone, an email, or kind:value"),
        ("   ", None, "identifier", "is not a phone, an email, or kind:value"),
        ("hello", None, "identifier", "is not a phone, an email, or kind:value"),
        ("601234567", None, "phone", "has no country code"),
        ("phone:601234567", None, "phone", "has no country code"),
        ("phone:", None, "phone", "is empty"),
        ("601234567", "XX", "region", "not a region phonenumbers knows"),
        ("email:", None, "email", "is empty"),
        ("email:nope", None, "email", "is not a valid email address"),
        ("a b@example.com", None, "email", "is not a valid email address"),
        ("handle:telegram:", None, "handle", "is empty"),
        ("telegram:", None, "handle", "is empty"),
        ("handle:Bad Platform:x", None, "platform", "must be a slug"),
        (":jan", None, "platform", "must be a slug"),
        ("external:shopify:", None, "external", "is empty"),
        ("external::C-1", None, "system", "must be a slug"),
    ],
)
def test_parse_identifier_rejects(text: str, region: str | None, field: str, reason: str) -> None:
    with pytest.raises(
        InvalidValueError, match=f"^{re.escape(field)}: {re.escape(reason)}"
    ) as info:
        parse_identifier(text, region=region)
    assert info.value.field == field
    assert info.value.reason.startswith(reason)


def test_parse_identifier_masks_an_unrecognised_value() -> None:
    with pytest.raises(InvalidValueError, match=r"^identifier: is not a phone") as exc_info:
        parse_identifier("jan.kowalski")
    assert exc_info.value.value == "jan.kowalski"
    assert "jan.kowalski" not in str(exc_info.value)


@pytest.mark.parametrize("text", ["external:C-1001234", "handle:@johndoe99"])
def test_parse_identifier_masks_a_value_without_namespace(text: str) -> None:
    with pytest.raises(InvalidValueError, match=r"^identifier: write ") as exc_info:
        parse_identifier(text)
    assert exc_info.value.field == "identifier"
    assert text.partition(":")[2] not in str(exc_info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tel:+48601234567", Identifier.phone("+48601234567")),
        ("sms:+48601234567", Identifier.phone("+48601234567")),
        ("mailto:jan@example.com", Identifier.email("jan@example.com")),
    ],
)
def test_parse_identifier_reads_uri_schemes_the_normalizers_accept(
    text: str, expected: Identifier
) -> None:
    assert parse_identifier(text) == expected
