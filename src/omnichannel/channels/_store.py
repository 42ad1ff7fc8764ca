"""Store and POS: visits, orders, click & collect pick-ups, returns and reservations.

No vendor defines this shape: it is omnichannel's, documented as a JSON Schema (draft
2020-12) in ``store.schema.json`` beside this module, also returned by
:meth:`StoreAdapter.json_schema`. The adapter validates bodies with pydantic models that
mirror the schema. A document::

    {"version": 1, "events": [
        {"type": "pickup", "id": "pos-4471", "at": "2025-11-20T17:05:00+01:00",
         "store_id": "WAW-01", "original_order_id": "W-100231",
         "customer": {"loyalty_card": "LC-0042-7781", "email": "ola@example.com"}}]}

What becomes an interaction (``source_id`` the event's ``id``, direction inbound; an order
reference is an :class:`~omnichannel.OrderRefPart` with the amount as a ``Decimal``):

* ``visit``: channel ``store``, kind ``visit``, no content.
* ``order``: kind ``order`` on the channel where the order was placed (``order.channel``
  ``store``, ``web``, ``phone`` or ``app`` gives ``store``, ``web``, ``voice`` or ``app``),
  with the order's reference, status ``placed``.
* ``pickup``: channel ``store``, kind ``pickup``, with the reference of the original order
  (``original_order_id``), status ``picked_up``.
* ``return``: channel ``store``, kind ``return``, with the reference of the original order,
  status ``returned``.
* ``reservation``: kind ``reservation`` on the channel where it was made (as for orders),
  with the reservation's reference, status ``reserved``.

A pick-up has ``metadata["click_and_collect"]``: true unless its ``order`` block says the
order was placed in the store. Pick-ups and returns whose ``order`` block is given carry
``metadata["original_channel"]`` (the channel slug of where the order was placed); an order
placed elsewhere but reported by the POS carries ``metadata["reported_by"] == "store"``.
Every interaction has ``metadata["store_id"]``; order lines go to ``metadata["items"]``, a
return's ``reason`` to ``metadata["reason"]``, the staff member to ``agent``.

Identity: ``customer.phone`` and ``customer.email`` are the customer's phone and email,
``loyalty_card`` is ``Identifier.external("loyalty", number)`` and ``customer_id`` is
``Identifier.external(customer_system, id)`` (an adapter option, ``"shop"`` by default);
``name`` is the ``display_name`` trait. A customer block without any identifier is refused:
an anonymous store visit cannot be attributed to anyone.

Authenticity: header ``X-Store-Signature: t=<unix>,v1=<hex>``, the Stripe-style scheme of
:mod:`omnichannel.channels._hmac_scheme`, shared with the webchat adapter.

The store sends nothing to customers through this adapter, so :meth:`StoreAdapter.render`
builds a *notification* for the store's own systems to deliver ("your order is ready for
pick-up", a receipt), in the shape of ``#/$defs/notification_document``.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, JsonValue, StringConstraints, model_validator

from omnichannel._errors import InvalidPayloadError, InvalidValueError
from omnichannel._model import (
    Channel,
    Direction,
    Identifier,
    IdentifierKind,
    Interaction,
    OrderRefPart,
    TextPart,
)
from omnichannel.channels._base import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_FUTURE_SECONDS,
    BaseAdapter,
)
from omnichannel.channels._hmac_scheme import (
    DEFAULT_REPLAY_WINDOW_SECONDS,
    check_replay_window,
    verify_signature,
)
from omnichannel.channels._protocol import InboundRequest
from omnichannel.channels._webchat import (
    ID_PATTERN,
    PATTERN_REASONS,
    DateTimeText,
    EmailText,
    JsonInt,
    Metadata,
    NameText,
    OwnModel,
    PhoneText,
    PlainId,
    Version,
    check_system,
    check_unique_ids,
    date_time_text,
    load_schema,
    make_identifier,
    parse_date_time,
    validate_document,
)

__all__ = ["StoreAdapter"]

_SIGNATURE_HEADER = "X-Store-Signature"
_SCHEMA_FILE = "store.schema.json"
_LOYALTY_SYSTEM = "loyalty"
_AMOUNT_PATTERN = r"^(0|[1-9][0-9]{0,14})(\.[0-9]{1,4})?$"
_CURRENCY_PATTERN = r"^[A-Z]{3}$"
_KIND_PATTERN = r"^[a-z][a-z0-9_.-]{0,63}$"
_TEXT_PATTERN = r"\S"
_MAX_NOTIFICATION_CHARS = 2000

_PATTERN_REASONS = {
    **PATTERN_REASONS,
    _AMOUNT_PATTERN: "must be a decimal string such as '129.90'",
    _CURRENCY_PATTERN: "must be an ISO 4217 code such as 'PLN'",
    _KIND_PATTERN: "must be a lowercase slug",
}

# Where an order was placed -> the interaction's channel.
_PLACED_CHANNELS: dict[str, str] = {
    "store": Channel.STORE.value,
    "web": Channel.WEB.value,
    "phone": Channel.VOICE.value,
    "app": Channel.APP.value,
}

_Amount = Annotated[str, StringConstraints(pattern=_AMOUNT_PATTERN)]
_Currency = Annotated[str, StringConstraints(pattern=_CURRENCY_PATTERN)]
_Text = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=_TEXT_PATTERN)]


class _Customer(OwnModel):
    phone: PhoneText | None = None
    email: EmailText | None = None
    loyalty_card: PlainId | None = None
    customer_id: PlainId | None = None
    name: NameText | None = None

    @model_validator(mode="after")
    def _identified(self) -> _Customer:
        if all(
            value is None for value in (self.phone, self.email, self.loyalty_card, self.customer_id)
        ):
            raise ValueError(
                "needs at least one of phone, email, loyalty_card or customer_id: "
                "an anonymous customer cannot be attributed"
            )
        return self


class _Item(OwnModel):
    sku: PlainId
    name: NameText | None = None
    quantity: Annotated[JsonInt, Field(ge=1)]
    unit_price: _Amount | None = None


class _Order(OwnModel):
    id: PlainId
    channel: Literal["store", "web", "phone", "app"]
    amount: _Amount
    currency: _Currency
    items: Annotated[list[_Item], Field(max_length=200)] | None = None


class _Staff(OwnModel):
    id: Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=_TEXT_PATTERN)]
    name: NameText | None = None


class _Event(OwnModel):
    id: PlainId
    at: DateTimeText
    store_id: PlainId
    customer: _Customer
    staff: _Staff | None = None
    metadata: Metadata | None = None


class _Visit(_Event):
    type: Literal["visit"]


class _OrderEvent(_Event):
    type: Literal["order"]
    order: _Order


class _Pickup(_Event):
    type: Literal["pickup"]
    original_order_id: PlainId
    order: _Order | None = None


class _Return(_Event):
    type: Literal["return"]
    original_order_id: PlainId
    order: _Order | None = None
    reason: _Text | None = None


class _Reservation(_Event):
    type: Literal["reservation"]
    order: _Order


_AnyEvent = Annotated[
    _Visit | _OrderEvent | _Pickup | _Return | _Reservation, Field(discriminator="type")
]


class _Document(OwnModel):
    version: Version
    events: Annotated[list[_AnyEvent], Field(min_length=1, max_length=500)]


class _NotifiedOrder(OwnModel):
    id: PlainId
    status: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    amount: _Amount | None = None
    currency: _Currency | None = None


class _Notification(OwnModel):
    id: PlainId
    kind: Annotated[str, StringConstraints(pattern=_KIND_PATTERN)]
    created_at: DateTimeText
    store_id: PlainId | None = None
    customer: _Customer
    order: _NotifiedOrder | None = None
    text: (
        Annotated[
            str,
            StringConstraints(
                min_length=1, max_length=_MAX_NOTIFICATION_CHARS, pattern=_TEXT_PATTERN
            ),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _says_something(self) -> _Notification:
        if self.text is None and self.order is None:
            raise ValueError("needs text or an order")
        return self


class _NotificationDocument(OwnModel):
    """``#/$defs/notification_document``: what :meth:`StoreAdapter.render` returns."""

    version: Version
    notification: _Notification


