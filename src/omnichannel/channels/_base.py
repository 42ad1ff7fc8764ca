"""Shared parts of the built-in adapters: body limits, JSON decoding, time, HMAC.

Custom adapters may subclass :class:`BaseAdapter` to get the same guarantees.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import JsonValue, ValidationError

from omnichannel._errors import InvalidPayloadError, InvalidValueError
from omnichannel._model import Identifier, Interaction
from omnichannel._normalize import normalize_region
from omnichannel.channels._protocol import InboundRequest

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_FUTURE_SECONDS",
    "DEFAULT_MAX_MENTIONS",
    "BaseAdapter",
    "constant_time_equal",
    "find_mentions",
    "hmac_digest",
    "json_safe",
    "optional",
    "require",
]

DEFAULT_MAX_BODY_BYTES = 1_048_576
"""Bodies larger than this (1 MiB) are refused unless an adapter is configured otherwise."""

DEFAULT_MAX_FUTURE_SECONDS = 3600
"""A payload dated more than this far ahead of ``now`` is refused (clock skew allowance)."""


def constant_time_equal(left: str | bytes, right: str | bytes) -> bool:
    """Compare two signatures in constant time (strings are compared as UTF-8)."""
    a = left.encode() if isinstance(left, str) else left
    b = right.encode() if isinstance(right, str) else right
    return hmac.compare_digest(a, b)


def hmac_digest(secret: str | bytes, message: bytes, algorithm: str = "sha256") -> bytes:
    """HMAC of ``message`` under ``secret`` with ``algorithm`` (``sha1``, ``sha256``)."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, message, getattr(hashlib, algorithm)).digest()


