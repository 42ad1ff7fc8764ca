"""Channel adapters: vendor payloads in, interactions out, reply payloads back.

The library does no network I/O: your web framework receives a webhook, wraps it in an
:class:`InboundRequest`, and calls the adapter's ``verify`` and ``parse``; what
``render`` returns is for your code to send.
"""

from omnichannel.channels._base import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_FUTURE_SECONDS,
    BaseAdapter,
    constant_time_equal,
    find_mentions,
    hmac_digest,
    optional,
    require,
)
from omnichannel.channels._protocol import ChannelAdapter, InboundRequest
from omnichannel.channels._registry import ENTRY_POINT_GROUP, available_adapters, get_adapter

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_FUTURE_SECONDS",
    "ENTRY_POINT_GROUP",
    "BaseAdapter",
    "ChannelAdapter",
    "InboundRequest",
    "available_adapters",
    "constant_time_equal",
    "find_mentions",
    "get_adapter",
    "hmac_digest",
    "optional",
    "require",
]
