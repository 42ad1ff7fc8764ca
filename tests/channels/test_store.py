"""The store adapter: omnichannel's own JSON shape for physical stores and their POS."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel, ValidationError

from omnichannel import (
    Direction,
    Hub,
    Identifier,
    IngestOutcome,
    Interaction,
    InvalidPayloadError,
    InvalidValueError,
    OrderRefPart,
    SignatureError,
)
from omnichannel.channels import ChannelAdapter, InboundRequest, get_adapter
from omnichannel.channels._store import (
    _PATTERN_REASONS,
    StoreAdapter,
    _Customer,
    _Document,
    _Item,
    _NotificationDocument,
    _Order,
    _OrderEvent,
    _Pickup,
    _Reservation,
    _Return,
    _Staff,
    _Visit,
)
from omnichannel.storage import MemoryStore
from omnichannel.testing import AdapterConformance
from tests.channels._schema_checks import (
    check_documents_agree,
    closed_objects,
    patterns,
    string_constants,
    walk,
)

SCHEMA_PATH = Path(__file__).parents[2] / "src" / "omnichannel" / "channels" / "store.schema.json"
HEADER = "X-Store-Signature"
FIXED = datetime(2025, 11, 20, 16, 30, tzinfo=timezone.utc)
STORE = "WAW-01"
CARD = "LC-0042-7781"
EMAIL = "ola.wisniewska@example.com"

# Every sample below is in omnichannel's own shape, documented by the JSON Schema
# src/omnichannel/channels/store.schema.json (no vendor defines it). The signature follows
# Stripe's scheme: https://docs.stripe.com/webhooks#verify-manually

# A loyalty-card check-in at the door, then a purchase at the till.
# Shape: src/omnichannel/channels/store.schema.json, definitions 'visit' and 'order_event'.
STORE_DAY: dict[str, Any] = {
    "version": 1,
    "events": [
        {
            "type": "visit",
            "id": "pos-WAW01-20251118-0007",
            "at": "2025-11-18T12:01:00+01:00",
            "store_id": STORE,
            "customer": {"loyalty_card": CARD, "name": "Ola Wiśniewska"},
        },
        {
            "type": "order",
            "id": "pos-WAW01-20251118-0008",
            "at": "2025-11-18T12:24:41+01:00",
            "store_id": STORE,
            "customer": {"loyalty_card": CARD, "phone": "601 234 567"},
            "order": {
                "id": "R-WAW01-55120",
                "channel": "store",
                "amount": "249.80",
                "currency": "PLN",
                "items": [
                    {
                        "sku": "JKT-GRN-M",
                        "name": "Green jacket M",
                        "quantity": 1,
                        "unit_price": "199.90",
                    },
                    {"sku": "SCK-BLK-42", "name": "Socks", "quantity": 2, "unit_price": "24.95"},
                ],
            },
            "staff": {"id": "emp-311", "name": "Kasia"},
            "metadata": {"till": 3, "receipt_printed": True},
        },
    ],
}

# A web order the POS reports (the store's system sees orders of every channel).
# Shape: src/omnichannel/channels/store.schema.json, definition 'order_event'.
WEB_ORDER: dict[str, Any] = {
    "version": 1,
    "events": [
        {
            "type": "order",
            "id": "pos-sync-W-100231",
            "at": "2025-11-19T20:14:05+01:00",
            "store_id": STORE,
            "customer": {"email": EMAIL},
            "order": {"id": "W-100231", "channel": "web", "amount": "129.90", "currency": "PLN"},
        }
    ],
}

# Click & collect: the web order is picked up with the loyalty card and the same email.
# Shape: src/omnichannel/channels/store.schema.json, definition 'pickup'.
PICKUP: dict[str, Any] = {
    "version": 1,
    "events": [
        {
            "type": "pickup",
            "id": "pos-WAW01-20251120-0031",
            "at": "2025-11-20T17:05:00+01:00",
            "store_id": STORE,
            "customer": {"loyalty_card": CARD, "email": EMAIL, "name": "Ola Wiśniewska"},
            "original_order_id": "W-100231",
            "order": {"id": "W-100231", "channel": "web", "amount": "129.90", "currency": "PLN"},
            "staff": {"id": "emp-207"},
        }
    ],
}

# A return in the store of goods bought in the app.
# Shape: src/omnichannel/channels/store.schema.json, definition 'return'.
RETURN: dict[str, Any] = {
    "version": 1,
    "events": [
        {
            "type": "return",
            "id": "pos-WAW01-20251122-0003",
            "at": "2025-11-22T10:12:00+01:00",
            "store_id": STORE,
            "customer": {"email": EMAIL, "customer_id": "C-100231"},
            "original_order_id": "A-7781",
            "order": {
                "id": "A-7781",
                "channel": "app",
                "amount": "89.00",
                "currency": "PLN",
                "items": [{"sku": "TSH-WHT-S", "quantity": 1}],
            },
            "reason": "too small",
        }
    ],
}

# Goods reserved by phone for a fitting in the store.
# Shape: src/omnichannel/channels/store.schema.json, definition 'reservation'.
RESERVATION: dict[str, Any] = {
    "version": 1,
    "events": [
        {
            "type": "reservation",
            "id": "pos-WAW01-20251123-0001",
            "at": "2025-11-23T09:40:00+01:00",
            "store_id": STORE,
            "customer": {"phone": "+48 601 234 567"},
            "order": {"id": "RES-2291", "channel": "phone", "amount": "599.00", "currency": "PLN"},
        }
    ],
}

SAMPLES = (STORE_DAY, WEB_ORDER, PICKUP, RETURN, RESERVATION)


def _request(document: dict[str, Any]) -> InboundRequest:
    return InboundRequest(
        body=json.dumps(document, ensure_ascii=False).encode(),
        headers={"Content-Type": "application/json"},
    )


def _parse(document: dict[str, Any], adapter: StoreAdapter | None = None) -> list[Interaction]:
    return (adapter or StoreAdapter(default_region="PL")).parse(_request(document))


def _one(document: dict[str, Any]) -> Interaction:
    (interaction,) = _parse(document)
    return interaction


def _order_ref(interaction: Interaction) -> OrderRefPart:
    (part,) = interaction.content
    assert isinstance(part, OrderRefPart)
    return part


def _signature(body: bytes, secret: str, timestamp: int) -> str:
    """The scheme written out independently of the adapter's code."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


