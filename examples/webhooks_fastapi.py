"""One FastAPI app receiving every built-in channel, checking signatures, ingesting into SQLite.

Routes:

* ``POST /webhooks/{channel}``: verify the vendor's signature, parse, ingest; answers
  ``401`` for a forged or stale request, ``400`` naming the field for a malformed one,
  and the ingest results otherwise (a redelivered webhook is a ``duplicate``).
* ``GET /webhooks/{channel}``: Meta's verify-token handshake (WhatsApp, Messenger,
  Instagram).

Serve it with any ASGI server, e.g. ``uvicorn examples.webhooks_fastapi:app``, after setting
the secrets in ``SECRETS`` from your environment. Behind a proxy, make sure the URL FastAPI
sees is the one the vendor called (Twilio signs it). Running this file sends two signed
sample webhooks through FastAPI's test client and prints what happened.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from omnichannel import Hub, InvalidPayloadError, OmnichannelError, SignatureError
from omnichannel.channels import ChannelAdapter, InboundRequest, get_adapter, hmac_digest

CHANNELS = ("email", "instagram", "messenger", "store", "telegram", "twilio", "webchat", "whatsapp")
META_CHANNELS = ("instagram", "messenger", "whatsapp")


def create_app(
    database_url: str,
    secrets: Mapping[str, str],
    *,
    verify_token: str = "",
    default_region: str | None = None,
    adapter_options: Mapping[str, Mapping[str, Any]] | None = None,
) -> FastAPI:
    """Build the app: one adapter per channel, one Hub on ``database_url``.

    ``secrets`` maps a channel to its signing secret (Twilio auth token, Meta app secret,
    Telegram secret token, the HMAC keys of the email relay, web chat and store).
    """
    hub = Hub(database_url, default_region=default_region)
    options = adapter_options or {}
    adapters: dict[str, ChannelAdapter] = {
        name: get_adapter(name, **dict(options.get(name, {}))) for name in CHANNELS
    }
    app = FastAPI(title="omnichannel webhooks")
    app.state.hub = hub

    @app.get("/webhooks/{channel}")
    def handshake(channel: str, request: Request) -> Response:
        adapter = adapters.get(channel)
        if channel not in META_CHANNELS or adapter is None:
            return JSONResponse({"error": f"no handshake for {channel!r}"}, status_code=404)
        inbound = InboundRequest(method="GET", query=dict(request.query_params))
        try:
            challenge: str = getattr(adapter, "handshake")(inbound, verify_token)  # noqa: B009
        except SignatureError as exc:
            return JSONResponse({"error": exc.reason}, status_code=403)
        return PlainTextResponse(challenge)

    @app.post("/webhooks/{channel}")
    async def receive(channel: str, request: Request) -> Response:
        adapter = adapters.get(channel)
        secret = secrets.get(channel)
        if adapter is None or not secret:
            return JSONResponse({"error": f"channel {channel!r} is not configured"}, 404)
        inbound = InboundRequest(
            body=await request.body(),
            headers=dict(request.headers),
            url=str(request.url),
            query=dict(request.query_params),
            received_at=datetime.now(timezone.utc),
        )
        try:
            adapter.verify(inbound, secret)
        except SignatureError as exc:
            return JSONResponse({"error": exc.reason}, status_code=401)
        try:
            interactions = adapter.parse(inbound)
            results = [hub.ingest(interaction) for interaction in interactions]
        except InvalidPayloadError as exc:
            return JSONResponse({"field": exc.field, "reason": exc.reason}, status_code=400)
        except OmnichannelError as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        return JSONResponse(
            {
                "ingested": [
                    {
                        "profile_id": r.profile_id,
                        "interaction_id": r.interaction_id,
                        "outcome": r.outcome.value,
                    }
                    for r in results
                ]
            }
        )

    return app


SECRETS = {name: os.environ.get(f"OMNICHANNEL_{name.upper()}_SECRET", "") for name in CHANNELS}
"""Signing secrets from the environment (``OMNICHANNEL_WHATSAPP_SECRET`` ...)."""


def whatsapp_sample() -> bytes:
    """A WhatsApp Cloud API webhook with one text message."""
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "102290129340398",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "48221234567",
                                    "phone_number_id": "106540352242922",
                                },
                                "contacts": [
                                    {"profile": {"name": "Zofia"}, "wa_id": "48601234567"}
                                ],
                                "messages": [
                                    {
                                        "from": "48601234567",
                                        "id": "wamid.HBgLNDg2MDEyMzQ1NjcVAgASGBQ3",
                                        "timestamp": "1794218400",
                                        "type": "text",
                                        "text": {"body": "Is my order ready?"},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()


def main() -> None:
    """Send a signed WhatsApp webhook twice (stored once) and a forged one."""
    from fastapi.testclient import TestClient

    with tempfile.TemporaryDirectory() as tmp:
        secrets = {"whatsapp": "app-secret"}
        app = create_app(f"sqlite:///{Path(tmp) / 'webhooks.db'}", secrets)
        client = TestClient(app)
        body = whatsapp_sample()
        signed = {
            "X-Hub-Signature-256": "sha256=" + hmac_digest("app-secret", body).hex(),
            "Content-Type": "application/json",
        }
        for attempt in ("first delivery", "redelivery"):
            answer = client.post("/webhooks/whatsapp", content=body, headers=signed)
            print(attempt, answer.status_code, answer.json()["ingested"][0]["outcome"])
        forged = {**signed, "X-Hub-Signature-256": "sha256=" + "0" * 64}
        answer = client.post("/webhooks/whatsapp", content=body, headers=forged)
        print("forged", answer.status_code, answer.json()["error"])
        app.state.hub.close()


if __name__ == "__main__":
    main()
