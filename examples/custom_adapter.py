"""A custom channel adapter: Viber bot callbacks, in about a hundred lines.

Viber posts a JSON callback per event and signs the raw body with the bot's auth token:
``X-Viber-Content-Signature`` is the hex HMAC-SHA256 of the body
(https://developers.viber.com/docs/api/rest-bot-api/#callbacks). This adapter parses
``message`` events, verifies the signature, and renders ``send_message`` payloads.

Run it: ``python examples/custom_adapter.py``. ``tests/test_custom_adapter.py`` runs the
adapter conformance suite (fuzzing included) against it. To make it available as
``get_adapter("viber")`` from an installed package, declare the entry point::

    [project.entry-points."omnichannel.channels"]
    viber = "my_package.viber:ViberAdapter"
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime

from pydantic import JsonValue

from omnichannel import (
    ContactCardPart,
    Direction,
    Hub,
    Identifier,
    Interaction,
    InvalidPayloadError,
    InvalidValueError,
    MediaPart,
    SignatureError,
    TextPart,
)
from omnichannel.channels import BaseAdapter, InboundRequest, constant_time_equal, hmac_digest
from omnichannel.storage import MemoryStore

_MEDIA_TYPES = {"picture": "image/jpeg", "video": "video/mp4", "file": "application/octet-stream"}


def _object(value: object, field: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise InvalidPayloadError(field, type(value).__name__, "must be an object")
    return value


def _string(data: dict[str, object], key: str, field: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidPayloadError(field, value, "must be a non-empty string")
    return value


class ViberAdapter(BaseAdapter):
    """Viber REST bot API callbacks (``message`` events; other events are ignored)."""

    name = "viber"

    def parse(self, request: InboundRequest) -> list[Interaction]:
        """Return the interaction in a ``message`` callback; ``[]`` for other events."""
        data = self.decode_json(request)
        event = _string(data, "event", "event")
        if event != "message":
            return []  # delivered, seen, subscribed ...: not customer contacts
        token = data.get("message_token")
        if not isinstance(token, int) or isinstance(token, bool):
            raise InvalidPayloadError("message_token", token, "must be an integer")
        sender = _object(data.get("sender"), "sender")
        message = _object(data.get("message"), "message")
        identifiers = [Identifier.handle("viber", _string(sender, "id", "sender.id"))]
        mentions: list[Identifier] = []
        content: list[TextPart | MediaPart | ContactCardPart] = []
        kind = _string(message, "type", "message.type")
        text = message.get("text")
        if kind == "text":
            content.append(TextPart(text=_string(message, "text", "message.text")))
        elif kind in _MEDIA_TYPES:
            media = _string(message, "media", "message.media")
            caption = text if isinstance(text, str) else None
            content.append(MediaPart(media_type=_MEDIA_TYPES[kind], url=media, caption=caption))
        elif kind == "contact":
            card = _object(message.get("contact"), "message.contact")
            phone = card.get("phone_number")
            found: list[Identifier] = []
            if isinstance(phone, str):
                with contextlib.suppress(InvalidValueError):  # an unreadable number is dropped
                    found.append(Identifier.phone(phone, self.default_region))
            mentions.extend(found)  # a card names someone; only Viber knows if it is the sender
            name = card.get("name")
            content.append(
                ContactCardPart(
                    name=name if isinstance(name, str) else None, identifiers=tuple(found)
                )
            )
        else:
            raise InvalidPayloadError("message.type", kind, "is not a message type Viber sends")
        name = sender.get("name")
        return [
            self.build(
                "message",
                channel="viber",
                kind="message",
                direction=Direction.INBOUND,
                occurred_at=self.from_unix_millis(data.get("timestamp"), "timestamp"),
                source_id=str(token),
                identifiers=identifiers,
                mentions=mentions,
                traits={"display_name": name} if isinstance(name, str) else {},
                content=content,
                metadata={"tracking_data": message.get("tracking_data")}
                if isinstance(message.get("tracking_data"), str)
                else {},
            )
        ]

    def verify(self, request: InboundRequest, secret: str, now: datetime | None = None) -> None:
        """Check ``X-Viber-Content-Signature`` (hex HMAC-SHA256 of the body, auth token as key).

        Viber signs no timestamp: a replayed callback carries a ``message_token`` already
        stored, so ingesting it again is a no-op.
        """
        given = request.header("X-Viber-Content-Signature")
        if not given:
            raise SignatureError("X-Viber-Content-Signature is missing")
        expected = hmac_digest(secret, request.body).hex()
        if not constant_time_equal(given.strip().lower(), expected):
            raise SignatureError("X-Viber-Content-Signature does not match the body")

    def render(self, interaction: Interaction) -> dict[str, JsonValue]:
        """The ``send_message`` payload for a text reply."""
        receiver = next((i.value for i in interaction.identifiers if i.namespace == "viber"), None)
        if receiver is None:
            raise InvalidValueError(
                "identifiers", [], "needs a viber handle to send to", mask=False
            )
        if not interaction.text:
            raise InvalidValueError("content", [], "needs text to send", mask=False)
        return {
            "receiver": receiver,
            "min_api_version": 1,
            "sender": {"name": interaction.agent or "Shop"},
            "type": "text",
            "text": interaction.text,
        }


SAMPLE = json.dumps(
    {
        "event": "message",
        "timestamp": 1794218400000,
        "message_token": 5098034272017990123,
        "sender": {"id": "01234567890A=", "name": "Olena Kovalenko", "language": "uk"},
        "message": {"type": "text", "text": "Чи можна забрати замовлення сьогодні?"},
    },
    ensure_ascii=False,
).encode()


def main() -> None:
    """Verify, parse and ingest one Viber callback; render the reply."""
    adapter = ViberAdapter()
    token = "viber-auth-token"
    request = InboundRequest(
        body=SAMPLE,
        headers={"X-Viber-Content-Signature": hmac_digest(token, SAMPLE).hex()},
        content_type="application/json",
    )
    adapter.verify(request, token)
    hub = Hub(MemoryStore())
    for interaction in adapter.parse(request):
        result = hub.ingest(interaction)
        print(f"{interaction.channel}: {interaction.summary} -> {result.outcome.value}")
        reply = Interaction(
            channel="viber",
            direction=Direction.OUTBOUND,
            occurred_at=interaction.occurred_at,
            identifiers=interaction.identifiers,
            content=(TextPart(text="Так, після 15:00."),),
            agent="Marta",
        )
        print(json.dumps(adapter.render(reply), ensure_ascii=False))


if __name__ == "__main__":
    main()
