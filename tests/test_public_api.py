"""The public surface is deliberate: pinned names, docstrings, one exception root."""

from __future__ import annotations

import importlib
import importlib.resources
import inspect
import pkgutil
from types import ModuleType

import pytest

import omnichannel
from omnichannel import OmnichannelError

PUBLIC_MODULES = [
    "omnichannel",
    "omnichannel.analytics",
    "omnichannel.channels",
    "omnichannel.consent",
    "omnichannel.privacy",
    "omnichannel.resolution",
    "omnichannel.storage",
    "omnichannel.testing",
    "omnichannel.topics",
]

EXPECTED = {
    "omnichannel": [
        "DEFAULT_DATABASE_URL",
        "Channel",
        "Consent",
        "ContactCardPart",
        "ContentPart",
        "Conversation",
        "ConversationSettings",
        "ConversationStatus",
        "CustomPart",
        "CustomerContext",
        "Direction",
        "Event",
        "EventType",
        "FieldContribution",
        "Grade",
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
        "Purpose",
        "ReviewItem",
        "ReviewStatus",
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
    ],
    "omnichannel.resolution": [
        "DEFAULT_MAX_PAIRS",
        "NULL_LEVEL",
        "RULE_MANUAL",
        "RULE_PROBABILISTIC",
        "RULE_REVIEW_ACCEPTED",
        "RULE_SHARED_IDENTIFIER",
        "AddressComparison",
        "And",
        "BlockOn",
        "BlockingRule",
        "Cluster",
        "Comparison",
        "DateComparison",
        "Decision",
        "DedupeResult",
        "EmailComparison",
        "ExactMatch",
        "KindPolicy",
        "LevenshteinComparison",
        "LinkCluster",
        "LinkResult",
        "MergePolicy",
        "NameComparison",
        "Not",
        "Or",
        "PairExplanation",
        "PairScore",
        "PhoneComparison",
        "PostcodeComparison",
        "ProfileExplanation",
        "Resolver",
        "ScoredPair",
        "Settings",
        "Strength",
        "TooManyPairsError",
        "block_on",
        "combine_profiles",
        "dedupe",
        "dedupe_pairs",
        "explain_pair",
        "explain_profile",
        "explain_score",
        "infer_settings",
        "interaction_record",
        "link",
        "link_pairs",
        "merge_profiles",
        "names_conflict",
        "observe",
        "profile_record",
        "raise_review",
        "resolve_live",
        "score",
        "train",
        "unmerge",
    ],
    "omnichannel.storage": [
        "SCHEMA_VERSION",
        "InteractionRecord",
        "MatchKey",
        "MemoryStore",
        "SQLStore",
        "Store",
        "Transaction",
    ],
    "omnichannel.channels": [
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
    ],
    "omnichannel.analytics": [
        "ALL_CHANNELS",
        "MIN_RATE",
        "NON_CONTACT_KINDS",
        "PATH_SEPARATOR",
        "ChannelMixRow",
        "ChannelsPerCustomerRow",
        "FulfilmentRow",
        "JourneyRow",
        "Period",
        "PeriodVolumeRow",
        "ResponseTimeRow",
        "Spike",
        "TopicCountRow",
        "TopicSpikeRow",
        "VolumeRow",
        "channel_mix",
        "channels_per_customer",
        "detect_spikes",
        "fulfilment",
        "journeys",
        "plot",
        "poisson_upper_tail",
        "response_times",
        "to_csv",
        "to_records",
        "topic_counts",
        "topic_spikes",
        "volume",
        "volume_over_time",
    ],
    "omnichannel.consent": [
        "DEFAULT_OPT_IN_KEYWORDS",
        "DEFAULT_OPT_OUT_KEYWORDS",
        "ConsentPolicy",
        "ContactDecision",
        "decide",
    ],
    "omnichannel.privacy": ["ForgetResult", "ProfileExport", "suppression_digest"],
    "omnichannel.topics": ["Tagger", "TopicRule", "TopicRules", "fold_text", "tag"],
    "omnichannel.testing": [
        "AdapterConformance",
        "GroundTruth",
        "Metrics",
        "NoiseSettings",
        "Person",
        "PhoneTenure",
        "StoreConformance",
        "SyntheticDataset",
        "generate",
        "make_interaction",
        "pair_metrics",
        "records",
    ],
}


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_pinned(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__all__ == EXPECTED[name]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_no_public_name_leaks(name: str) -> None:
    module = importlib.import_module(name)
    public = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and not isinstance(value, ModuleType)
        and getattr(value, "__module__", name).startswith("omnichannel")
        and attr not in ("annotations",)
    }
    assert public <= set(module.__all__), public - set(module.__all__)


def _public_objects() -> list[tuple[str, object]]:
    found = []
    for name in PUBLIC_MODULES:
        module = importlib.import_module(name)
        for attr in module.__all__:
            found.append((f"{name}.{attr}", getattr(module, attr)))
    return found


@pytest.mark.parametrize(("qualname", "obj"), _public_objects())
def test_public_objects_have_docstrings(qualname: str, obj: object) -> None:
    if inspect.isclass(obj) or inspect.isfunction(obj):
        assert inspect.getdoc(obj), f"{qualname} has no docstring"
    if inspect.isclass(obj):
        for member_name, member in vars(obj).items():
            if member_name.startswith(("_", "test_")) or not callable(member):
                continue
            assert inspect.getdoc(member), f"{qualname}.{member_name} has no docstring"


def test_every_public_exception_derives_from_the_root() -> None:
    for qualname, obj in _public_objects():
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            assert issubclass(obj, OmnichannelError), qualname


def test_every_module_is_importable() -> None:
    for info in pkgutil.walk_packages(omnichannel.__path__, "omnichannel."):
        importlib.import_module(info.name)


def test_py_typed_is_shipped() -> None:
    assert (importlib.resources.files("omnichannel") / "py.typed").is_file()
