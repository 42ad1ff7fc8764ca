"""SQL storage on SQLAlchemy Core: a SQLite file (the embedded default) or PostgreSQL."""

from __future__ import annotations

import importlib.util
import os
import zlib
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from operator import itemgetter
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.sql.compiler import SQLCompiler

from omnichannel._errors import (
    SchemaVersionError,
    StoreConflictError,
    StoreError,
    StoreUnavailableError,
)
from omnichannel._model import (
    TRUSTED,
    Consent,
    Conversation,
    ConversationStatus,
    Event,
    Interaction,
    Merge,
    Profile,
    ReviewItem,
    ReviewStatus,
)
from omnichannel.storage._checkpoint import Checkpointer
from omnichannel.storage._protocol import InteractionRecord, MatchKey

__all__ = ["SCHEMA_VERSION", "SQLStore"]

SCHEMA_VERSION = 6
"""The schema version this release writes and reads.

History: 1, the first schema; 2 adds the index of interactions by origin profile (what an
unmerge walks); 3 adds review items, pairs recorded apart, and shared identifiers; 4 adds
the blocking keys of online probabilistic matching; 5 adds conversations (and each
interaction's conversation), consents, the event outbox, suppressions of forgotten
customers, and the index of interactions by time that reports scan; 6 drops the indexes
of interactions and conversations by origin profile (an unmerge walks the holder's rows
through the profile index, erasure looks in the profiles the erased were merged into).
"""

_ID = 64
# SQLite: write-ahead log pages between checkpoints that restart the log. A checkpoint on
# the store's thread costs a commit nothing, except for the frames of the last commit
# before the restart: the longer log makes those rarer.
_WAL_PAGES = 10_000
_BACKGROUND_WAL_PAGES = 40_000
_CHECKPOINT_INTERVAL = 0.25  # seconds: fewer fsyncs under many small commits
_CHUNK = 50  # keys per lookup statement: an OR of this many equalities, or an IN list
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# PostgreSQL SQLSTATEs after which retrying the transaction can succeed.
_RETRYABLE_PG = {"40001", "40P01", "23505"}


