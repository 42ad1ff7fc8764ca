"""Finding adapters by name: the built-ins and those registered by entry point."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from omnichannel._errors import UnknownChannelError
from omnichannel.channels._protocol import ChannelAdapter

__all__ = ["ENTRY_POINT_GROUP", "available_adapters", "get_adapter"]

ENTRY_POINT_GROUP = "omnichannel.channels"
"""Third-party adapters register a class (or factory) under this entry-point group."""

_BUILTINS: dict[str, str] = {
    "email": "omnichannel.channels._email:EmailAdapter",
    "instagram": "omnichannel.channels._meta:InstagramAdapter",
    "messenger": "omnichannel.channels._meta:MessengerAdapter",
    "store": "omnichannel.channels._store:StoreAdapter",
    "telegram": "omnichannel.channels._telegram:TelegramAdapter",
    "twilio": "omnichannel.channels._twilio:TwilioAdapter",
    "webchat": "omnichannel.channels._webchat:WebchatAdapter",
    "whatsapp": "omnichannel.channels._whatsapp:WhatsAppAdapter",
}
"""Built-in adapter names mapped to ``module:Class``; imported only when asked for."""


def _entry_points() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_adapters() -> list[str]:
    """Names of every adapter :func:`get_adapter` can build, sorted."""
    return sorted(set(_BUILTINS) | set(_entry_points()))


def get_adapter(name: str, **options: Any) -> ChannelAdapter:
    """Build the adapter registered under ``name`` with ``options``.

    Built-in adapters win over entry points of the same name.

    Raises:
        UnknownChannelError: no adapter has that name.
    """
    target = _BUILTINS.get(name)
    if target is not None:
        module_name, _, attr = target.partition(":")
        factory = getattr(importlib.import_module(module_name), attr)
    else:
        found = _entry_points().get(name)
        if found is None:
            known = ", ".join(available_adapters()) or "none"
            raise UnknownChannelError(f"no channel adapter named {name!r} (known: {known})")
        factory = found.load()
    adapter = factory(**options)
    if not isinstance(adapter, ChannelAdapter):
        raise UnknownChannelError(f"{name!r} does not build a ChannelAdapter")
    return adapter
