"""Identity resolution: which profile an interaction belongs to, and why.

* :class:`MergePolicy` says which identifiers may decide (placeholders and role
  mailboxes never do; one customer number per shop; shared phones are *related*).
* :class:`Resolver` applies it on every ingest; merges are recorded with their evidence
  and undone exactly by :func:`unmerge`.
* Probabilistic matching of weak evidence (Fellegi-Sunter): comparisons with levels,
  composable blocking rules (:func:`block_on`, :class:`And`, :class:`Or`, :class:`Not`),
  :class:`Settings`, :func:`score` with per-field explanations, :func:`train` (EM, no
  labels), and batch :func:`dedupe` / :func:`link` for CRM exports.
"""

from omnichannel.resolution._batch import (
    Cluster,
    DedupeResult,
    LinkCluster,
    LinkResult,
    ScoredPair,
    dedupe,
    infer_settings,
    link,
)
from omnichannel.resolution._blocking import (
    DEFAULT_MAX_PAIRS,
    And,
    BlockingRule,
    BlockOn,
    Not,
    Or,
    TooManyPairsError,
    block_on,
    dedupe_pairs,
    link_pairs,
)
from omnichannel.resolution._comparisons import (
    NULL_LEVEL,
    AddressComparison,
    Comparison,
    DateComparison,
    EmailComparison,
    ExactMatch,
    LevenshteinComparison,
    NameComparison,
    PhoneComparison,
    PostcodeComparison,
)
from omnichannel.resolution._deterministic import (
    RULE_MANUAL,
    RULE_PROBABILISTIC,
    RULE_REVIEW_ACCEPTED,
    RULE_SHARED_IDENTIFIER,
    Resolver,
    combine_profiles,
    interaction_record,
    merge_profiles,
    observe,
    profile_record,
    raise_review,
    resolve_live,
    unmerge,
)
from omnichannel.resolution._em import train
from omnichannel.resolution._explain import (
    PairExplanation,
    ProfileExplanation,
    explain_pair,
    explain_profile,
)
from omnichannel.resolution._policy import KindPolicy, MergePolicy, Strength, names_conflict
from omnichannel.resolution._scoring import (
    Decision,
    PairScore,
    Settings,
    explain_score,
    score,
)

__all__ = [
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
]