LOYALTY = Identifier.external("loyalty", CARD)


# --- the conformance suite ------------------------------------------------------------------


def _ready_for_pickup(**fields: Any) -> Interaction:
    base: dict[str, Any] = {
        "channel": "store",
        "kind": "pickup",
        "direction": "outbound",
        "occurred_at": "2025-11-20T09:00:00+01:00",
        "source_id": "ntf-W-100231-ready",
        "identifiers": [LOYALTY, Identifier.email(EMAIL)],
        "traits": {"display_name": "Ola Wiśniewska"},
        "content": [
            {"type": "text", "text": "Your order W-100231 is ready for pick-up at Warszawa 1."},
            {"type": "order", "order_id": "W-100231", "status": "ready", "store_id": STORE},
        ],
    }
    return Interaction.model_validate({**base, **fields})


class TestStoreAdapter(AdapterConformance):
    @pytest.fixture
    def adapter(self) -> ChannelAdapter:
        return StoreAdapter(default_region="PL")

    @pytest.fixture
    def samples(self) -> list[InboundRequest]:
        return [_request(document) for document in SAMPLES]

    @pytest.fixture
    def outbound(self) -> Interaction:
        return _ready_for_pickup()

    def sign(self, request: InboundRequest, secret: str, now: datetime) -> InboundRequest:
        value = _signature(request.body, secret, int(now.timestamp()))
        return request.model_copy(update={"headers": {**request.headers, HEADER.lower(): value}})


# --- what each event yields -----------------------------------------------------------------


def test_visit() -> None:
    visit = _parse(STORE_DAY)[0]
    assert (visit.channel, visit.kind, visit.direction) == ("store", "visit", Direction.INBOUND)
    assert visit.source_id == "pos-WAW01-20251118-0007"
    assert visit.occurred_at == datetime(2025, 11, 18, 11, 1, tzinfo=timezone.utc)
    assert visit.identifiers == (LOYALTY,)
    assert visit.traits == {"display_name": "Ola Wiśniewska"}
    assert visit.content == ()
    assert visit.metadata == {"store_id": STORE}


