"""Explanations: why a profile holds what it holds, and why two profiles are (not) one."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from omnichannel._errors import NotFoundError, mask_value
from omnichannel._model import Grade, Identifier, Merge, Profile, ReviewItem, ReviewStatus
from omnichannel.resolution._deterministic import resolve_live
from omnichannel.storage._protocol import Transaction

__all__ = ["PairExplanation", "ProfileExplanation", "explain_pair", "explain_profile"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


def _show(identifier: Identifier) -> str:
    return f"{identifier.kind.value} {mask_value(identifier.value)}"


def _merge_sentence(merge: Merge) -> str:
    when = merge.merged_at.strftime("%Y-%m-%d %H:%M")
    if merge.contributions:
        parts = ", ".join(f"{c.field} {c.level} ({c.weight:+.1f})" for c in merge.contributions)
        why = f"scored {merge.score:.3f}: {parts}"
    elif merge.evidence:
        why = "one interaction carried " + " and ".join(_show(i) for i in merge.evidence)
    else:
        why = "no identifier evidence"
    state = f", undone {merge.unmerged_at:%Y-%m-%d %H:%M}" if merge.unmerged_at else ""
    return (
        f"{merge.absorbed_id} merged into {merge.survivor_id} on {when} "
        f"by rule {merge.rule} ({why}){state}"
    )


class ProfileExplanation(BaseModel):
    """How a profile came to be: its identifiers' origins, merges and open questions."""

    model_config = _FROZEN
    profile_id: str
    display_name: str | None
    identifiers: tuple[str, ...]
    """One line per identifier: masked value, channel and time first seen."""
    merges: tuple[Merge, ...]
    reviews: tuple[ReviewItem, ...]
    text: str
    """All of it as readable sentences."""


class PairExplanation(BaseModel):
    """Why two profile ids are, or are not, one customer."""

    model_config = _FROZEN
    first_id: str
    second_id: str
    same: bool
    grade: Grade | None
    """``same`` when one profile; otherwise what open review says, if any."""
    merges: tuple[Merge, ...]
    """The merges that joined them (when ``same``)."""
    shared_identifiers: tuple[Identifier, ...]
    apart: bool
    """A person (or an unmerge) recorded them as different people."""
    text: str


def explain_profile(tx: Transaction, profile: Profile) -> ProfileExplanation:
    """Build the explanation of a live profile."""
    ws = profile.workspace
    merges: list[Merge] = []
    pending = [profile.id]
    seen = {profile.id}
    while pending:
        current = pending.pop()
        for merge in tx.merges(ws, current):
            if merge.id not in {m.id for m in merges}:
                merges.append(merge)
            if merge.survivor_id == current and merge.absorbed_id not in seen and merge.is_active:
                seen.add(merge.absorbed_id)
                pending.append(merge.absorbed_id)
    merges.sort(key=lambda m: (m.merged_at, m.id))
    reviews = tuple(tx.reviews(ws, status=ReviewStatus.OPEN, profile_id=profile.id))
    lines = [
        f"{_show(e.identifier)} first seen on {e.channel} {e.first_seen:%Y-%m-%d %H:%M}"
        for e in profile.identifiers
    ]
    name = profile.display_name
    text = [f"Profile {profile.id}" + (f" ({name})" if name else "")]
    text.append(
        f"holds {len(lines)} identifier(s): " + "; ".join(lines) + "."
        if lines
        else "holds no identifier."
    )
    text.extend(_merge_sentence(m) + "." for m in merges)
    for r in reviews:
        other = next((p for p in r.profile_ids if p != profile.id), r.profile_ids[0])
        text.append(f"Open {r.grade.value} review {r.id} with {other}: {r.reason}.")
    return ProfileExplanation(
        profile_id=profile.id,
        display_name=name,
        identifiers=tuple(lines),
        merges=tuple(merges),
        reviews=reviews,
        text=" ".join(text),
    )


def explain_pair(tx: Transaction, workspace: str, first: str, second: str) -> PairExplanation:
    """Why ``first`` and ``second`` are, or are not, one customer."""
    live_a = resolve_live(tx, workspace, first)
    live_b = resolve_live(tx, workspace, second)
    if live_a is None or live_b is None:
        raise NotFoundError(f"no profile {first!r} or {second!r} in workspace {workspace!r}")
    same = live_a.id == live_b.id
    apart = tx.is_apart(workspace, first, second) or tx.is_apart(workspace, live_a.id, live_b.id)
    joined: list[Merge] = []
    if same:
        explanation = explain_profile(tx, live_a)
        joined = [m for m in explanation.merges if m.is_active]
        text = f"{first} and {second} are one customer, profile {live_a.id}: " + "; ".join(
            _merge_sentence(m) for m in joined
        )
        return PairExplanation(
            first_id=first,
            second_id=second,
            same=True,
            grade=Grade.SAME,
            merges=tuple(joined),
            shared_identifiers=(),
            apart=apart,
            text=text + ".",
        )
    keys_a = {e.identifier for e in live_a.identifiers}
    shared = tuple(e.identifier for e in live_b.identifiers if e.identifier in keys_a)
    grade: Grade | None = None
    reasons: list[str] = []
    for item in tx.reviews(workspace, status=ReviewStatus.OPEN, profile_id=live_a.id):
        if live_b.id in item.profile_ids:
            grade = item.grade
            reasons.append(f"open {item.grade.value} review: {item.reason}")
    if apart:
        reasons.append("they were recorded as different people")
    if shared:
        reasons.append(
            "they share "
            + ", ".join(_show(i) for i in shared)
            + ", which the policy treats as shared"
        )
    if not reasons:
        reasons.append("no interaction carried an identifier of both")
    return PairExplanation(
        first_id=first,
        second_id=second,
        same=False,
        grade=grade,
        merges=(),
        shared_identifiers=shared,
        apart=apart,
        text=f"{first} and {second} are different profiles: " + "; ".join(reasons) + ".",
    )
