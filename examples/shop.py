"""A shop across channels: a web order, a WhatsApp question, click & collect, a return.

The shop's POS and web shop report events in omnichannel's store format, WhatsApp
delivers Cloud API webhooks; every event is verified, parsed and ingested, and the agent
sees one customer with one history. Run it: ``python examples/shop.py``.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from omnichannel import Hub
from omnichannel.channels import InboundRequest, get_adapter, hmac_digest

POS_KEY = "pos-signing-key"
META_SECRET = "meta-app-secret"


def pos_request(event: dict[str, Any]) -> InboundRequest:
    """A store/POS event, signed the way the POS bridge signs it (t=...,v1=...)."""
    body = json.dumps({"version": 1, "events": [event]}).encode()
    stamp = int(time.time())
    digest = hmac_digest(POS_KEY, f"{stamp}.".encode() + body).hex()
    return InboundRequest(body=body, headers={"X-Store-Signature": f"t={stamp},v1={digest}"})


def whatsapp_request(text: str, message_id: str, at: int) -> InboundRequest:
    """A WhatsApp Cloud API webhook from the customer, signed by Meta."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "48221234567", "phone_number_id": "1065403522"},
        "contacts": [{"profile": {"name": "Ola W."}, "wa_id": "48603456789"}],
        "messages": [
            {
                "from": "48603456789",
                "id": message_id,
                "timestamp": str(at),
                "type": "text",
                "text": {"body": text},
            }
        ],
    }
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"id": "1022901293", "changes": [{"field": "messages", "value": value}]}],
        }
    ).encode()
    signature = "sha256=" + hmac_digest(META_SECRET, body).hex()
    return InboundRequest(body=body, headers={"X-Hub-Signature-256": signature})


EVENTS: list[tuple[str, InboundRequest]] = [
    (
        "store",
        pos_request(
            {
                "type": "order",
                "id": "web-W-100231",
                "at": "2026-11-16T20:14:05+01:00",
                "store_id": "WAW01",
                "customer": {"email": "ola.wisniewska@example.org", "phone": "+48 603 456 789"},
                "order": {
                    "id": "W-100231",
                    "channel": "web",
                    "amount": "129.90",
                    "currency": "PLN",
                },
            }
        ),
    ),
    (
        "whatsapp",
        whatsapp_request("Is my order W-100231 ready to collect?", "wamid.OLA1", 1794900000),
    ),
    (
        "store",
        pos_request(
            {
                "type": "pickup",
                "id": "pos-WAW01-0031",
                "at": "2026-11-20T17:05:00+01:00",
                "store_id": "WAW01",
                "customer": {"loyalty_card": "PL-LOY-0042", "email": "ola.wisniewska@example.org"},
                "original_order_id": "W-100231",
            }
        ),
    ),
    (
        "store",
        pos_request(
            {
                "type": "return",
                "id": "pos-WAW01-0077",
                "at": "2026-11-22T11:30:00+01:00",
                "store_id": "WAW01",
                "customer": {"loyalty_card": "PL-LOY-0042"},
                "original_order_id": "W-100231",
                "reason": "wrong size",
            }
        ),
    ),
]


def main() -> None:
    """Verify, parse and ingest the shop's events, then show the customer's history."""
    adapters = {"store": get_adapter("store"), "whatsapp": get_adapter("whatsapp")}
    secrets = {"store": POS_KEY, "whatsapp": META_SECRET}
    with (
        tempfile.TemporaryDirectory() as tmp,
        Hub(f"sqlite:///{Path(tmp) / 'shop.db'}", default_region="PL") as hub,
    ):
        for channel, request in EVENTS:
            adapter = adapters[channel]
            adapter.verify(request, secrets[channel])
            for interaction in adapter.parse(request):
                result = hub.ingest(interaction)
                print(f"{interaction.channel:<9} {interaction.kind:<7} -> {result.outcome.value}")
        customer = hub.find("external:loyalty:PL-LOY-0042")
        assert customer is not None
        print(f"\n{customer.display_name or customer.id}: one customer, one history")
        for item in reversed(list(hub.history(customer.id))):
            when = item.occurred_at.strftime("%Y-%m-%d %H:%M")
            print(f"  {when}  {item.channel:<9} {item.kind:<7} {item.summary}")


if __name__ == "__main__":
    main()