def test_order_placed_in_the_store() -> None:
    order = _parse(STORE_DAY)[1]
    assert (order.channel, order.kind) == ("store", "order")
    assert order.identifiers == (Identifier.phone("+48601234567"), LOYALTY)
    part = _order_ref(order)
    assert part == OrderRefPart(
        order_id="R-WAW01-55120",
        amount=Decimal("249.80"),
        currency="PLN",
        status="placed",
        store_id=STORE,
    )
    assert isinstance(part.amount, Decimal)
    assert order.agent == "emp-311"
    assert order.metadata == {
        "store_id": STORE,
        "items": [
            {"sku": "JKT-GRN-M", "quantity": 1, "name": "Green jacket M", "unit_price": "199.90"},
            {"sku": "SCK-BLK-42", "quantity": 2, "name": "Socks", "unit_price": "24.95"},
        ],
        "staff_name": "Kasia",
        "custom": {"till": 3, "receipt_printed": True},
    }


@pytest.mark.parametrize(
    ("placed", "channel"),
    [("store", "store"), ("web", "web"), ("phone", "voice"), ("app", "app")],
)
def test_an_order_takes_the_channel_it_was_placed_on(placed: str, channel: str) -> None:
    document = copy.deepcopy(WEB_ORDER)
    document["events"][0]["order"]["channel"] = placed
    order = _one(document)
    assert (order.channel, order.kind) == (channel, "order")
    assert order.identifiers == (Identifier.email(EMAIL),)
    assert _order_ref(order).order_id == "W-100231"
    if placed == "store":
        assert "reported_by" not in order.metadata
    else:
        assert order.metadata["reported_by"] == "store"  # seen by the POS, placed elsewhere


def test_click_and_collect_pickup() -> None:
    pickup = _one(PICKUP)
    assert (pickup.channel, pickup.kind, pickup.direction) == ("store", "pickup", Direction.INBOUND)
    assert pickup.identifiers == (Identifier.email(EMAIL), LOYALTY)
    assert _order_ref(pickup) == OrderRefPart(
        order_id="W-100231",
        amount=Decimal("129.90"),
        currency="PLN",
        status="picked_up",
        store_id=STORE,
    )
    assert pickup.metadata == {
        "store_id": STORE,
        "original_channel": "web",
        "click_and_collect": True,
    }
    assert pickup.agent == "emp-207"


def test_pickup_without_order_details_is_click_and_collect() -> None:
    document = copy.deepcopy(PICKUP)
    del document["events"][0]["order"]
    pickup = _one(document)
    assert _order_ref(pickup) == OrderRefPart(
        order_id="W-100231", status="picked_up", store_id=STORE
    )
    assert pickup.metadata == {"store_id": STORE, "click_and_collect": True}


def test_pickup_of_an_order_placed_in_the_store_is_not_click_and_collect() -> None:
    document = copy.deepcopy(PICKUP)
    document["events"][0]["order"]["channel"] = "store"
    pickup = _one(document)
    assert pickup.metadata["click_and_collect"] is False
    assert pickup.metadata["original_channel"] == "store"


def test_return_in_the_store() -> None:
    returned = _one(RETURN)
    assert (returned.channel, returned.kind) == ("store", "return")
    assert returned.identifiers == (
        Identifier.email(EMAIL),
        Identifier.external("shop", "C-100231"),
    )
    assert _order_ref(returned) == OrderRefPart(
        order_id="A-7781",
        amount=Decimal("89.00"),
        currency="PLN",
        status="returned",
        store_id=STORE,
    )
    assert returned.metadata == {
        "store_id": STORE,
        "original_channel": "app",
        "reason": "too small",
        "items": [{"sku": "TSH-WHT-S", "quantity": 1}],
    }


def test_return_without_the_original_order_details() -> None:
    document = copy.deepcopy(RETURN)
    del document["events"][0]["order"]
    returned = _one(document)
    assert _order_ref(returned).order_id == "A-7781"
    assert "original_channel" not in returned.metadata


def test_reservation() -> None:
    reservation = _one(RESERVATION)
    assert (reservation.channel, reservation.kind) == ("voice", "reservation")
    assert reservation.identifiers == (Identifier.phone("+48601234567"),)
    assert _order_ref(reservation) == OrderRefPart(
        order_id="RES-2291",
        amount=Decimal("599.00"),
        currency="PLN",
        status="reserved",
        store_id=STORE,
    )


