"""Identity resolution: which profile an interaction belongs to, and why.

* :class:`MergePolicy` says which identifiers may decide (placeholders and role
  mailboxes never do; one customer number per shop; shared phones are *related*).
* :class:`Resolver` applies it on every ingest; merges are recorded with their evidence
  and undone exactly by :func:`unmerge`.
"""

from omnichannel.resolution._deterministic import (
    RULE_MANUAL,
    RULE_REVIEW_ACCEPTED,
    RULE_SHARED_IDENTIFIER,
    Resolver,
    combine_profiles,
    merge_profiles,
    observe,
    raise_review,
    resolve_live,
    unmerge,
)
from omnichannel.resolution._explain import (
    PairExplanation,
    ProfileExplanation,
    explain_pair,
    explain_profile,
)
from omnichannel.resolution._policy import KindPolicy, MergePolicy, Strength, names_conflict

__all__ = [
    "RULE_MANUAL",
    "RULE_REVIEW_ACCEPTED",
    "RULE_SHARED_IDENTIFIER",
    "KindPolicy",
    "MergePolicy",
    "PairExplanation",
    "ProfileExplanation",
    "Resolver",
    "Strength",
    "combine_profiles",
    "explain_pair",
    "explain_profile",
    "merge_profiles",
    "names_conflict",
    "observe",
    "raise_review",
    "resolve_live",
    "unmerge",
]
