"""The Hub: the facade users call to ingest interactions and read customers back."""

from __future__ import annotations

import base64
import binascii
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from itertools import islice
from types import TracebackType
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from omnichannel._errors import (
    InvalidPayloadError,
    InvalidValueError,
    NotFoundError,
    StoreConflictError,
)
from omnichannel._model import (
    Identifier,
    IngestOutcome,
    IngestResult,
    Interaction,
    Merge,
    Profile,
    ReviewItem,
    ReviewStatus,
    TimelinePage,
)
from omnichannel._normalize import normalize_region
from omnichannel.resolution._deterministic import (
    RULE_MANUAL,
    RULE_REVIEW_ACCEPTED,
    Resolver,
    merge_profiles,
    resolve_live,
    unmerge,
)
from omnichannel.resolution._explain import (
    PairExplanation,
    ProfileExplanation,
    explain_pair,
    explain_profile,
)
from omnichannel.resolution._policy import MergePolicy, Strength
from omnichannel.resolution._scoring import Settings
from omnichannel.storage._protocol import Store, Transaction
from omnichannel.storage._sql import SQLStore

__all__ = ["DEFAULT_DATABASE_URL", "Hub", "IngestSummary", "parse_identifier"]

DEFAULT_DATABASE_URL = "sqlite:///omnichannel.db"
"""Where a Hub opened without a store keeps its data: ``./omnichannel.db``."""

InteractionInput = Interaction | Mapping[str, Any]
_WORKSPACE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_PHONE_LIKE = re.compile(r"^\+?[0-9][0-9 ()./-]{3,}$")
_T = TypeVar("_T")


