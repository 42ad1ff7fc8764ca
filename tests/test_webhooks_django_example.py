"""examples/webhooks_django.py through Django's test Client: every built-in channel,
signed, forged, replayed, malformed, and Meta's handshake."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.test import Client
from django.test.utils import override_settings

from omnichannel import Hub
from tests._webhook_requests import (
    CHANNELS,
    SECRETS,
    meta_headers,
    now,
    signed_request,
    stripe_like_headers,
)


def _load() -> ModuleType:
    path = Path(__file__).parent.parent / "examples" / "webhooks_django.py"
    spec = importlib.util.spec_from_file_location("webhooks_django_example", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


example = _load()
example.configure_django()
HANDSHAKE = {"hub.mode": "subscribe", "hub.verify_token": "v-token", "hub.challenge": "1158201444"}


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    """The Hub of the example's app, whose URLconf serves the test's requests."""
    app = example.create_app(
        f"sqlite:///{tmp_path / 'hooks.db'}", SECRETS, verify_token="v-token", default_region="PL"
    )
    with app.hub, override_settings(ROOT_URLCONF=app, ALLOWED_HOSTS=["testserver"]):
        yield app.hub


@pytest.fixture
def client(hub: Hub) -> Client:
    return Client(enforce_csrf_checks=True)  # CSRF checked, as a project's middleware does


def _post(client: Client, channel: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    """POST as the vendor does; the status and the JSON answer."""
    rest = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    answer = client.post(
        f"/webhooks/{channel}", body, content_type=headers["Content-Type"], headers=rest
    )
    return answer.status_code, answer.json()


def _signed(channel: str) -> tuple[bytes, dict[str, str]]:
    whatsapp = example.whatsapp_message("48601234567", "wamid.HBgLNDg2MDEyMzQ1", "Hi!", now())
    return signed_request(channel, base_url="http://testserver", whatsapp=whatsapp)


def test_the_shared_requests_cover_every_channel_of_the_example() -> None:
    assert example.CHANNELS == CHANNELS


@pytest.mark.parametrize("channel", CHANNELS)
def test_every_channel_is_verified_parsed_and_ingested(client: Client, channel: str) -> None:
    body, headers = _signed(channel)
    status, answer = _post(client, channel, body, headers)
    assert status == 200, answer
    ingested = answer["ingested"]
    assert ingested
    assert ingested[0]["outcome"] == "created"
    status, again = _post(client, channel, body, headers)
    assert status == 200
    assert again["ingested"][0]["outcome"] == "duplicate"  # redelivered: stored once
    assert again["ingested"][0]["profile_id"] == ingested[0]["profile_id"]


@pytest.mark.parametrize("channel", CHANNELS)
def test_forged_requests_are_refused(client: Client, channel: str) -> None:
    body, headers = _signed(channel)
    if channel == "telegram":  # its secret token does not sign the body: forge the token
        headers = {**headers, "X-Telegram-Bot-Api-Secret-Token": "guess"}
    else:
        body = body.replace(b"e", b"a", 1)
    status, answer = _post(client, channel, body, headers)
    assert status == 401, answer
    assert answer["error"]


@pytest.mark.parametrize("channel", CHANNELS)
def test_unsigned_requests_are_refused(client: Client, channel: str) -> None:
    body, headers = _signed(channel)
    status, answer = _post(client, channel, body, {"Content-Type": headers["Content-Type"]})
    assert status == 401, answer


def test_a_replay_outside_the_window_is_refused(client: Client) -> None:
    body, _ = _signed("webchat")
    stale = stripe_like_headers("webchat", "X-Webchat-Signature", body, at=now() - 3600)
    status, answer = _post(client, "webchat", body, stale)
    assert status == 401
    assert "old" in answer["error"] or "window" in answer["error"]


def test_cross_channel_customer_is_one_profile(client: Client, hub: Hub) -> None:
    profiles = {}
    for channel in ("whatsapp", "twilio", "email", "store"):
        _, answer = _post(client, channel, *_signed(channel))
        profiles[channel] = answer["ingested"][0]["profile_id"]
    assert profiles["whatsapp"] == profiles["twilio"]  # one phone
    assert profiles["email"] == profiles["store"]  # one email
    assert len(hub.timeline(profiles["whatsapp"]).items) == 2


def test_malformed_body_names_the_field(client: Client) -> None:
    body = json.dumps({"object": "whatsapp_business_account", "entry": "nope"}).encode()
    status, answer = _post(client, "whatsapp", body, meta_headers("whatsapp", body))
    assert status == 400
    assert answer["field"].startswith("entry")


def test_unknown_channel(client: Client) -> None:
    status, answer = _post(client, "fax", b"{}", {"Content-Type": "application/json"})
    assert status == 404
    assert "fax" in answer["error"]


def test_a_channel_without_its_secret_is_not_served(client: Client, tmp_path: Path) -> None:
    app = example.create_app(f"sqlite:///{tmp_path / 'bare.db'}", {})
    with app.hub, override_settings(ROOT_URLCONF=app):
        status, answer = _post(client, "whatsapp", *_signed("whatsapp"))
    assert status == 404
    assert "not configured" in answer["error"]


def test_other_methods_are_not_allowed(client: Client) -> None:
    assert client.put("/webhooks/whatsapp", b"{}").status_code == 405
    assert client.delete("/webhooks/whatsapp").status_code == 405


@pytest.mark.parametrize("channel", ["whatsapp", "messenger", "instagram"])
def test_meta_handshake(client: Client, channel: str) -> None:
    answer = client.get(f"/webhooks/{channel}", HANDSHAKE)
    assert answer.status_code == 200
    assert answer.content == b"1158201444"
    assert answer["Content-Type"].startswith("text/plain")
    wrong = client.get(f"/webhooks/{channel}", {**HANDSHAKE, "hub.verify_token": "x"})
    assert wrong.status_code == 403
    assert client.get("/webhooks/twilio", HANDSHAKE).status_code == 404


def test_the_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    example.main()
    out = capsys.readouterr().out
    assert "first delivery 200 created" in out
    assert "redelivery 200 duplicate" in out
    assert "sms 200 attached" in out
    assert "one customer: ['sms', 'whatsapp']" in out
    assert "forged 401" in out