def test_customer_system_is_an_option() -> None:
    (returned,) = _parse(RETURN, StoreAdapter(customer_system="erp"))
    assert Identifier.external("erp", "C-100231") in returned.identifiers


def test_national_numbers_need_the_default_region() -> None:
    with pytest.raises(InvalidPayloadError, match="no country code") as caught:
        StoreAdapter().parse(_request(STORE_DAY))
    assert caught.value.field == "events.1.customer.phone"


def test_at_too_far_in_the_future() -> None:
    ahead = (datetime.now(timezone.utc) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    document = copy.deepcopy(WEB_ORDER)
    document["events"][0]["at"] = ahead
    with pytest.raises(InvalidPayloadError, match="too far in the future") as caught:
        _parse(document)
    assert caught.value.field == "events.0.at"
    assert _parse(document, StoreAdapter(max_future_seconds=3 * 3600))


def test_registry_builds_the_adapter() -> None:
    adapter = get_adapter("store", default_region="PL", customer_system="erp")
    assert isinstance(adapter, StoreAdapter)
    assert adapter.customer_system == "erp"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"customer_system": "ERP system"}, "customer_system"),
        ({"replay_window_seconds": -1}, "replay_window_seconds"),
        ({"default_region": "XX1"}, "default_region"),
    ],
)
def test_bad_options(options: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidValueError) as caught:
        StoreAdapter(**options)
    assert caught.value.field == field


# --- identity across channels ---------------------------------------------------------------


def test_click_and_collect_joins_the_web_order_and_the_store_pickup() -> None:
    adapter = StoreAdapter(default_region="PL")
    hub = Hub(MemoryStore())
    # The web shop records the order, known by the customer's email ...
    web = hub.ingest(
        {
            "channel": "web",
            "kind": "order",
            "source_id": "W-100231",
            "occurred_at": "2025-11-19T20:14:05+01:00",
            "identifiers": [{"kind": "email", "value": EMAIL}],
            "content": [
                {"type": "order", "order_id": "W-100231", "amount": "129.90", "currency": "PLN"}
            ],
        }
    )
    assert web.outcome is IngestOutcome.CREATED
    # ... and the store's POS reports its pick-up with the loyalty card and the same email.
    (pickup,) = adapter.parse(_request(PICKUP))
    result = hub.ingest(pickup)
    assert (result.outcome, result.profile_id) == (IngestOutcome.ATTACHED, web.profile_id)
    profile = hub.profile(web.profile_id)
    assert {i.identifier for i in profile.identifiers} == {Identifier.email(EMAIL), LOYALTY}
    oldest_first = list(reversed(hub.timeline(web.profile_id).items))
    assert [(i.channel, i.kind) for i in oldest_first] == [("web", "order"), ("store", "pickup")]
    assert [_order_ref(i).order_id for i in oldest_first] == ["W-100231", "W-100231"]
    # A later visit with the loyalty card alone lands on the same customer.
    visit = _parse(STORE_DAY)[0]
    assert hub.ingest(visit).profile_id == web.profile_id


def test_redelivered_document_is_stored_once() -> None:
    hub = Hub(MemoryStore())
    first = [hub.ingest(i) for i in _parse(STORE_DAY)]
    again = [hub.ingest(i) for i in _parse(STORE_DAY)]
    assert [r.outcome for r in again] == [IngestOutcome.DUPLICATE] * 2
    assert [r.interaction_id for r in again] == [r.interaction_id for r in first]


# --- bad input ------------------------------------------------------------------------------


