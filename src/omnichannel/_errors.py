"""The exceptions omnichannel raises, all under one root.

::

    OmnichannelError
    ├── InvalidValueError (also ValueError)     bad input: names .field, .value, .reason
    │   ├── InvalidPayloadError                 a raw payload that does not validate
    │   └── resolution.TooManyPairsError        a blocking rule would compare too many pairs
    ├── NotFoundError (also LookupError)        an unknown profile or identifier
    ├── SignatureError                          a webhook failed its authenticity check
    ├── UnknownChannelError (also LookupError)  no adapter registered under that name
    └── StoreError                              the storage layer failed
        ├── StoreUnavailableError               the database cannot be reached
        ├── StoreConflictError                  a concurrent writer won; retrying may succeed
        └── SchemaVersionError                  the database schema is newer than this library

Identifier values are masked in messages (``+48******567``) so that errors can be logged.
"""

from __future__ import annotations

import re

__all__ = [
    "InvalidPayloadError",
    "InvalidValueError",
    "NotFoundError",
    "OmnichannelError",
    "SchemaVersionError",
    "SignatureError",
    "StoreConflictError",
    "StoreError",
    "StoreUnavailableError",
    "UnknownChannelError",
    "mask_value",
]


_EMAIL_LIKE = re.compile(r"[^@\s:]+@[^@\s]+\.[^@\s]+")


def mask_value(value: object) -> str:
    """Mask a personal value for messages and logs, keeping its shape.

    Email addresses keep the first character of the local part and the domain
    (``j***@example.com``). Other values of eight characters or more keep their first
    three and last three characters (``+48******567``); shorter ones keep their first and
    last character, and values under three characters are all stars.
    """
    text = str(value)
    if _EMAIL_LIKE.fullmatch(text):
        local, _, domain = text.rpartition("@")
        return f"{local[:1]}***@{domain}"
    if len(text) >= 8:
        return text[:3] + "*" * (len(text) - 6) + text[-3:]
    if len(text) >= 3:
        return text[:1] + "*" * (len(text) - 2) + text[-1:]
    return "*" * len(text)


class OmnichannelError(Exception):
    """The root of every exception raised by omnichannel."""


class InvalidValueError(OmnichannelError, ValueError):
    """A value was rejected; nothing was stored.

    Attributes:
        field: the dotted path of the offending field (``"identifiers.0.value"``).
        value: the rejected value (kept as given; messages show it masked).
        reason: what is wrong with it, in words.
    """

    def __init__(self, field: str, value: object, reason: str, *, mask: bool = True) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        shown = mask_value(value) if mask else repr(value)
        super().__init__(f"{field}: {reason} (got {shown})")


class InvalidPayloadError(InvalidValueError):
    """A raw payload (a mapping, JSON, a webhook body) failed validation.

    ``field`` names the first failing field; ``errors`` holds every failure as
    ``(field, reason)`` pairs. The pydantic ``ValidationError`` is chained as ``__cause__``.
    """

    def __init__(
        self,
        field: str,
        value: object,
        reason: str,
        errors: tuple[tuple[str, str], ...] = (),
        *,
        mask: bool = True,
    ) -> None:
        super().__init__(field, value, reason, mask=mask)
        self.errors = errors or ((field, reason),)


class NotFoundError(OmnichannelError, LookupError):
    """Nothing is stored under the given profile id or identifier."""


class SignatureError(OmnichannelError):
    """A request failed its authenticity check: forged, stale, replayed or unsigned.

    Attributes:
        reason: what failed, in words (never the secret or the expected signature).
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"signature check failed: {reason}")


class UnknownChannelError(OmnichannelError, LookupError):
    """No channel adapter is registered under the requested name."""


class StoreError(OmnichannelError):
    """The storage backend failed; the driver's exception is chained as ``__cause__``."""


class StoreUnavailableError(StoreError):
    """The database cannot be reached (connection refused or lost, file unreadable)."""


class StoreConflictError(StoreError):
    """A concurrent transaction changed the same rows; the operation may be retried."""


class SchemaVersionError(StoreError):
    """The database holds a schema this version of omnichannel cannot use."""
