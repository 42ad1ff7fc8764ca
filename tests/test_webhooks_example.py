"""examples/webhooks_fastapi.py through FastAPI's TestClient: every built-in channel,
signed, forged, replayed, malformed, and Meta's handshake."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient

from omnichannel import Hub
from omnichannel.channels import hmac_digest


def _load() -> ModuleType:
    path = Path(__file__).parent.parent / "examples" / "webhooks_fastapi.py"
    spec = importlib.util.spec_from_file_location("webhooks_fastapi_example", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


example = _load()
SECRETS = {name: f"{name}-secret" for name in example.CHANNELS}
NOW = int(time.time())


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = example.create_app(
        f"sqlite:///{tmp_path / 'hooks.db'}", SECRETS, verify_token="v-token", default_region="PL"
    )
    with TestClient(app) as test_client:
        yield test_client
    app.state.hub.close()


def _meta(channel: str, body: bytes) -> dict[str, str]:
    digest = hmac_digest(SECRETS[channel], body).hex()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def _stripe_like(channel: str, header: str, body: bytes, at: int = NOW) -> dict[str, str]:
    digest = hmac_digest(SECRETS[channel], f"{at}.".encode() + body).hex()
    return {header: f"t={at},v1={digest}", "Content-Type": "application/json"}


def _messenger(channel: str, obj: str) -> bytes:
    event = {
        "sender": {"id": "6123456789012345"},
        "recipient": {"id": "104912345678901"},
        "timestamp": NOW * 1000,
        "message": {"mid": f"m_{channel}_1", "text": "Do you ship to Gdańsk?"},
    }
    return json.dumps(
        {
            "object": obj,
            "entry": [{"id": "104912345678901", "time": NOW * 1000, "messaging": [event]}],
        }
    ).encode()


def _twilio(client: TestClient) -> tuple[bytes, dict[str, str]]:
    params = {
        "MessageSid": "SM0123456789abcdef0123456789abcdef",
        "AccountSid": "AC0123456789abcdef0123456789abcdef",
        "From": "+48601234567",
        "To": "+48221234567",
        "Body": "Is my order ready?",
        "NumMedia": "0",
    }
    url = f"{client.base_url}/webhooks/twilio"
    signed = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    mac = hmac.new(SECRETS["twilio"].encode(), signed.encode(), hashlib.sha1).digest()
    headers = {
        "X-Twilio-Signature": base64.b64encode(mac).decode(),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    return urlencode(params).encode(), headers


def _email() -> tuple[bytes, dict[str, str]]:
    body = (
        b"From: =?utf-8?q?Zofia_Wi=C5=9Bniewska?= <zofia.w@example.org>\r\n"
        b"To: sklep@shop.example.com\r\nSubject: Kettle\r\n"
        b"Date: Mon, 16 Nov 2026 09:12:00 +0100\r\nMessage-ID: <k1@mail.example.org>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\nIs the blue kettle in stock?\r\n"
    )
    digest = hmac_digest(SECRETS["email"], f"{NOW}.".encode() + body).hex()
    headers = {
        "X-Omnichannel-Signature": f"sha256={digest}",
        "X-Omnichannel-Timestamp": str(NOW),
        "Content-Type": "message/rfc822",
    }
    return body, headers


def _signed(channel: str, client: TestClient) -> tuple[bytes, dict[str, str]]:
    if channel == "whatsapp":
        body = example.whatsapp_sample()
        return body, _meta(channel, body)
    if channel in ("messenger", "instagram"):
        body = _messenger(channel, "page" if channel == "messenger" else "instagram")
        return body, _meta(channel, body)
    if channel == "twilio":
        return _twilio(client)
    if channel == "telegram":
        update = {
            "update_id": 900001,
            "message": {
                "message_id": 7,
                "from": {"id": 412345678, "is_bot": False, "first_name": "Olena"},
                "chat": {"id": 412345678, "type": "private"},
                "date": NOW,
                "text": "Привіт!",
            },
        }
        body = json.dumps(update).encode()
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRETS["telegram"]}
        return body, {**headers, "Content-Type": "application/json"}
    if channel == "email":
        return _email()
    if channel == "webchat":
        document = {
            "version": 1,
            "events": [
                {
                    "type": "message",
                    "id": "evt_1",
                    "sent_at": "2026-11-16T09:12:00+01:00",
                    "conversation_id": "c_1",
                    "visitor": {"id": "v_1", "email": "zofia.w@example.org"},
                    "text": "Hello",
                }
            ],
        }
        body = json.dumps(document).encode()
        return body, _stripe_like(channel, "X-Webchat-Signature", body)
    assert channel == "store"
    document = {
        "version": 1,
        "events": [
            {
                "type": "visit",
                "id": "pos-visit-1",
                "at": "2026-11-18T12:05:00+01:00",
                "store_id": "WAW01",
                "customer": {"email": "zofia.w@example.org"},
            }
        ],
    }
    body = json.dumps(document).encode()
    return body, _stripe_like(channel, "X-Store-Signature", body)


@pytest.mark.parametrize("channel", example.CHANNELS)
def test_every_channel_is_verified_parsed_and_ingested(client: TestClient, channel: str) -> None:
    body, headers = _signed(channel, client)
    answer = client.post(f"/webhooks/{channel}", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    ingested = answer.json()["ingested"]
    assert ingested
    assert ingested[0]["outcome"] == "created"
    again = client.post(f"/webhooks/{channel}", content=body, headers=headers)
    assert again.status_code == 200
    assert again.json()["ingested"][0]["outcome"] == "duplicate"  # redelivered: stored once
    assert again.json()["ingested"][0]["profile_id"] == ingested[0]["profile_id"]


@pytest.mark.parametrize("channel", example.CHANNELS)
def test_forged_requests_are_refused(client: TestClient, channel: str) -> None:
    body, headers = _signed(channel, client)
    forged_body = body.replace(b"e", b"a", 1)
    answer = client.post(f"/webhooks/{channel}", content=forged_body, headers=headers)
    if channel == "telegram":  # its secret token does not sign the body: forge the token
        headers = {**headers, "X-Telegram-Bot-Api-Secret-Token": "guess"}
        answer = client.post(f"/webhooks/{channel}", content=body, headers=headers)
    assert answer.status_code == 401, answer.text
    assert answer.json()["error"]


def test_a_replay_outside_the_window_is_refused(client: TestClient) -> None:
    body, _ = _signed("webchat", client)
    stale = _stripe_like("webchat", "X-Webchat-Signature", body, at=NOW - 3600)
    answer = client.post("/webhooks/webchat", content=body, headers=stale)
    assert answer.status_code == 401
    assert "old" in answer.json()["error"] or "window" in answer.json()["error"]


def test_cross_channel_customer_is_one_profile(client: TestClient, tmp_path: Path) -> None:
    results = {}
    for channel in ("whatsapp", "twilio", "email", "store"):
        body, headers = _signed(channel, client)
        results[channel] = client.post(f"/webhooks/{channel}", content=body, headers=headers)
    profiles = {c: r.json()["ingested"][0]["profile_id"] for c, r in results.items()}
    assert profiles["whatsapp"] == profiles["twilio"]  # one phone
    assert profiles["email"] == profiles["store"]  # one email
    hub: Hub = client.app.state.hub  # type: ignore[attr-defined]
    assert len(hub.timeline(profiles["whatsapp"]).items) == 2


def test_malformed_body_names_the_field(client: TestClient) -> None:
    body = json.dumps({"object": "whatsapp_business_account", "entry": "nope"}).encode()
    answer = client.post("/webhooks/whatsapp", content=body, headers=_meta("whatsapp", body))
    assert answer.status_code == 400
    assert answer.json()["field"].startswith("entry")


def test_unknown_channel(client: TestClient) -> None:
    assert client.post("/webhooks/fax", content=b"{}").status_code == 404


@pytest.mark.parametrize("channel", ["whatsapp", "messenger", "instagram"])
def test_meta_handshake(client: TestClient, channel: str) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "v-token", "hub.challenge": "1158201444"}
    answer = client.get(f"/webhooks/{channel}", params=query)
    assert answer.status_code == 200
    assert answer.text == "1158201444"
    wrong = client.get(f"/webhooks/{channel}", params={**query, "hub.verify_token": "x"})
    assert wrong.status_code == 403
    assert client.get("/webhooks/twilio", params=query).status_code == 404


def test_the_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    example.main()
    out = capsys.readouterr().out
    assert "first delivery 200 created" in out
    assert "redelivery 200 duplicate" in out
    assert "forged 401" in out
