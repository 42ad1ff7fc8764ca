"""Signed webhooks of every built-in channel, as each vendor sends them.

Shared by the tests of the web-framework examples (``examples/webhooks_*.py``): each test
posts these bodies and headers through its framework's test client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import urlencode

from omnichannel.channels import hmac_digest

CHANNELS = ("email", "instagram", "messenger", "store", "telegram", "twilio", "webchat", "whatsapp")
SECRETS = {name: f"{name}-secret" for name in CHANNELS}


def now() -> int:
    """The current Unix time: requests are signed when built, inside the replay window
    however long the test session has been running."""
    return int(time.time())


def meta_headers(channel: str, body: bytes) -> dict[str, str]:
    """Meta's ``X-Hub-Signature-256`` over ``body`` (WhatsApp, Messenger, Instagram)."""
    digest = hmac_digest(SECRETS[channel], body).hex()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def stripe_like_headers(
    channel: str, header: str, body: bytes, at: int | None = None
) -> dict[str, str]:
    """A signed timestamp, ``t=...,v1=...`` (web chat, store); ``at`` defaults to now."""
    at = now() if at is None else at
    digest = hmac_digest(SECRETS[channel], f"{at}.".encode() + body).hex()
    return {header: f"t={at},v1={digest}", "Content-Type": "application/json"}


def _messenger(channel: str, obj: str) -> bytes:
    sent_ms = now() * 1000
    event = {
        "sender": {"id": "6123456789012345"},
        "recipient": {"id": "104912345678901"},
        "timestamp": sent_ms,
        "message": {"mid": f"m_{channel}_1", "text": "Do you ship to Gdańsk?"},
    }
    return json.dumps(
        {
            "object": obj,
            "entry": [{"id": "104912345678901", "time": sent_ms, "messaging": [event]}],
        }
    ).encode()


def _twilio(base_url: str) -> tuple[bytes, dict[str, str]]:
    params = {
        "MessageSid": "SM0123456789abcdef0123456789abcdef",
        "AccountSid": "AC0123456789abcdef0123456789abcdef",
        "From": "+48601234567",
        "To": "+48221234567",
        "Body": "Is my order ready?",
        "NumMedia": "0",
    }
    url = f"{base_url}/webhooks/twilio"
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
    at = now()
    digest = hmac_digest(SECRETS["email"], f"{at}.".encode() + body).hex()
    headers = {
        "X-Omnichannel-Signature": f"sha256={digest}",
        "X-Omnichannel-Timestamp": str(at),
        "Content-Type": "message/rfc822",
    }
    return body, headers


def signed_request(channel: str, *, base_url: str, whatsapp: bytes) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a genuine webhook of ``channel``.

    ``base_url`` is the test client's (Twilio signs the full URL); ``whatsapp`` is the
    example's own WhatsApp sample body.
    """
    if channel == "whatsapp":
        return whatsapp, meta_headers(channel, whatsapp)
    if channel in ("messenger", "instagram"):
        body = _messenger(channel, "page" if channel == "messenger" else "instagram")
        return body, meta_headers(channel, body)
    if channel == "twilio":
        return _twilio(base_url)
    if channel == "telegram":
        update = {
            "update_id": 900001,
            "message": {
                "message_id": 7,
                "from": {"id": 412345678, "is_bot": False, "first_name": "Olena"},
                "chat": {"id": 412345678, "type": "private"},
                "date": now(),
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
        return body, stripe_like_headers(channel, "X-Webchat-Signature", body)
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
    return body, stripe_like_headers(channel, "X-Store-Signature", body)
