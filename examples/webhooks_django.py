"""One Django view receiving every built-in channel, checking signatures, ingesting into SQLite.

``webhook_urls(hub, secrets)`` gives the URL patterns, one view for both methods:

* ``POST /webhooks/<channel>``: verify the vendor's signature, parse, ingest; answers
  ``401`` for a forged or stale request, ``400`` naming the field for a malformed one,
  and the ingest results otherwise (a redelivered webhook is a ``duplicate``).
* ``GET /webhooks/<channel>``: Meta's verify-token handshake (WhatsApp, Messenger,
  Instagram).

The view is exempt from CSRF protection: the vendor's signature authenticates the request.
In a Django project, open one Hub and mount the patterns in ``urls.py``::

    hub = Hub(settings.OMNICHANNEL_DATABASE_URL, default_region="PL")
    urlpatterns = [path("", include(webhook_urls(hub, SECRETS, verify_token="...")))]

with the secrets in ``SECRETS`` set from your environment. Behind a proxy, make sure
``request.build_absolute_uri()`` gives the URL the vendor called (Twilio signs it): set
``USE_X_FORWARDED_HOST`` and ``SECURE_PROXY_SSL_HEADER`` as your proxy requires.

Running this file configures a minimal Django (no database, no apps: the Hub keeps its own
SQLite file, in a temporary directory removed at the end), sends a signed WhatsApp message
twice (stored once), an SMS from the same phone through Twilio (the same customer) and a
forged webhook through Django's test client, and prints what happened.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets as token_source
import tempfile
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import django
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from omnichannel import Hub, InvalidPayloadError, OmnichannelError, SignatureError
from omnichannel.channels import ChannelAdapter, InboundRequest, get_adapter, hmac_digest

CHANNELS = ("email", "instagram", "messenger", "store", "telegram", "twilio", "webchat", "whatsapp")
META_CHANNELS = ("instagram", "messenger", "whatsapp")

View = Callable[[HttpRequest, str], HttpResponse]


def webhook_view(
    hub: Hub,
    secrets: Mapping[str, str],
    *,
    verify_token: str = "",
    adapter_options: Mapping[str, Mapping[str, Any]] | None = None,
) -> View:
    """The view for ``webhooks/<channel>``: one adapter per channel, ingesting into ``hub``.

    ``secrets`` maps a channel to its signing secret (Twilio auth token, Meta app secret,
    Telegram secret token, the HMAC keys of the email relay, web chat and store).
    """
    options = adapter_options or {}
    adapters: dict[str, ChannelAdapter] = {
        name: get_adapter(name, **dict(options.get(name, {}))) for name in CHANNELS
    }

    def handshake(request: HttpRequest, channel: str) -> HttpResponse:
        adapter = adapters.get(channel)
        if channel not in META_CHANNELS or adapter is None:
            return JsonResponse({"error": f"no handshake for {channel!r}"}, status=404)
        inbound = InboundRequest(method="GET", query=request.GET.dict())
        try:
            challenge: str = getattr(adapter, "handshake")(inbound, verify_token)  # noqa: B009
        except SignatureError as exc:
            return JsonResponse({"error": exc.reason}, status=403)
        return HttpResponse(challenge, content_type="text/plain")

    def receive(request: HttpRequest, channel: str) -> HttpResponse:
        adapter = adapters.get(channel)
        secret = secrets.get(channel)
        if adapter is None or not secret:
            return JsonResponse({"error": f"channel {channel!r} is not configured"}, status=404)
        inbound = InboundRequest(
            body=request.body,
            headers=dict(request.headers),
            url=request.build_absolute_uri(),
            query=request.GET.dict(),
            received_at=datetime.now(timezone.utc),
        )
        try:
            adapter.verify(inbound, secret)
        except SignatureError as exc:
            return JsonResponse({"error": exc.reason}, status=401)
        try:
            interactions = adapter.parse(inbound)
            results = [hub.ingest(interaction) for interaction in interactions]
        except InvalidPayloadError as exc:
            return JsonResponse({"field": exc.field, "reason": exc.reason}, status=400)
        except OmnichannelError as exc:
            return JsonResponse({"error": str(exc)}, status=422)
        return JsonResponse(
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

    @csrf_exempt  # the vendor's signature authenticates the request, not a CSRF token
    @require_http_methods(["GET", "POST"])
    def webhook(request: HttpRequest, channel: str) -> HttpResponse:
        if request.method == "GET":
            return handshake(request, channel)
        return receive(request, channel)

    return webhook


def webhook_urls(
    hub: Hub,
    secrets: Mapping[str, str],
    *,
    verify_token: str = "",
    adapter_options: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[URLPattern]:
    """``webhooks/<channel>`` for every built-in channel; ``include`` them in your URLconf."""
    view = webhook_view(hub, secrets, verify_token=verify_token, adapter_options=adapter_options)
    return [path("webhooks/<str:channel>", view, name="omnichannel-webhook")]


class WebhookApp:
    """A Hub and its webhook URL patterns.

    Django reads a URLconf's ``urlpatterns`` attribute, so an instance can be the
    ``ROOT_URLCONF`` (as in :func:`main` and the tests) where a project has its ``urls``
    module.
    """

    def __init__(self, hub: Hub, urlpatterns: list[URLPattern]) -> None:
        self.hub = hub
        self.urlpatterns = urlpatterns


def create_app(
    database_url: str,
    secrets: Mapping[str, str],
    *,
    verify_token: str = "",
    default_region: str | None = None,
    adapter_options: Mapping[str, Mapping[str, Any]] | None = None,
) -> WebhookApp:
    """Open one Hub on ``database_url`` and build its webhook URLconf."""
    hub = Hub(database_url, default_region=default_region)
    urls = webhook_urls(hub, secrets, verify_token=verify_token, adapter_options=adapter_options)
    return WebhookApp(hub, urls)


def configure_django() -> None:
    """Settings for this single-file app (a project keeps them in its ``settings.py``).

    Django itself needs no database here: the Hub has its own store. Does nothing when
    Django is already configured.
    """
    if settings.configured:
        return
    settings.configure(
        ALLOWED_HOSTS=os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,testserver").split(","),
        SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY") or token_source.token_urlsafe(50),
        MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],  # as a project has it
        USE_TZ=True,
    )
    django.setup()


SECRETS = {name: os.environ.get(f"OMNICHANNEL_{name.upper()}_SECRET", "") for name in CHANNELS}
"""Signing secrets from the environment (``OMNICHANNEL_WHATSAPP_SECRET`` ...)."""


def whatsapp_message(wa_id: str, message_id: str, text: str, sent_at: int) -> bytes:
    """A WhatsApp Cloud API webhook carrying one text message from ``wa_id``."""
    message = {
        "from": wa_id,
        "id": message_id,
        "timestamp": str(sent_at),
        "type": "text",
        "text": {"body": text},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "48221234567", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Zofia"}, "wa_id": wa_id}],
        "messages": [message],
    }
    change = {"field": "messages", "value": value}
    return json.dumps(
        {"object": "whatsapp_business_account", "entry": [{"id": "1022", "changes": [change]}]}
    ).encode()


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """Twilio's ``X-Twilio-Signature``: HMAC-SHA1 of the URL and the sorted form fields."""
    signed = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    mac = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def main() -> None:
    """Send a signed WhatsApp webhook twice, an SMS from the same phone and a forged one."""
    from django.test import Client
    from django.test.utils import override_settings

    configure_django()
    secrets = {"whatsapp": "app-secret", "twilio": "auth-token"}
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(f"sqlite:///{Path(tmp) / 'webhooks.db'}", secrets)
        with app.hub, override_settings(ROOT_URLCONF=app, ALLOWED_HOSTS=["testserver"]):
            client = Client()  # its requests go to host "testserver"
            body = whatsapp_message(
                "48601234567", "wamid.HBgLNDg2MDEyMzQ1", "Hi!", int(time.time())
            )
            signature = "sha256=" + hmac_digest("app-secret", body).hex()
            headers = {"X-Hub-Signature-256": signature}
            for attempt in ("first delivery", "redelivery"):
                answer = client.post(
                    "/webhooks/whatsapp", body, content_type="application/json", headers=headers
                )
                print(attempt, answer.status_code, answer.json()["ingested"][0]["outcome"])

            form = {
                "MessageSid": "SM0123456789abcdef0123456789abcdef",
                "AccountSid": "AC0123456789abcdef0123456789abcdef",
                "From": "+48601234567",
                "To": "+48221234567",
                "Body": "Is my order ready?",
                "NumMedia": "0",
            }
            url = "http://testserver/webhooks/twilio"
            answer = client.post(
                "/webhooks/twilio",
                urlencode(form),
                content_type="application/x-www-form-urlencoded",
                headers={"X-Twilio-Signature": twilio_signature("auth-token", url, form)},
            )
            sms = answer.json()["ingested"][0]
            print("sms", answer.status_code, sms["outcome"])
            timeline = app.hub.timeline(sms["profile_id"]).items
            print("one customer:", [item.channel for item in timeline])

            forged = {"X-Hub-Signature-256": "sha256=" + "0" * 64}
            answer = client.post(
                "/webhooks/whatsapp", body, content_type="application/json", headers=forged
            )
            print("forged", answer.status_code, answer.json()["error"])


if __name__ == "__main__":
    main()
