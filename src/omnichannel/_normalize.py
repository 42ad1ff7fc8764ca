"""Normalization of identifier values: one pure function per identifier kind.

Every path that turns a raw phone number, email address, handle or external id into a
stored value goes through exactly one of these functions: the :class:`Identifier`
validators, the standalone helpers in :mod:`omnichannel`, the Hub and the adapters. Results
are cached per raw value because normalization dominates ingest cost.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from omnichannel._errors import InvalidValueError

__all__ = [
    "DOT_INSENSITIVE_EMAIL_DOMAINS",
    "USERNAME_PLATFORMS",
    "NormalizedEmail",
    "normalize_email",
    "normalize_external",
    "normalize_handle",
    "normalize_namespace",
    "normalize_phone",
    "normalize_region",
]

#: Mail providers that ignore dots in the local part and treat ``+tag`` as a sub-address,
#: mapped to the canonical domain of their match key.
DOT_INSENSITIVE_EMAIL_DOMAINS: dict[str, str] = {
    "gmail.com": "gmail.com",
    "googlemail.com": "gmail.com",
}

#: Platforms whose handles are user-chosen usernames: ``@`` and case are folded there.
#: Handles made only of digits are platform-assigned ids and always compared exactly.
USERNAME_PLATFORMS: frozenset[str] = frozenset(
    {"telegram", "instagram", "twitter", "x", "tiktok", "threads", "github", "skype"}
)

_CACHE_SIZE = 65536
_NAMESPACE_RE = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,63}$")
_PHONE_PREFIXES = ("tel:", "sms:", "callto:")


def normalize_region(region: str | None, *, field: str = "region") -> str | None:
    """Check a default region (ISO 3166-1 alpha-2 such as ``"PL"``) and upper-case it."""
    if region is None:
        return None
    upper = region.strip().upper()
    if upper not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidValueError(field, region, "not a region phonenumbers knows", mask=False)
    return upper


@lru_cache(maxsize=_CACHE_SIZE)
def normalize_phone(raw: str, region: str | None = None, *, field: str = "phone") -> str:
    """Return ``raw`` as an E.164 string (``+48601234567``).

    ``raw`` may be in international format (``+48 601 234 567``, ``0048 601...`` from
    regions that dial ``00``) or, with ``region``, in that region's national format. A
    ``tel:`` prefix is accepted. The number must be valid for its region per phonenumbers.

    Raises:
        InvalidValueError: the value is not a valid phone number (``field`` names it).
    """
    text = raw.strip()
    lowered = text.lower()
    for prefix in _PHONE_PREFIXES:
        if lowered.startswith(prefix):
            text = text[len(prefix) :]
            break
    if not text:
        raise InvalidValueError(field, raw, "is empty")
    if region is not None:
        region = normalize_region(region, field="region")
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        reason = (
            "has no country code; write it with + or give a default region"
            if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE
            else "is not a phone number"
        )
        raise InvalidValueError(field, raw, reason) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidValueError(field, raw, "is not a valid number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class NormalizedEmail(NamedTuple):
    """An email address after normalization."""

    address: str
    """The address lowercased (the domain in its Unicode form)."""
    match_key: str
    """The key two addresses of the same mailbox share (provider rules folded)."""


@lru_cache(maxsize=_CACHE_SIZE)
def normalize_email(raw: str, *, field: str = "email") -> NormalizedEmail:
    """Validate an email address's syntax (no DNS) and compute its match key.

    The stored address is lowercased. The match key also folds provider rules: on
    gmail.com and googlemail.com dots in the local part and a ``+tag`` are ignored and the
    domain becomes gmail.com. Keep the address as written elsewhere if you need it for
    sending; :class:`Identifier` keeps it as ``original``.

    Raises:
        InvalidValueError: the value is not a syntactically valid address.
    """
    text = raw.strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    if not text:
        raise InvalidValueError(field, raw, "is empty")
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidValueError(field, raw, f"is not a valid email address: {exc}") from None
    local = result.local_part.lower()
    domain = result.domain.lower()
    address = f"{local}@{domain}"
    canonical = DOT_INSENSITIVE_EMAIL_DOMAINS.get(domain)
    if canonical is None:
        return NormalizedEmail(address, address)
    folded = local.split("+", 1)[0].replace(".", "")
    if not folded:
        raise InvalidValueError(field, raw, "has an empty mailbox name")
    return NormalizedEmail(address, f"{folded}@{canonical}")


def normalize_namespace(raw: str, *, field: str) -> str:
    """Normalize a platform or system name: lowercase slug (``"telegram"``, ``"shopify"``)."""
    text = raw.strip().lower()
    if not _NAMESPACE_RE.match(text):
        raise InvalidValueError(
            field,
            raw,
            "must be a slug of 1-64 characters: a-z, 0-9, '_', '.', ':', '-'",
            mask=False,
        )
    return text


@lru_cache(maxsize=_CACHE_SIZE)
def normalize_handle(platform: str, raw: str, *, field: str = "handle") -> str:
    """Normalize a handle on ``platform`` (already a normalized namespace).

    Numeric ids (page-scoped or bot-scoped ids, chat ids) are kept exactly. A username
    (written with ``@`` or on a platform in :data:`USERNAME_PLATFORMS`) loses the ``@``
    and is case-folded. Any other id is kept exactly, with surrounding spaces removed.

    Raises:
        InvalidValueError: the handle is empty or contains whitespace.
    """
    text = raw.strip()
    is_username = text.startswith("@")
    if is_username:
        text = text.lstrip("@")
    if not text:
        raise InvalidValueError(field, raw, "is empty")
    if any(ch.isspace() for ch in text) or len(text) > 256:
        raise InvalidValueError(field, raw, "must be one word of at most 256 characters")
    if text.isdigit():
        return text
    if is_username or platform in USERNAME_PLATFORMS:
        return text.casefold()
    return text


def normalize_external(raw: str, *, field: str = "external") -> str:
    """Normalize an external id (a shop's customer number, a loyalty card): trimmed, exact."""
    text = raw.strip()
    if not text:
        raise InvalidValueError(field, raw, "is empty")
    if len(text) > 256:
        raise InvalidValueError(field, raw, "is longer than 256 characters")
    return text
