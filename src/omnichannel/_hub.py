"""The Hub: the facade users call to ingest interactions and read customers back."""

from __future__ import annotations

import base64
import binascii
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from functools import partial
from itertools import islice
from types import TracebackType
from typing import Any, TypeVar, cast

from pydantic import BaseModel, ConfigDict, ValidationError

from omnichannel._batch import BatchTransaction
from omnichannel._consent import ConsentPolicy, ContactDecision, decide
from omnichannel._context import CustomerContext, build_context
from omnichannel._conversations import ConversationSettings, file_interaction
from omnichannel._errors import (
    InvalidPayloadError,
    InvalidValueError,
    NotFoundError,
    StoreConflictError,
)
from omnichannel._model import (
    Consent,
    Conversation,
    ConversationStatus,
    Event,
    EventType,
    Identifier,
    IngestOutcome,
    IngestResult,
    Interaction,
    Merge,
    Profile,
    ReviewItem,
    ReviewStatus,
    TimelinePage,
    clean_topics,
    utc,
)
from omnichannel._normalize import normalize_region
from omnichannel._privacy import ForgetResult, ProfileExport, suppression_digest
from omnichannel._topics import Tagger, tag
from omnichannel.resolution._deterministic import (
    RULE_MANUAL,
    RULE_REVIEW_ACCEPTED,
    Resolver,
    merge_profiles,
    people,
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
_log = logging.getLogger("omnichannel")
Subscriber = Callable[[Event], object]


class IngestSummary(BaseModel):
    """What :meth:`Hub.ingest_many` did, counted per outcome."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    total: int = 0
    created: int = 0
    attached: int = 0
    merged: int = 0
    duplicate: int = 0
    suppressed: int = 0


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
        conversations: how interactions are grouped into conversations across channels
            (:class:`~omnichannel.ConversationSettings`: the window, the kinds that
            converse).
        topics: taggers run on each interaction before it is stored: a
            :class:`~omnichannel.topics.TopicRules`, your classifier (any callable
            returning labels), or a list of them.
        consent: how consent is read and which keywords record opt-outs
            (:class:`~omnichannel.consent.ConsentPolicy`).

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
        conversations: ConversationSettings | None = None,
        topics: Tagger | Sequence[Tagger] | None = None,
        consent: ConsentPolicy | None = None,
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
        self.conversation_settings = conversations or ConversationSettings()
        if topics is None:
            topics = ()
        self.taggers: tuple[Tagger, ...] = (topics,) if callable(topics) else tuple(topics)
        self.consent_policy = consent or ConsentPolicy()
        self._subscribers: list[Subscriber] = []
        self._salt: bytes | None = None
        self._local = threading.local()  # per thread: a salt not yet known committed

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
        strength = self.resolver.strength
        if all(strength(i) is Strength.PLACEHOLDER for i in interaction.identifiers):
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

    def _ingest_batch(
        self, batch: list[Interaction], tx: Transaction, events: list[Event]
    ) -> list[IngestResult]:
        if len(batch) > 1:  # the batch's lookups in a few statements instead of four each
            grouped = BatchTransaction(tx, self.workspace)
            salt = self._salt_in(tx)
            grouped.prefetch(batch, lambda match: suppression_digest(salt, match))
            results = [self._ingest_in(cast(Transaction, grouped), item, events) for item in batch]
            grouped.flush()
            return results
        return [self._ingest_in(tx, item, events) for item in batch]

    def _writing(
        self, work: Callable[[Transaction, list[Event]], _T], attempts: int | None = None
    ) -> _T:
        """Run ``work`` in a retried transaction; the events it collects go to the outbox
        in the same transaction and to the subscribers once it has committed."""
        events: list[Event] = []

        def attempt(tx: Transaction) -> _T:
            events.clear()
            self._local.salt = None
            result = work(tx, events)
            tx.add_events(events)
            return result

        result = self._retrying(attempt, attempts)
        if self._salt is None:
            self._salt = getattr(self._local, "salt", None)
        self._publish(events)
        return result

    def _event(
        self, event_type: EventType, profile_id: str | None, now: datetime, **data: Any
    ) -> Event:
        return Event(
            workspace=self.workspace,
            type=event_type,
            occurred_at=now,
            profile_id=profile_id,
            data=data,
        )

    def _salt_in(self, tx: Transaction) -> bytes:
        """The workspace's salt. A salt read or created in a transaction is only kept for
        later ones once that transaction has committed (:meth:`_writing`): a rolled-back
        creation must not outlive its transaction."""
        if self._salt is not None:
            return self._salt
        salt: bytes | None = getattr(self._local, "salt", None)  # reset by each attempt
        if salt is None:
            salt = self._local.salt = tx.salt(self.workspace)
        return salt

    def _suppressed(self, tx: Transaction, identifiers: Sequence[Identifier]) -> bool:
        digests = {suppression_digest(self._salt_in(tx), i.match) for i in identifiers}
        return bool(tx.suppressed(self.workspace, digests))

    def _ingest_in(
        self, tx: Transaction, interaction: Interaction, events: list[Event]
    ) -> IngestResult:
        existing = tx.find_interaction(
            self.workspace, interaction.channel, interaction.idempotency_key
        )
        if existing is not None:
            profile_id = self._resolve_id(tx, existing.profile_id)
            return IngestResult(
                profile_id=profile_id,
                interaction_id=existing.interaction_id,
                conversation_id=existing.conversation_id,
                outcome=IngestOutcome.DUPLICATE,
            )
        now = _now()
        start = len(events)

        def prepare(item: Interaction, profile_id: str, created: bool) -> Interaction:
            return file_interaction(
                tx,
                self.workspace,
                item,
                profile_id,
                self.conversation_settings,
                now,
                events,
                new_profile=created,
            )

        result = self.resolver.resolve(
            tx,
            self.workspace,
            tag(interaction, self.taggers),
            now,
            suppressed=lambda identifiers: self._suppressed(tx, identifiers),
            prepare=prepare,
        )
        if result.outcome is IngestOutcome.SUPPRESSED:
            return result
        pid = result.profile_id
        if result.outcome is IngestOutcome.CREATED:
            events.insert(start, self._event(EventType.PROFILE_CREATED, pid, now))
        for absorbed in result.merged_ids:
            events.append(self._event(EventType.PROFILE_MERGED, pid, now, absorbed_id=absorbed))
        for review_id in result.review_ids:
            events.append(self._event(EventType.REVIEW_CREATED, pid, now, review_id=review_id))
        events.append(
            self._event(
                EventType.INTERACTION_INGESTED,
                pid,
                now,
                interaction_id=result.interaction_id,
                channel=interaction.channel,
                kind=interaction.kind,
                direction=interaction.direction.value,
                outcome=result.outcome.value,
                conversation_id=result.conversation_id,
            )
        )
        granted = self.consent_policy.keyword(interaction)
        if granted is not None:
            for purpose in self.consent_policy.keyword_purposes:
                self._add_consent(
                    tx,
                    events,
                    pid,
                    channel=interaction.channel,
                    purpose=purpose,
                    granted=granted,
                    source="keyword",
                    recorded_at=interaction.occurred_at,
                    evidence={"keyword": interaction.text.strip()},
                    interaction_id=interaction.id,
                    now=now,
                )
        return result

    def ingest(self, interaction: InteractionInput) -> IngestResult:
        """Attribute one interaction to its customer and store both, atomically.

        Delivering the same ``(channel, source_id)`` again stores nothing and returns the
        same profile and interaction ids with outcome ``duplicate``. The interaction is
        tagged with topics, filed in a conversation, and read for opt-out keywords; the
        events of all this go to the outbox in the same transaction.

        Raises:
            InvalidPayloadError: a mapping that does not validate (names the field).
            InvalidValueError: the interaction has no identifier.
            StoreError: the store failed; nothing was written.
        """
        return self._writing(partial(self._ingest_batch, [self.validate(interaction)]))[0]

    def _ingest_split(self, batch: list[Interaction]) -> list[IngestResult]:
        """Ingest ``batch`` in one transaction, tried twice. A batch that keeps losing
        races with concurrent writers (they touch the same customers) is split in halves,
        each ingested the same way, in order; one interaction gets the Hub's full retries.
        """
        if len(batch) == 1:
            return self._writing(partial(self._ingest_batch, batch))
        try:
            return self._writing(partial(self._ingest_batch, batch), attempts=2)
        except StoreConflictError:
            half = len(batch) // 2
            return self._ingest_split(batch[:half]) + self._ingest_split(batch[half:])

    def ingest_many(
        self, interactions: Iterable[InteractionInput], *, batch_size: int = 500
    ) -> IngestSummary:
        """Ingest a stream, ``batch_size`` interactions per transaction.

        The stream is consumed lazily, so memory stays bounded whatever its length. Each
        batch is validated before it is written and committed as a whole; a failure
        raises with earlier batches committed and re-running the same import is safe
        (already stored interactions count as duplicates). A batch that keeps losing
        races with concurrent writers is split in halves, and those again, down to one
        interaction per transaction; each part commits on its own, in stream order.

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
            for result in self._ingest_split(batch):
                counts[result.outcome] += 1
        return IngestSummary(
            total=sum(counts.values()),
            created=counts[IngestOutcome.CREATED],
            attached=counts[IngestOutcome.ATTACHED],
            merged=counts[IngestOutcome.MERGED],
            duplicate=counts[IngestOutcome.DUPLICATE],
            suppressed=counts[IngestOutcome.SUPPRESSED],
        )

    # --- events ----------------------------------------------------------------------

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber(event)`` for each event this Hub writes, once its
        transaction has committed; returns a function that unsubscribes it.

        A subscriber that raises is logged (logger ``omnichannel``) and the others still
        run; the event stays in the outbox for :meth:`drain_events` either way, so a
        failing subscriber loses nothing. Subscribers see this process's events only.
        """
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    def _publish(self, events: Sequence[Event]) -> None:
        for subscriber in list(self._subscribers):
            for event in events:
                try:
                    subscriber(event)
                except Exception:
                    _log.exception(
                        "event subscriber %r failed on %s %s; the event stays in the outbox",
                        subscriber,
                        event.type.value,
                        event.id,
                    )

    def drain_events(
        self, handler: Callable[[Event], object], *, limit: int = 10_000, batch_size: int = 100
    ) -> int:
        """Deliver pending outbox events to ``handler`` in order, at least once; return
        how many were delivered.

        Each event is marked delivered only after ``handler`` returned. If it raises,
        the events delivered before are marked, the failing one and those after stay
        pending for the next call, and the exception propagates. A crash between the
        handler and the mark delivers the event again: deduplicate on ``event.id``.
        Events of all processes writing to the store are drained. No transaction is held
        while the handler runs.
        """
        if batch_size < 1 or limit < 1:
            raise InvalidValueError("batch_size", batch_size, "must be at least 1", mask=False)
        delivered = 0
        while delivered < limit:
            with self.store.transaction(readonly=True) as tx:
                pending = tx.pending_events(
                    self.workspace, limit=min(batch_size, limit - delivered)
                )
            if not pending:
                break
            done: list[str] = []
            try:
                for event in pending:
                    handler(event)
                    done.append(event.id)
            finally:
                if done:
                    self._ack(done)
                    delivered += len(done)
        return delivered

    def _ack(self, event_ids: list[str]) -> None:
        at = _now()
        self._retrying(lambda tx: tx.ack_events(self.workspace, event_ids, at))

    def events(self, *, after_seq: int | None = None, limit: int = 100) -> list[Event]:
        """Outbox events, delivered or not, in store order, after ``after_seq``."""
        with self.store.transaction(readonly=True) as tx:
            return tx.list_events(self.workspace, after_seq=after_seq, limit=limit)

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
        def work(tx: Transaction, events: list[Event]) -> ReviewItem:
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
                _, merge = merge_profiles(
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
                events.append(self._merged_event(merge))
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

        return self._writing(work)

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

        def work(tx: Transaction, events: list[Event]) -> Merge | None:
            first, second = sorted(
                (self._live(tx, first_id), self._live(tx, second_id)), key=lambda p: p.id
            )
            if first.id == second.id:
                return None
            survivor, absorbed = sorted((first, second), key=lambda p: (p.created_at, p.id))
            _, merge = merge_profiles(
                tx, survivor, absorbed, rule=RULE_MANUAL, now=_now(), policy=self.resolver.policy
            )
            events.append(self._merged_event(merge))
            return merge

        return self._writing(work)

    def force_apart(self, first_id: str, second_id: str) -> list[Merge]:
        """Record two profiles as different people. If merges joined them, undo those that
        absorbed either side (newest first). Returns the merges undone."""

        def work(tx: Transaction, events: list[Event]) -> list[Merge]:
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
                events.append(self._unmerged_event(merge, now))
                undone.append(merge)
            tx.add_apart(self.workspace, first_id, second_id)
            return undone

        return self._writing(work)

    def _merged_event(self, merge: Merge) -> Event:
        return self._event(
            EventType.PROFILE_MERGED,
            merge.survivor_id,
            merge.merged_at,
            absorbed_id=merge.absorbed_id,
            merge_id=merge.id,
            rule=merge.rule,
        )

    def _unmerged_event(self, merge: Merge, now: datetime) -> Event:
        return self._event(
            EventType.PROFILE_UNMERGED,
            merge.survivor_id,
            now,
            restored_id=merge.absorbed_id,
            merge_id=merge.id,
        )

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

        def work(tx: Transaction, events: list[Event]) -> tuple[Profile, Profile]:
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
            now = _now()
            restored = unmerge(tx, merge, now)
            events.append(self._unmerged_event(merge, now))
            return restored

        return self._writing(work)

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

    # --- conversations ---------------------------------------------------------------

    def conversation(self, conversation_id: str) -> Conversation:
        """Return a conversation.

        Raises:
            NotFoundError: no such conversation in this workspace.
        """
        with self.store.transaction(readonly=True) as tx:
            return self._conversation(tx, conversation_id)

    def _conversation(self, tx: Transaction, conversation_id: str) -> Conversation:
        found = tx.get_conversation(self.workspace, conversation_id)
        if found is None:
            raise NotFoundError(f"no conversation {conversation_id!r} in {self.workspace!r}")
        return found

    def conversations(
        self,
        profile_id: str,
        status: ConversationStatus | str | None = None,
        *,
        limit: int = 100,
    ) -> list[Conversation]:
        """The customer's conversations, latest activity first (``status`` filters)."""
        wanted = None if status is None else ConversationStatus(status)
        with self.store.transaction(readonly=True) as tx:
            live = self._resolve_id(tx, profile_id)
            return tx.conversations(self.workspace, live, status=wanted, limit=limit)

    def _update_conversation(self, conversation_id: str, **changes: Any) -> Conversation:
        def work(tx: Transaction, events: list[Event]) -> Conversation:
            current = self._conversation(tx, conversation_id)
            updated = current.model_copy(update=changes)
            updated = Conversation.model_validate(updated.model_dump())
            if updated == current:
                return current
            tx.put_conversation(updated)
            if updated.status is not current.status:
                kind = (
                    EventType.CONVERSATION_CLOSED
                    if updated.status is ConversationStatus.CLOSED
                    else EventType.CONVERSATION_OPENED
                )
                events.append(
                    self._event(
                        kind, updated.profile_id, _now(), conversation_id=updated.id, manual=True
                    )
                )
            return updated

        return self._writing(work)

    def close_conversation(
        self, conversation_id: str, *, at: datetime | None = None
    ) -> Conversation:
        """Close a conversation (its resolution time ends ``at``, by default now). A
        closed conversation reopens when the customer replies to it or it is reopened."""
        moment = _now() if at is None else utc(at, field="at")
        current = self.conversation(conversation_id)
        if not current.is_open:
            return current
        return self._update_conversation(
            conversation_id, status=ConversationStatus.CLOSED, closed_at=moment
        )

    def reopen_conversation(self, conversation_id: str) -> Conversation:
        """Reopen a closed conversation."""
        return self._update_conversation(
            conversation_id, status=ConversationStatus.OPEN, closed_at=None
        )

    def assign_conversation(self, conversation_id: str, assignee: str | None) -> Conversation:
        """Set (or with None clear) who on the business side owns a conversation."""
        return self._update_conversation(conversation_id, assignee=assignee)

    def tag_conversation(self, conversation_id: str, *topics: str) -> Conversation:
        """Add topics to a conversation by hand.

        Raises:
            InvalidValueError: an empty label or one longer than 64 characters.
        """
        try:
            cleaned = clean_topics(topics)
        except ValueError as exc:
            raise InvalidValueError("topics", list(topics), str(exc), mask=False) from None
        current = self.conversation(conversation_id)
        return self._update_conversation(
            conversation_id, topics=clean_topics((*current.topics, *cleaned))
        )

    # --- consent ---------------------------------------------------------------------

    def _profile_for(self, tx: Transaction, who: Identifier | str) -> Profile:
        """The live profile named by a profile id, an :class:`Identifier` or its text."""
        if isinstance(who, str):
            found = resolve_live(tx, self.workspace, who)
            if found is not None:
                return found
        try:
            wanted = self._identifier(who)
        except InvalidValueError:
            raise NotFoundError(f"no profile or identifier {who!r} in {self.workspace!r}") from None
        owner = tx.owners(self.workspace, [wanted.match]).get(wanted.match)
        profile = None if owner is None else tx.get_profile(self.workspace, owner)
        if profile is None:
            raise NotFoundError(f"nobody in {self.workspace!r} has {wanted}")
        return profile

    def _add_consent(
        self,
        tx: Transaction,
        events: list[Event],
        profile_id: str,
        *,
        now: datetime,
        **fields: Any,
    ) -> Consent:
        record = Consent(
            workspace=self.workspace,
            profile_id=profile_id,
            covers=tuple(sorted(people(tx, self.workspace, profile_id))),
            **fields,
        )
        tx.add_consent(record)
        events.append(
            self._event(
                EventType.CONSENT_CHANGED,
                profile_id,
                now,
                consent_id=record.id,
                channel=record.channel,
                purpose=record.purpose,
                granted=record.granted,
                source=record.source,
            )
        )
        return record

    def record_consent(
        self,
        who: Identifier | str,
        channel: str,
        purpose: str,
        *,
        granted: bool,
        source: str,
        at: datetime | None = None,
        evidence: Mapping[str, Any] | None = None,
        interaction_id: str | None = None,
    ) -> Consent:
        """Record a customer's answer: may we contact them on ``channel`` for ``purpose``.

        ``who`` is a profile id or an identifier; ``channel`` or ``purpose`` ``"*"``
        answers for all. The answer speaks for the profile and the profiles merged into
        it. Writes a ``consent.changed`` event.

        Raises:
            NotFoundError: no such profile or nobody has that identifier.
            InvalidPayloadError: a malformed channel, purpose, source or time.
        """
        moment = _now() if at is None else utc(at, field="at")

        def work(tx: Transaction, events: list[Event]) -> Consent:
            profile = self._profile_for(tx, who)
            try:
                return self._add_consent(
                    tx,
                    events,
                    profile.id,
                    now=_now(),
                    channel=channel,
                    purpose=purpose,
                    granted=granted,
                    source=source,
                    recorded_at=moment,
                    evidence=dict(evidence or {}),
                    interaction_id=interaction_id,
                )
            except ValidationError as exc:
                raise _payload_error(exc) from exc

        return self._writing(work)

    def consents(self, who: Identifier | str) -> list[Consent]:
        """The consent history the customer's answers rest on, oldest first."""
        with self.store.transaction(readonly=True) as tx:
            profile = self._profile_for(tx, who)
            return tx.consents(self.workspace, people(tx, self.workspace, profile.id))

    def can_contact(self, who: Identifier | str, channel: str, purpose: str) -> ContactDecision:
        """May the business contact this customer on ``channel`` for ``purpose``?

        The answer is truthy when allowed and says why (see :mod:`omnichannel.consent`
        for the rules: the newest answer counts, after a merge the most restrictive
        wins, marketing needs a grant by default).

        Raises:
            NotFoundError: no such profile or nobody has that identifier.
        """
        with self.store.transaction(readonly=True) as tx:
            profile = self._profile_for(tx, who)
            group = people(tx, self.workspace, profile.id)
            records = tx.consents(self.workspace, group)
        return decide(records, group, channel, purpose, self.consent_policy)

    # --- customer context ------------------------------------------------------------

    def context(self, who: Identifier | str, *, interactions: int = 20) -> CustomerContext:
        """Everything an agent needs about the customer on any channel, in one call:
        profile, identifiers, consents, open conversations, the latest interactions
        across channels, recent orders and returns, topics, preferred channel.

        Raises:
            NotFoundError: no such profile or nobody has that identifier.
        """
        if not 1 <= interactions <= 1000:
            raise InvalidValueError(
                "interactions", interactions, "must be between 1 and 1000", mask=False
            )
        with self.store.transaction(readonly=True) as tx:
            profile = self._profile_for(tx, who)
            group = people(tx, self.workspace, profile.id)
            return build_context(tx, profile, group, self.consent_policy, interactions=interactions)

    # --- privacy ---------------------------------------------------------------------

    def export(self, who: Identifier | str) -> ProfileExport:
        """Everything held about the customer (``.model_dump_json()`` writes it as JSON).

        Raises:
            NotFoundError: no such profile or nobody has that identifier.
        """
        with self.store.transaction(readonly=True) as tx:
            profile = self._profile_for(tx, who)
            group = people(tx, self.workspace, profile.id)
            merged = [tx.get_profile(self.workspace, pid) for pid in sorted(group - {profile.id})]
            merges = {m.id: m for pid in sorted(group) for m in tx.merges(self.workspace, pid)}
            reviews = {
                r.id: r
                for pid in sorted(group)
                for r in tx.reviews(self.workspace, profile_id=pid, limit=10_000)
            }
            conversations = tx.conversations(self.workspace, profile.id, limit=100_000)
            consents = tx.consents(self.workspace, group)
        return ProfileExport(
            exported_at=_now(),
            profile=profile,
            merged_profiles=tuple(p for p in merged if p is not None),
            interactions=tuple(self.history(profile.id)),
            conversations=tuple(conversations),
            consents=tuple(consents),
            merges=tuple(sorted(merges.values(), key=lambda m: (m.merged_at, m.id))),
            reviews=tuple(sorted(reviews.values(), key=lambda r: (r.created_at, r.id))),
        )

    def forget(self, who: Identifier | str) -> ForgetResult:
        """Erase the customer everywhere in the store, for good (see
        :mod:`omnichannel.privacy`): later interactions carrying their identifiers are
        not stored (outcome ``suppressed``). Writes a ``profile.forgotten`` event with
        ids and counts only.

        Raises:
            NotFoundError: no such profile or nobody has that identifier.
        """

        def work(tx: Transaction, events: list[Event]) -> ForgetResult:
            profile = self._profile_for(tx, who)
            group = people(tx, self.workspace, profile.id)
            stored = [tx.get_profile(self.workspace, pid, lock=True) for pid in sorted(group)]
            matches = list(
                dict.fromkeys(e.identifier.match for p in stored if p for e in p.identifiers)
            )
            owners = tx.owners(self.workspace, matches)
            sharers = tx.sharers(self.workspace, matches)
            handover: dict[str, list[tuple[str, str, str]]] = {}
            suppress = []
            for match in matches:
                owner = owners.get(match)
                others = [p for p in sharers.get(match, []) if p not in group]
                if owner is not None and owner not in group:
                    continue  # another customer's identifier
                if others:
                    if owner is not None:  # the forgotten owned it: the next sharer does
                        handover.setdefault(others[0], []).append(match)
                    continue
                suppress.append(match)
            salt = self._salt_in(tx)
            tx.add_suppressions(self.workspace, {suppression_digest(salt, m) for m in suppress})
            erased = tx.erase(self.workspace, group)
            for pid, keys in handover.items():
                heir = tx.get_profile(self.workspace, pid, lock=True)
                if heir is not None and heir.is_live:
                    tx.put_profile(heir, claim=keys)
            now = _now()
            event = self._event(
                EventType.PROFILE_FORGOTTEN,
                profile.id,
                now,
                profile_ids=sorted(group),
                interactions=erased,
                suppressed=len(suppress),
                kept_shared=len(matches) - len(suppress),
            )
            events.append(event)
            return ForgetResult(
                profile_ids=tuple(sorted(group)),
                interactions=erased,
                suppressed=len(suppress),
                kept_shared=len(matches) - len(suppress),
                event_id=event.id,
            )

        return self._writing(work)

    # --- scans for reports -----------------------------------------------------------

    def scan(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        page_size: int = 1000,
    ) -> Iterator[tuple[str, Interaction]]:
        """Every ``(profile_id, interaction)`` of the workspace, oldest first, in pages
        (``since`` inclusive, ``until`` exclusive): what reports read."""
        start = None if since is None else utc(since, field="since")
        end = None if until is None else utc(until, field="until")
        after: tuple[datetime, str] | None = None
        while True:
            with self.store.transaction(readonly=True) as tx:
                page = tx.scan_interactions(
                    self.workspace, since=start, until=end, after=after, limit=page_size
                )
            yield from page
            if len(page) < page_size:
                return
            after = (page[-1][1].occurred_at, page[-1][1].id)

    def scan_conversations(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        page_size: int = 1000,
    ) -> Iterator[Conversation]:
        """Every conversation of the workspace opened in ``[since, until)``, oldest first."""
        start = None if since is None else utc(since, field="since")
        end = None if until is None else utc(until, field="until")
        after: tuple[datetime, str] | None = None
        while True:
            with self.store.transaction(readonly=True) as tx:
                page = tx.scan_conversations(
                    self.workspace, since=start, until=end, after=after, limit=page_size
                )
            yield from page
            if len(page) < page_size:
                return
            after = (page[-1].opened_at, page[-1].id)
