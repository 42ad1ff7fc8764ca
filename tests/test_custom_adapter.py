"""The custom adapter in examples/ passes the same conformance suite as the built-ins."""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import datetime
from pathlib import Path
from types import ModuleType

import pytest

from omnichannel import Direction, Identifier, Interaction, SignatureError, TextPart
from omnichannel.channels import ChannelAdapter, InboundRequest, hmac_digest
from omnichannel.testing import AdapterConformance


def _load_example() -> ModuleType:
    path = Path(__file__).parent.parent / "examples" / "custom_adapter.py"
    spec = importlib.util.spec_from_file_location("custom_adapter_example", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


example = _load_example()


def _request(payload: dict[str, object]) -> InboundRequest:
    return InboundRequest(body=json.dumps(payload).encode(), content_type="application/json")


class TestViberAdapter(AdapterConformance):
    @pytest.fixture
    def adapter(self) -> ChannelAdapter:
        adapter: ChannelAdapter = example.ViberAdapter()
        return adapter

    @pytest.fixture
    def samples(self) -> list[InboundRequest]:
        sender = {"id": "01234567890A=", "name": "Olena"}
        return [
            InboundRequest(body=example.SAMPLE, content_type="application/json"),
            _request(
                {
                    "event": "message",
                    "timestamp": 1794218400000,
                    "message_token": 2,
                    "sender": sender,
                    "message": {"type": "picture", "media": "https://x/y.jpg", "text": "receipt"},
                }
            ),
            _request(
                {
                    "event": "message",
                    "timestamp": 1794218400000,
                    "message_token": 3,
                    "sender": sender,
                    "message": {
                        "type": "contact",
                        "contact": {"name": "Mum", "phone_number": "+48601234567"},
                    },
                }
            ),
            _request({"event": "delivered", "timestamp": 1794218400000, "message_token": 1}),
        ]

    @pytest.fixture
    def outbound(self) -> Interaction:
        return Interaction(
            channel="viber",
            direction=Direction.OUTBOUND,
            occurred_at=datetime(2026, 11, 20, 12, 0).astimezone(),
            identifiers=(Identifier.handle("viber", "01234567890A="),),
            content=(TextPart(text="Hello"),),
        )

    def sign(self, request: InboundRequest, secret: str, now: datetime) -> InboundRequest:
        signature = hmac_digest(secret, request.body).hex()
        return request.model_copy(
            update={"headers": {**request.headers, "x-viber-content-signature": signature}}
        )


def test_viber_ids_keep_their_case() -> None:
    (interaction,) = example.ViberAdapter().parse(
        InboundRequest(body=example.SAMPLE, content_type="application/json")
    )
    assert interaction.identifiers[0].value == "01234567890A="
    assert interaction.traits == {"display_name": "Olena Kovalenko"}


def test_a_shared_contact_is_a_mention_not_the_sender() -> None:
    body = {
        "event": "message",
        "timestamp": 1794218400000,
        "message_token": 9,
        "sender": {"id": "abc"},
        "message": {"type": "contact", "contact": {"phone_number": "+48601234567"}},
    }
    (interaction,) = example.ViberAdapter().parse(_request(body))
    assert [i.kind.value for i in interaction.identifiers] == ["handle"]
    assert [i.value for i in interaction.mentions] == ["+48601234567"]


def test_forged_signature() -> None:
    request = InboundRequest(body=example.SAMPLE, headers={"X-Viber-Content-Signature": "00" * 32})
    with pytest.raises(SignatureError, match="does not match"):
        example.ViberAdapter().verify(request, "token")
