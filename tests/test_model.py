"""Tests of the data model in ``omnichannel._model``."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from omnichannel import (
    Channel,
    ContactCardPart,
    CustomPart,
    Identifier,
    IdentifierKind,
    Interaction,
    InvalidValueError,
    LocationPart,
    MediaPart,
    OrderRefPart,
    Profile,
    TextPart,
)
from omnichannel._model import TRUSTED, new_id, utc

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
CEST = timezone(timedelta(hours=2))


def _interaction(**fields: object) -> Interaction:
    data: dict[str, object] = {"channel": "sms", "occurred_at": NOW}
    data.update(fields)
    return Interaction.model_validate(data)


# --- identifiers -----------------------------------------------------------------------


def test_identifiers_of_one_number_are_equal_whatever_the_spelling() -> None:
    a = Identifier.phone("+48 601 234 567")
    b = Identifier.phone("0048601234567", "PL")
    c = Identifier.phone("601-234-567", region="pl")
    assert a == b == c
    assert hash(a) == hash(b) == hash(c)
    assert len({a, b, c}) == 1
    assert a.original == "+48 601 234 567"
    assert Identifier.phone("+48601234567").original is None


def test_identifier_equality_ignores_original_but_not_kind_or_namespace() -> None:
    assert Identifier.email("Jan@Example.com") == Identifier.email("jan@example.com")
    assert Identifier.handle("telegram", "jan") != Identifier.handle("instagram", "jan")
    assert Identifier.handle("telegram", "x1") != Identifier.external("telegram", "x1")
    assert Identifier.phone("+48601234567") != "phone:+48601234567"


def test_identifiers_collapse_in_a_set() -> None:
    identifiers = {
        Identifier.email("John.Doe@gmail.com"),
        Identifier.email("johndoe+shop@googlemail.com"),
        Identifier.handle("telegram", "@JohnDoe"),
        Identifier.handle("telegram", "johndoe"),
        Identifier.phone("+48 601 234 567"),
    }
    assert len(identifiers) == 3


def test_identifier_match_and_str() -> None:
    phone = Identifier.phone("+48 601 234 567")
    assert phone.match == ("phone", "", "+48601234567")
    assert str(phone) == "phone:+48601234567"
    email = Identifier.email("John.Doe@GMail.com")
    assert email.match == ("email", "", "johndoe@gmail.com")
    assert str(email) == "email:john.doe@gmail.com"
    handle = Identifier.handle("Telegram", "@Jan")
    assert handle.match == ("handle", "telegram", "jan")
    assert str(handle) == "handle:telegram:jan"
    external = Identifier.external("Shopify", "C-1")
    assert str(external) == "external:shopify:C-1"


def test_identifier_validated_from_a_mapping_with_a_default_region() -> None:
    ident = Identifier.model_validate(
        {"kind": "phone", "value": "601 234 567"}, context={"default_region": "PL"}
    )
    assert ident.kind is IdentifierKind.PHONE
    assert ident.value == ident.key == "+48601234567"
    assert ident.original == "601 234 567"
    assert ident == Identifier.phone("+48601234567")


def test_identifier_national_number_without_region_fails_at_value() -> None:
    with pytest.raises(ValidationError, match="has no country code") as exc_info:
        Identifier.model_validate({"kind": "phone", "value": "601 234 567"})
    errors = exc_info.value.errors()
    assert len(errors) == 1
    assert errors[0]["loc"] == ("value",)
    assert "has no country code" in errors[0]["msg"]
    assert "601 234 567" not in str(exc_info.value)


def test_identifier_bad_platform_fails_at_namespace() -> None:
    with pytest.raises(ValidationError, match="must be a slug") as exc_info:
        Identifier.model_validate({"kind": "handle", "namespace": "Bad Platform", "value": "x"})
    assert [e["loc"] for e in exc_info.value.errors()] == [("namespace",)]


def test_identifier_unknown_kind_fails_at_kind() -> None:
    with pytest.raises(ValidationError, match="kind") as exc_info:
        Identifier.model_validate({"kind": "fax", "value": "+48601234567"})
    assert [e["loc"] for e in exc_info.value.errors()] == [("kind",)]


def test_identifier_constructor_rejects_non_strings() -> None:
    with pytest.raises(InvalidValueError, match=r"^phone: must be a string") as exc_info:
        Identifier.phone(48601234567)  # type: ignore[arg-type]
    assert exc_info.value.field == "phone"


def test_identifier_json_round_trip() -> None:
    for ident in (
        Identifier.phone("+48 601 234 567"),
        Identifier.email("John.Doe+x@GMail.com"),
        Identifier.handle("webchat", "Visitor-AbC"),
        Identifier.external("shopify", " C-1 "),
    ):
        again = Identifier.model_validate_json(ident.model_dump_json())
        assert again == ident
        assert again.model_dump() == ident.model_dump()


# --- interactions ----------------------------------------------------------------------


def test_naive_occurred_at_is_rejected() -> None:
    with pytest.raises(ValidationError, match="timezone") as exc_info:
        Interaction(channel="sms", occurred_at=datetime(2024, 5, 1, 12, 0))
    assert [e["loc"] for e in exc_info.value.errors()] == [("occurred_at",)]


def test_aware_occurred_at_is_converted_to_utc() -> None:
    interaction = Interaction(channel="sms", occurred_at=datetime(2024, 5, 1, 14, 0, tzinfo=CEST))
    assert interaction.occurred_at == NOW
    assert interaction.occurred_at.utcoffset() == timedelta(0)
    assert interaction.occurred_at.tzinfo is timezone.utc
    assert interaction.occurred_at.hour == 12


def test_occurred_at_from_an_iso_string() -> None:
    interaction = _interaction(occurred_at="2024-05-01T14:00:00+02:00")
    assert interaction.occurred_at == NOW
    assert interaction.occurred_at.tzinfo is timezone.utc


def test_content_parts_from_plain_dicts() -> None:
    interaction = _interaction(
        content=[
            {"type": "text", "text": "hello", "language": "en"},
            {"type": "media", "media_type": "image/jpeg", "caption": "a photo", "size_bytes": 10},
            {"type": "location", "latitude": 52.23, "longitude": 21.01, "name": "Warsaw"},
            {
                "type": "contact",
                "name": "Jan",
                "identifiers": [{"kind": "email", "value": "Jan@Example.com"}],
                "is_sender": True,
            },
            {"type": "order", "order_id": "A-1", "amount": "9.99", "currency": "PLN"},
            {"type": "custom", "name": "survey", "data": {"score": 5, "tags": ["a", None]}},
        ]
    )
    classes = [type(part) for part in interaction.content]
    assert classes == [TextPart, MediaPart, LocationPart, ContactCardPart, OrderRefPart, CustomPart]
    contact = interaction.content[3]
    assert isinstance(contact, ContactCardPart)
    assert contact.identifiers == (Identifier.email("jan@example.com"),)
    order = interaction.content[4]
    assert isinstance(order, OrderRefPart)
    assert order.amount == Decimal("9.99")
    custom = interaction.content[5]
    assert isinstance(custom, CustomPart)
    assert custom.data == {"score": 5, "tags": ["a", None]}


@pytest.mark.parametrize(
    ("part", "loc"),
    [
        ({"type": "bogus"}, ("content", 0)),
        ({"text": "no type"}, ("content", 0)),
        ({"type": "text"}, ("content", 0, "text", "text")),
        (
            {"type": "location", "latitude": 91, "longitude": 0},
            ("content", 0, "location", "latitude"),
        ),
        (
            {"type": "media", "media_type": "x", "size_bytes": -1},
            ("content", 0, "media", "size_bytes"),
        ),
        (
            {"type": "order", "order_id": "1", "currency": "pln"},
            ("content", 0, "order", "currency"),
        ),
        ({"type": "order", "order_id": ""}, ("content", 0, "order", "order_id")),
        ({"type": "custom", "name": ""}, ("content", 0, "custom", "name")),
        ({"type": "text", "text": "x", "bold": True}, ("content", 0, "text", "bold")),
    ],
)
def test_invalid_content_part(part: dict[str, object], loc: tuple[object, ...]) -> None:
    with pytest.raises(ValidationError, match="validation error for Interaction") as exc_info:
        _interaction(content=[part])
    assert [e["loc"] for e in exc_info.value.errors()] == [loc]


def test_extra_field_is_rejected() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted") as exc_info:
        _interaction(colour="red")
    errors = exc_info.value.errors()
    assert [(e["loc"], e["type"]) for e in errors] == [(("colour",), "extra_forbidden")]


def test_interaction_is_frozen() -> None:
    interaction = _interaction()
    with pytest.raises(ValidationError, match="frozen"):
        interaction.channel = "email"
    assert interaction.channel == "sms"


@pytest.mark.parametrize("channel", ["viber", "sms", Channel.SMS, Channel.WHATSAPP, "a", "x.y-z_1"])
def test_channel_slug_is_accepted(channel: str) -> None:
    interaction = _interaction(channel=channel)
    assert interaction.channel == str(channel)


@pytest.mark.parametrize("channel", ["SMS", "", "1sms", "we chat", "-sms", "s" * 65, "é"])
def test_channel_must_be_a_lowercase_slug(channel: str) -> None:
    with pytest.raises(ValidationError, match="must be a lowercase slug") as exc_info:
        _interaction(channel=channel)
    assert [e["loc"] for e in exc_info.value.errors()] == [("channel",)]


@pytest.mark.parametrize(
    "value", [{1, 2}, object(), b"bytes", NOW, Decimal("1.5")], ids=lambda v: type(v).__name__
)
def test_metadata_rejects_non_json_values(value: object) -> None:
    with pytest.raises(ValidationError, match="not a valid JSON value") as exc_info:
        _interaction(metadata={"key": value})
    assert [e["loc"][:2] for e in exc_info.value.errors()] == [("metadata", "key")]


def test_metadata_accepts_json_values() -> None:
    metadata = {"a": 1, "b": [1.5, "x", None, True], "c": {"d": {}}}
    assert _interaction(metadata=metadata).metadata == metadata


def test_idempotency_key() -> None:
    with_source = _interaction(source_id="SM123")
    assert with_source.idempotency_key == "SM123"
    without = _interaction()
    assert without.idempotency_key == f"id:{without.id}"
    given_id = _interaction(id="abc")
    assert given_id.idempotency_key == "id:abc"


def test_empty_source_id_is_rejected() -> None:
    with pytest.raises(ValidationError, match="source_id") as exc_info:
        _interaction(source_id="")
    assert [e["loc"] for e in exc_info.value.errors()] == [("source_id",)]


def test_text_joins_text_parts_and_captions() -> None:
    interaction = _interaction(
        content=[
            {"type": "text", "text": "first"},
            {"type": "media", "media_type": "image/png"},
            {"type": "location", "latitude": 0, "longitude": 0},
            {"type": "media", "media_type": "image/png", "caption": "second"},
            {"type": "media", "media_type": "image/png", "caption": ""},
            {"type": "text", "text": "third"},
        ]
    )
    assert interaction.text == "first\nsecond\nthird"
    assert _interaction().text == ""


def test_ids_are_generated_per_interaction() -> None:
    first, second = _interaction(), _interaction()
    assert first.id != second.id
    assert re.fullmatch(r"[0-9a-f]{32}", first.id)


channels = st.sampled_from(list(Channel)) | st.from_regex(r"[a-z][a-z0-9_.-]{0,20}", fullmatch=True)


@settings(max_examples=50, deadline=None)
@given(
    texts=st.lists(st.text(max_size=50), max_size=3),
    channel=channels,
    moment=st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(2100, 1, 1),
        timezones=st.sampled_from([timezone.utc, CEST, timezone(timedelta(hours=-5, minutes=-30))]),
    ),
    source_id=st.none() | st.text(min_size=1, max_size=20),
)
def test_json_round_trip(
    texts: list[str], channel: str, moment: datetime, source_id: str | None
) -> None:
    interaction = Interaction.model_validate(
        {
            "channel": channel,
            "occurred_at": moment,
            "source_id": source_id,
            "identifiers": [{"kind": "phone", "value": "+48 601 234 567"}],
            "content": [{"type": "text", "text": text} for text in texts],
            "metadata": {"texts": list(texts)},
        }
    )
    again = Interaction.model_validate_json(interaction.model_dump_json())
    assert again == interaction
    assert again.occurred_at == moment


def test_json_round_trip_of_every_part() -> None:
    interaction = _interaction(
        source_id="m1",
        traits={"display_name": "Jan"},
        identifiers=[{"kind": "handle", "namespace": "telegram", "value": "@Jan"}],
        content=[
            {"type": "text", "text": "hello"},
            {"type": "media", "media_type": "image/jpeg", "url": "https://x/y.jpg"},
            {"type": "location", "latitude": 52.23, "longitude": 21.01},
            {"type": "contact", "identifiers": [{"kind": "phone", "value": "+48601234567"}]},
            {"type": "order", "order_id": "A-1", "amount": "19.90", "currency": "EUR"},
            {"type": "custom", "name": "n", "data": {"k": [1, {"x": None}]}},
        ],
        topics=["billing"],
    )
    assert Interaction.model_validate_json(interaction.model_dump_json()) == interaction


_RAW_PHONE = "+48 601 234 56"


@pytest.mark.parametrize(
    ("identifier", "raw"),
    [
        ({"kind": "phone", "value": _RAW_PHONE}, _RAW_PHONE),
        ({"kind": "email", "value": "john.doe.example.com"}, "john.doe.example.com"),
        ({"kind": "handle", "namespace": "telegram", "value": "john doe"}, "john doe"),
    ],
    ids=["phone", "email", "handle"],
)
def test_invalid_nested_identifier_is_located_and_masked(
    identifier: dict[str, str], raw: str
) -> None:
    with pytest.raises(ValidationError, match=r"identifiers\.1\.value") as exc_info:
        _interaction(identifiers=[{"kind": "email", "value": "ok@example.com"}, identifier])
    errors = exc_info.value.errors()
    assert [e["loc"] for e in errors] == [("identifiers", 1, "value")]
    shown = str(exc_info.value)
    assert "identifiers.1.value" in shown
    assert raw not in shown
    assert raw.replace(" ", "") not in shown


def test_invalid_nested_phone_at_index_zero() -> None:
    with pytest.raises(ValidationError, match="is not a valid number for its country") as exc_info:
        _interaction(identifiers=[{"kind": "phone", "value": _RAW_PHONE}])
    assert [e["loc"] for e in exc_info.value.errors()] == [("identifiers", 0, "value")]
    assert _RAW_PHONE not in str(exc_info.value)
    assert "4860123456" not in str(exc_info.value)
    assert "+48******** 56" in str(exc_info.value)


# --- ids and times ---------------------------------------------------------------------


def test_new_id_is_32_hex_digits_of_a_uuid7() -> None:
    value = new_id()
    assert re.fullmatch(r"[0-9a-f]{32}", value)
    assert value[12] == "7"  # version
    assert value[16] in "89ab"  # RFC 4122 variant


def test_new_id_is_unique() -> None:
    ids = [new_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(value) == 32 for value in ids)


def test_new_id_is_time_ordered_across_milliseconds() -> None:
    first = [new_id() for _ in range(100)]
    time.sleep(0.002)
    second = [new_id() for _ in range(100)]
    assert max(first) < min(second)
    assert sorted(first + second)[100:] == sorted(second)


def test_utc_rejects_naive() -> None:
    with pytest.raises(InvalidValueError, match="is a naive datetime") as exc_info:
        utc(datetime(2024, 5, 1, 12, 0))
    assert exc_info.value.field == "occurred_at"
    with pytest.raises(InvalidValueError, match=r"^first_seen: ") as exc_info:
        utc(datetime(2024, 5, 1, 12, 0), field="first_seen")
    assert exc_info.value.field == "first_seen"


def test_utc_converts_aware() -> None:
    converted = utc(datetime(2024, 5, 1, 14, 0, tzinfo=CEST))
    assert converted == NOW
    assert converted.tzinfo is timezone.utc
    assert (converted.hour, converted.minute) == (12, 0)
    assert utc(NOW) == NOW


# --- profiles --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("traits", "expected"),
    [
        ({"display_name": "Jan K.", "name": "Jan", "first_name": "J"}, "Jan K."),
        ({"name": "Jan Kowalski", "first_name": "J"}, "Jan Kowalski"),
        ({"display_name": "", "name": "Jan"}, "Jan"),
        ({"first_name": "Jan", "last_name": "Kowalski"}, "Jan Kowalski"),
        ({"first_name": "Jan"}, "Jan"),
        ({"last_name": "Kowalski"}, "Kowalski"),
        ({"first_name": "", "last_name": "Kowalski"}, "Kowalski"),
        ({}, None),
        ({"display_name": ""}, None),
        ({"email": "jan@example.com"}, None),
    ],
)
def test_profile_display_name(traits: dict[str, str], expected: str | None) -> None:
    profile = Profile.model_validate({"traits": traits, "created_at": NOW, "updated_at": NOW})
    assert profile.display_name == expected


def test_profile_is_live_until_merged() -> None:
    profile = Profile(created_at=NOW, updated_at=NOW)
    assert profile.is_live
    assert not profile.model_copy(update={"merged_into": "other"}).is_live


def test_documents_read_back_from_a_store_skip_normalizing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import omnichannel._model as model

    written = Identifier.phone("+48 601 234 567")
    stored = written.model_dump_json()
    calls: list[object] = []
    real = model._normalized_fields

    def counting(*args: object) -> dict[str, object]:
        calls.append(args)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(model, "_normalized_fields", counting)
    trusted = Identifier.model_validate_json(stored, context=TRUSTED)
    assert calls == []
    assert trusted == written
    assert trusted.original == "+48 601 234 567"
    # only the store's own marker is trusted: a look-alike context is normalized
    lookalike = Identifier.model_validate_json(stored, context={"trusted": True})
    assert len(calls) == 1
    assert lookalike == trusted
    forged = '{"kind": "phone", "value": "not a number", "key": "x"}'
    with pytest.raises(ValidationError, match="value"):
        Identifier.model_validate_json(forged, context={"trusted": True})