class IngestSummary(BaseModel):
    """What :meth:`Hub.ingest_many` did, counted per outcome."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    total: int = 0
    created: int = 0
    attached: int = 0
    merged: int = 0
    duplicate: int = 0


def parse_identifier(text: str, *, region: str | None = None) -> Identifier:
    """Read an identifier typed by a person or given on a command line.

    Accepted forms: ``kind:value`` (``phone:+48601234567``, ``email:a@b.com``,
    ``handle:telegram:@jan``, ``external:shopify:C-1001``); a bare email address; a bare
    phone number (national formats read with ``region``); ``platform:handle``
    (``telegram:@jan``).

    Raises:
        InvalidValueError: the text is none of these.
    """
    raw = text.strip()
    kind, sep, rest = raw.partition(":")
    if sep:
        lowered = kind.lower()
        if lowered in ("tel", "sms", "callto"):
            return Identifier.phone(raw, region)
        if lowered == "mailto":
            return Identifier.email(raw)
        if lowered == "phone":
            return Identifier.phone(rest, region)
        if lowered == "email":
            return Identifier.email(rest)
        if lowered in ("handle", "external"):
            namespace, sep2, value = rest.partition(":")
            if not sep2:
                raise InvalidValueError("identifier", text, f"write {lowered}:NAMESPACE:VALUE")
            if lowered == "handle":
                return Identifier.handle(namespace, value)
            return Identifier.external(namespace, value)
        if "@" not in kind:
            return Identifier.handle(kind, rest)
    if "@" in raw[1:]:
        return Identifier.email(raw)
    if _PHONE_LIKE.match(raw):
        return Identifier.phone(raw, region)
    raise InvalidValueError(
        "identifier", text, "is not a phone, an email, or kind:value", mask=True
    )


def _payload_error(exc: ValidationError, prefix: str = "") -> InvalidPayloadError:
    errors = tuple(
        (
            prefix + ".".join(str(part) for part in err["loc"]) or "interaction",
            err["msg"].removeprefix("Value error, "),
        )
        for err in exc.errors(include_url=False)
    )
    first = exc.errors(include_url=False)[0]
    field, reason = errors[0]
    value = first.get("input")
    return InvalidPayloadError(field, getattr(value, "raw", value), reason, errors)


def _encode_cursor(interaction: Interaction) -> str:
    raw = f"{interaction.occurred_at.isoformat()}|{interaction.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, _, iid = base64.urlsafe_b64decode(padded.encode()).decode().partition("|")
        moment = datetime.fromisoformat(at)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidValueError("before", cursor, "is not a timeline cursor", mask=False) from None
    if not iid or moment.tzinfo is None:
        raise InvalidValueError("before", cursor, "is not a timeline cursor", mask=False)
    return moment.astimezone(timezone.utc), iid


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Hub:
    """One customer and one history across every channel: the library's entry point.

    Args:
        store: where data lives. ``None`` opens SQLite at ``./omnichannel.db``; a string is
            a database URL (``sqlite:///path.db``, ``postgresql://...``) or a SQLite file
            path; or any :class:`~omnichannel.storage.Store` instance.
        workspace: the tenant. Every record belongs to one workspace; resolution never
            crosses workspaces, and a Hub sees only its own.
        default_region: ISO country code (``"PL"``) used to read phone numbers written in
            national format in mappings passed to :meth:`ingest` and in :meth:`find`.
        max_attempts: how often a transaction that lost a race with a concurrent writer
            is retried before :class:`~omnichannel.StoreConflictError` is raised.
        policy: the merge policy (:class:`~omnichannel.resolution.MergePolicy`); the
            defaults are safe.
        matching: probabilistic matching settings (:class:`~omnichannel.resolution.Settings`,
            e.g. trained with :func:`~omnichannel.resolution.train` on your CRM export).
            With them, an interaction no identifier attributes is scored against the
            profiles sharing a blocking key: at or above ``link_threshold`` it joins the
            best one (the evidence goes into its ``metadata["resolution"]``); between the
            thresholds a ``possible`` review item is raised. Trait names must match the
            settings' fields; ``email`` and ``phone`` come from the identifiers.

    Example::

        hub = Hub("sqlite:///shop.db", default_region="PL")
        result = hub.ingest({
            "channel": "sms", "source_id": "SM1", "occurred_at": "2026-11-20T10:00:00Z",
            "identifiers": [{"kind": "phone", "value": "601 234 567"}],
            "content": [{"type": "text", "text": "Is my order ready?"}],
        })
        hub.timeline(result.profile_id).items
    """

    def __init__(
        self,
        store: Store | str | None = None,
        *,
        workspace: str = "default",
        default_region: str | None = None,
        max_attempts: int = 20,
        policy: MergePolicy | None = None,
        matching: Settings | None = None,
    ) -> None:
        if not isinstance(workspace, str) or not _WORKSPACE_RE.match(workspace):
            raise InvalidValueError(
                "workspace",
                workspace,
                "must be 1-64 characters: letters, digits, _ . : -",
                mask=False,
            )
        if max_attempts < 1:
            raise InvalidValueError("max_attempts", max_attempts, "must be at least 1", mask=False)
        self.workspace = workspace
        self.default_region = normalize_region(default_region, field="default_region")
        self.max_attempts = max_attempts
        self._owns_store = store is None or isinstance(store, str)
        if store is None:
            store = DEFAULT_DATABASE_URL
        if isinstance(store, str):
            store = SQLStore(store if "://" in store else f"sqlite:///{store}")
        self.store: Store = store
        self._context = {"default_region": self.default_region}
        self.resolver = Resolver(policy, matching)

    # --- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        """Close the store if the Hub opened it."""
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> Hub:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- ingest ----------------------------------------------------------------------

    def validate(self, item: InteractionInput, prefix: str = "") -> Interaction:
        """Check ``item`` as :meth:`ingest` would, without storing anything.

        A mapping is validated with the Hub's default region. ``prefix`` is put before
        field names in errors (``"items[3]."``).

        Raises:
            InvalidPayloadError: a mapping that does not validate (names the field).
            InvalidValueError: no identifier, or only placeholder identifiers.
        """
        if isinstance(item, Interaction):
            interaction = item
        elif isinstance(item, Mapping):
            try:
                interaction = Interaction.model_validate(item, context=self._context)
            except ValidationError as exc:
                raise _payload_error(exc, prefix) from exc
        else:
            raise InvalidValueError(
                prefix.rstrip(".") or "interaction",
                type(item).__name__,
                "must be an Interaction or a mapping",
                mask=False,
            )
        if not interaction.identifiers:
            raise InvalidValueError(
                f"{prefix}identifiers",
                [],
                "needs at least one customer identifier to attribute the interaction",
                mask=False,
            )
        policy = self.resolver.policy
        if all(policy.strength(i) is Strength.PLACEHOLDER for i in interaction.identifiers):
            raise InvalidValueError(
                f"{prefix}identifiers",
                ", ".join(str(i) for i in interaction.identifiers),
                "holds only placeholder values (test@test.com, noreply@ ...): nothing "
                "identifies the customer",
            )
        return interaction

    def _retrying(self, work: Callable[[Transaction], _T], attempts: int | None = None) -> _T:
        limit = attempts or self.max_attempts
        for attempt in range(1, limit + 1):
            try:
                with self.store.transaction() as tx:
                    return work(tx)
            except StoreConflictError:
                if attempt == limit:
                    raise
                time.sleep(random.uniform(0, min(0.2, 0.002 * 2**attempt)))
        raise AssertionError("unreachable")  # pragma: no cover

    def _ingest_in(self, tx: Transaction, interaction: Interaction) -> IngestResult:
        existing = tx.find_interaction(
            self.workspace, interaction.channel, interaction.idempotency_key
        )
        if existing is not None:
            profile_id = self._resolve_id(tx, existing.profile_id)
            return IngestResult(
                profile_id=profile_id,
                interaction_id=existing.interaction_id,
                outcome=IngestOutcome.DUPLICATE,
            )
        return self.resolver.resolve(tx, self.workspace, interaction, _now())

    def _ingest_alone(self, interaction: Interaction) -> IngestResult:
        return self._retrying(lambda tx: self._ingest_in(tx, interaction))

    def ingest(self, interaction: InteractionInput) -> IngestResult:
        """Attribute one interaction to its customer and store both, atomically.

        Delivering the same ``(channel, source_id)`` again stores nothing and returns the
        same profile and interaction ids with outcome ``duplicate``.

        Raises:
            InvalidPayloadError: a mapping that does not validate (names the field).
            InvalidValueError: the interaction has no identifier.
            StoreError: the store failed; nothing was written.
        """
        return self._ingest_alone(self.validate(interaction))

    def ingest_many(
        self, interactions: Iterable[InteractionInput], *, batch_size: int = 500
    ) -> IngestSummary:
        """Ingest a stream, ``batch_size`` interactions per transaction.

        The stream is consumed lazily, so memory stays bounded whatever its length. Each
        batch is validated before it is written and committed as a whole; a failure
        raises with earlier batches committed and re-running the same import is safe
        (already stored interactions count as duplicates). A batch that keeps losing
        races with concurrent writers is retried one interaction per transaction.

        Raises:
            InvalidPayloadError: an item does not validate (its field is prefixed with its
                position, ``items[1234].occurred_at``); its batch is not written.
        """
        if batch_size < 1:
            raise InvalidValueError("batch_size", batch_size, "must be at least 1", mask=False)
        counts = dict.fromkeys(IngestOutcome, 0)
        iterator = iter(interactions)
        position = 0
        while True:
            raw_batch = list(islice(iterator, batch_size))
            if not raw_batch:
                break
            batch = [
                self.validate(item, f"items[{position + n}].") for n, item in enumerate(raw_batch)
            ]
            position += len(batch)

            def work(tx: Transaction, batch: list[Interaction] = batch) -> list[IngestResult]:
                return [self._ingest_in(tx, item) for item in batch]

            try:
                results = self._retrying(work, attempts=2)
            except StoreConflictError:
                # Concurrent writers keep touching the same customers: a big transaction
                # would keep losing, so fall back to one transaction per interaction.
                results = [self._ingest_alone(item) for item in batch]
            for result in results:
                counts[result.outcome] += 1
        return IngestSummary(
            total=sum(counts.values()),
            created=counts[IngestOutcome.CREATED],
            attached=counts[IngestOutcome.ATTACHED],
            merged=counts[IngestOutcome.MERGED],
            duplicate=counts[IngestOutcome.DUPLICATE],
        )

    # --- reading ---------------------------------------------------------------------

    def _resolve_id(self, tx: Transaction, profile_id: str) -> str:
        """Follow ``merged_into`` from ``profile_id`` to the live profile."""
        seen: set[str] = set()
        current = profile_id
        while True:
            profile = tx.get_profile(self.workspace, current)
            if profile is None:
                raise NotFoundError(f"no profile {profile_id!r} in workspace {self.workspace!r}")
            if profile.merged_into is None or current in seen:
                return current
            seen.add(current)
            current = profile.merged_into

    def _identifier(self, identifier: Identifier | str) -> Identifier:
        if isinstance(identifier, Identifier):
            return identifier
        return parse_identifier(identifier, region=self.default_region)

    def find(self, identifier: Identifier | str) -> Profile | None:
        """Return the live profile that owns ``identifier``, or None.

        A string is read by :func:`parse_identifier` with the Hub's default region.
        """
        wanted = self._identifier(identifier)
        with self.store.transaction(readonly=True) as tx:
            owner = tx.owners(self.workspace, [wanted.match]).get(wanted.match)
            return None if owner is None else tx.get_profile(self.workspace, owner)

    def profile(self, profile_id: str) -> Profile:
        """Return the live profile for ``profile_id``; a merged id resolves to its survivor.

        Raises:
            NotFoundError: no such profile in this workspace.
        """
        with self.store.transaction(readonly=True) as tx:
            live = self._resolve_id(tx, profile_id)
            profile = tx.get_profile(self.workspace, live)
            assert profile is not None
            return profile

    def profiles(self, *, page_size: int = 500) -> Iterator[Profile]:
        """Iterate over every live profile of the workspace, in id order, page by page."""
        after: str | None = None
        while True:
            with self.store.transaction(readonly=True) as tx:
                page = tx.list_profiles(self.workspace, after_id=after, limit=page_size)
            yield from page
            if len(page) < page_size:
                return
            after = page[-1].id

    def timeline(self, profile_id: str, limit: int = 50, before: str | None = None) -> TimelinePage:
        """One page of the customer's interactions across all channels, newest first.

        ``profile_id`` may be an absorbed id; the survivor's timeline is returned. Pass
        the page's ``next_cursor`` as ``before`` for the next (older) page.

        Raises:
            NotFoundError: no such profile.
            InvalidValueError: ``limit`` outside 1..1000 or a malformed cursor.
        """
        if not 1 <= limit <= 1000:
            raise InvalidValueError("limit", limit, "must be between 1 and 1000", mask=False)
        position = None if before is None else _decode_cursor(before)
        with self.store.transaction(readonly=True) as tx:
            live = self._resolve_id(tx, profile_id)
            items = tx.timeline(self.workspace, live, limit=limit + 1, before=position)
        has_more = len(items) > limit
        items = items[:limit]
        return TimelinePage(
            items=tuple(items),
            next_cursor=_encode_cursor(items[-1]) if has_more else None,
        )

    def history(self, profile_id: str) -> Iterator[Interaction]:
        """Every interaction of the customer, newest first, fetched page by page."""
        cursor: str | None = None
        while True:
            page = self.timeline(profile_id, limit=200, before=cursor)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    # --- resolution: review, merge, unmerge, explain --------------------------------------

    def _live(self, tx: Transaction, profile_id: str) -> Profile:
        profile = resolve_live(tx, self.workspace, profile_id)
        if profile is None:
            raise NotFoundError(f"no profile {profile_id!r} in workspace {self.workspace!r}")
        locked = tx.get_profile(self.workspace, profile.id, lock=True)
        if locked is None or not locked.is_live:
            raise StoreConflictError("the profile changed; retry")
        return locked

    def reviews(
        self, status: ReviewStatus | str | None = ReviewStatus.OPEN, *, limit: int = 100
    ) -> list[ReviewItem]:
        """Review items, oldest first (open ones by default; ``None`` for all)."""
        wanted = None if status is None else ReviewStatus(status)
        with self.store.transaction(readonly=True) as tx:
            return tx.reviews(self.workspace, status=wanted, limit=limit)

    def _decide(self, review_id: str, accept: bool) -> ReviewItem:
        def work(tx: Transaction) -> ReviewItem:
            item = tx.get_review(self.workspace, review_id)
            if item is None:
                raise NotFoundError(f"no review item {review_id!r}")
            if item.status is not ReviewStatus.OPEN:
                raise InvalidValueError(
                    "review_id", review_id, f"is already {item.status.value}", mask=False
                )
            now = _now()
            first, second = (self._live(tx, pid) for pid in sorted(item.profile_ids))
            if accept and first.id != second.id:
                survivor, absorbed = sorted((first, second), key=lambda p: (p.created_at, p.id))
                merge_profiles(
                    tx,
                    survivor,
                    absorbed,
                    rule=RULE_REVIEW_ACCEPTED,
                    now=now,
                    policy=self.resolver.policy,
                    evidence=item.evidence,
                    interaction_id=item.interaction_id,
                    score=item.score,
                    contributions=item.contributions,
                )
            elif not accept:
                tx.add_apart(self.workspace, *item.profile_ids)
            decided = item.model_copy(
                update={
                    "status": ReviewStatus.ACCEPTED if accept else ReviewStatus.REJECTED,
                    "decided_at": now,
                }
            )
            tx.put_review(decided)
            return decided

        return self._retrying(work)

    def accept(self, review_id: str) -> ReviewItem:
        """Accept a review item: its two profiles are merged (rule ``review-accepted``).

        Raises:
            NotFoundError: no such item. InvalidValueError: it was already decided.
        """
        return self._decide(review_id, accept=True)

    def reject(self, review_id: str) -> ReviewItem:
        """Reject a review item: the two profiles are different people, for good; the
        pair is never proposed again."""
        return self._decide(review_id, accept=False)

    def force_link(self, first_id: str, second_id: str) -> Merge | None:
        """Merge two profiles by hand (rule ``manual``); None if they already are one."""

        def work(tx: Transaction) -> Merge | None:
            first, second = sorted(
                (self._live(tx, first_id), self._live(tx, second_id)), key=lambda p: p.id
            )
            if first.id == second.id:
                return None
            survivor, absorbed = sorted((first, second), key=lambda p: (p.created_at, p.id))
            _, merge = merge_profiles(
                tx, survivor, absorbed, rule=RULE_MANUAL, now=_now(), policy=self.resolver.policy
            )
            return merge

        return self._retrying(work)

    def force_apart(self, first_id: str, second_id: str) -> list[Merge]:
        """Record two profiles as different people. If merges joined them, undo those that
        absorbed either side (newest first). Returns the merges undone."""

        def work(tx: Transaction) -> list[Merge]:
            undone: list[Merge] = []
            now = _now()
            for _ in range(100):
                a = resolve_live(tx, self.workspace, first_id)
                b = resolve_live(tx, self.workspace, second_id)
                if a is None or b is None:
                    raise NotFoundError("no such profile in this workspace")
                if a.id != b.id:
                    break
                path = [
                    m
                    for pid in (first_id, second_id)
                    for m in tx.merges(self.workspace, pid)
                    if m.is_active and m.absorbed_id == pid
                ]
                if not path:  # one of the ids is the survivor: undo the other's chain
                    path = [
                        m
                        for m in tx.merges(self.workspace, a.id)
                        if m.is_active and m.absorbed_id in (first_id, second_id)
                    ]
                if not path:
                    raise InvalidValueError(
                        "profile_id", second_id, "is joined by merges that cannot be undone here"
                    )
                merge = max(path, key=lambda m: (m.merged_at, m.id))
                unmerge(tx, merge, now)
                undone.append(merge)
            tx.add_apart(self.workspace, first_id, second_id)
            return undone

        return self._retrying(work)

    def merges(self, profile_id: str) -> list[Merge]:
        """Merge records in which ``profile_id`` survived or was absorbed, oldest first."""
        with self.store.transaction(readonly=True) as tx:
            return tx.merges(self.workspace, profile_id)

    def unmerge(self, merge_or_profile_id: str) -> tuple[Profile, Profile]:
        """Undo a merge, given its id or the absorbed profile's id.

        The absorbed profile comes back exactly as it was, with its identifiers and every
        interaction that came with it; interactions that arrived later stay. The pair is
        recorded apart, so the same evidence raises a review item instead of merging
        again. Returns ``(holder, restored)``.

        Raises:
            NotFoundError: no such merge, or no active merge absorbed that profile.
        """

        def work(tx: Transaction) -> tuple[Profile, Profile]:
            merge = tx.get_merge(self.workspace, merge_or_profile_id)
            if merge is None:
                found = [
                    m
                    for m in tx.merges(self.workspace, merge_or_profile_id)
                    if m.is_active and m.absorbed_id == merge_or_profile_id
                ]
                if not found:
                    raise NotFoundError(f"no active merge {merge_or_profile_id!r}")
                merge = found[-1]
            return unmerge(tx, merge, _now())

        return self._retrying(work)

    def explain(self, profile_id: str) -> ProfileExplanation:
        """Why the profile holds what it holds: identifiers with their origin, every merge
        with its evidence, open review items; as data and as ``.text``."""
        with self.store.transaction(readonly=True) as tx:
            profile = resolve_live(tx, self.workspace, profile_id)
            if profile is None:
                raise NotFoundError(f"no profile {profile_id!r} in workspace {self.workspace!r}")
            return explain_profile(tx, profile)

    def why(self, first_id: str, second_id: str) -> PairExplanation:
        """Why two profile ids are one customer, or why not."""
        with self.store.transaction(readonly=True) as tx:
            for pid in (first_id, second_id):
                if resolve_live(tx, self.workspace, pid) is None:
                    raise NotFoundError(f"no profile {pid!r} in workspace {self.workspace!r}")
            return explain_pair(tx, self.workspace, first_id, second_id)
