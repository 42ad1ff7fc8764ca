"""omnichannel: one customer and one history across every channel.

Turn what arrives from any channel into a channel-agnostic :class:`Interaction`, let the
:class:`Hub` recognise which customer it belongs to from phone numbers, email addresses,
handles and external ids, and read back one profile and one timeline per customer from
the store of your choice (:mod:`omnichannel.storage`).
"""

from omnichannel._errors import (
    InvalidPayloadError,
    InvalidValueError,
    NotFoundError,
    OmnichannelError,
    SchemaVersionError,
    SignatureError,
    StoreConflictError,
    StoreError,
    StoreUnavailableError,
    UnknownChannelError,
    mask_value,
)
from omnichannel._hub import DEFAULT_DATABASE_URL, Hub, IngestSummary, parse_identifier
from omnichannel._model import (
    Channel,
    ContactCardPart,
    ContentPart,
    Conversation,
    ConversationStatus,
    CustomPart,
    Direction,
    Identifier,
    IdentifierKind,
    IngestOutcome,
    IngestResult,
    Interaction,
    InteractionKind,
    LocationPart,
    MediaPart,
    Merge,
    OrderRefPart,
    Profile,
    ProfileIdentifier,
    TextPart,
    TimelinePage,
)
from omnichannel._normalize import (
    NormalizedEmail,
    normalize_email,
    normalize_external,
    normalize_handle,
    normalize_phone,
)

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_DATABASE_URL",
    "Channel",
    "ContactCardPart",
    "ContentPart",
    "Conversation",
    "ConversationStatus",
    "CustomPart",
    "Direction",
    "Hub",
    "Identifier",
    "IdentifierKind",
    "IngestOutcome",
    "IngestResult",
    "IngestSummary",
    "Interaction",
    "InteractionKind",
    "InvalidPayloadError",
    "InvalidValueError",
    "LocationPart",
    "MediaPart",
    "Merge",
    "NormalizedEmail",
    "NotFoundError",
    "OmnichannelError",
    "OrderRefPart",
    "Profile",
    "ProfileIdentifier",
    "SchemaVersionError",
    "SignatureError",
    "StoreConflictError",
    "StoreError",
    "StoreUnavailableError",
    "TextPart",
    "TimelinePage",
    "UnknownChannelError",
    "__version__",
    "mask_value",
    "normalize_email",
    "normalize_external",
    "normalize_handle",
    "normalize_phone",
    "parse_identifier",
]
