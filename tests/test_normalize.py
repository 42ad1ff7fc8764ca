"""Tests of the identifier normalizers in ``omnichannel._normalize``."""

from __future__ import annotations

import re

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnichannel import (
    Identifier,
    InvalidValueError,
    normalize_email,
    normalize_external,
    normalize_handle,
    normalize_phone,
)
from omnichannel._normalize import normalize_namespace, normalize_region

# --- phones: every example number phonenumbers ships ---------------------------------

_TYPE = phonenumbers.PhoneNumberType
_FORMAT = phonenumbers.PhoneNumberFormat
EXAMPLE_TYPES = (
    _TYPE.FIXED_LINE,
    _TYPE.MOBILE,
    _TYPE.FIXED_LINE_OR_MOBILE,
    _TYPE.TOLL_FREE,
    _TYPE.PREMIUM_RATE,
    _TYPE.SHARED_COST,
    _TYPE.VOIP,
    _TYPE.PERSONAL_NUMBER,
    _TYPE.PAGER,
    _TYPE.UAN,
    _TYPE.VOICEMAIL,
)
REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
NON_GEO_CODES = sorted(getattr(phonenumbers, "COUNTRY_CODES_FOR_NON_GEO_REGIONS", ()))


def _examples(region: str) -> list[phonenumbers.PhoneNumber]:
    numbers = (phonenumbers.example_number_for_type(region, t) for t in EXAMPLE_TYPES)
    return [number for number in numbers if number is not None]


def _format(number: phonenumbers.PhoneNumber, fmt: int) -> str:
    return str(phonenumbers.format_number(number, fmt))


def test_phone_examples_are_mostly_valid_so_the_property_is_not_vacuous() -> None:
    examples = [number for region in REGIONS for number in _examples(region)]
    checked = [number for number in examples if phonenumbers.is_valid_number(number)]
    assert len(REGIONS) > 200
    assert len(examples) >= len(REGIONS)
    assert len(checked) >= 0.95 * len(examples)


@pytest.mark.parametrize("region", REGIONS, ids=REGIONS)
def test_phone_example_numbers_normalize_to_e164(region: str) -> None:
    examples = _examples(region)
    assert examples, f"phonenumbers has no example number for {region}"
    checked = 0
    for number in examples:
        if not phonenumbers.is_valid_number(number):
            continue
        checked += 1
        e164 = _format(number, _FORMAT.E164)
        international = _format(number, _FORMAT.INTERNATIONAL)
        national = _format(number, _FORMAT.NATIONAL)
        assert normalize_phone(e164) == e164
        assert normalize_phone(international) == e164, international
        assert normalize_phone(national, region) == e164, national
    assert checked >= 0.95 * len(examples)


@pytest.mark.skipif(not NON_GEO_CODES, reason="this phonenumbers has no non-geographic codes")
@pytest.mark.parametrize("code", NON_GEO_CODES, ids=[str(code) for code in NON_GEO_CODES])
def test_non_geographic_example_numbers_normalize_to_e164(code: int) -> None:
    number = phonenumbers.example_number_for_non_geo_entity(code)
    assert number is not None
    assert phonenumbers.is_valid_number(number)
    e164 = _format(number, _FORMAT.E164)
    assert normalize_phone(e164) == e164
    assert normalize_phone(_format(number, _FORMAT.INTERNATIONAL)) == e164


def test_phone_read_with_the_international_prefix_of_a_region() -> None:
    assert normalize_phone("0048 601 234 567", "PL") == "+48601234567"
    assert normalize_phone("011 44 20 7946 0958", "US") == "+442079460958"


@pytest.mark.parametrize(
    "raw", ["tel:+48601234567", "TEL:+48 601 234 567", " tel:+48-601-234-567 ", "sms:+48601234567"]
)
def test_phone_uri_prefix_is_accepted(raw: str) -> None:
    assert normalize_phone(raw) == "+48601234567"


def test_phone_region_is_case_insensitive() -> None:
    assert normalize_phone("601 234 567", "pl") == "+48601234567"


