"""The channel adapter contract and the request it reads."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue, field_validator

from omnichannel._model import Interaction

__all__ = ["ChannelAdapter", "InboundRequest"]


class InboundRequest(BaseModel):
    """What a webhook or mailbox delivered, as the user's web framework received it.

    Header names are case-insensitive: they are stored lowercased and :meth:`header`
    looks them up in any case.

    Attributes:
        body: the raw body bytes, exactly as received (signatures are computed over them).
        headers: request headers.
        content_type: the media type; taken from the ``Content-Type`` header when omitted.
        url: the full URL the vendor called, for schemes that sign it (Twilio).
        method: the HTTP method.
        query: query-string parameters (the Meta verify-token handshake uses them).
        received_at: when the request arrived; adapters use it as the time of events
            whose payload carries none (Twilio messages), so parsing stays deterministic.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    body: bytes = b""
    headers: dict[str, str] = Field(default_factory=dict)
    content_type: str | None = None
    url: str | None = None
    method: str = "POST"
    query: dict[str, str] = Field(default_factory=dict)
    received_at: AwareDatetime | None = None

    @field_validator("headers", mode="before")
    @classmethod
    def _lower_headers(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k).lower(): v for k, v in value.items()}
        return value

    def header(self, name: str) -> str | None:
        """Return the header ``name`` (any case), or None."""
        wanted = name.lower()
        found = self.headers.get(wanted)
        if found is not None:
            return found
        # model_copy(update=...) skips validation: headers may keep their original case.
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)

    @property
    def media_type(self) -> str:
        """The content type without parameters, lowercased (``application/json``)."""
        raw = self.content_type or self.header("content-type") or ""
        return raw.split(";", 1)[0].strip().lower()


@runtime_checkable
class ChannelAdapter(Protocol):
    """Turns one channel's vendor payloads into interactions and back.

    An adapter does no network I/O: the user's code receives the request, passes it to
    :meth:`verify` and :meth:`parse`, and sends what :meth:`render` returns.

    Attributes:
        name: the adapter's registry name (``"twilio"``, ``"email"``).
    """

    name: str

    def parse(self, request: InboundRequest) -> list[Interaction]:
        """Return the interactions in ``request`` (a webhook may carry several, or none:
        a delivery receipt for an unknown message is still an interaction of kind
        ``status``).

        Every interaction has a ``source_id`` (redelivery is then a no-op on ingest) and,
        when inbound, the sender's identifiers. Identifiers merely written in the content
        go to ``mentions``. The same request always yields the same interactions, ids
        aside.

        Raises:
            InvalidPayloadError: the body is not the vendor's shape (naming the field),
                not valid JSON / UTF-8 / MIME, too large, or dated far in the future.
                Nothing outside :class:`~omnichannel.OmnichannelError` may escape.
        """
        ...

    def verify(self, request: InboundRequest, secret: str, now: datetime | None = None) -> None:
        """Check the request is authentic under the vendor's scheme; return None if it is.

        Comparisons are constant-time. ``now`` (default: the current time) bounds the
        replay window for schemes that sign a timestamp.

        Raises:
            SignatureError: missing, forged, stale or replayed.
        """
        ...

    def render(self, interaction: Interaction) -> dict[str, JsonValue]:
        """Return the vendor payload that sends ``interaction`` (an outbound message).

        Raises:
            InvalidValueError: the interaction cannot be sent on this channel (names the
                field: no recipient, unsupported content ...).
        """
        ...