class BaseAdapter:
    """Common checks for adapters: size limit, UTF-8 and JSON decoding, timestamps.

    Args:
        max_body_bytes: refuse larger bodies with InvalidPayloadError.
        max_future_seconds: refuse payloads dated further than this ahead of now.
        default_region: region for phone numbers a channel delivers without ``+``.
    """

    name = "base"

    def __init__(
        self,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_future_seconds: int = DEFAULT_MAX_FUTURE_SECONDS,
        default_region: str | None = None,
    ) -> None:
        if max_body_bytes < 1:
            raise InvalidValueError(
                "max_body_bytes", max_body_bytes, "must be positive", mask=False
            )
        if max_future_seconds < 0:
            raise InvalidValueError(
                "max_future_seconds", max_future_seconds, "must not be negative", mask=False
            )
        self.max_body_bytes = max_body_bytes
        self.max_future_seconds = max_future_seconds
        self.default_region = normalize_region(default_region, field="default_region")

    # --- body ----------------------------------------------------------------------

    def check_size(self, request: InboundRequest) -> bytes:
        """Return the body, or raise InvalidPayloadError when it is empty or too large."""
        size = len(request.body)
        if size > self.max_body_bytes:
            raise InvalidPayloadError(
                "body", f"{size} bytes", f"is larger than the limit of {self.max_body_bytes} bytes"
            )
        if size == 0:
            raise InvalidPayloadError("body", "", "is empty")
        return request.body

    def decode_text(self, request: InboundRequest) -> str:
        """The body as UTF-8 text, size-checked."""
        body = self.check_size(request)
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidPayloadError("body", f"byte {exc.start}", "is not valid UTF-8") from exc

    def decode_json(self, request: InboundRequest) -> dict[str, Any]:
        """The body as a JSON object, size-, UTF-8- and syntax-checked."""
        text = self.decode_text(request)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidPayloadError(
                "body", f"line {exc.lineno} column {exc.colno}", f"is not valid JSON: {exc.msg}"
            ) from exc
        except RecursionError as exc:
            raise InvalidPayloadError("body", "nesting", "is nested too deeply") from exc
        except ValueError as exc:  # e.g. an integer past Python's digit limit
            raise InvalidPayloadError("body", "number", f"is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise InvalidPayloadError("body", type(data).__name__, "must be a JSON object")
        return data

    # --- time ----------------------------------------------------------------------

    def check_time(self, moment: datetime, field: str, now: datetime | None = None) -> datetime:
        """Return ``moment`` in UTC unless it lies too far in the future."""
        if moment.tzinfo is None:
            raise InvalidPayloadError(field, moment.isoformat(), "has no timezone")
        current = now or datetime.now(timezone.utc)
        if moment - current > timedelta(seconds=self.max_future_seconds):
            raise InvalidPayloadError(
                field, moment.isoformat(), "lies too far in the future (check the sender's clock)"
            )
        return moment.astimezone(timezone.utc)

    def from_unix(self, value: object, field: str, now: datetime | None = None) -> datetime:
        """Read a Unix timestamp in seconds (int, float or digit string)."""
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise InvalidPayloadError(field, value, "must be a Unix timestamp")
        try:
            seconds = float(value)
            moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (ValueError, OverflowError, OSError) as exc:
            raise InvalidPayloadError(field, value, "is not a valid Unix timestamp") from exc
        return self.check_time(moment, field, now)

    def from_unix_millis(self, value: object, field: str, now: datetime | None = None) -> datetime:
        """Read a Unix timestamp in milliseconds (Meta messaging webhooks)."""
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise InvalidPayloadError(field, value, "must be a Unix timestamp in milliseconds")
        try:
            seconds = float(value) / 1000
        except (ValueError, OverflowError) as exc:
            raise InvalidPayloadError(field, value, "is not a valid Unix timestamp") from exc
        return self.from_unix(seconds, field, now)

    # --- building interactions ---------------------------------------------------------

    def build(self, field: str, **fields: Any) -> Interaction:
        """Validate an Interaction; a failure becomes InvalidPayloadError naming ``field``."""
        try:
            return Interaction.model_validate(
                fields, context={"default_region": self.default_region}
            )
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            loc = ".".join(str(part) for part in first["loc"])
            reason = first["msg"].removeprefix("Value error, ")
            raise InvalidPayloadError(
                f"{field}.{loc}" if loc else field, first.get("input"), reason
            ) from exc


def require(data: object, key: str, field: str, kind: type | tuple[type, ...] = str) -> Any:
    """Return ``data[key]`` if present and of ``kind``, else raise InvalidPayloadError.

    ``field`` is the dotted path reported in the error (``entry.0.changes.0.value``).
    """
    value = optional(data, key, field, kind)
    if value is None:
        raise InvalidPayloadError(field, None, "is missing")
    return value


def optional(data: object, key: str, field: str, kind: type | tuple[type, ...] = str) -> Any:
    """Return ``data[key]`` if of ``kind``, None if absent or null, else raise."""
    if not isinstance(data, Mapping):
        parent = field.rpartition(".")[0] or field
        raise InvalidPayloadError(parent, type(data).__name__, "must be an object")
    value = data.get(key)
    if value is None:
        return None
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        expected = "/".join(k.__name__ for k in kinds)
        raise InvalidPayloadError(field, value, f"must be of type {expected}")
    return value


_MENTION_IN_TEXT = re.compile(
    r"(?P<email>(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+)"
    r"|(?P<phone>(?<![\w+])\+[0-9][0-9 ().-]{5,20}[0-9](?![\w]))"
)

DEFAULT_MAX_MENTIONS = 100
"""How many identifiers :func:`find_mentions` returns at most."""


def find_mentions(
    text: str,
    region: str | None = None,
    *,
    exclude: Collection[Identifier] = (),
    limit: int = DEFAULT_MAX_MENTIONS,
) -> list[Identifier]:
    """Emails and ``+``-prefixed phone numbers written in ``text``, for ``mentions``.

    Returned in the order written, at most ``limit``. Only numbers written
    internationally are taken (a bare digit run is too often an order number); values
    that do not normalize are dropped, as are ``exclude``.
    """
    found: dict[Identifier, None] = {}
    for attempt, match in enumerate(_MENTION_IN_TEXT.finditer(text)):
        if attempt >= 10 * limit:  # bounded work on hostile text
            break
        with contextlib.suppress(InvalidValueError):
            if match.group("email") is not None:
                identifier = Identifier.email(match.group("email"))
            else:
                identifier = Identifier.phone(match.group("phone"), region)
            if identifier not in exclude:
                found[identifier] = None
        if len(found) >= limit:
            break
    return list(found)


def json_safe(value: Any, *, max_depth: int = 32) -> JsonValue:
    """Return ``value`` if it is a JSON value (as parsed by ``json``), else its string form.

    Containers nested deeper than ``max_depth`` are replaced by their string form, so a
    hostile payload cannot exhaust the stack.
    """
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if max_depth <= 0:
        return str(value)[:1000]
    if isinstance(value, list):
        return [json_safe(v, max_depth=max_depth - 1) for v in value]
    if isinstance(value, dict):
        return {str(k): json_safe(v, max_depth=max_depth - 1) for k, v in value.items()}
    return str(value)
