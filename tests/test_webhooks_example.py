"""examples/webhooks_fastapi.py through FastAPI's TestClient: every built-in channel,
signed, forged, replayed, malformed, and Meta's handshake."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient

from omnichannel import Hub
from tests._webhook_requests import (
    SECRETS,
    meta_headers,
    now,
    signed_request,
    stripe_like_headers,
)


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


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = example.create_app(
        f"sqlite:///{tmp_path / 'hooks.db'}", SECRETS, verify_token="v-token", default_region="PL"
    )
    with TestClient(app) as test_client:
        yield test_client
    app.state.hub.close()


def _signed(channel: str, client: TestClient) -> tuple[bytes, dict[str, str]]:
    return signed_request(
        channel, base_url=str(client.base_url), whatsapp=example.whatsapp_sample()
    )


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
    stale = stripe_like_headers("webchat", "X-Webchat-Signature", body, at=now() - 3600)
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
    answer = client.post("/webhooks/whatsapp", content=body, headers=meta_headers("whatsapp", body))
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
