"""SQLStore specifics: schema, versions, embedding options, driver errors, concurrency."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from omnichannel import (
    Hub,
    Identifier,
    SchemaVersionError,
    StoreConflictError,
    StoreError,
    StoreUnavailableError,
)
from omnichannel.storage import SCHEMA_VERSION, SQLStore
from omnichannel.testing import make_interaction

PHONE = Identifier.phone("+48601234567")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'omni.db'}"


def test_schema_is_created_and_versioned(sqlite_url: str) -> None:
    store = SQLStore(sqlite_url)
    assert store.schema_version == SCHEMA_VERSION
    names = set(sa.inspect(store.engine).get_table_names())
    assert {
        "omnichannel_meta",
        "omnichannel_profiles",
        "omnichannel_identifiers",
        "omnichannel_interactions",
        "omnichannel_merges",
    } <= names
    store.close()
    SQLStore(sqlite_url).close()  # reopening an existing database is fine


def test_a_newer_schema_is_refused(sqlite_url: str) -> None:
    store = SQLStore(sqlite_url)
    with store.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE omnichannel_meta SET value = :v WHERE key = 'schema_version'"),
            {"v": str(SCHEMA_VERSION + 1)},
        )
    store.close()
    with pytest.raises(SchemaVersionError, match="newer than this omnichannel"):
        SQLStore(sqlite_url)


def test_sqlite_file_uses_wal(sqlite_url: str) -> None:
    store = SQLStore(sqlite_url)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 80_000
    store.close()


def test_table_prefix_keeps_tables_apart(sqlite_url: str) -> None:
    engine = sa.create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    first = SQLStore(engine, table_prefix="crm_omni_")
    second = SQLStore(engine, table_prefix="other_")
    Hub(first).ingest(make_interaction("m1", PHONE))
    assert Hub(second).find(PHONE) is None
    assert Hub(first).find(PHONE) is not None
    first.close()
    second.close()
    # the engine was passed in: closing the stores leaves it usable
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert "customers" in tables
    assert "crm_omni_profiles" in tables
    assert "other_profiles" in tables
    engine.dispose()


def test_bare_path_and_url_strings_open_sqlite(tmp_path: Path) -> None:
    with Hub(str(tmp_path / "by-path.db")) as hub:
        hub.ingest(make_interaction("m1", PHONE))
    assert (tmp_path / "by-path.db").exists()


@pytest.mark.parametrize(
    ("url", "error", "message"),
    [
        ("not a url", StoreError, "not a database URL"),
        ("sqlite:////nonexistent-dir/sub/omni.db", StoreUnavailableError, "unavailable"),
        (
            "postgresql+psycopg://u:p@127.0.0.1:1/db?connect_timeout=2",
            StoreUnavailableError,
            "unavailable",
        ),
    ],
)
def test_open_errors_are_store_errors(url: str, error: type[StoreError], message: str) -> None:
    with pytest.raises(error, match=message) as caught:
        SQLStore(url)
    assert caught.value.__cause__ is not None
    assert "p@" not in str(caught.value)


def test_closed_store_refuses_transactions(sqlite_url: str) -> None:
    store = SQLStore(sqlite_url)
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"), store.transaction():
        pass


def test_driver_errors_inside_a_transaction_are_translated(sqlite_url: str) -> None:
    store = SQLStore(sqlite_url)
    interaction = make_interaction("m1", PHONE)
    with store.transaction() as tx:
        tx.insert_interaction("default", interaction, "p1")
    with pytest.raises(StoreConflictError) as caught, store.transaction() as tx:
        tx.insert_interaction("default", interaction, "p1")
    assert isinstance(caught.value.__cause__, sa.exc.IntegrityError)
    store.close()


@pytest.mark.postgres
def test_postgres_schema_option(postgres_engine: sa.Engine, table_prefix: str) -> None:
    schema = table_prefix.rstrip("_")
    with postgres_engine.begin() as conn:
        conn.execute(sa.schema.CreateSchema(schema))
    store = SQLStore(postgres_engine, schema=schema, table_prefix="")
    Hub(store).ingest(make_interaction("m1", PHONE))
    assert "profiles" in sa.inspect(postgres_engine).get_table_names(schema=schema)
    store.close()


# --- many processes at once ------------------------------------------------------------

_CUSTOMERS = 12
_PER_WORKER = 30


def _worker(url: str, prefix: str, worker: int) -> None:
    """Ingest interactions of the same customers on several channels at once."""
    store = SQLStore(url, table_prefix=prefix)
    hub = Hub(store)
    for n in range(_PER_WORKER):
        customer = n % _CUSTOMERS
        phone = Identifier.phone(f"+4860100{customer:04d}")
        email = Identifier.email(f"customer{customer}@example.com")
        handle = Identifier.handle("telegram", f"@cust{customer}")
        ids = [(phone,), (email,), (handle,), (phone, email, handle)][(n + worker) % 4]
        hub.ingest(make_interaction(f"w{worker}-{n}", *ids, channel=f"ch{worker}", minutes=n))
        # every worker also delivers the same shared webhook: stored once
        hub.ingest(make_interaction(f"shared-{n}", phone, channel="whatsapp", minutes=n))
    store.close()


def _run_workers(url: str, prefix: str) -> None:
    SQLStore(url, table_prefix=prefix).close()  # create the schema once
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(url, prefix, w)) for w in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0


def _check_invariants(store: SQLStore, prefix: str) -> None:
    with store.engine.connect() as conn:
        interactions = conn.execute(
            sa.text(
                f"SELECT count(*), count(DISTINCT channel || '/' || source_key) "
                f"FROM {prefix}interactions"
            )
        ).one()
        orphans = conn.execute(
            sa.text(
                f"SELECT count(*) FROM {prefix}identifiers i JOIN {prefix}profiles p "
                f"ON p.workspace = i.workspace AND p.id = i.profile_id "
                f"WHERE p.merged_into IS NOT NULL"
            )
        ).scalar()
        on_dead = conn.execute(
            sa.text(
                f"SELECT count(*) FROM {prefix}interactions i JOIN {prefix}profiles p "
                f"ON p.workspace = i.workspace AND p.id = i.profile_id "
                f"WHERE p.merged_into IS NOT NULL"
            )
        ).scalar()
        merged = conn.execute(
            sa.text(f"SELECT count(*) FROM {prefix}profiles WHERE merged_into IS NOT NULL")
        ).scalar()
        merges = conn.execute(sa.text(f"SELECT count(*) FROM {prefix}merges")).scalar()
    expected = 4 * _PER_WORKER + _PER_WORKER
    assert tuple(interactions) == (expected, expected)  # none lost, none duplicated
    assert orphans == 0  # no identifier owned by a merged profile
    assert on_dead == 0
    assert merged == merges  # every merge recorded
    live = list(Hub(store).profiles())
    assert len(live) == _CUSTOMERS  # each customer ended as exactly one profile
    owned = [e.identifier for p in live for e in p.identifiers]
    assert len(owned) == len(set(owned)) == 3 * _CUSTOMERS


def test_four_processes_on_one_sqlite_file(sqlite_url: str) -> None:
    _run_workers(sqlite_url, "omnichannel_")
    store = SQLStore(sqlite_url)
    _check_invariants(store, "omnichannel_")
    store.close()


@pytest.mark.postgres
def test_four_processes_on_postgres(postgres_url: str, table_prefix: str) -> None:
    _run_workers(postgres_url, table_prefix)
    store = SQLStore(postgres_url, table_prefix=table_prefix)
    _check_invariants(store, table_prefix)
    store.close()


@pytest.fixture
def pg_store(postgres_engine: sa.Engine, table_prefix: str) -> Iterator[SQLStore]:
    store = SQLStore(postgres_engine, table_prefix=table_prefix)
    yield store
    store.close()


@pytest.mark.postgres
def test_postgres_unique_violation_is_a_conflict(pg_store: SQLStore) -> None:
    interaction = make_interaction("m1", PHONE)
    with pg_store.transaction() as tx:
        tx.insert_interaction("default", interaction, "p1")
    with pytest.raises(StoreConflictError), pg_store.transaction() as tx:
        tx.insert_interaction("default", interaction.model_copy(update={"id": "x"}), "p1")


def _every_row_as_text(engine: sa.Engine, prefix: str) -> str:
    metadata = sa.MetaData()
    metadata.reflect(engine, only=lambda name, _: name.startswith(prefix))
    with engine.connect() as conn:
        return "\n".join(
            repr(tuple(row))
            for table in metadata.sorted_tables
            for row in conn.execute(table.select())
        )


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_forget_leaves_no_personal_data_in_any_table(
    backend: str, sqlite_url: str, request: pytest.FixtureRequest
) -> None:
    prefix = "omnichannel_"
    if backend == "sqlite":
        store = SQLStore(sqlite_url)
    else:
        prefix = request.getfixturevalue("table_prefix")
        store = SQLStore(request.getfixturevalue("postgres_engine"), table_prefix=prefix)
    hub = Hub(store)
    email = Identifier.email("Zofia.Wrobel@example.com")
    hub.ingest(
        make_interaction("s1", PHONE, traits={"display_name": "Zofia Wróbel"}, text="my PIN")
    )
    hub.ingest(make_interaction("e1", email, channel="email", minutes=1, text="secret note"))
    merged = hub.ingest(make_interaction("w1", PHONE, email, channel="whatsapp", minutes=2))
    hub.ingest(make_interaction("o1", Identifier.phone("+48609999888"), text="other customer"))
    hub.record_consent(PHONE, "sms", "marketing", granted=True, source="form")
    hub.drain_events(lambda event: None)
    before = _every_row_as_text(store.engine, prefix)
    assert "601234567" in before
    assert "zofia" in before.lower()
    hub.forget(merged.profile_id)
    after = _every_row_as_text(store.engine, prefix)
    for secret in ("601234567", "zofia", "wrobel", "Wróbel", "my PIN", "secret note"):
        assert secret.lower() not in after.lower()
    assert "other customer" in after
    store.close()


@pytest.mark.parametrize("url", ["nosuchdb://x", "mysql+pymysql://user:secret@127.0.0.1/shop"])
def test_only_sqlite_and_postgresql_urls_open(url: str) -> None:
    with pytest.raises(StoreError, match=r"supports SQLite .* and PostgreSQL") as caught:
        SQLStore(url)
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize("count", [1, 2, 3, 50])
def test_batch_lookups_are_primary_key_probes_on_sqlite(tmp_path: Path, count: int) -> None:
    """SQLite scans the workspace for ``workspace = ? AND (a OR b)`` and for row-value
    ``IN`` lists; every lookup of many keys must probe the key index once per key."""
    import sqlite3

    from omnichannel.storage._sql import _Statements

    path = tmp_path / "plans.db"
    store = SQLStore(f"sqlite:///{path}")
    statements = next(v for v in vars(store).values() if isinstance(v, _Statements))
    keyed = ["ws", *(f"{p}{n}" for n in range(count) for p in "knv")]
    ids = [f"p{n}" for n in range(count)]
    lookups = {
        "identifiers": (statements.owners(count), keyed),
        "sharers": (statements.sharers(count), keyed),
        "interactions": (
            statements.find_interactions(count),
            ["ws", *(f"{p}{n}" for n in range(count) for p in "cs")],
        ),
        "suppressions": (statements.suppressed(count), ["ws", *(f"d{n}" for n in range(count))]),
        "profiles": (statements.profiles(count, lock=False), ["ws", *ids]),
        "conversations": (statements.open_of(count), ["ws", *ids]),
    }
    connection = sqlite3.connect(path)
    try:
        for table, (statement, keys) in lookups.items():
            plan = statements.compiled(statement, tuple(sorted(keys)))
            assert plan is not None
            sql = plan[0]
            rows = connection.execute(f"EXPLAIN QUERY PLAN {sql}", ["x"] * sql.count("?"))
            searches = [row[3] for row in rows if "SEARCH" in row[3] or "SCAN" in row[3]]
            # an OR: one probe per key; an IN list of single values: one probe step
            in_list = table in ("suppressions", "profiles", "conversations")
            assert len(searches) == (1 if in_list else count), searches
            for step in searches:
                assert step.startswith(f"SEARCH omnichannel_{table} USING"), step
                assert "(workspace=? AND " in step, step  # the whole key, not the workspace
    finally:
        connection.close()
        store.close()


def test_erase_finds_interactions_and_conversations_by_holder_on_sqlite(tmp_path: Path) -> None:
    """No index by origin profile: erasure must reach rows through the profile index."""
    import sqlite3

    path = tmp_path / "erase.db"
    store = SQLStore(f"sqlite:///{path}")
    hub = Hub(store)
    hub.ingest(make_interaction("m1", PHONE))
    gone = hub.ingest(make_interaction("m2", Identifier.email("ola@example.com")))
    statements: list[tuple[str, tuple[object, ...]]] = []

    def record(_conn: object, _cursor: object, sql: str, params: object, *_: object) -> None:
        if sql.startswith(("DELETE FROM omnichannel_interactions", "DELETE FROM omnichannel_conv")):
            assert isinstance(params, tuple)
            statements.append((sql, params))

    sa.event.listen(store.engine, "before_cursor_execute", record)
    with store.transaction() as tx:
        assert tx.erase("default", [gone.profile_id]) == 1
    sa.event.remove(store.engine, "before_cursor_execute", record)
    assert hub.find(PHONE) is not None
    assert hub.find(Identifier.email("ola@example.com")) is None
    assert len(statements) == 2
    connection = sqlite3.connect(path)
    try:
        for sql, params in statements:
            rows = connection.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
            steps = [row[3] for row in rows if "SEARCH" in row[3] or "SCAN" in row[3]]
            assert steps, rows
            for step in steps:
                assert step.startswith("SEARCH"), step
                assert "profile_id=?" in step, step
    finally:
        connection.close()
        store.close()