def _changed(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``document`` with the dotted ``path`` set to ``value`` (deleted if
    ``value`` is ``...``)."""
    result = copy.deepcopy(document)
    *parents, last = path.split(".")
    node: Any = result
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is ...:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return result


ORDER = WEB_ORDER

# Documents the JSON Schema and the pydantic models both refuse: (id, document, field, message).
INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("version", _changed(ORDER, "version", 2), "version", "must be 1"),
    ("no-events", _changed(ORDER, "events", ...), "events", "is missing"),
    ("events-empty", _changed(ORDER, "events", []), "events", "at least 1 items"),
    ("unknown-type", _changed(ORDER, "events.0.type", "refund"), "events.0.type", "must be one of"),
    ("no-at", _changed(ORDER, "events.0.at", ...), "events.0.at", "is missing"),
    ("at-date-only", _changed(ORDER, "events.0.at", "2025-11-19"), "events.0.at", "RFC 3339"),
    ("no-store", _changed(ORDER, "events.0.store_id", ...), "events.0.store_id", "is missing"),
    ("no-customer", _changed(ORDER, "events.0.customer", ...), "events.0.customer", "is missing"),
    (
        "anonymous-customer",
        _changed(ORDER, "events.0.customer", {}),
        "events.0.customer",
        "an anonymous customer cannot be attributed",
    ),
    (
        "customer-name-only",
        _changed(ORDER, "events.0.customer", {"name": "Ola"}),
        "events.0.customer",
        "needs at least one of phone, email, loyalty_card or customer_id",
    ),
    (
        "customer-nulls-only",
        _changed(ORDER, "events.0.customer", {"email": None, "loyalty_card": None}),
        "events.0.customer",
        "needs at least one of phone, email, loyalty_card or customer_id",
    ),
    (
        "anonymous-visit",
        _changed(STORE_DAY, "events.0.customer", {"name": "walk-in"}),
        "events.0.customer",
        "cannot be attributed",
    ),
    (
        "loyalty-card-spaces",
        _changed(PICKUP, "events.0.customer.loyalty_card", "LC 0042 7781"),
        "events.0.customer.loyalty_card",
        "printable ASCII without spaces",
    ),
    (
        "loyalty-card-number",
        _changed(PICKUP, "events.0.customer.loyalty_card", 42),
        "events.0.customer.loyalty_card",
        "must be a string",
    ),
    (
        "customer-unknown-field",
        _changed(ORDER, "events.0.customer.birthday", "1990-01-01"),
        "events.0.customer.birthday",
        "not a known field",
    ),
    ("order-missing", _changed(ORDER, "events.0.order", ...), "events.0.order", "is missing"),
    ("order-null", _changed(ORDER, "events.0.order", None), "events.0.order", "must be an object"),
    (
        "order-channel",
        _changed(ORDER, "events.0.order.channel", "fax"),
        "events.0.order.channel",
        "must be 'store', 'web', 'phone' or 'app'",
    ),
    (
        "amount-number",
        _changed(ORDER, "events.0.order.amount", 129.9),
        "events.0.order.amount",
        "must be a string",
    ),
    (
        "amount-comma",
        _changed(ORDER, "events.0.order.amount", "129,90"),
        "events.0.order.amount",
        "decimal string",
    ),
    (
        "amount-negative",
        _changed(ORDER, "events.0.order.amount", "-5.00"),
        "events.0.order.amount",
        "decimal string",
    ),
    (
        "amount-five-decimals",
        _changed(ORDER, "events.0.order.amount", "1.00001"),
        "events.0.order.amount",
        "decimal string",
    ),
    (
        "amount-exponent",
        _changed(ORDER, "events.0.order.amount", "1E+3"),
        "events.0.order.amount",
        "decimal string",
    ),
    (
        "currency-lower",
        _changed(ORDER, "events.0.order.currency", "pln"),
        "events.0.order.currency",
        "ISO 4217",
    ),
    (
        "no-currency",
        _changed(ORDER, "events.0.order.currency", ...),
        "events.0.order.currency",
        "is missing",
    ),
    (
        "item-quantity-zero",
        _changed(STORE_DAY, "events.1.order.items.0.quantity", 0),
        "events.1.order.items.0.quantity",
        "at least 1",
    ),
    (
        "item-quantity-text",
        _changed(STORE_DAY, "events.1.order.items.0.quantity", "1"),
        "events.1.order.items.0.quantity",
        "must be an integer",
    ),
    (
        "item-no-sku",
        _changed(STORE_DAY, "events.1.order.items.1.sku", ...),
        "events.1.order.items.1.sku",
        "is missing",
    ),
    (
        "item-price",
        _changed(STORE_DAY, "events.1.order.items.1.unit_price", "24.9.5"),
        "events.1.order.items.1.unit_price",
        "decimal string",
    ),
    (
        "pickup-no-original",
        _changed(PICKUP, "events.0.original_order_id", ...),
        "events.0.original_order_id",
        "is missing",
    ),
    (
        "return-no-original",
        _changed(RETURN, "events.0.original_order_id", ...),
        "events.0.original_order_id",
        "is missing",
    ),
    (
        "visit-with-order",
        _changed(STORE_DAY, "events.0.order", ORDER["events"][0]["order"]),
        "events.0.order",
        "not a known field",
    ),
    (
        "order-with-original",
        _changed(ORDER, "events.0.original_order_id", "W-1"),
        "events.0.original_order_id",
        "not a known field",
    ),
    (
        "pickup-with-reason",
        _changed(PICKUP, "events.0.reason", "late"),
        "events.0.reason",
        "not a known field",
    ),
    ("reason-blank", _changed(RETURN, "events.0.reason", " "), "events.0.reason", "not be blank"),
    (
        "reservation-no-order",
        _changed(RESERVATION, "events.0.order", ...),
        "events.0.order",
        "missing",
    ),
    (
        "staff-no-id",
        _changed(PICKUP, "events.0.staff", {"name": "A"}),
        "events.0.staff.id",
        "missing",
    ),
    (
        "metadata-nested",
        _changed(ORDER, "events.0.metadata", {"till": {"no": 3}}),
        "events.0.metadata.till",
        "string, number, boolean or null",
    ),
]

# Documents the JSON Schema accepts but the adapter refuses, as the schema's description says.
BEYOND_SCHEMA: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "pickup-order-id-differs",
        _changed(PICKUP, "events.0.order.id", "W-100232"),
        "events.0.order.id",
        "must equal original_order_id",
    ),
    (
        "return-order-id-differs",
        _changed(RETURN, "events.0.order.id", "A-7782"),
        "events.0.order.id",
        "must equal original_order_id",
    ),
    ("at-future", _changed(ORDER, "events.0.at", "2099-01-01T00:00:00Z"), "events.0.at", "future"),
    (
        "at-april-31",
        _changed(ORDER, "events.0.at", "2025-04-31T10:00:00Z"),
        "events.0.at",
        "not a date-time that exists",
    ),
    (
        "email-invalid",
        _changed(ORDER, "events.0.customer.email", "ola@example..com"),
        "events.0.customer.email",
        "not a valid email address",
    ),
    (
        "phone-invalid",
        _changed(RESERVATION, "events.0.customer.phone", "+48 601"),
        "events.0.customer.phone",
        "not a valid number",
    ),
    (
        "repeated-id",
        _changed(STORE_DAY, "events.1.id", "pos-WAW01-20251118-0007"),
        "events.1.id",
        "repeats the id of events.0",
    ),
]

VALID: list[tuple[str, dict[str, Any]]] = [
    *[(f"sample-{n}", document) for n, document in enumerate(SAMPLES)],
    (
        "nulls-are-absent",
        _changed(
            _changed(PICKUP, "events.0.order", None),
            "events.0.customer",
            {
                "phone": None,
                "email": EMAIL,
                "loyalty_card": None,
                "customer_id": None,
                "name": None,
            },
        ),
    ),
    ("quantity-integral-float", _changed(STORE_DAY, "events.1.order.items.0.quantity", 1.0)),
    ("amount-zero", _changed(ORDER, "events.0.order.amount", "0")),
    ("staff-null", _changed(PICKUP, "events.0.staff", None)),
]


@pytest.mark.parametrize(
    ("document", "field", "message"),
    [case[1:] for case in INVALID + BEYOND_SCHEMA],
    ids=[case[0] for case in INVALID + BEYOND_SCHEMA],
)
def test_bad_documents(document: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(InvalidPayloadError, match=re.escape(message)) as caught:
        _parse(document)
    assert caught.value.field == field


@pytest.mark.parametrize("document", [case[1] for case in VALID], ids=[c[0] for c in VALID])
def test_valid_documents_parse(document: dict[str, Any]) -> None:
    assert _parse(document)


# --- the JSON Schema ---------------------------------------------------------------------------


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text("utf-8"))
    return schema


def test_schema_is_a_draft_2020_12_schema_whose_refs_resolve() -> None:
    schema = _schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "urn:omnichannel:schema:store:1"
    refs = {node["$ref"] for node in walk(schema) if "$ref" in node}
    defs = set(schema["$defs"])
    # Every definition is used, except the render output's, which stands alone.
    assert refs == {f"#/$defs/{name}" for name in defs - {"notification_document"}}
    for node in walk(schema):
        if node.get("type") == "object" or "object" in node.get("type", []):
            assert "additionalProperties" in node, node.get("description")


def test_json_schema_method_returns_the_shipped_file() -> None:
    assert StoreAdapter.json_schema() == _schema()


def test_schema_and_models_have_the_same_fields_andpatterns() -> None:
    """Checked without any JSON Schema library: the closed objects of the schema and of
    the models have the same properties and required sets, patterns and constants."""
    schema = _schema()
    generated = (_Document.model_json_schema(), _NotificationDocument.model_json_schema())
    assert closed_objects(schema) == closed_objects(*generated)
    assert patterns(schema) == patterns(*generated)
    assert string_constants(schema) == string_constants(*generated)
    defs = schema["$defs"]
    pairs: dict[str, type[BaseModel]] = {
        "visit": _Visit,
        "order_event": _OrderEvent,
        "pickup": _Pickup,
        "return": _Return,
        "reservation": _Reservation,
        "customer": _Customer,
        "order": _Order,
        "item": _Item,
        "staff": _Staff,
        "notification_document": _NotificationDocument,
    }
    for name, model in pairs.items():
        assert set(defs[name]["properties"]) == set(model.model_fields), name
        required = {k for k, field in model.model_fields.items() if field.is_required()}
        assert set(defs[name].get("required", [])) == required, name
    assert set(_PATTERN_REASONS) >= patterns(schema)  # every pattern's failure is worded


def test_schema_and_models_agree_on_documents() -> None:
    schema = _schema()
    check_documents_agree(
        schema, _Document, VALID + [(case[0], case[1]) for case in BEYOND_SCHEMA], INVALID
    )
    for _, document in VALID:
        _Document.model_validate(document)
    # The render output satisfies the schema's notification_document.
    notification = {"$ref": "#/$defs/notification_document", "$defs": schema["$defs"]}
    rendered = StoreAdapter().render(_ready_for_pickup())
    jsonschema.Draft202012Validator(notification).validate(rendered)
    assert not jsonschema.Draft202012Validator(notification).is_valid(
        {"version": 1, "notification": {"id": "n1", "kind": "pickup"}}
    )


# --- verification ------------------------------------------------------------------------------

BODY = _request(PICKUP).body
NOW = datetime(2025, 11, 20, 16, 5, 30, tzinfo=timezone.utc)
T = int(NOW.timestamp())
SECRET = "pos-hook-Qm81z"


def test_signed_request_verifies() -> None:
    request = InboundRequest(body=BODY, headers={HEADER: _signature(BODY, SECRET, T - 299)})
    StoreAdapter().verify(request, SECRET, now=NOW)


@pytest.mark.parametrize(
    ("header_value", "message"),
    [
        (_signature(BODY, SECRET, T - 301), "stale"),
        (_signature(BODY, SECRET, T + 301), "in the future"),
        (f"t={T},v1={'f' * 64}", "does not match"),
        (_signature(BODY, "webchat-secret", T), "does not match"),
    ],
    ids=["stale", "future", "forged", "other-secret"],
)
def test_bad_signatures(header_value: str, message: str) -> None:
    request = InboundRequest(body=BODY, headers={HEADER: header_value})
    with pytest.raises(SignatureError, match=message):
        StoreAdapter().verify(request, SECRET, now=NOW)


def test_the_webchat_header_does_not_sign_a_store_request() -> None:
    request = InboundRequest(
        body=BODY, headers={"X-Webchat-Signature": _signature(BODY, SECRET, T)}
    )
    with pytest.raises(SignatureError, match="X-Store-Signature is missing"):
        StoreAdapter().verify(request, SECRET, now=NOW)


def test_replay_window_is_an_option() -> None:
    request = InboundRequest(body=BODY, headers={HEADER: _signature(BODY, SECRET, T - 3600)})
    StoreAdapter(replay_window_seconds=7200).verify(request, SECRET, now=NOW)
    with pytest.raises(SignatureError, match="3600 s ago"):
        StoreAdapter().verify(request, SECRET, now=NOW)


# --- rendering ---------------------------------------------------------------------------------


def test_render_a_ready_for_pickup_notification() -> None:
    payload = StoreAdapter().render(_ready_for_pickup())
    assert payload == {
        "version": 1,
        "notification": {
            "id": "ntf-W-100231-ready",
            "kind": "pickup",
            "created_at": "2025-11-20T08:00:00Z",
            "store_id": STORE,
            "customer": {"loyalty_card": CARD, "email": EMAIL, "name": "Ola Wiśniewska"},
            "order": {"id": "W-100231", "status": "ready"},
            "text": "Your order W-100231 is ready for pick-up at Warszawa 1.",
        },
    }
    _NotificationDocument.model_validate(payload)


def test_render_a_receipt_with_amount() -> None:
    receipt = _ready_for_pickup(
        kind="order",
        source_id=None,
        identifiers=[Identifier.phone("+48601234567"), Identifier.external("shop", "C-1")],
        traits={},
        metadata={"store_id": "KRK-02"},
        content=[{"type": "order", "order_id": "R-KRK02-77", "amount": "1E+2", "currency": "EUR"}],
    )
    payload = StoreAdapter().render(receipt)
    assert payload["notification"] == {
        "id": receipt.id,
        "kind": "order",
        "created_at": "2025-11-20T08:00:00Z",
        "store_id": "KRK-02",
        "customer": {"phone": "+48601234567", "customer_id": "C-1"},
        "order": {"id": "R-KRK02-77", "amount": "100", "currency": "EUR"},
    }
    _NotificationDocument.model_validate(payload)


def test_render_text_only_notification() -> None:
    note = _ready_for_pickup(
        kind="message", content=[{"type": "text", "text": "We open at 9 tomorrow."}]
    )
    notification = StoreAdapter().render(note)["notification"]
    assert isinstance(notification, dict)
    assert "order" not in notification
    assert "store_id" not in notification


def test_a_notification_needs_text_or_an_order() -> None:
    notification = {
        "id": "n1",
        "kind": "pickup",
        "created_at": "2025-11-20T08:00:00Z",
        "customer": {"loyalty_card": CARD},
    }
    with pytest.raises(ValidationError, match="needs text or an order"):
        _NotificationDocument.model_validate({"version": 1, "notification": notification})


BAD_RENDERS: list[tuple[str, Interaction, str, str]] = [
    ("webchat", _ready_for_pickup(channel="webchat"), "channel", "not the store channel"),
    ("web", _ready_for_pickup(channel="web"), "channel", "not the store channel"),
    ("inbound", _ready_for_pickup(direction="inbound"), "direction", "must be outbound"),
    (
        "no-identifier",
        _ready_for_pickup(identifiers=[Identifier.handle("webchat", "v_1")]),
        "identifiers",
        "needs a phone, email, loyalty card or customer id",
    ),
    (
        "other-system",
        _ready_for_pickup(identifiers=[Identifier.external("erp", "C-1")]),
        "identifiers",
        "needs a phone, email, loyalty card or customer id",
    ),
    ("no-content", _ready_for_pickup(content=[]), "content", "needs text or an order reference"),
    (
        "two-orders",
        _ready_for_pickup(
            content=[{"type": "order", "order_id": "A"}, {"type": "order", "order_id": "B"}]
        ),
        "content.1",
        "at most one order reference",
    ),
    (
        "media",
        _ready_for_pickup(content=[{"type": "media", "media_type": "image/png", "url": "x"}]),
        "content.0",
        "at most one order reference",
    ),
    (
        "negative-amount",
        _ready_for_pickup(content=[{"type": "order", "order_id": "A", "amount": "-1"}]),
        "content.0.amount",
        "non-negative amount",
    ),
    (
        "order-id-space",
        _ready_for_pickup(content=[{"type": "order", "order_id": "A 1"}]),
        "content.0.order_id",
        "printable ASCII",
    ),
    ("source-id-space", _ready_for_pickup(source_id="ntf 1"), "source_id", "printable ASCII"),
    (
        "too-long",
        _ready_for_pickup(content=[{"type": "text", "text": "x" * 2001}]),
        "content",
        "longer than 2000",
    ),
]


@pytest.mark.parametrize(
    ("interaction", "field", "message"),
    [case[1:] for case in BAD_RENDERS],
    ids=[case[0] for case in BAD_RENDERS],
)
def test_render_refuses(interaction: Interaction, field: str, message: str) -> None:
    with pytest.raises(InvalidValueError, match=re.escape(message)) as caught:
        StoreAdapter().render(interaction)
    assert caught.value.field == field