_NO_COUNTRY = "has no country code; write it with + or give a default region"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("tel:", "is empty"),
        ("abc", "is not a phone number"),
        ("123", _NO_COUNTRY),
        ("+10000000000", "is not a valid number for its country"),
        ("+48 000", "is not a valid number for its country"),
        ("601 234 567", _NO_COUNTRY),
        ("0048601234567", _NO_COUNTRY),
    ],
    ids=[
        "empty",
        "blank",
        "bare-tel",
        "letters",
        "short",
        "invalid-nanp",
        "short-pl",
        "national",
        "00",
    ],
)
def test_invalid_phone(raw: str, reason: str) -> None:
    with pytest.raises(InvalidValueError, match=re.escape(f"phone: {reason}")) as exc_info:
        normalize_phone(raw)
    exc = exc_info.value
    assert exc.field == "phone"
    assert exc.reason == reason
    assert exc.value == raw
    digits = "".join(ch for ch in raw if ch.isdigit())
    if len(digits) >= 3:
        assert digits not in str(exc)
        assert raw.strip() not in str(exc)


def test_invalid_phone_field_name_is_the_callers() -> None:
    with pytest.raises(InvalidValueError, match=r"^sender: ") as exc_info:
        normalize_phone("123", field="sender")
    assert exc_info.value.field == "sender"


def test_phone_with_unknown_region_names_the_region() -> None:
    with pytest.raises(InvalidValueError, match="region: not a region") as exc_info:
        normalize_phone("601 234 567", "XX")
    assert exc_info.value.field == "region"


# --- regions ---------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["pl", " PL ", "Pl", "PL"])
def test_normalize_region_upper_cases(raw: str) -> None:
    assert normalize_region(raw) == "PL"


def test_normalize_region_passes_none_through() -> None:
    assert normalize_region(None) is None


@pytest.mark.parametrize("raw", ["XX", "", "POL", "001"])
def test_normalize_region_rejects_unknown(raw: str) -> None:
    with pytest.raises(InvalidValueError, match="not a region phonenumbers knows") as exc_info:
        normalize_region(raw)
    assert exc_info.value.field == "region"
    assert exc_info.value.value == raw


# --- emails ----------------------------------------------------------------------------

_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_atoms = st.text(alphabet=_ALNUM, min_size=1, max_size=8)
#: Local parts: letters and digits, dots neither leading, trailing nor doubled.
local_parts = st.lists(_atoms, min_size=1, max_size=4).map(".".join)
domains = st.builds(
    "{}.{}".format,
    st.lists(st.text(alphabet=_ALNUM, min_size=1, max_size=12), min_size=1, max_size=3).map(
        ".".join
    ),
    st.sampled_from(["com", "org", "net", "io", "pl", "co.uk", "DE"]),
)


def _recase(text: str, flips: list[bool]) -> str:
    return "".join(
        ch.swapcase() if i < len(flips) and flips[i] else ch for i, ch in enumerate(text)
    )


@given(local=local_parts, domain=domains, flips=st.lists(st.booleans(), max_size=40))
def test_email_case_is_folded(local: str, domain: str, flips: list[bool]) -> None:
    address = f"{local}@{domain}"
    variants = [address, address.lower(), address.upper(), _recase(address, flips)]
    results = [normalize_email(variant) for variant in variants]
    assert {result.match_key for result in results} == {results[0].match_key}
    assert {result.address for result in results} == {address.lower()}


def _dotted(local: str, cuts: list[bool]) -> str:
    """``local`` (no dots) with a dot after each character whose flag is set."""
    out = []
    for i, ch in enumerate(local):
        out.append(ch)
        if i < len(local) - 1 and i < len(cuts) and cuts[i]:
            out.append(".")
    return "".join(out)


