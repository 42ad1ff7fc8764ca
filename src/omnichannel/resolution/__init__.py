"""Identity resolution: which profile an interaction belongs to, and why.

Today this holds the deterministic rules the Hub applies on every ingest (see
``docs/architecture.md``); probabilistic matching, merge policy and batch dedupe build on
the same records.
"""

from omnichannel.resolution._deterministic import (
    RULE_SHARED_IDENTIFIER,
    combine_profiles,
    observe,
    resolve_interaction,
)

__all__ = ["RULE_SHARED_IDENTIFIER", "combine_profiles", "observe", "resolve_interaction"]
