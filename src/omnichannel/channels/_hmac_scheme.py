"""The timestamped HMAC signature of omnichannel's own JSON shapes (webchat, store).

The scheme follows Stripe's webhook signatures
(https://docs.stripe.com/webhooks#verify-manually). The sender puts one header on the
request::

    X-Webchat-Signature: t=1763460000,v1=<64 lowercase hex digits>

``t`` is the signing time in Unix seconds and ``v1`` the lowercase hex HMAC-SHA256, under
the shared secret, of the ASCII ``t``, a dot, and the raw body bytes
(``f"{t}.".encode() + body``). Several ``v1`` entries may be given while a secret is being
rotated (one must match); entries of other schemes (``v0=``, ``v2=`` ...) are ignored.

A request whose ``t`` lies further than the replay window from the verifier's clock, in the
past (stale, replayed late) or in the future (a forged or badly skewed clock), is refused.
A replay *inside* the window passes the check: the events' ids make ingesting it again a
no-op.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from omnichannel._errors import InvalidValueError, SignatureError
from omnichannel._model import utc
from omnichannel.channels._base import constant_time_equal, hmac_digest
from omnichannel.channels._protocol import InboundRequest

__all__ = [
    "DEFAULT_REPLAY_WINDOW_SECONDS",
    "check_replay_window",
    "verify_signature",
]

DEFAULT_REPLAY_WINDOW_SECONDS = 300
"""How far (5 minutes) a signed timestamp may lie from the verifier's clock, either way."""

_SCHEME = "v1"
_MAX_HEADER_CHARS = 2048
_MAX_SIGNATURES = 8
_TIMESTAMP_RE = re.compile(r"[0-9]{1,12}")
_HEX_SHA256_RE = re.compile(r"[0-9a-fA-F]{64}")


def check_replay_window(seconds: int, field: str = "replay_window_seconds") -> int:
    """Return ``seconds`` if it is a usable replay window (a positive int), else raise.

    Raises:
        InvalidValueError: not a positive integer.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 1:
        raise InvalidValueError(field, seconds, "must be a positive number of seconds", mask=False)
    return seconds


def _parse(header: str, value: str) -> tuple[str, list[str]]:
    """Split ``t=...,v1=...`` into the timestamp text and the v1 signatures."""
    malformed = f"{header} is malformed (expected 't=<unix seconds>,v1=<hex>')"
    if len(value) > _MAX_HEADER_CHARS:
        raise SignatureError(f"{header} is longer than {_MAX_HEADER_CHARS} characters")
    timestamps: list[str] = []
    signatures: list[str] = []
    for element in value.split(","):
        key, sep, item = element.strip().partition("=")
        if not sep:
            raise SignatureError(malformed)
        if key == "t":
            timestamps.append(item)
        elif key == _SCHEME:
            signatures.append(item)
    if not timestamps:
        raise SignatureError(f"{header} has no timestamp (t=)")
    if len(timestamps) > 1:
        raise SignatureError(f"{header} has more than one timestamp")
    if not _TIMESTAMP_RE.fullmatch(timestamps[0]):
        raise SignatureError(f"{header} has a timestamp that is not Unix seconds")
    if not signatures:
        raise SignatureError(f"{header} has no {_SCHEME} signature")
    if len(signatures) > _MAX_SIGNATURES:
        raise SignatureError(f"{header} has more than {_MAX_SIGNATURES} signatures")
    return timestamps[0], signatures


def verify_signature(
    request: InboundRequest,
    *,
    header: str,
    secret: str,
    window_seconds: int,
    now: datetime | None = None,
) -> None:
    """Check ``request`` carries a valid ``header`` signature made within the window.

    Args:
        request: the request as received (the raw body is what was signed).
        header: the header's name (``X-Webchat-Signature``).
        secret: the shared signing secret.
        window_seconds: how far the signed time may lie from ``now``, either way.
        now: the verifier's clock (default: the current time); must be timezone-aware.

    Raises:
        SignatureError: the header is missing or malformed, no signature matches, or the
            timestamp lies outside the window.
        InvalidValueError: ``now`` is a naive datetime.
    """
    if not secret:
        raise SignatureError("the signing secret is empty")
    current = datetime.now(timezone.utc) if now is None else utc(now, field="now")
    value = request.header(header)
    if value is None or not value.strip():
        raise SignatureError(f"{header} is missing")
    timestamp, signatures = _parse(header, value)
    expected = hmac_digest(secret, f"{timestamp}.".encode() + request.body).hex()
    matched = False
    for candidate in signatures:
        # Every candidate is compared, in constant time, whatever the earlier ones gave.
        same = bool(_HEX_SHA256_RE.fullmatch(candidate)) and constant_time_equal(
            expected, candidate.lower()
        )
        matched = matched or same
    if not matched:
        raise SignatureError(f"{header} does not match the body (forged, or another secret)")
    age = int(current.timestamp()) - int(timestamp)
    if age > window_seconds:
        raise SignatureError(
            f"{header} is stale: signed {age} s ago, outside the {window_seconds} s replay window"
        )
    if -age > window_seconds:
        raise SignatureError(
            f"{header} is dated {-age} s in the future, outside the {window_seconds} s window"
        )