def _micros(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def _tables(metadata: sa.MetaData, prefix: str) -> dict[str, sa.Table]:
    def name(base: str) -> str:
        return f"{prefix}{base}"

    meta = sa.Table(
        name("meta"),
        metadata,
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(256), nullable=False),
    )
    profiles = sa.Table(
        name("profiles"),
        metadata,
        sa.Column("workspace", sa.String(_ID), primary_key=True),
        sa.Column("id", sa.String(_ID), primary_key=True),
        sa.Column("merged_into", sa.String(_ID), nullable=True),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
        sa.Column("doc", sa.Text, nullable=False),
    )
    identifiers = sa.Table(
        name("identifiers"),
        metadata,
        sa.Column("workspace", sa.String(_ID), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("namespace", sa.String(_ID), primary_key=True),
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("profile_id", sa.String(_ID), nullable=False),
        sa.Index(name("identifiers_profile"), "workspace", "profile_id"),
    )
    interactions = sa.Table(
        name("interactions"),
        metadata,
        sa.Column("id", sa.String(_ID), primary_key=True),
        sa.Column("workspace", sa.String(_ID), nullable=False),
        sa.Column("channel", sa.String(_ID), nullable=False),
        sa.Column("source_key", sa.String(600), nullable=False),
        sa.Column("profile_id", sa.String(_ID), nullable=False),
        sa.Column("origin_profile_id", sa.String(_ID), nullable=False),
        sa.Column("occurred_us", sa.BigInteger, nullable=False),
        sa.Column("doc", sa.Text, nullable=False),
        sa.Column("conversation_id", sa.String(_ID), nullable=True),
        sa.UniqueConstraint("workspace", "channel", "source_key", name=name("interactions_source")),
        sa.Index(name("interactions_timeline"), "workspace", "profile_id", "occurred_us", "id"),
        sa.Index(name("interactions_time"), "workspace", "occurred_us", "id"),
    )
    merges = sa.Table(
        name("merges"),
        metadata,
        sa.Column("id", sa.String(_ID), primary_key=True),
        sa.Column("workspace", sa.String(_ID), nullable=False),
        sa.Column("survivor_id", sa.String(_ID), nullable=False),
        sa.Column("absorbed_id", sa.String(_ID), nullable=False),
        sa.Column("merged_us", sa.BigInteger, nullable=False),
        sa.Column("doc", sa.Text, nullable=False),
        sa.Index(name("merges_survivor"), "workspace", "survivor_id"),
        sa.Index(name("merges_absorbed"), "workspace", "absorbed_id"),
    )
    reviews = sa.Table(
        name("reviews"),
        metadata,
        sa.Column("id", sa.String(_ID), primary_key=True),
        sa.Column("workspace", sa.String(_ID), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("first_id", sa.String(_ID), nullable=False),
        sa.Column("second_id", sa.String(_ID), nullable=False),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("doc", sa.Text, nullable=False),
        sa.Index(name("reviews_status"), "workspace", "status", "created_us"),
        sa.Index(name("reviews_first"), "workspace", "first_id"),
        sa.Index(name("reviews_second"), "workspace", "second_id"),
    )
    apart = sa.Table(
        name("apart"),
        metadata,
        sa.Column("workspace", sa.String(_ID), primary_key=True),
        sa.Column("low_id", sa.String(_ID), primary_key=True),
        sa.Column("high_id", sa.String(_ID), primary_key=True),
    )
    sharers = sa.Table(
        name("sharers"),
        metadata,
        sa.Column("workspace", sa.String(_ID), primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("namespace", sa.String(_ID), primary_key=True),
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("profile_id", sa.String(_ID), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )
    blocking = sa.Table(
        name("blocking"),
        metadata,
        sa.Column("workspace", sa.String(_ID), primary_key=True),
        sa.Column("key", sa.String(512), primary_key=True),
        sa.Column("profile_id", sa.String(_ID), primary_key=True),
        sa.Index(name("blocking_profile"), "workspace", "profile_id"),
    )
    conversations = sa.Table(
        name("conversations"),
        metadata,
        sa.Column("workspace", sa.String(_ID), primary_key=True),
        sa.Column("id", sa.String(_ID), primary_key=True),
        sa.Column("profile_id", sa.String(_ID), nullable=False),
        sa.Column("origin_profile_id", sa.String(_ID), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_us", sa.BigInteger, nullable=False),
        sa.Column("last_us", sa.BigInteger, nullable=False),
        sa.Column("doc", sa.Text, nullable=False),
        # status before time: the open-conversation lookup on every ingest skips closed ones
        sa.Index(
            name("conversations_profile"), "workspace", "profile_id", "status", "last_us", "id"
        ),
        sa.Index(name("conversations_time"), "workspace", "opened_us", "id"),
    )
    consents = sa.Table(
        name("consents"),
        metadata,
        sa.Column("id", sa.String(_ID), primary_key=True),
        sa.Column("workspace", sa.String(_ID), nullable=False),
        sa.Column("profile_id", sa.String(_ID), nullable=False),
        sa.Column("recorded_us", sa.BigInteger, nullable=False),
        sa.Column("doc", sa.Text, nullable=False),
        sa.Index(name("consents_profile"), "workspace", "profile_id"),
    )
    events = sa.Table(
        name("events"),
        metadata,
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("id", sa.String(_ID), nullable=False, unique=True),
        sa.Column("workspace", sa.String(_ID), nullable=False),
        sa.Column("delivered_us", sa.BigInteger, nullable=True),
        sa.Column("doc", sa.Text, nullable=False),
        sa.Index(name("events_pending"), "workspace", "delivered_us", "seq"),
        sa.Index(name("events_seq"), "workspace", "seq"),
    )
    workspaces = sa.Table(
        name("workspaces"),
        metadata,
        sa.Column("workspace", sa.String(_ID), primary_key=True),
        sa.Column("salt", sa.String(64), nullable=False),
    )
    suppressions = sa.Table(
        name("suppressions"),
        metadata,
        sa.Column("workspace", sa.String(_ID), primary_key=True),
        sa.Column("digest", sa.String(64), primary_key=True),
    )
    return {
        "blocking": blocking,
        "conversations": conversations,
        "consents": consents,
        "events": events,
        "workspaces": workspaces,
        "suppressions": suppressions,
        "meta": meta,
        "profiles": profiles,
        "identifiers": identifiers,
        "interactions": interactions,
        "merges": merges,
        "reviews": reviews,
        "apart": apart,
        "sharers": sharers,
    }


def _index(table: sa.Table, name: str) -> sa.Index:
    return next(index for index in table.indexes if index.name == name)


def _migrate_1_to_2(conn: Connection, tables: dict[str, sa.Table], prefix: str) -> None:
    """Version 2 added an index of interactions by origin; version 6 dropped it again."""


def _migrate_2_to_3(conn: Connection, tables: dict[str, sa.Table], prefix: str) -> None:
    for name in ("reviews", "apart", "sharers"):
        tables[name].create(conn, checkfirst=True)


def _migrate_3_to_4(conn: Connection, tables: dict[str, sa.Table], prefix: str) -> None:
    tables["blocking"].create(conn, checkfirst=True)


def _migrate_4_to_5(conn: Connection, tables: dict[str, sa.Table], prefix: str) -> None:
    interactions = tables["interactions"]
    quoted = conn.dialect.identifier_preparer.format_table(interactions)
    conn.execute(sa.text(f"ALTER TABLE {quoted} ADD COLUMN conversation_id VARCHAR({_ID})"))
    _index(interactions, f"{prefix}interactions_time").create(conn, checkfirst=True)
    for name in ("conversations", "consents", "events", "workspaces", "suppressions"):
        tables[name].create(conn, checkfirst=True)


def _migrate_5_to_6(conn: Connection, tables: dict[str, sa.Table], prefix: str) -> None:
    """Drop the indexes by origin profile: each cost a random index page per write, and
    erasure finds what it needs by holder (see ``erase``)."""
    preparer = conn.dialect.identifier_preparer
    for table in ("interactions", "conversations"):
        name = preparer.quote(f"{prefix}{table}_origin")
        schema = tables[table].schema
        qualified = f"{preparer.quote_schema(schema)}.{name}" if schema else name
        conn.execute(sa.text(f"DROP INDEX IF EXISTS {qualified}"))


_MIGRATIONS: dict[int, Callable[[Connection, dict[str, sa.Table], str], None]] = {
    1: _migrate_1_to_2,
    2: _migrate_2_to_3,
    3: _migrate_3_to_4,
    4: _migrate_4_to_5,
    5: _migrate_5_to_6,
}
"""``version -> step`` upgrading a schema of that version to the next, in place."""


def _translate(exc: SQLAlchemyError) -> StoreError:
    """Turn a driver or SQLAlchemy exception into the matching StoreError."""
    if isinstance(exc, IntegrityError):
        return StoreConflictError("a concurrent writer stored the same record first")
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if sqlstate in _RETRYABLE_PG:
            return StoreConflictError(f"concurrent update, retry (SQLSTATE {sqlstate})")
        message = str(orig).lower()
        if "database is locked" in message or "database table is locked" in message:
            return StoreConflictError("the SQLite database is locked by another writer")
        if exc.connection_invalidated or (sqlstate or "").startswith("08"):
            return StoreUnavailableError(f"lost the database connection: {orig}")
        if isinstance(exc, OperationalError):
            return StoreUnavailableError(f"the database is unavailable: {orig}")
    return StoreError(f"storage failed: {exc.__class__.__name__}: {exc}")


def _match_keys(table: sa.Table, count: int) -> sa.ColumnElement[bool]:
    """``(workspace, kind, namespace, key) IN (...)`` spelt as an OR of whole-key
    equalities: one primary-key probe per key on SQLite and PostgreSQL alike. SQLite plans
    a row-value ``IN`` list, or ``workspace = :ws AND (... OR ...)``, as a scan of the
    workspace: each term of the OR must name the whole key."""
    b = sa.bindparam
    c = table.c
    return sa.or_(
        *(
            sa.and_(
                c.workspace == b("ws"),
                c.kind == b(f"k{n}"),
                c.namespace == b(f"n{n}"),
                c.key == b(f"v{n}"),
            )
            for n in range(count)
        )
    )


def _key_params(keys: Sequence[MatchKey]) -> dict[str, str]:
    params: dict[str, str] = {}
    for n, (kind, namespace, key) in enumerate(keys):
        params.update({f"k{n}": kind, f"n{n}": namespace, f"v{n}": key})
    return params


class _Statements:
    """Every statement a transaction runs, built once per store so that SQLAlchemy's
    compiled cache is hit without rebuilding expressions on each call."""

    def __init__(self, t: dict[str, sa.Table], dialect: sa.Dialect) -> None:
        p, i, x, m = t["profiles"], t["identifiers"], t["interactions"], t["merges"]
        b = sa.bindparam
        self.tables = t
        self.dialect = dialect
        # SQLite runs the statements below straight on the driver's cursor: SQLAlchemy's
        # execution path costs about 60 us per statement there, the driver about 5 us.
        self.direct = dialect.name == "sqlite" and dialect.paramstyle == "qmark"
        self._compiled: dict[tuple[int, tuple[str, ...]], _Plan | None] = {}
        self.find_interaction = sa.select(x.c.id, x.c.profile_id, x.c.conversation_id).where(
            x.c.workspace == b("ws"), x.c.channel == b("channel"), x.c.source_key == b("key")
        )
        self._owners: dict[int, sa.Select[Any]] = {}
        self._sharers: dict[int, sa.Select[Any]] = {}
        self.get_profile = sa.select(p.c.doc).where(p.c.workspace == b("ws"), p.c.id == b("pid"))
        self.lock_profile = self.get_profile.with_for_update()
        # Upserts: most profiles and conversations written during ingest are new, and
        # update-then-insert took two statements for them.
        self.upsert_profile = _upsert(
            p, dialect, ("workspace", "id"), ("merged_into", "created_us", "updated_us", "doc")
        )
        self.release = i.delete().where(
            i.c.workspace == b("ws"),
            i.c.kind == b("kind"),
            i.c.namespace == b("ns"),
            i.c.key == b("k"),
            i.c.profile_id == b("pid"),
        )
        self.claim = _dialect_insert(i, dialect).on_conflict_do_nothing()  # taken: rowcount 0
        self.insert_interaction = x.insert()
        self.move = (
            x.update()
            .where(x.c.workspace == b("ws"), x.c.profile_id == b("src"))
            .values(profile_id=b("dst"))
        )
        self.insert_merge = m.insert()
        self.update_merge = (
            m.update().where(m.c.id == b("mid")).values(merged_us=b("merged_us"), doc=b("doc"))
        )
        self.get_merge = sa.select(m.c.doc).where(m.c.workspace == b("ws"), m.c.id == b("mid"))
        r, a, sh = t["reviews"], t["apart"], t["sharers"]
        self.insert_review = r.insert()
        self.update_review = (
            r.update().where(r.c.id == b("rid")).values(status=b("status"), doc=b("doc"))
        )
        self.get_review = sa.select(r.c.doc).where(r.c.workspace == b("ws"), r.c.id == b("rid"))
        self.apart_exists = sa.select(a.c.low_id).where(
            a.c.workspace == b("ws"), a.c.low_id == b("low"), a.c.high_id == b("high")
        )
        self.insert_apart = a.insert()
        self.insert_sharer = sh.insert()
        bl = t["blocking"]
        self.blocking_of = sa.select(bl.c.key).where(
            bl.c.workspace == b("ws"), bl.c.profile_id == b("pid")
        )
        self.unfile = bl.delete().where(
            bl.c.workspace == b("ws"), bl.c.profile_id == b("pid"), bl.c.key == b("k")
        )
        self.file = bl.insert()
        self.candidates = (
            sa.select(bl.c.profile_id)
            .where(bl.c.workspace == b("ws"), bl.c.key.in_(b("keys", expanding=True)))
            .distinct()
            .order_by(bl.c.profile_id)
            .limit(b("lim"))
        )
        self.move_from_origins = (
            x.update()
            .where(
                x.c.workspace == b("ws"),
                x.c.profile_id == b("src"),
                x.c.origin_profile_id.in_(b("origins", expanding=True)),
            )
            .values(profile_id=b("dst"))
        )
        self.merges = (
            sa.select(m.c.doc)
            .where(
                m.c.workspace == b("ws"),
                sa.or_(m.c.survivor_id == b("pid"), m.c.absorbed_id == b("pid")),
            )
            .order_by(m.c.merged_us, m.c.id)
        )
        self._conversations_and_more(t)
        newest_first = (x.c.occurred_us.desc(), x.c.id.desc())
        timeline = sa.select(x.c.doc).where(x.c.workspace == b("ws"), x.c.profile_id == b("pid"))
        self.timeline = timeline.order_by(*newest_first).limit(b("lim"))
        self.timeline_before = (
            timeline.where(
                sa.or_(
                    x.c.occurred_us < b("at"),
                    sa.and_(x.c.occurred_us == b("at"), x.c.id < b("before_id")),
                )
            )
            .order_by(*newest_first)
            .limit(b("lim"))
        )

    def compiled(self, statement: sa.ClauseElement, keys: tuple[str, ...]) -> _Plan | None:
        """``statement`` (one of this object's) as driver SQL and the function that
        orders parameters ``keys`` for it, adding the values of binds fixed in the
        statement (an OFFSET 0); None when it must go through SQLAlchemy (an expanding
        IN)."""
        cache_key = (id(statement), keys)
        if cache_key not in self._compiled:
            compiled = statement.compile(dialect=self.dialect, column_keys=list(keys))
            assert isinstance(compiled, SQLCompiler)
            order = tuple(compiled.positiontup or ())
            fixed = {
                name: compiled.binds[name].effective_value for name in order if name not in keys
            }
            usable = (
                compiled.positiontup is not None
                and not compiled.post_compile_params
                and not compiled.literal_execute_params
                and all(value is not None for value in fixed.values())
            )
            self._compiled[cache_key] = (
                (compiled.string, _arranger(order, fixed)) if usable else None
            )
        return self._compiled[cache_key]

    def owners(self, count: int) -> sa.Select[Any]:
        """The lookup of ``count`` match keys in the identifier index."""
        if count not in self._owners:
            i = self.tables["identifiers"]
            query = sa.select(i.c.kind, i.c.namespace, i.c.key, i.c.profile_id)
            self._owners[count] = query.where(_match_keys(i, count))
        return self._owners[count]

    def suppressed(self, count: int) -> sa.Select[Any]:
        """Which of ``count`` digests are suppressed (an ``IN`` of single values, which
        both databases answer with primary-key probes)."""
        if count not in self._suppressed:
            sp = self.tables["suppressions"]
            digests: list[sa.BindParameter[Any]] = [sa.bindparam(f"d{n}") for n in range(count)]
            query = sa.select(sp.c.digest).where(
                sp.c.workspace == sa.bindparam("ws"), sp.c.digest.in_(digests)
            )
            self._suppressed[count] = query
        return self._suppressed[count]

    def profiles(self, count: int, *, lock: bool) -> sa.Select[Any]:
        """``count`` profiles by id (an ``IN`` of single values: primary-key probes), in
        id order; with ``lock``, locked in that order."""
        if (count, lock) not in self._profiles:
            p = self.tables["profiles"]
            ids: list[sa.BindParameter[Any]] = [sa.bindparam(f"p{n}") for n in range(count)]
            query = (
                sa.select(p.c.id, p.c.doc)
                .where(p.c.workspace == sa.bindparam("ws"), p.c.id.in_(ids))
                .order_by(p.c.id)
            )
            self._profiles[(count, lock)] = query.with_for_update() if lock else query
        return self._profiles[(count, lock)]

    def open_of(self, count: int) -> sa.Select[Any]:
        """The open conversations of ``count`` profiles (probes of the profile index)."""
        if count not in self._open_of:
            c = self.tables["conversations"]
            ids: list[sa.BindParameter[Any]] = [sa.bindparam(f"p{n}") for n in range(count)]
            query = sa.select(c.c.profile_id, c.c.doc).where(
                c.c.workspace == sa.bindparam("ws"),
                c.c.profile_id.in_(ids),
                c.c.status == ConversationStatus.OPEN.value,
            )
            self._open_of[count] = query
        return self._open_of[count]

    def find_interactions(self, count: int) -> sa.Select[Any]:
        """Where ``count`` ``(channel, source key)`` pairs are stored, as an OR of
        equalities like :func:`_match_keys`."""
        if count not in self._find_interactions:
            x = self.tables["interactions"]
            b = sa.bindparam
            pairs = (
                sa.and_(
                    x.c.workspace == b("ws"),
                    x.c.channel == b(f"c{n}"),
                    x.c.source_key == b(f"s{n}"),
                )
                for n in range(count)
            )
            query = sa.select(
                x.c.channel, x.c.source_key, x.c.id, x.c.profile_id, x.c.conversation_id
            ).where(sa.or_(*pairs))
            self._find_interactions[count] = query
        return self._find_interactions[count]

    def sharers(self, count: int) -> sa.Select[Any]:
        """The lookup of ``count`` match keys among shared identifiers."""
        if count not in self._sharers:
            sh = self.tables["sharers"]
            query = sa.select(sh.c.kind, sh.c.namespace, sh.c.key, sh.c.profile_id)
            self._sharers[count] = query.where(_match_keys(sh, count)).order_by(
                sh.c.seq, sh.c.profile_id
            )
        return self._sharers[count]

    def _conversations_and_more(self, t: dict[str, sa.Table]) -> None:
        b = sa.bindparam
        c, e = t["conversations"], t["events"]
        # Leaves opened_us (and the conversations_time index entry) alone: rewriting it
        # on every update cost a random index page per interaction. The rare earlier
        # opening (an interaction delivered late) is a second statement, which writes
        # nothing when opened_us is unchanged.
        self.upsert_conversation = _upsert(
            c, self.dialect, ("workspace", "id"), ("profile_id", "status", "last_us", "doc")
        )
        self.opened_earlier = (
            c.update()
            .where(c.c.workspace == b("ws"), c.c.id == b("cid"), c.c.opened_us != b("opened"))
            .values(opened_us=b("opened"))
        )
        self.get_conversation = sa.select(c.c.doc).where(
            c.c.workspace == b("ws"), c.c.id == b("cid")
        )
        self.conversations = (
            sa.select(c.c.doc)
            .where(c.c.workspace == b("ws"), c.c.profile_id == b("pid"))
            .order_by(c.c.last_us.desc(), c.c.id.desc())
            .limit(b("lim"))
        )
        self.open_conversations = (
            sa.select(c.c.doc)
            .where(c.c.workspace == b("ws"), c.c.profile_id == b("pid"), c.c.status == b("status"))
            .order_by(c.c.last_us.desc(), c.c.id.desc())
            .limit(b("lim"))
        )
        self.insert_event = e.insert()
        self._suppressed: dict[int, sa.Select[Any]] = {}
        self._find_interactions: dict[int, sa.Select[Any]] = {}
        self._profiles: dict[tuple[int, bool], sa.Select[Any]] = {}
        self._open_of: dict[int, sa.Select[Any]] = {}


def _interaction_row(workspace: str, interaction: Interaction, profile_id: str) -> dict[str, Any]:
    return {
        "id": interaction.id,
        "workspace": workspace,
        "channel": interaction.channel,
        "source_key": interaction.idempotency_key,
        "profile_id": profile_id,
        "origin_profile_id": profile_id,
        "occurred_us": _micros(interaction.occurred_at),
        "doc": interaction.model_dump_json(),
        "conversation_id": interaction.conversation_id,
    }


def _conversation_row(conversation: Conversation) -> dict[str, Any]:
    """The row of a conversation; its origin is kept from the first write (upsert)."""
    return {
        "workspace": conversation.workspace,
        "id": conversation.id,
        "origin_profile_id": conversation.profile_id,
        "profile_id": conversation.profile_id,
        "status": conversation.status.value,
        "opened_us": _micros(conversation.opened_at),
        "last_us": _micros(conversation.last_activity_at),
        "doc": conversation.model_dump_json(),
    }


def _opened_row(row: dict[str, Any]) -> dict[str, Any]:
    """The parameters of ``opened_earlier`` for a conversation row."""
    return {"ws": row["workspace"], "cid": row["id"], "opened": row["opened_us"]}


def _claim_row(workspace: str, match: MatchKey, profile_id: str) -> dict[str, Any]:
    kind, namespace, key = match
    return {
        "workspace": workspace,
        "kind": kind,
        "namespace": namespace,
        "key": key,
        "profile_id": profile_id,
    }


def _dialect_insert(table: sa.Table, dialect: sa.Dialect) -> Any:
    """The dialect's INSERT, which has ``ON CONFLICT`` (SQLite and PostgreSQL)."""
    return sqlite_insert(table) if dialect.name == "sqlite" else postgresql_insert(table)


def _upsert(
    table: sa.Table, dialect: sa.Dialect, key: tuple[str, ...], columns: tuple[str, ...]
) -> Any:
    """INSERT, or UPDATE ``columns`` when a row with ``key`` exists."""
    insert = _dialect_insert(table, dialect)
    return insert.on_conflict_do_update(
        index_elements=[table.c[k] for k in key],
        set_={name: insert.excluded[name] for name in columns},
    )


_Arrange = Callable[[dict[str, Any]], tuple[Any, ...]]
_Plan = tuple[str, _Arrange]


def _arranger(order: tuple[str, ...], fixed: dict[str, Any]) -> _Arrange:
    """The function that turns named parameters into the driver's positional tuple."""
    if fixed:
        return lambda params: tuple(params[k] if k in params else fixed[k] for k in order)
    if not order:
        return lambda params: ()
    if len(order) == 1:
        (only,) = order
        return lambda params: (params[only],)
    return itemgetter(*order)  # C speed: most statements run here


class _Rows:
    """The few result methods the transaction uses, over a driver cursor."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self.rowcount: int = cursor.rowcount

    def first(self) -> Any:
        return self._cursor.fetchone()

    def all(self) -> list[Any]:
        return list(self._cursor.fetchall())

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor)


class _SQLTransaction:
    def __init__(self, conn: Connection, q: _Statements, readonly: bool) -> None:
        self._c = conn
        self._q = q
        self._readonly = readonly
        self._driver: Any = None  # the DB-API connection, once a statement ran directly

    def _run(self, statement: Any, params: dict[str, Any] | list[dict[str, Any]]) -> Any:
        """Execute one of the prebuilt statements (a list of parameter sets: many rows).

        On SQLite it goes straight to the driver's cursor, inside the same transaction;
        driver errors are wrapped as SQLAlchemy's so that they translate as usual."""
        if not self._q.direct:
            return self._c.execute(statement, params)
        many = isinstance(params, list)
        first: dict[str, Any] = params[0] if isinstance(params, list) else params
        plan = self._q.compiled(statement, tuple(sorted(first)))
        if plan is None:
            return self._c.execute(statement, params)
        sql, arrange = plan
        if self._driver is None:
            self._driver = self._c.connection.driver_connection
        cursor = self._driver.cursor()
        try:
            if many:
                assert isinstance(params, list)
                cursor.executemany(sql, [arrange(row) for row in params])
            else:
                cursor.execute(sql, arrange(first))
        except self._c.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(
                sql, params, exc, self._c.dialect.loaded_dbapi.Error, dialect=self._c.dialect
            ) from exc
        return _Rows(cursor)

    def _writable(self) -> None:
        if self._readonly:
            raise StoreError("write attempted in a read-only transaction")

    def find_interaction(
        self, workspace: str, channel: str, idempotency_key: str
    ) -> InteractionRecord | None:
        row = self._run(
            self._q.find_interaction, {"ws": workspace, "channel": channel, "key": idempotency_key}
        ).first()
        return None if row is None else InteractionRecord(row[0], row[1], row[2])

    def find_interactions(
        self, workspace: str, keys: Collection[tuple[str, str]]
    ) -> dict[tuple[str, str], InteractionRecord]:
        wanted = list(dict.fromkeys(keys))
        found: dict[tuple[str, str], InteractionRecord] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            params: dict[str, str] = {"ws": workspace}
            for n, (channel, key) in enumerate(chunk):
                params.update({f"c{n}": channel, f"s{n}": key})
            for channel, key, iid, pid, cid in self._run(
                self._q.find_interactions(len(chunk)), params
            ):
                found[(channel, key)] = InteractionRecord(iid, pid, cid)
        return found

    def owners(self, workspace: str, matches: Collection[MatchKey]) -> dict[MatchKey, str]:
        wanted = list(dict.fromkeys(matches))
        found: dict[MatchKey, str] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            rows = self._run(self._q.owners(len(chunk)), {"ws": workspace, **_key_params(chunk)})
            for kind, namespace, key, profile_id in rows:
                found[(kind, namespace, key)] = profile_id
        return found

    def get_profile(self, workspace: str, profile_id: str, *, lock: bool = False) -> Profile | None:
        query = self._q.lock_profile if lock else self._q.get_profile
        row = self._run(query, {"ws": workspace, "pid": profile_id}).first()
        return None if row is None else Profile.model_validate_json(row[0], context=TRUSTED)

    def get_profiles(
        self, workspace: str, profile_ids: Collection[str], *, lock: bool = False
    ) -> dict[str, Profile]:
        wanted = sorted(set(profile_ids))  # chunks in id order: locks taken in id order
        found: dict[str, Profile] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            params = {"ws": workspace, **{f"p{n}": pid for n, pid in enumerate(chunk)}}
            for pid, doc in self._run(self._q.profiles(len(chunk), lock=lock), params):
                found[pid] = Profile.model_validate_json(doc, context=TRUSTED)
        return found

    def list_profiles(
        self, workspace: str, *, after_id: str | None = None, limit: int = 100
    ) -> list[Profile]:
        t = self._q.tables["profiles"]
        query = sa.select(t.c.doc).where(t.c.workspace == workspace, t.c.merged_into.is_(None))
        if after_id is not None:
            query = query.where(t.c.id > after_id)
        rows = self._c.execute(query.order_by(t.c.id).limit(limit))
        return [Profile.model_validate_json(doc, context=TRUSTED) for (doc,) in rows]

    def put_profile(
        self,
        profile: Profile,
        *,
        claim: Collection[MatchKey] = (),
        release: Collection[MatchKey] = (),
    ) -> None:
        self._writable()
        ws, pid = profile.workspace, profile.id
        values = {
            "merged_into": profile.merged_into,
            "created_us": _micros(profile.created_at),
            "updated_us": _micros(profile.updated_at),
            "doc": profile.model_dump_json(),
        }
        self._run(self._q.upsert_profile, {"workspace": ws, "id": pid, **values})
        for kind, namespace, key in release:
            self._run(
                self._q.release, {"ws": ws, "kind": kind, "ns": namespace, "k": key, "pid": pid}
            )
        if not claim:
            return
        # Insert what nobody owns; only when some key was taken, find out by whom.
        wanted = list(dict.fromkeys(claim))
        inserted = sum(
            self._run(self._q.claim, _claim_row(ws, match, pid)).rowcount for match in wanted
        )
        if inserted < len(wanted):
            owned = self.owners(ws, wanted)
            if any(owned.get(match) != pid for match in wanted):
                raise StoreConflictError("an identifier is owned by another profile")

    def put_profiles(
        self,
        profiles: Sequence[Profile],
        *,
        claim: Collection[tuple[MatchKey, str]] = (),
        release: Collection[tuple[MatchKey, str]] = (),
    ) -> None:
        self._writable()
        if not profiles:
            return
        ws = profiles[0].workspace
        rows = [
            {
                "workspace": profile.workspace,
                "id": profile.id,
                "merged_into": profile.merged_into,
                "created_us": _micros(profile.created_at),
                "updated_us": _micros(profile.updated_at),
                "doc": profile.model_dump_json(),
            }
            for profile in profiles
        ]
        self._run(self._q.upsert_profile, rows)
        if release:
            releases = [
                {"ws": ws, "kind": kind, "ns": namespace, "k": key, "pid": pid}
                for (kind, namespace, key), pid in release
            ]
            self._run(self._q.release, releases)
        wanted = dict(claim)
        if not wanted:
            return
        claims = [_claim_row(ws, match, pid) for match, pid in wanted.items()]
        if self._run(self._q.claim, claims).rowcount != len(claims):
            # Some key was there already (or the driver does not count): whose is it?
            owned = self.owners(ws, list(wanted))
            if any(owned.get(match) != pid for match, pid in wanted.items()):
                raise StoreConflictError("an identifier is owned by another profile")

    def insert_interaction(self, workspace: str, interaction: Interaction, profile_id: str) -> None:
        self._writable()
        self._run(self._q.insert_interaction, _interaction_row(workspace, interaction, profile_id))

    def insert_interactions(self, workspace: str, rows: Sequence[tuple[Interaction, str]]) -> None:
        self._writable()
        if rows:
            params = [_interaction_row(workspace, item, pid) for item, pid in rows]
            self._run(self._q.insert_interaction, params)

    def move_interactions(
        self,
        workspace: str,
        from_profile: str,
        to_profile: str,
        *,
        origins: Collection[str] | None = None,
    ) -> int:
        self._writable()
        params: dict[str, object] = {"ws": workspace, "src": from_profile, "dst": to_profile}
        if origins is None:
            result = self._run(self._q.move, params)
        else:
            if not origins:
                return 0
            result = self._run(self._q.move_from_origins, {**params, "origins": list(origins)})
        return int(result.rowcount)

    def put_merge(self, merge: Merge) -> None:
        self._writable()
        doc = merge.model_dump_json()
        merged_us = _micros(merge.merged_at)
        updated = self._run(
            self._q.update_merge, {"mid": merge.id, "merged_us": merged_us, "doc": doc}
        )
        if updated.rowcount == 0:
            self._run(
                self._q.insert_merge,
                {
                    "id": merge.id,
                    "workspace": merge.workspace,
                    "survivor_id": merge.survivor_id,
                    "absorbed_id": merge.absorbed_id,
                    "merged_us": merged_us,
                    "doc": doc,
                },
            )

    def get_merge(self, workspace: str, merge_id: str) -> Merge | None:
        row = self._run(self._q.get_merge, {"ws": workspace, "mid": merge_id}).first()
        return None if row is None else Merge.model_validate_json(row[0], context=TRUSTED)

    def put_review(self, item: ReviewItem) -> None:
        self._writable()
        doc = item.model_dump_json()
        updated = self._run(
            self._q.update_review, {"rid": item.id, "status": item.status.value, "doc": doc}
        )
        if updated.rowcount == 0:
            self._run(
                self._q.insert_review,
                {
                    "id": item.id,
                    "workspace": item.workspace,
                    "status": item.status.value,
                    "first_id": item.profile_ids[0],
                    "second_id": item.profile_ids[1],
                    "created_us": _micros(item.created_at),
                    "doc": doc,
                },
            )

    def get_review(self, workspace: str, review_id: str) -> ReviewItem | None:
        row = self._run(self._q.get_review, {"ws": workspace, "rid": review_id}).first()
        return None if row is None else ReviewItem.model_validate_json(row[0], context=TRUSTED)

    def reviews(
        self,
        workspace: str,
        *,
        status: ReviewStatus | None = None,
        profile_id: str | None = None,
        limit: int = 100,
    ) -> list[ReviewItem]:
        r = self._q.tables["reviews"]
        query = sa.select(r.c.doc).where(r.c.workspace == workspace)
        if status is not None:
            query = query.where(r.c.status == status.value)
        if profile_id is not None:
            query = query.where(sa.or_(r.c.first_id == profile_id, r.c.second_id == profile_id))
        rows = self._c.execute(query.order_by(r.c.created_us, r.c.id).limit(limit))
        return [ReviewItem.model_validate_json(doc, context=TRUSTED) for (doc,) in rows]

    def add_apart(self, workspace: str, first: str, second: str) -> None:
        self._writable()
        if not self.is_apart(workspace, first, second):
            low, high = sorted((first, second))
            self._run(
                self._q.insert_apart, {"workspace": workspace, "low_id": low, "high_id": high}
            )

    def is_apart(self, workspace: str, first: str, second: str) -> bool:
        low, high = sorted((first, second))
        found = self._run(self._q.apart_exists, {"ws": workspace, "low": low, "high": high})
        return found.first() is not None

    def add_sharer(self, workspace: str, match: MatchKey, profile_id: str) -> None:
        self._writable()
        existing = self.sharers(workspace, [match]).get(match, [])
        if profile_id not in existing:
            kind, namespace, key = match
            self._run(
                self._q.insert_sharer,
                {
                    "workspace": workspace,
                    "kind": kind,
                    "namespace": namespace,
                    "key": key,
                    "profile_id": profile_id,
                    "seq": len(existing),
                },
            )

    def sharers(self, workspace: str, matches: Collection[MatchKey]) -> dict[MatchKey, list[str]]:
        wanted = list(dict.fromkeys(matches))
        found: dict[MatchKey, list[str]] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            rows = self._run(self._q.sharers(len(chunk)), {"ws": workspace, **_key_params(chunk)})
            for kind, namespace, key, profile_id in rows:
                found.setdefault((kind, namespace, key), []).append(profile_id)
        return found

    def set_blocking_keys(self, workspace: str, profile_id: str, keys: Collection[str]) -> None:
        self._writable()
        params = {"ws": workspace, "pid": profile_id}
        old = {key for (key,) in self._run(self._q.blocking_of, params)}
        new = set(keys)
        for key in old - new:
            self._run(self._q.unfile, {**params, "k": key})
        rows = [{"workspace": workspace, "key": k, "profile_id": profile_id} for k in new - old]
        if rows:
            self._run(self._q.file, rows)

    def candidates(self, workspace: str, keys: Collection[str], *, limit: int) -> list[str]:
        if not keys:
            return []
        rows = self._run(self._q.candidates, {"ws": workspace, "keys": list(keys), "lim": limit})
        return [profile_id for (profile_id,) in rows]

    def merges(self, workspace: str, profile_id: str) -> list[Merge]:
        rows = self._run(self._q.merges, {"ws": workspace, "pid": profile_id})
        return [Merge.model_validate_json(doc, context=TRUSTED) for (doc,) in rows]

    def timeline(
        self,
        workspace: str,
        profile_id: str,
        *,
        limit: int,
        before: tuple[datetime, str] | None = None,
    ) -> list[Interaction]:
        params: dict[str, object] = {"ws": workspace, "pid": profile_id, "lim": limit}
        if before is None:
            rows = self._run(self._q.timeline, params)
        else:
            params.update(at=_micros(before[0]), before_id=before[1])
            rows = self._run(self._q.timeline_before, params)
        return [Interaction.model_validate_json(doc, context=TRUSTED) for (doc,) in rows]

    def scan_interactions(
        self,
        workspace: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int = 1000,
    ) -> list[tuple[str, Interaction]]:
        x = self._q.tables["interactions"]
        query = sa.select(x.c.profile_id, x.c.doc).where(
            x.c.workspace == workspace, *_window(x.c.occurred_us, x.c.id, since, until, after)
        )
        rows = self._c.execute(query.order_by(x.c.occurred_us, x.c.id).limit(limit))
        return [(pid, Interaction.model_validate_json(doc, context=TRUSTED)) for pid, doc in rows]

    def put_conversation(self, conversation: Conversation) -> None:
        self._writable()
        row = _conversation_row(conversation)
        self._run(self._q.upsert_conversation, row)
        self._run(self._q.opened_earlier, _opened_row(row))

    def put_conversations(self, conversations: Sequence[Conversation]) -> None:
        self._writable()
        if conversations:
            params = [_conversation_row(c) for c in conversations]
            self._run(self._q.upsert_conversation, params)
            self._run(self._q.opened_earlier, [_opened_row(row) for row in params])

    def get_conversation(self, workspace: str, conversation_id: str) -> Conversation | None:
        row = self._run(self._q.get_conversation, {"ws": workspace, "cid": conversation_id}).first()
        return None if row is None else Conversation.model_validate_json(row[0], context=TRUSTED)

    def conversations(
        self,
        workspace: str,
        profile_id: str,
        *,
        status: ConversationStatus | None = None,
        limit: int = 100,
    ) -> list[Conversation]:
        params: dict[str, object] = {"ws": workspace, "pid": profile_id, "lim": limit}
        if status is None:
            rows = self._run(self._q.conversations, params)
        else:
            rows = self._run(self._q.open_conversations, {**params, "status": status.value})
        return [Conversation.model_validate_json(doc, context=TRUSTED) for (doc,) in rows]

    def open_conversations(
        self, workspace: str, profile_ids: Collection[str]
    ) -> dict[str, list[Conversation]]:
        wanted = list(dict.fromkeys(profile_ids))
        found: dict[str, list[Conversation]] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            params = {"ws": workspace, **{f"p{n}": pid for n, pid in enumerate(chunk)}}
            for pid, doc in self._run(self._q.open_of(len(chunk)), params):
                conversation = Conversation.model_validate_json(doc, context=TRUSTED)
                found.setdefault(pid, []).append(conversation)
        for conversations in found.values():
            conversations.sort(key=lambda c: (c.last_activity_at, c.id), reverse=True)
        return found

    def move_conversations(
        self,
        workspace: str,
        from_profile: str,
        to_profile: str,
        *,
        origins: Collection[str] | None = None,
    ) -> int:
        self._writable()
        c = self._q.tables["conversations"]
        where = [c.c.workspace == workspace, c.c.profile_id == from_profile]
        if origins is not None:
            if not origins:
                return 0
            where.append(c.c.origin_profile_id.in_(list(origins)))
        rows = self._c.execute(sa.select(c.c.doc).where(*where)).all()
        for (doc,) in rows:
            moved = Conversation.model_validate_json(doc, context=TRUSTED).model_copy(
                update={"profile_id": to_profile}
            )
            self.put_conversation(moved)
        return len(rows)

    def scan_conversations(
        self,
        workspace: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        after: tuple[datetime, str] | None = None,
        limit: int = 1000,
    ) -> list[Conversation]:
        c = self._q.tables["conversations"]
        query = sa.select(c.c.doc).where(
            c.c.workspace == workspace, *_window(c.c.opened_us, c.c.id, since, until, after)
        )
        rows = self._c.execute(query.order_by(c.c.opened_us, c.c.id).limit(limit))
        return [Conversation.model_validate_json(doc, context=TRUSTED) for (doc,) in rows]

    def add_consent(self, consent: Consent) -> None:
        self._writable()
        t = self._q.tables["consents"]
        self._c.execute(
            t.insert(),
            {
                "id": consent.id,
                "workspace": consent.workspace,
                "profile_id": consent.profile_id,
                "recorded_us": _micros(consent.recorded_at),
                "doc": consent.model_dump_json(),
            },
        )

    def consents(self, workspace: str, profile_ids: Collection[str]) -> list[Consent]:
        if not profile_ids:
            return []
        t = self._q.tables["consents"]
        query = (
            sa.select(t.c.doc)
            .where(t.c.workspace == workspace, t.c.profile_id.in_(list(profile_ids)))
            .order_by(t.c.recorded_us, t.c.id)
        )
        return [
            Consent.model_validate_json(doc, context=TRUSTED) for (doc,) in self._c.execute(query)
        ]

    def add_events(self, events: Sequence[Event]) -> None:
        self._writable()
        if events:
            self._run(
                self._q.insert_event,
                [
                    {
                        "id": e.id,
                        "workspace": e.workspace,
                        "delivered_us": None,
                        "doc": e.model_dump_json(exclude={"seq", "delivered_at"}),
                    }
                    for e in events
                ],
            )

    def _events(self, rows: Iterator[Any]) -> list[Event]:
        found = []
        for seq, doc, delivered_us in rows:
            event = Event.model_validate_json(doc, context=TRUSTED)
            delivered = None if delivered_us is None else _from_micros(delivered_us)
            found.append(event.model_copy(update={"seq": seq, "delivered_at": delivered}))
        return found

    def pending_events(self, workspace: str, *, limit: int = 100) -> list[Event]:
        e = self._q.tables["events"]
        query = (
            sa.select(e.c.seq, e.c.doc, e.c.delivered_us)
            .where(e.c.workspace == workspace, e.c.delivered_us.is_(None))
            .order_by(e.c.seq)
            .limit(limit)
        )
        return self._events(iter(self._c.execute(query)))

    def ack_events(self, workspace: str, event_ids: Collection[str], at: datetime) -> None:
        self._writable()
        if not event_ids:
            return
        e = self._q.tables["events"]
        self._c.execute(
            e.update()
            .where(e.c.workspace == workspace, e.c.id.in_(list(event_ids)))
            .values(delivered_us=_micros(at))
        )

    def list_events(
        self, workspace: str, *, after_seq: int | None = None, limit: int = 100
    ) -> list[Event]:
        e = self._q.tables["events"]
        query = sa.select(e.c.seq, e.c.doc, e.c.delivered_us).where(e.c.workspace == workspace)
        if after_seq is not None:
            query = query.where(e.c.seq > after_seq)
        return self._events(iter(self._c.execute(query.order_by(e.c.seq).limit(limit))))

    def salt(self, workspace: str) -> bytes:
        t = self._q.tables["workspaces"]
        row = self._c.execute(sa.select(t.c.salt).where(t.c.workspace == workspace)).first()
        if row is not None:
            return bytes.fromhex(row[0])
        self._writable()
        salt = os.urandom(32)
        self._c.execute(t.insert(), {"workspace": workspace, "salt": salt.hex()})
        return salt

    def add_suppressions(self, workspace: str, digests: Collection[str]) -> None:
        self._writable()
        new = set(digests) - self.suppressed(workspace, digests)
        if new:
            t = self._q.tables["suppressions"]
            self._c.execute(
                t.insert(), [{"workspace": workspace, "digest": d} for d in sorted(new)]
            )

    def suppressed(self, workspace: str, digests: Collection[str]) -> set[str]:
        if not digests:
            return set()
        wanted = list(dict.fromkeys(digests))
        found: set[str] = set()
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            params = {"ws": workspace, **{f"d{n}": digest for n, digest in enumerate(chunk)}}
            found.update(d for (d,) in self._run(self._q.suppressed(len(chunk)), params))
        return found

    def _merged_into(self, workspace: str, ids: Collection[str]) -> set[str]:
        """``ids`` and every profile they were merged into, following ``merged_into``."""
        p = self._q.tables["profiles"]
        found = set(ids)
        frontier = sorted(found)
        while frontier:
            rows = self._c.execute(
                sa.select(p.c.merged_into).where(
                    p.c.workspace == workspace,
                    p.c.id.in_(frontier),
                    p.c.merged_into.is_not(None),
                )
            )
            frontier = sorted({into for (into,) in rows} - found)
            found.update(frontier)
        return found

    def erase(self, workspace: str, profile_ids: Collection[str]) -> int:
        self._writable()
        ids = list(profile_ids)
        if not ids:
            return 0
        t = self._q.tables
        holders = self._merged_into(workspace, ids)

        def delete(name: str, *columns: str) -> int:
            table = t[name]
            match = sa.or_(*(table.c[col].in_(ids) for col in columns))
            result = self._c.execute(table.delete().where(table.c.workspace == workspace, match))
            return int(result.rowcount)

        def delete_held(name: str) -> int:
            # Found by holder, through the profile index: a row first attached to one of
            # ``ids`` is held by it or by a profile it was merged into.
            table = t[name]
            mine = sa.or_(table.c.profile_id.in_(ids), table.c.origin_profile_id.in_(ids))
            held = table.c.profile_id.in_(sorted(holders))
            result = self._c.execute(
                table.delete().where(table.c.workspace == workspace, held, mine)
            )
            return int(result.rowcount)

        erased = delete_held("interactions")
        delete("identifiers", "profile_id")
        delete("profiles", "id")
        delete_held("conversations")
        delete("consents", "profile_id")
        delete("merges", "survivor_id", "absorbed_id")
        delete("reviews", "first_id", "second_id")
        delete("apart", "low_id", "high_id")
        delete("sharers", "profile_id")
        delete("blocking", "profile_id")
        return erased


def _window(
    at: sa.ColumnElement[int],
    ident: sa.ColumnElement[str],
    since: datetime | None,
    until: datetime | None,
    after: tuple[datetime, str] | None,
) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    if since is not None:
        where.append(at >= _micros(since))
    if until is not None:
        where.append(at < _micros(until))
    if after is not None:
        moment = _micros(after[0])
        where.append(sa.or_(at > moment, sa.and_(at == moment, ident > after[1])))
    return where


def _sqlite_engine(url: sa.URL, checkpointer: Checkpointer | None) -> Engine:
    engine = sa.create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA busy_timeout = 30000")
        if url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            # A longer write-ahead log between checkpoints: a page changed by several
            # transactions in a row is copied back to the database once, not each time.
            # With a background checkpointer, SQLite's own is only a backstop.
            pages = _WAL_PAGES if checkpointer is None else 2 * checkpointer.limit_pages
            cursor.execute(f"PRAGMA wal_autocheckpoint = {pages}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front, so two writers never deadlock on upgrade.
        readonly = conn.get_execution_options().get("omnichannel_readonly", False)
        if not readonly and checkpointer is not None:
            checkpointer.before_write(conn.connection.driver_connection)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


def _checkpointer(url: sa.URL, checkpoint: str) -> Checkpointer | None:
    database = url.database
    if checkpoint == "inline" or database in (None, "", ":memory:") or url.query:
        return None  # in memory, or a URI filename with options: SQLite checkpoints
    return Checkpointer(
        Path(database).resolve(),
        limit_pages=_BACKGROUND_WAL_PAGES,
        interval=_CHECKPOINT_INTERVAL,
    )


def _make_engine(url: str, checkpoint: str) -> tuple[Engine, Checkpointer | None]:
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StoreError(f"not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        checkpointer = _checkpointer(parsed, checkpoint)
        return _sqlite_engine(parsed, checkpointer), checkpointer
    if backend != "postgresql":
        raise StoreError(
            f"cannot open {parsed.render_as_string(hide_password=True)}: SQLStore supports "
            "SQLite (sqlite:///file.db) and PostgreSQL (postgresql://...)"
        )
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername == "postgresql+psycopg" and importlib.util.find_spec("psycopg") is None:
        raise StoreError("PostgreSQL needs the psycopg driver: pip install 'omnichannel[postgres]'")
    try:
        return sa.create_engine(parsed, pool_pre_ping=True), None
    except (SQLAlchemyError, ImportError) as exc:
        raise StoreError(
            f"cannot open {parsed.render_as_string(hide_password=True)}: {exc}"
        ) from exc


class SQLStore:
    """A store in a SQL database through SQLAlchemy Core.

    ``SQLStore("sqlite:///omnichannel.db")`` is the embedded default: one file, WAL mode,
    writers serialized by ``BEGIN IMMEDIATE``. ``SQLStore("postgresql://...")`` (extra
    ``postgres``) serves many processes; the unique indexes and row locks keep the
    invariants and conflicting transactions fail with :class:`StoreConflictError`, which
    the Hub retries.

    Args:
        url: a database URL or an existing SQLAlchemy ``Engine`` (the store then does not
            dispose of it on close).
        table_prefix: prepended to every table name, so the tables can live beside a CRM's.
        schema: the database schema (PostgreSQL) to create the tables in.
        checkpoint: for a SQLite file, who copies the write-ahead log back into the
            database. ``"background"`` (the default): a thread of the store, after
            commits, so a commit does not wait for that copy and its fsyncs.
            ``"inline"``: SQLite itself, inside the commit that crosses its threshold.

    Raises:
        StoreError: the URL is malformed or its driver missing.
        StoreUnavailableError: the database cannot be reached.
        SchemaVersionError: the database was written by a newer omnichannel.
    """

    def __init__(
        self,
        url: str | Engine,
        *,
        table_prefix: str = "omnichannel_",
        schema: str | None = None,
        checkpoint: Literal["background", "inline"] = "background",
    ) -> None:
        if checkpoint not in ("background", "inline"):
            raise StoreError(f"checkpoint must be 'background' or 'inline', not {checkpoint!r}")
        self._owns_engine = not isinstance(url, Engine)
        self._checkpointer: Checkpointer | None = None
        if isinstance(url, str):
            self.engine, self._checkpointer = _make_engine(url, checkpoint)
        else:
            self.engine = url
        self._metadata = sa.MetaData(schema=schema)
        self._prefix = table_prefix
        self._schema = schema
        self._t = _tables(self._metadata, table_prefix)
        self._q = _Statements(self._t, self.engine.dialect)
        self._closed = False
        self._prepare_schema()

    @property
    def schema_version(self) -> int:
        """The schema version recorded in the database."""
        with self._guard(), self.engine.connect() as conn:
            return self._read_version(conn) or 0

    def _read_version(self, conn: Connection) -> int | None:
        meta = self._t["meta"]
        row = conn.execute(sa.select(meta.c.value).where(meta.c.key == "schema_version")).first()
        return None if row is None else int(row[0])

    def _prepare_schema(self) -> None:
        """Create the schema, or upgrade an older one in place, under a lock."""
        meta = self._t["meta"]
        with self._guard(), self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # One process prepares the schema at a time (SQLite: BEGIN IMMEDIATE does it).
                key = zlib.crc32(f"omnichannel:{self._schema}:{self._prefix}".encode())
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
            if not sa.inspect(conn).has_table(meta.name, schema=self._schema):
                self._metadata.create_all(conn)
                conn.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
                return
            version = self._read_version(conn)
            if version is None:
                raise SchemaVersionError(
                    f"table {meta.name} exists but records no schema version; "
                    "is the table prefix used by something else?"
                )
            if version > SCHEMA_VERSION:
                raise SchemaVersionError(
                    f"the database schema is version {version}, newer than this omnichannel "
                    f"(version {SCHEMA_VERSION}); upgrade the omnichannel package"
                )
            while version < SCHEMA_VERSION:
                _MIGRATIONS[version](conn, self._t, self._prefix)
                version += 1
                conn.execute(
                    meta.update().where(meta.c.key == "schema_version").values(value=str(version))
                )

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            raise _translate(exc) from exc

    @contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[_SQLTransaction]:
        """Begin a transaction; see :meth:`omnichannel.storage.Store.transaction`."""
        if self._closed:
            raise StoreError("the store is closed")
        with self._guard(), self.engine.connect() as conn:
            if readonly:
                conn = conn.execution_options(omnichannel_readonly=True)
            with conn.begin():
                yield _SQLTransaction(conn, self._q, readonly)
        if not readonly and self._checkpointer is not None:
            self._checkpointer.committed()

    def close(self) -> None:
        """Stop the checkpoint thread and dispose of the connection pool (unless the
        engine was passed in)."""
        if self._checkpointer is not None:
            self._checkpointer.close()
        if not self._closed and self._owns_engine:
            self.engine.dispose()
        self._closed = True