@given(
    mailbox=st.text(alphabet=_ALNUM, min_size=1, max_size=20),
    cuts=st.lists(st.booleans(), max_size=20),
    tag=st.text(alphabet=_ALNUM + "-_", max_size=10),
    domain=st.sampled_from(["gmail.com", "googlemail.com", "GMail.com", "GOOGLEMAIL.COM"]),
)
def test_gmail_ignores_dots_and_plus_tags(
    mailbox: str, cuts: list[bool], tag: str, domain: str
) -> None:
    plain = normalize_email(f"{mailbox}@gmail.com")
    assert plain.match_key == f"{mailbox.lower()}@gmail.com"
    variant = normalize_email(f"{_dotted(mailbox, cuts)}+{tag}@{domain}")
    assert variant.match_key == plain.match_key
    assert variant.address == f"{_dotted(mailbox, cuts)}+{tag}@{domain}".lower()


def test_googlemail_shares_the_gmail_key() -> None:
    assert normalize_email("jan.kowalski@googlemail.com").match_key == "jankowalski@gmail.com"
    assert (
        normalize_email("jan.kowalski@googlemail.com").match_key
        == normalize_email("jankowalski@gmail.com").match_key
    )
    assert normalize_email("jan.kowalski@googlemail.com").address == "jan.kowalski@googlemail.com"


@given(
    mailbox=st.text(alphabet=_ALNUM, min_size=2, max_size=20),
    cut=st.integers(min_value=1, max_value=19),
    tag=st.text(alphabet=_ALNUM, min_size=1, max_size=10),
)
def test_other_domains_keep_dots_and_plus_tags(mailbox: str, cut: int, tag: str) -> None:
    cut = min(cut, len(mailbox) - 1)
    plain = normalize_email(f"{mailbox}@example.org")
    dotted = normalize_email(f"{mailbox[:cut]}.{mailbox[cut:]}@example.org")
    tagged = normalize_email(f"{mailbox}+{tag}@example.org")
    assert plain.match_key == plain.address == f"{mailbox.lower()}@example.org"
    assert dotted.match_key != plain.match_key
    assert tagged.match_key != plain.match_key
    assert dotted.match_key == dotted.address
    assert tagged.match_key == tagged.address


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("mailto:", "is empty"),
        ("plainaddress", "is not a valid email address: "),
        ("a@", "is not a valid email address: "),
        ("@b.com", "is not a valid email address: "),
        ("a b@c.com", "is not a valid email address: "),
        ("a@b", "is not a valid email address: "),
        ("a..b@example.com", "is not a valid email address: "),
        ("+tag@gmail.com", "has an empty mailbox name"),
        ("...@googlemail.com", "is not a valid email address: "),
    ],
)
def test_invalid_email(raw: str, reason: str) -> None:
    with pytest.raises(InvalidValueError, match=re.escape(f"email: {reason}")) as exc_info:
        normalize_email(raw)
    exc = exc_info.value
    assert exc.field == "email"
    assert exc.reason.startswith(reason)
    assert exc.value == raw
    if len(raw.strip()) >= 3:
        assert f"(got {raw})" not in str(exc)


@pytest.mark.parametrize(
    "raw", ["mailto:Jan@Example.com", "MAILTO:jan@example.com", "  mailto:jan@EXAMPLE.com "]
)
def test_email_mailto_prefix_is_accepted(raw: str) -> None:
    assert normalize_email(raw) == ("jan@example.com", "jan@example.com")


def test_email_identifier_keeps_the_original_spelling() -> None:
    ident = Identifier.email("John.Doe+Shop@GMail.com")
    assert ident.value == "john.doe+shop@gmail.com"
    assert ident.key == "johndoe@gmail.com"
    assert ident.original == "John.Doe+Shop@GMail.com"
    assert Identifier.email("john@example.com").original is None


# --- handles ---------------------------------------------------------------------------


def test_telegram_username_with_and_without_at_is_equal() -> None:
    assert normalize_handle("telegram", "@JohnDoe") == "johndoe"
    assert normalize_handle("telegram", "johndoe") == "johndoe"
    assert Identifier.handle("telegram", "@JohnDoe") == Identifier.handle("Telegram", "johndoe")


