"""Deterministic identity resolution: identifiers decide, under a merge policy.

For each interaction, inside the transaction that stores it:

1. Placeholders are ignored, role mailboxes kept on the profile but never indexed.
2. The owners of the remaining ("strong") identifiers are looked up. An identifier
   recorded as shared (a family phone) points at the sharer whose name fits.
3. An owner whose name clearly differs from the name on the interaction does not get it:
   the identifier becomes shared, the interaction goes to another (or a new) profile, and
   the two are recorded as *related* for review.
4. Several owners are merged into the oldest, unless the pair was recorded apart or the
   merge would give a profile two values where the policy allows one (two customer
   numbers of one shop): then a *conflict* review item is raised instead.
5. New identifiers join the profile the interaction joins, unless they would exceed the
   policy's limit there: they then start a profile of their own, in conflict.

Every merge is a :class:`~omnichannel.Merge` record with its rule, the identifiers that
tied the profiles, and snapshots of both sides; :func:`unmerge` restores them exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from pydantic import JsonValue

from omnichannel._errors import InvalidValueError, StoreConflictError
from omnichannel._model import (
    FieldContribution,
    Grade,
    Identifier,
    IdentifierKind,
    IngestOutcome,
    IngestResult,
    Interaction,
    Merge,
    Profile,
    ProfileIdentifier,
    ReviewItem,
    ReviewStatus,
)
from omnichannel.resolution._policy import MergePolicy, Strength, names_conflict
from omnichannel.resolution._scoring import PairScore, Settings, explain_score, score
from omnichannel.storage._protocol import MatchKey, Transaction

__all__ = [
    "RULE_MANUAL",
    "RULE_PROBABILISTIC",
    "RULE_REVIEW_ACCEPTED",
    "RULE_SHARED_IDENTIFIER",
    "Resolver",
    "combine_profiles",
    "interaction_record",
    "merge_profiles",
    "observe",
    "people",
    "profile_record",
    "raise_review",
    "resolve_live",
    "unmerge",
]

RULE_SHARED_IDENTIFIER = "shared-identifier"
"""Merge rule: two profiles were seen with the same identifier on one interaction."""
RULE_MANUAL = "manual"
"""Merge rule: a person linked the profiles (``Hub.force_link``)."""
RULE_REVIEW_ACCEPTED = "review-accepted"
"""Merge rule: a person accepted a review item."""


def observe(
    profile: Profile,
    interaction: Interaction,
    now: datetime,
    identifiers: Iterable[Identifier] | None = None,
) -> Profile:
    """Return ``profile`` updated with what ``interaction`` shows: identifiers seen (first
    and last seen widened, new ones added) and traits (a newer observation wins).

    ``identifiers`` limits which of the interaction's identifiers join the profile.
    """
    at = interaction.occurred_at
    entries = {entry.identifier.match: entry for entry in profile.identifiers}
    for identifier in interaction.identifiers if identifiers is None else identifiers:
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


def resolve_live(tx: Transaction, workspace: str, profile_id: str) -> Profile | None:
    """Follow ``merged_into`` from ``profile_id`` to the live profile (None if unknown)."""
    seen: set[str] = set()
    current = tx.get_profile(workspace, profile_id)
    while current is not None and current.merged_into is not None and current.id not in seen:
        seen.add(current.id)
        current = tx.get_profile(workspace, current.merged_into)
    return current


def _entries(profile: Profile) -> list[MatchKey]:
    return [entry.identifier.match for entry in profile.identifiers]


def merge_profiles(
    tx: Transaction,
    survivor: Profile,
    absorbed: Profile,
    *,
    rule: str,
    now: datetime,
    policy: MergePolicy,
    evidence: Sequence[Identifier] = (),
    interaction_id: str | None = None,
    score: float | None = None,
    contributions: Sequence[FieldContribution] = (),
) -> tuple[Profile, Merge]:
    """Merge ``absorbed`` into ``survivor`` (both live, locked by the caller).

    Returns the combined survivor (already written) and the merge record. Nothing is
    deleted: the absorbed profile is kept with ``merged_into`` set.
    """
    workspace = survivor.workspace
    merge = Merge(
        workspace=workspace,
        survivor_id=survivor.id,
        absorbed_id=absorbed.id,
        rule=rule,
        evidence=tuple(evidence),
        interaction_id=interaction_id,
        merged_at=now,
        survivor_before=survivor,
        absorbed_before=absorbed,
        score=score,
        contributions=tuple(contributions),
    )
    held = tx.owners(workspace, _entries(absorbed))
    keys = [match for match, owner in held.items() if owner == absorbed.id]
    tx.put_profile(
        absorbed.model_copy(update={"merged_into": survivor.id, "updated_at": now}),
        release=keys,
    )
    tx.move_interactions(workspace, absorbed.id, survivor.id)
    tx.move_conversations(workspace, absorbed.id, survivor.id)
    tx.put_merge(merge)
    combined = combine_profiles(survivor, absorbed, now)
    tx.put_profile(combined, claim=keys)
    return combined, merge


def _subtree(tx: Transaction, workspace: str, root: str, exclude: str) -> set[str]:
    """``root`` and every profile merged into it (directly or not) by active merges."""
    found = {root}
    pending = [root]
    while pending:
        current = pending.pop()
        for merge in tx.merges(workspace, current):
            if (
                merge.is_active
                and merge.id != exclude
                and merge.survivor_id == current
                and merge.absorbed_id not in found
            ):
                found.add(merge.absorbed_id)
                pending.append(merge.absorbed_id)
    return found


def people(tx: Transaction, workspace: str, profile_id: str) -> set[str]:
    """``profile_id`` and every profile merged into it by merges still in force: whose
    histories (consents, interactions) the profile speaks for."""
    return _subtree(tx, workspace, profile_id, exclude="")


def unmerge(tx: Transaction, merge: Merge, now: datetime) -> tuple[Profile, Profile]:
    """Undo ``merge``: the absorbed profile comes back as it was, its identifiers and every
    interaction that came with it leave the profile that holds them now.

    Interactions that arrived after the merge stay where they were attributed. Returns
    ``(holder, restored)``.

    Raises:
        InvalidValueError: the merge was already undone.
    """
    if not merge.is_active:
        raise InvalidValueError("merge_id", merge.id, "was already undone", mask=False)
    workspace = merge.workspace
    holder = resolve_live(tx, workspace, merge.survivor_id)
    absorbed_now = tx.get_profile(workspace, merge.absorbed_id, lock=True)
    if holder is None or absorbed_now is None:
        raise StoreConflictError("a profile of this merge is missing; retry")
    holder = tx.get_profile(workspace, holder.id, lock=True) or holder
    origins = _subtree(tx, workspace, merge.absorbed_id, exclude=merge.id)
    restored = merge.absorbed_before.model_copy(update={"merged_into": None})
    survivor_keys = {e.identifier.match for e in merge.survivor_before.identifiers}
    moving = {
        e.identifier.match for e in restored.identifiers if e.identifier.match not in survivor_keys
    }
    entries = tuple(e for e in holder.identifiers if e.identifier.match not in moving)
    traits = dict(holder.traits)
    seen = dict(holder.trait_seen_at)
    for name, value in restored.traits.items():
        if traits.get(name) == value and seen.get(name) == restored.trait_seen_at.get(name):
            before = merge.survivor_before
            if name in before.traits:
                traits[name] = before.traits[name]
                if name in before.trait_seen_at:
                    seen[name] = before.trait_seen_at[name]
            else:
                traits.pop(name, None)
                seen.pop(name, None)
    unchanged = holder.id == merge.survivor_id and holder.updated_at == merge.merged_at
    holder = holder.model_copy(
        update={
            "identifiers": entries,
            "traits": traits,
            "trait_seen_at": seen,
            "updated_at": merge.survivor_before.updated_at if unchanged else now,
        }
    )
    strong = [m for m, owner in tx.owners(workspace, moving).items() if owner == holder.id]
    tx.put_profile(holder, release=strong)
    tx.put_profile(restored, claim=strong)
    tx.move_interactions(workspace, holder.id, restored.id, origins=origins)
    tx.move_conversations(workspace, holder.id, restored.id, origins=origins)
    tx.put_merge(merge.model_copy(update={"unmerged_at": now}))
    tx.add_apart(workspace, merge.survivor_id, merge.absorbed_id)
    return holder, restored


_NAME_FIELDS = frozenset(
    {"first_name", "given_name", "last_name", "surname", "name", "display_name", "full_name"}
)


def _corroborated(result: PairScore) -> bool:
    """A link needs evidence beyond the name: namesakes share names and nothing else."""
    return any(c.weight > 0 and c.field not in _NAME_FIELDS for c in result.contributions)


RULE_PROBABILISTIC = "probabilistic"
"""Link rule: no identifier decided; names, dates and addresses scored above the threshold."""
_MAX_CANDIDATES = 50
_STRENGTH_CACHE = 65_536  # identifiers whose strength a resolver remembers


def _first(entries: Iterable[Identifier], kind: IdentifierKind) -> str | None:
    return next((i.value for i in entries if i.kind is kind), None)


def interaction_record(interaction: Interaction) -> dict[str, object]:
    """The record probabilistic matching reads from an interaction: its traits, plus its
    first email and phone as ``email`` and ``phone``."""
    record: dict[str, object] = dict(interaction.traits)
    for kind in (IdentifierKind.EMAIL, IdentifierKind.PHONE):
        value = _first(interaction.identifiers, kind)
        if value is not None:
            record.setdefault(kind.value, value)
    return record


def profile_record(profile: Profile) -> dict[str, object]:
    """The record probabilistic matching reads from a profile (traits, first email, phone)."""
    record: dict[str, object] = dict(profile.traits)
    identifiers = [entry.identifier for entry in profile.identifiers]
    for kind in (IdentifierKind.EMAIL, IdentifierKind.PHONE):
        value = _first(identifiers, kind)
        if value is not None:
            record.setdefault(kind.value, value)
    return record


def _with_evidence(interaction: Interaction, profile_id: str, result: PairScore) -> Interaction:
    """The interaction carrying, in ``metadata["resolution"]``, why it joined the profile."""
    evidence: dict[str, JsonValue] = {
        "rule": RULE_PROBABILISTIC,
        "profile_id": profile_id,
        "score": result.probability,
        "contributions": [
            {"field": c.field, "level": c.level, "weight": c.weight} for c in result.contributions
        ],
        "explanation": explain_score(result),
    }
    return interaction.model_copy(
        update={"metadata": {**interaction.metadata, "resolution": evidence}}
    )


def _describe(identifier: Identifier) -> str:
    if identifier.namespace:
        return f"{identifier.namespace} {identifier.kind.value}"
    return identifier.kind.value


def raise_review(
    tx: Transaction,
    workspace: str,
    grade: Grade,
    first: str,
    second: str,
    reason: str,
    now: datetime,
    *,
    evidence: Sequence[Identifier] = (),
    interaction_id: str | None = None,
    score: float | None = None,
    contributions: Sequence[FieldContribution] = (),
) -> str | None:
    """Queue a review item for a pair, unless it is apart or already queued."""
    if first == second or tx.is_apart(workspace, first, second):
        return None
    for item in tx.reviews(workspace, status=ReviewStatus.OPEN, profile_id=first, limit=1000):
        if set(item.profile_ids) == {first, second} and item.grade is grade:
            return None
    item = ReviewItem(
        workspace=workspace,
        grade=grade,
        profile_ids=(first, second),
        reason=reason,
        evidence=tuple(evidence),
        score=score,
        contributions=tuple(contributions),
        interaction_id=interaction_id,
        created_at=now,
    )
    tx.put_review(item)
    return item.id


class Resolver:
    """Applies a :class:`~omnichannel.resolution.MergePolicy` to each interaction."""

    def __init__(self, policy: MergePolicy | None = None, matching: Settings | None = None) -> None:
        self.policy = policy or MergePolicy()
        self.matching = matching
        self._strengths: dict[MatchKey, Strength] = {}
        self._strengths_of = self.policy  # the policy the remembered strengths are from

    def strength(self, identifier: Identifier) -> Strength:
        """The policy's :meth:`~MergePolicy.strength`, remembered per identifier."""
        if self._strengths_of is not self.policy or len(self._strengths) >= _STRENGTH_CACHE:
            self._strengths.clear()
            self._strengths_of = self.policy
        known = self._strengths.get(identifier.match)
        if known is None:
            known = self._strengths[identifier.match] = self.policy.strength(identifier)
        return known

    def _match(
        self, tx: Transaction, workspace: str, interaction: Interaction
    ) -> tuple[Profile, PairScore] | None:
        """The best-scoring candidate profile for an interaction no identifier decided."""
        assert self.matching is not None
        record = interaction_record(interaction)
        keys = self.matching.blocking.record_keys(record)
        if not keys:
            return None
        best: tuple[Profile, PairScore] | None = None
        seen: set[str] = set()
        for pid in tx.candidates(workspace, keys, limit=_MAX_CANDIDATES):
            profile = resolve_live(tx, workspace, pid)
            if profile is None or profile.id in seen:
                continue
            seen.add(profile.id)
            if names_conflict(
                interaction.traits, profile.traits, self.policy.shared_name_similarity
            ):
                continue  # a household or a namesake: different given names, never linked
            result = score(record, profile_record(profile), self.matching)
            if best is None or result.probability > best[1].probability:
                best = (profile, result)
        return best

    def _exceeds(self, profile: Profile, extra: Iterable[Identifier]) -> list[Identifier]:
        """The identifiers of ``extra`` that would break a per-profile limit."""
        counts: dict[tuple[str, str], set[str]] = {}
        for entry in profile.identifiers:
            ident = entry.identifier
            counts.setdefault((ident.kind.value, ident.namespace), set()).add(ident.key)
        over: list[Identifier] = []
        for ident in extra:
            limit = self.policy.kind_policy(ident).max_per_profile
            bucket = counts.setdefault((ident.kind.value, ident.namespace), set())
            if ident.key in bucket:
                continue
            if limit is not None and len(bucket) >= limit:
                over.append(ident)
            else:
                bucket.add(ident.key)
        return over

    def resolve(
        self,
        tx: Transaction,
        workspace: str,
        interaction: Interaction,
        now: datetime,
        *,
        suppressed: Callable[[Sequence[Identifier]], bool] | None = None,
        prepare: Callable[[Interaction, str, bool], Interaction] | None = None,
    ) -> IngestResult:
        """Attribute ``interaction`` to a profile inside ``tx`` and store it.

        The caller validated the interaction and checked it is not already stored.
        ``suppressed`` is asked about the identifiers nobody owns (a forgotten customer's
        come back that way): when it says yes, nothing is written and the outcome is
        ``suppressed``. ``prepare`` gets the interaction, its profile id and whether that
        profile was created for it, just before the interaction is stored, and returns
        what to store (the Hub files it in a conversation there). Raises
        StoreConflictError when a concurrent writer changed a profile involved; the caller
        retries the whole transaction.
        """
        policy = self.policy
        unique = list({i.match: i for i in interaction.identifiers}.values())
        strengths = [self.strength(i) for i in unique]
        strong = [i for i, s in zip(unique, strengths, strict=True) if s is Strength.STRONG]
        roles = [i for i, s in zip(unique, strengths, strict=True) if s is Strength.ROLE]
        if not strong:
            # A role mailbox alone (info@ writing) is the mailbox's own profile; beside a
            # personal identifier it is only recorded.
            strong, roles = roles, []
        owners = tx.owners(workspace, [i.match for i in strong])
        shared = tx.sharers(workspace, list(owners))
        candidates = set(owners.values())
        for sharers in shared.values():
            candidates.update(sharers)
        profiles: dict[str, Profile] = {}
        for pid in sorted(candidates):  # lock order: no deadlock between writers
            profile = tx.get_profile(workspace, pid, lock=True)
            if profile is None:
                raise StoreConflictError("a profile changed while resolving; retry")
            if profile.is_live:
                profiles[pid] = profile
        if any(owners[m] not in profiles for m in owners):
            raise StoreConflictError("a profile was merged while resolving; retry")

        reviews: list[str] = []
        tie: dict[str, list[Identifier]] = {}  # profile id -> identifiers tying it here
        newly_shared: list[tuple[Identifier, str]] = []  # (identifier, its owner)
        fresh: list[Identifier] = []
        for ident in strong:
            owner = owners.get(ident.match)
            if owner is None:
                fresh.append(ident)
                continue
            sharers = [p for p in shared.get(ident.match, []) if p in profiles]
            if sharers:
                fitting = [
                    p
                    for p in sharers
                    if not names_conflict(
                        interaction.traits, profiles[p].traits, policy.shared_name_similarity
                    )
                ]
                if fitting:
                    tie.setdefault(fitting[0], []).append(ident)
                else:
                    newly_shared.append((ident, owner))
                continue
            if policy.detect_shared and names_conflict(
                interaction.traits, profiles[owner].traits, policy.shared_name_similarity
            ):
                newly_shared.append((ident, owner))
                continue
            tie.setdefault(owner, []).append(ident)
        if suppressed is not None and (fresh or roles) and suppressed([*fresh, *roles]):
            return IngestResult(
                profile_id="", interaction_id=interaction.id, outcome=IngestOutcome.SUPPRESSED
            )

        ordered = sorted((profiles[p] for p in tie), key=lambda p: (p.created_at, p.id))
        merged_ids: list[str] = []
        target: Profile | None = None
        kept_apart: list[Profile] = []
        clashing: list[Profile] = []  # tied here, but another person by name
        for profile in ordered:
            if target is None:
                target = profile
                continue
            if policy.detect_shared and names_conflict(
                target.traits, profile.traits, policy.shared_name_similarity
            ):
                clashing.append(profile)
                continue
            evidence = tie[target.id] + tie[profile.id]
            conflicting = self._exceeds(target, (e.identifier for e in profile.identifiers))
            if tx.is_apart(workspace, target.id, profile.id) or conflicting:
                kept_apart.append(profile)
                if conflicting:
                    review = raise_review(
                        tx,
                        workspace,
                        Grade.CONFLICT,
                        target.id,
                        profile.id,
                        "an interaction ties them, but together they would hold two "
                        f"{_describe(conflicting[0])} values where the policy allows one",
                        now,
                        evidence=evidence + conflicting,
                        interaction_id=interaction.id,
                    )
                    reviews.extend([review] if review else [])
                continue
            target, _ = merge_profiles(
                tx,
                target,
                profile,
                rule=RULE_SHARED_IDENTIFIER,
                now=now,
                policy=policy,
                evidence=evidence,
                interaction_id=interaction.id,
            )
            tie[target.id] = evidence
            merged_ids.append(profile.id)
        if (kept_apart or clashing) and target is not None:
            # The interaction joins the owner of its highest-priority identifier.
            def rank(p: Profile) -> int:
                return max(policy.kind_policy(i).priority for i in tie[p.id])

            best = max([target, *kept_apart, *clashing], key=rank)
            # Two people by name tied by one interaction (a household's landline beside
            # a personal email): what tied the others here is shared, not theirs alone.
            apart_by_name = {p.id for p in clashing}
            for profile in [target, *clashing]:
                if profile.id != best.id and apart_by_name & {profile.id, best.id}:
                    newly_shared.extend((ident, profile.id) for ident in tie[profile.id])
            target = best

        outcome = IngestOutcome.MERGED if merged_ids else IngestOutcome.ATTACHED
        possible: tuple[Profile, PairScore] | None = None
        if target is None and self.matching is not None and not newly_shared:
            found = self._match(tx, workspace, interaction)
            if (
                found is not None
                and found[1].probability >= self.matching.link_threshold
                and _corroborated(found[1])
            ):
                locked = tx.get_profile(workspace, found[0].id, lock=True)
                if locked is None or not locked.is_live:
                    raise StoreConflictError("a candidate profile changed; retry")
                target = locked
                interaction = _with_evidence(interaction, target.id, found[1])
            elif found is not None and found[1].probability >= self.matching.review_threshold:
                possible = found
        if target is None:
            target = Profile(workspace=workspace, created_at=now, updated_at=now)
            outcome = IngestOutcome.CREATED
        over = self._exceeds(target, fresh)
        joining = [i for i in fresh if i not in over]
        if over:
            # Values over the limit start a profile of their own, in conflict with this one.
            split = Profile(workspace=workspace, created_at=now, updated_at=now)
            split = observe(split, interaction, now, identifiers=over)
            tx.put_profile(split, claim=[i.match for i in over])
            review = raise_review(
                tx,
                workspace,
                Grade.CONFLICT,
                target.id,
                split.id,
                f"one interaction carried a second {_describe(over[0])} value "
                "where the policy allows one",
                now,
                evidence=[*tie.get(target.id, []), *over],
                interaction_id=interaction.id,
            )
            reviews.extend([review] if review else [])
        seen_here = [*tie.get(target.id, []), *joining, *roles]
        seen_here.extend(ident for ident, _ in newly_shared)
        target = observe(target, interaction, now, identifiers=seen_here)
        tx.put_profile(target, claim=[i.match for i in joining])
        if self.matching is not None:
            keys = self.matching.blocking.record_keys(profile_record(target))
            tx.set_blocking_keys(workspace, target.id, keys)
        if possible is not None:
            candidate, result = possible
            review = raise_review(
                tx,
                workspace,
                Grade.POSSIBLE,
                candidate.id,
                target.id,
                explain_score(result),
                now,
                interaction_id=interaction.id,
                score=result.probability,
                contributions=result.contributions,
            )
            reviews.extend([review] if review else [])
        for ident, owner in newly_shared:
            if owner == target.id:
                continue
            tx.add_sharer(workspace, ident.match, owner)
            tx.add_sharer(workspace, ident.match, target.id)
            review = raise_review(
                tx,
                workspace,
                Grade.RELATED,
                owner,
                target.id,
                f"they share a {ident.kind.value} but their names differ: a shared "
                f"{ident.kind.value} (a household, a switchboard), not one person",
                now,
                evidence=[ident],
                interaction_id=interaction.id,
            )
            reviews.extend([review] if review else [])
        if prepare is not None:
            interaction = prepare(interaction, target.id, outcome is IngestOutcome.CREATED)
        tx.insert_interaction(workspace, interaction, target.id)
        return IngestResult(
            profile_id=target.id,
            interaction_id=interaction.id,
            conversation_id=interaction.conversation_id,
            outcome=outcome,
            merged_ids=tuple(merged_ids),
            review_ids=tuple(reviews),
        )
