"""One ingest batch's lookups, made once for the whole batch.

Resolving an interaction asks the store whether it is already stored, who owns its
identifiers, who shares them and whether a forgotten customer's digests match them: four
lookups per interaction, each a statement (and on PostgreSQL a round trip).
:class:`BatchTransaction` asks each question once for the whole batch before the first
interaction is resolved, then answers the per-interaction calls from what it read,
keeping those answers true as the batch writes (claims, releases, shares, inserts).

Nothing is skipped: every interaction is still checked for duplicates, resolved under
the merge policy and checked against suppressions; only the reads are grouped. Writers
racing on PostgreSQL are caught as before, by the locks and checks of the writes
themselves (a claim of an identifier someone else took, a profile merged meanwhile),
which raise :class:`~omnichannel.StoreConflictError` and retry the batch with fresh
reads.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from omnichannel._model import Interaction, Profile
from omnichannel.storage._protocol import InteractionRecord, MatchKey, Transaction

__all__ = ["BatchTransaction"]

_SourceKey = tuple[str, str]


class BatchTransaction:
    """``tx`` answering one batch's duplicate, owner, sharer and suppression lookups
    from reads made up front; every other call goes to ``tx`` unchanged."""

    def __init__(self, tx: Transaction, workspace: str) -> None:
        self._tx = tx
        self._workspace = workspace
        self._stored: dict[_SourceKey, InteractionRecord | None] = {}
        self._owners: dict[MatchKey, str | None] = {}
        self._sharers: dict[MatchKey, list[str]] = {}
        self._suppressed: dict[str, bool] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)

    def prefetch(
        self, batch: Iterable[Interaction], digest: Callable[[MatchKey], str] | None
    ) -> None:
        """Read what resolving ``batch`` will ask: stored source keys, owners and sharers
        of its identifiers, and (with ``digest``) suppressions of those nobody owns."""
        items = list(batch)
        sources = list(dict.fromkeys((i.channel, i.idempotency_key) for i in items))
        stored = self._tx.find_interactions(self._workspace, sources)
        self._stored.update({key: stored.get(key) for key in sources})
        matches = list(dict.fromkeys(ident.match for i in items for ident in i.identifiers))
        owners = self._tx.owners(self._workspace, matches)
        self._owners.update({match: owners.get(match) for match in matches})
        owned = [match for match in matches if owners.get(match) is not None]
        sharers = self._tx.sharers(self._workspace, owned)
        self._sharers.update({match: sharers.get(match, []) for match in owned})
        if digest is not None:
            digests = {digest(match) for match in matches if owners.get(match) is None}
            hits = self._tx.suppressed(self._workspace, digests)
            self._suppressed.update({d: d in hits for d in digests})

    # --- reads answered from the batch's reads -----------------------------------------

    def find_interaction(
        self, workspace: str, channel: str, idempotency_key: str
    ) -> InteractionRecord | None:
        key = (channel, idempotency_key)
        if workspace == self._workspace and key in self._stored:
            return self._stored[key]
        return self._tx.find_interaction(workspace, channel, idempotency_key)

    def owners(self, workspace: str, matches: Collection[MatchKey]) -> dict[MatchKey, str]:
        if workspace != self._workspace:
            return self._tx.owners(workspace, matches)
        missing = [m for m in matches if m not in self._owners]
        if missing:
            read = self._tx.owners(workspace, missing)
            self._owners.update({m: read.get(m) for m in missing})
        return {m: owner for m in matches if (owner := self._owners[m]) is not None}

    def sharers(self, workspace: str, matches: Collection[MatchKey]) -> dict[MatchKey, list[str]]:
        if workspace != self._workspace:
            return self._tx.sharers(workspace, matches)
        missing = [m for m in matches if m not in self._sharers]
        if missing:
            read = self._tx.sharers(workspace, missing)
            self._sharers.update({m: read.get(m, []) for m in missing})
        return {m: list(found) for m in matches if (found := self._sharers[m])}

    def suppressed(self, workspace: str, digests: Collection[str]) -> set[str]:
        if workspace != self._workspace or any(d not in self._suppressed for d in digests):
            return self._tx.suppressed(workspace, digests)
        return {d for d in digests if self._suppressed[d]}

    # --- writes that change those answers ------------------------------------------------

    def put_profile(
        self,
        profile: Profile,
        *,
        claim: Collection[MatchKey] = (),
        release: Collection[MatchKey] = (),
    ) -> None:
        self._tx.put_profile(profile, claim=claim, release=release)
        if profile.workspace != self._workspace:
            return
        for match in release:  # the store releases only what this profile owns
            if self._owners.get(match) == profile.id:
                self._owners[match] = None
        for match in claim:
            self._owners[match] = profile.id

    def add_sharer(self, workspace: str, match: MatchKey, profile_id: str) -> None:
        self._tx.add_sharer(workspace, match, profile_id)
        known = self._sharers.get(match) if workspace == self._workspace else None
        if known is not None and profile_id not in known:
            self._sharers[match] = [*known, profile_id]

    def insert_interaction(self, workspace: str, interaction: Interaction, profile_id: str) -> None:
        self._tx.insert_interaction(workspace, interaction, profile_id)
        if workspace == self._workspace:
            key = (interaction.channel, interaction.idempotency_key)
            self._stored[key] = InteractionRecord(
                interaction.id, profile_id, interaction.conversation_id
            )

    def move_interactions(
        self,
        workspace: str,
        from_profile: str,
        to_profile: str,
        *,
        origins: Collection[str] | None = None,
    ) -> int:
        # A merge moves stored interactions, so records read for this batch may name the
        # absorbed profile. They would still resolve (merged ids lead to the survivor);
        # they are read again instead, so that nothing stale is handed out.
        self._stored = {key: None for key, record in self._stored.items() if record is None}
        return self._tx.move_interactions(workspace, from_profile, to_profile, origins=origins)

    def erase(self, workspace: str, profile_ids: Collection[str]) -> int:
        self._stored.clear()
        self._owners.clear()
        self._sharers.clear()
        self._suppressed.clear()
        return self._tx.erase(workspace, profile_ids)