class StoreAdapter(BaseAdapter):
    """Events of physical stores and their POS, in omnichannel's documented JSON shape.

    Args:
        customer_system: the system the customers' ``customer_id`` belongs to
            (``Identifier.external(customer_system, id)``).
        replay_window_seconds: how far a signature's timestamp may lie from the
            verifier's clock, either way.
        max_body_bytes: refuse larger bodies.
        max_future_seconds: refuse events dated further ahead than this.
        default_region: region for phone numbers written in national format (a POS
            usually has one: ``"PL"``).

    Raises:
        InvalidValueError: an option is out of range.
    """

    name = "store"

    def __init__(
        self,
        *,
        customer_system: str = "shop",
        replay_window_seconds: int = DEFAULT_REPLAY_WINDOW_SECONDS,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_future_seconds: int = DEFAULT_MAX_FUTURE_SECONDS,
        default_region: str | None = None,
    ) -> None:
        super().__init__(
            max_body_bytes=max_body_bytes,
            max_future_seconds=max_future_seconds,
            default_region=default_region,
        )
        self.customer_system = check_system(customer_system, "customer_system")
        self.replay_window_seconds = check_replay_window(replay_window_seconds)

    @staticmethod
    def json_schema() -> dict[str, JsonValue]:
        """The JSON Schema (draft 2020-12) of the documents :meth:`parse` reads; its
        ``#/$defs/notification_document`` is what :meth:`render` writes."""
        return load_schema(_SCHEMA_FILE)

    # --- parsing ---------------------------------------------------------------------

    def parse(self, request: InboundRequest) -> list[Interaction]:
        """Return one interaction per event, in event order.

        Raises:
            InvalidPayloadError: not JSON, not the documented shape (``field`` is the
                JSON path, e.g. ``"events.0.customer"`` for a customer without an
                identifier), an email or phone that does not normalize, an event dated
                too far in the future, two events with one id, or a pick-up or return
                whose ``order.id`` differs from its ``original_order_id``.
        """
        document = validate_document(_Document, self.decode_json(request), _PATTERN_REASONS)
        check_unique_ids([event.id for event in document.events])
        found: list[Interaction] = []
        for index, event in enumerate(document.events):
            path = f"events.{index}"
            occurred_at = self.check_time(parse_date_time(event.at), f"{path}.at")
            found.append(self._event(event, path, occurred_at))
        return found

    def _customer(self, customer: _Customer, path: str) -> list[Identifier]:
        found: list[Identifier] = []
        if customer.phone is not None:
            phone = customer.phone
            found.append(
                make_identifier(
                    lambda: Identifier.phone(phone, self.default_region), f"{path}.phone", phone
                )
            )
        if customer.email is not None:
            email = customer.email
            found.append(make_identifier(lambda: Identifier.email(email), f"{path}.email", email))
        if customer.loyalty_card is not None:
            card = customer.loyalty_card
            found.append(
                make_identifier(
                    lambda: Identifier.external(_LOYALTY_SYSTEM, card),
                    f"{path}.loyalty_card",
                    card,
                )
            )
        if customer.customer_id is not None:
            customer_id = customer.customer_id
            found.append(
                make_identifier(
                    lambda: Identifier.external(self.customer_system, customer_id),
                    f"{path}.customer_id",
                    customer_id,
                )
            )
        return list(dict.fromkeys(found))

    @staticmethod
    def _items(order: _Order | None) -> list[JsonValue] | None:
        if order is None or not order.items:
            return None
        lines: list[JsonValue] = []
        for item in order.items:
            line: dict[str, JsonValue] = {"sku": item.sku, "quantity": item.quantity}
            if item.name is not None:
                line["name"] = item.name
            if item.unit_price is not None:
                line["unit_price"] = item.unit_price
            lines.append(line)
        return lines

    def _event(
        self,
        event: _Visit | _OrderEvent | _Pickup | _Return | _Reservation,
        path: str,
        occurred_at: datetime,
    ) -> Interaction:
        metadata: dict[str, JsonValue] = {"store_id": event.store_id}
        channel = Channel.STORE.value
        order: _Order | None = None
        order_id: str | None = None
        status: str | None = None
        if isinstance(event, (_OrderEvent, _Reservation)):
            order, order_id = event.order, event.order.id
            status = "placed" if isinstance(event, _OrderEvent) else "reserved"
            channel = _PLACED_CHANNELS[order.channel]
            if channel != Channel.STORE.value:
                metadata["reported_by"] = Channel.STORE.value
        elif isinstance(event, (_Pickup, _Return)):
            order, order_id = event.order, event.original_order_id
            if order is not None and order.id != order_id:
                raise InvalidPayloadError(
                    f"{path}.order.id", order.id, "must equal original_order_id"
                )
            status = "picked_up" if isinstance(event, _Pickup) else "returned"
            if order is not None:
                metadata["original_channel"] = _PLACED_CHANNELS[order.channel]
            if isinstance(event, _Pickup):
                metadata["click_and_collect"] = order is None or order.channel != "store"
            elif event.reason is not None:
                metadata["reason"] = event.reason
        items = self._items(order)
        if items is not None:
            metadata["items"] = items
        if event.staff is not None and event.staff.name is not None:
            metadata["staff_name"] = event.staff.name
        if event.metadata:
            metadata["custom"] = dict(event.metadata)
        content: list[dict[str, Any]] = []
        if order_id is not None:
            content.append(
                {
                    "type": "order",
                    "order_id": order_id,
                    "amount": Decimal(order.amount) if order is not None else None,
                    "currency": order.currency if order is not None else None,
                    "status": status,
                    "store_id": event.store_id,
                }
            )
        traits: dict[str, JsonValue] = {}
        if event.customer.name is not None:
            traits["display_name"] = event.customer.name.strip()
        return self.build(
            path,
            channel=channel,
            kind=event.type,
            direction=Direction.INBOUND,
            occurred_at=occurred_at,
            source_id=event.id,
            identifiers=self._customer(event.customer, f"{path}.customer"),
            traits=traits,
            content=content,
            agent=event.staff.id if event.staff is not None else None,
            metadata=metadata,
        )

    # --- verification -----------------------------------------------------------------

    def verify(self, request: InboundRequest, secret: str, now: datetime | None = None) -> None:
        """Check ``X-Store-Signature`` (``t=<unix>,v1=<hex HMAC-SHA256>``).

        The same scheme as the webchat adapter's: the HMAC, under ``secret``, is of
        ``f"{t}."`` followed by the raw body, and ``t`` must lie within
        ``replay_window_seconds`` of ``now`` (default: the current time), either way. A
        replay inside the window verifies: the event ids make ingesting it again a no-op.

        Raises:
            SignatureError: missing, malformed, forged, stale or future-dated.
        """
        verify_signature(
            request,
            header=_SIGNATURE_HEADER,
            secret=secret,
            window_seconds=self.replay_window_seconds,
            now=now,
        )

    # --- rendering ----------------------------------------------------------------------

    def render(self, interaction: Interaction) -> dict[str, JsonValue]:
        """A notification for the store's systems to deliver to the customer.

        A store has no outbound messages of its own: what it can do is tell a customer
        something (their order is ready for pick-up, a receipt) through whatever the
        store's system uses (a customer display, a locker, its own SMS). The payload::

            {"version": 1, "notification": {
                "id": source_id or id, "kind": the interaction's kind,
                "created_at": occurred_at (RFC 3339, UTC),
                "store_id": from the order reference or metadata["store_id"],
                "customer": {"phone", "email", "loyalty_card", "customer_id", "name"},
                "order": {"id", "status", "amount", "currency"},   # from an OrderRefPart
                "text": the interaction's text}}

        It satisfies ``#/$defs/notification_document`` of ``store.schema.json``.

        Raises:
            InvalidValueError: the interaction is not outbound or not on the ``store``
                channel, names no phone, email, loyalty card or customer id, holds
                neither text nor an order reference (or more than one reference, or
                another kind of part), or a value the schema refuses.
        """
        if interaction.channel != Channel.STORE.value:
            raise InvalidValueError(
                "channel",
                interaction.channel,
                "is not the store channel: the store renders notifications only",
                mask=False,
            )
        if interaction.direction is not Direction.OUTBOUND:
            raise InvalidValueError(
                "direction", interaction.direction.value, "must be outbound to render", mask=False
            )
        customer = self._render_customer(interaction)
        order: dict[str, JsonValue] | None = None
        store_id: str | None = None
        for index, part in enumerate(interaction.content):
            if isinstance(part, TextPart):
                continue
            if not isinstance(part, OrderRefPart) or order is not None:
                raise InvalidValueError(
                    f"content.{index}",
                    part.type,
                    "a notification holds text and at most one order reference",
                    mask=False,
                )
            order, store_id = self._render_order(part, f"content.{index}"), part.store_id
        if store_id is None:
            candidate = interaction.metadata.get("store_id")
            store_id = candidate if isinstance(candidate, str) else None
        notification: dict[str, JsonValue] = {
            "id": _render_id(interaction.source_id or interaction.id, "source_id"),
            "kind": interaction.kind,
            "created_at": date_time_text(interaction.occurred_at),
        }
        if store_id is not None:
            notification["store_id"] = _render_id(store_id, "store_id")
        notification["customer"] = customer
        if order is not None:
            notification["order"] = order
        text = interaction.text
        if text.strip():
            if len(text) > _MAX_NOTIFICATION_CHARS:
                raise InvalidValueError(
                    "content",
                    f"{len(text)} characters",
                    f"is longer than {_MAX_NOTIFICATION_CHARS}",
                    mask=False,
                )
            notification["text"] = text
        elif order is None:
            raise InvalidValueError("content", [], "needs text or an order reference", mask=False)
        return {"version": 1, "notification": notification}

    def _render_customer(self, interaction: Interaction) -> dict[str, JsonValue]:
        customer: dict[str, JsonValue] = {}
        for identifier in interaction.identifiers:
            if identifier.kind is IdentifierKind.PHONE:
                customer.setdefault("phone", identifier.value)
            elif identifier.kind is IdentifierKind.EMAIL:
                customer.setdefault("email", identifier.original or identifier.value)
            elif identifier.kind is IdentifierKind.EXTERNAL:
                key = {_LOYALTY_SYSTEM: "loyalty_card", self.customer_system: "customer_id"}.get(
                    identifier.namespace
                )
                value = identifier.value
                if key is not None and len(value) <= 128 and re.fullmatch(ID_PATTERN, value):
                    customer.setdefault(key, value)
        if not customer:
            raise InvalidValueError(
                "identifiers",
                [str(i) for i in interaction.identifiers],
                "needs a phone, email, loyalty card or customer id to notify",
                mask=False,
            )
        name = interaction.traits.get("display_name")
        if isinstance(name, str) and name.strip():
            customer["name"] = name.strip()[:200]
        return customer

    @staticmethod
    def _render_order(part: OrderRefPart, field: str) -> dict[str, JsonValue]:
        order: dict[str, JsonValue] = {"id": _render_id(part.order_id, f"{field}.order_id")}
        if part.status:
            order["status"] = part.status[:64]
        if part.amount is not None:
            amount = format(part.amount, "f")
            if not re.fullmatch(_AMOUNT_PATTERN, amount):
                raise InvalidValueError(
                    f"{field}.amount",
                    amount,
                    "must be a non-negative amount with at most 4 decimals",
                    mask=False,
                )
            order["amount"] = amount
        if part.currency is not None:
            order["currency"] = part.currency
        return order


def _render_id(value: str, field: str) -> str:
    if len(value) > 128 or not re.fullmatch(ID_PATTERN, value):
        raise InvalidValueError(
            field, value, "must be 1-128 printable ASCII characters without spaces"
        )
    return value