@pytest.mark.parametrize(
    ("platform", "raw", "expected"),
    [
        ("telegram", "00123", "00123"),
        ("telegram", " 00123 ", "00123"),
        ("telegram", "@00123", "00123"),
        ("messenger", "1234567890", "1234567890"),
        ("webchat", "Visitor-AbC", "Visitor-AbC"),
        ("webchat", " Visitor-AbC ", "Visitor-AbC"),
        ("messenger", "AbC_def", "AbC_def"),
        ("webchat", "@Name", "name"),
        ("messenger", "@Name", "name"),
        ("whatsapp", "@Name", "name"),
        ("instagram", "Name.Surname", "name.surname"),
        ("x", "Elon", "elon"),
    ],
)
def test_handle_normalization(platform: str, raw: str, expected: str) -> None:
    assert normalize_handle(platform, raw) == expected
    assert Identifier.handle(platform, raw).key == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("@", "is empty"),
        ("john doe", "must be one word of at most 256 characters"),
        ("@john\tdoe", "must be one word of at most 256 characters"),
        ("a" * 257, "must be one word of at most 256 characters"),
    ],
    ids=["empty", "blank", "bare-at", "space", "tab", "too-long"],
)
def test_invalid_handle(raw: str, reason: str) -> None:
    with pytest.raises(InvalidValueError, match=re.escape(f"handle: {reason}")) as exc_info:
        normalize_handle("telegram", raw)
    assert exc_info.value.field == "handle"
    assert exc_info.value.reason == reason


@pytest.mark.parametrize("platform", ["Bad Platform", "", "-x", "a" * 65, "tele/gram"])
def test_invalid_platform(platform: str) -> None:
    with pytest.raises(InvalidValueError, match=r"^platform: must be a slug") as exc_info:
        Identifier.handle(platform, "johndoe")
    assert exc_info.value.field == "platform"
    assert exc_info.value.value == platform


def test_namespace_is_trimmed_and_lowercased() -> None:
    assert normalize_namespace(" Shopify ", field="system") == "shopify"
    assert normalize_namespace("my-shop.eu:1", field="system") == "my-shop.eu:1"


@pytest.mark.parametrize("platform", ["telegram", "webchat"])
def test_handle_normalization_is_idempotent_for_double_at(platform: str) -> None:
    once = normalize_handle(platform, "@@X")
    assert normalize_handle(platform, once) == once


@given(
    platform=st.sampled_from(["telegram", "messenger", "webchat", "instagram"]),
    raw=st.text(alphabet=_ALNUM + "._-", min_size=1, max_size=30),
    at=st.booleans(),
)
def test_handle_normalization_is_idempotent(platform: str, raw: str, at: bool) -> None:
    once = normalize_handle(platform, "@" + raw if at else raw)
    assert normalize_handle(platform, once) == once


# --- external ids ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"), [("C-1001", "C-1001"), ("  C-1001\t", "C-1001"), ("aBc 1", "aBc 1")]
)
def test_external_is_trimmed_and_exact(raw: str, expected: str) -> None:
    assert normalize_external(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("", "is empty"), ("  ", "is empty"), ("x" * 257, "is longer than 256 characters")],
    ids=["empty", "blank", "too-long"],
)
def test_invalid_external(raw: str, reason: str) -> None:
    with pytest.raises(InvalidValueError, match=re.escape(f"external: {reason}")) as exc_info:
        normalize_external(raw)
    assert exc_info.value.field == "external"
    assert exc_info.value.reason == reason


def test_external_identifier_namespace_is_a_lowercase_system() -> None:
    ident = Identifier.external("Shopify", " C-1001 ")
    assert ident.namespace == "shopify"
    assert ident.value == ident.key == "C-1001"
    assert ident.original == " C-1001 "
    assert ident != Identifier.external("shopify", "c-1001")


def test_external_identifier_rejects_a_bad_system() -> None:
    with pytest.raises(InvalidValueError, match=r"^system: must be a slug") as exc_info:
        Identifier.external("Bad System", "C-1")
    assert exc_info.value.field == "system"
