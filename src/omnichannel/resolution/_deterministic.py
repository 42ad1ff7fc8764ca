"""Deterministic identity resolution: identifiers decide.

No owner of any identifier -> a new profile; one owner -> the interaction and any new
identifiers join it; several owners -> they are merged into the oldest, the merge recorded
with the identifiers that tied them and snapshots for an exact unmerge.
"""

from __future__ import annotations

from datetime import datetime

from omnichannel._errors import StoreConflictError
from omnichannel._model import (
    Identifier,
    IngestOutcome,
    IngestResult,
    Interaction,
    Merge,
    Profile,
    ProfileIdentifier,
)
from omnichannel.storage._protocol import MatchKey, Transaction

__all__ = ["RULE_SHARED_IDENTIFIER", "combine_profiles", "observe", "resolve_interaction"]

RULE_SHARED_IDENTIFIER = "shared-identifier"
"""Merge rule: two profiles were seen with the same identifier on one interaction."""


def observe(profile: Profile, interaction: Interaction, now: datetime) -> Profile:
    """Return ``profile`` updated with what ``interaction`` shows: identifiers seen (first
    and last seen widened, new ones added) and traits (a newer observation wins)."""
    at = interaction.occurred_at
    entries = {entry.identifier.match: entry for entry in profile.identifiers}
    for identifier in interaction.identifiers:
        entry = entries.get(identifier.match)
        if entry is None:
            entries[identifier.match] = ProfileIdentifier(
                identifier=identifier,
                first_seen=at,
                last_seen=at,
                channel=interaction.channel,
                interaction_id=interaction.id,
            )
        elif at < entry.first_seen or at > entry.last_seen:
            entries[identifier.match] = entry.model_copy(
                update={
                    "first_seen": min(at, entry.first_seen),
                    "last_seen": max(at, entry.last_seen),
                }
            )
    traits = dict(profile.traits)
    seen = dict(profile.trait_seen_at)
    for name, value in interaction.traits.items():
        if value is None:
            continue
        previous = seen.get(name)
        if previous is None or at >= previous:
            traits[name] = value
            seen[name] = at
    return profile.model_copy(
        update={
            "identifiers": tuple(entries.values()),
            "traits": traits,
            "trait_seen_at": seen,
            "updated_at": now,
        }
    )


def combine_profiles(survivor: Profile, absorbed: Profile, now: datetime) -> Profile:
    """Return ``survivor`` holding ``absorbed``'s identifiers and traits as well."""
    entries = {entry.identifier.match: entry for entry in survivor.identifiers}
    for entry in absorbed.identifiers:
        mine = entries.get(entry.identifier.match)
        if mine is None:
            entries[entry.identifier.match] = entry
        else:
            entries[entry.identifier.match] = mine.model_copy(
                update={
                    "first_seen": min(mine.first_seen, entry.first_seen),
                    "last_seen": max(mine.last_seen, entry.last_seen),
                }
            )
    traits = dict(survivor.traits)
    seen = dict(survivor.trait_seen_at)
    for name, value in absorbed.traits.items():
        theirs = absorbed.trait_seen_at.get(name)
        mine_at = seen.get(name)
        if name not in traits or (theirs is not None and (mine_at is None or theirs > mine_at)):
            traits[name] = value
            if theirs is not None:
                seen[name] = theirs
    return survivor.model_copy(
        update={
            "identifiers": tuple(entries.values()),
            "traits": traits,
            "trait_seen_at": seen,
            "updated_at": now,
        }
    )


def _unique(identifiers: tuple[Identifier, ...]) -> list[Identifier]:
    seen: set[MatchKey] = set()
    out: list[Identifier] = []
    for identifier in identifiers:
        if identifier.match not in seen:
            seen.add(identifier.match)
            out.append(identifier)
    return out


def resolve_interaction(
    tx: Transaction, workspace: str, interaction: Interaction, now: datetime
) -> IngestResult:
    """Attribute ``interaction`` to a profile inside ``tx`` and store it.

    The caller validated the interaction (it has at least one identifier) and checked it
    is not already stored. Raises StoreConflictError when a concurrent writer changed a
    profile involved; the caller retries the whole transaction.
    """
    identifiers = _unique(interaction.identifiers)
    matches = [identifier.match for identifier in identifiers]
    owners = tx.owners(workspace, matches)
    owner_ids = sorted(set(owners.values()))  # lock order: no deadlock between writers
    profiles: list[Profile] = []
    for pid in owner_ids:
        profile = tx.get_profile(workspace, pid, lock=True)
        if profile is None or not profile.is_live:
            raise StoreConflictError("a profile changed while resolving; retry")
        profiles.append(profile)

    if not profiles:
        profile = Profile(workspace=workspace, created_at=now, updated_at=now)
        profile = observe(profile, interaction, now)
        tx.put_profile(profile, claim=matches)
        tx.insert_interaction(workspace, interaction, profile.id)
        return IngestResult(
            profile_id=profile.id, interaction_id=interaction.id, outcome=IngestOutcome.CREATED
        )

    profiles.sort(key=lambda p: (p.created_at, p.id))
    survivor, absorbed_list = profiles[0], profiles[1:]
    claim = [m for m in matches if owners.get(m) != survivor.id]
    for absorbed in absorbed_list:
        evidence = tuple(
            i for i in identifiers if owners.get(i.match) in (survivor.id, absorbed.id)
        )
        merge = Merge(
            workspace=workspace,
            survivor_id=survivor.id,
            absorbed_id=absorbed.id,
            rule=RULE_SHARED_IDENTIFIER,
            evidence=evidence,
            interaction_id=interaction.id,
            merged_at=now,
            survivor_before=survivor,
            absorbed_before=absorbed,
        )
        absorbed_keys = [entry.identifier.match for entry in absorbed.identifiers]
        tx.put_profile(
            absorbed.model_copy(update={"merged_into": survivor.id, "updated_at": now}),
            release=absorbed_keys,
        )
        tx.move_interactions(workspace, absorbed.id, survivor.id)
        tx.add_merge(merge)
        survivor = combine_profiles(survivor, absorbed, now)
        claim.extend(absorbed_keys)
    survivor = observe(survivor, interaction, now)
    tx.put_profile(survivor, claim=list(dict.fromkeys(claim)))
    tx.insert_interaction(workspace, interaction, survivor.id)
    return IngestResult(
        profile_id=survivor.id,
        interaction_id=interaction.id,
        outcome=IngestOutcome.MERGED if absorbed_list else IngestOutcome.ATTACHED,
        merged_ids=tuple(p.id for p in absorbed_list),
    )
