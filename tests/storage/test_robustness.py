"""Crashes, lost connections and the same webhook delivered twice at once."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from omnichannel import Hub, Identifier, IngestOutcome, StoreUnavailableError
from omnichannel.storage import SQLStore
from omnichannel.testing import make_interaction

ROOT = Path(__file__).parent.parent.parent
STREAM_SIZE = 6000
BATCH = 200


def stream(size: int = STREAM_SIZE) -> Iterator[Any]:
    """A deterministic import: 1,500 customers on four channels, ties that merge."""
    for n in range(size):
        customer = n % 1500
        phone = Identifier.phone(f"+4860{customer:07d}")
        email = Identifier.email(f"c{customer}@example.com")
        ids = [(phone,), (email,), (phone, email)][(n // 1500) % 3]
        channel = ["sms", "email", "store", "whatsapp"][n % 4]
        yield make_interaction(f"imp-{n}", *ids, channel=channel, minutes=n)


def run_import(url: str, prefix: str) -> None:
    """What the child process runs: the whole import, in batches."""
    store = SQLStore(url, table_prefix=prefix)
    Hub(store).ingest_many(stream(), batch_size=BATCH)
    store.close()


def _count(engine: sa.Engine, prefix: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {prefix}interactions")).scalar_one())


def _consistent(engine: sa.Engine, prefix: str) -> None:
    with engine.connect() as conn:
        on_merged = conn.execute(
            sa.text(
                f"SELECT (SELECT count(*) FROM {prefix}identifiers i JOIN {prefix}profiles p "
                f"ON p.id = i.profile_id WHERE p.merged_into IS NOT NULL) + "
                f"(SELECT count(*) FROM {prefix}interactions i JOIN {prefix}profiles p "
                f"ON p.id = i.profile_id WHERE p.merged_into IS NOT NULL)"
            )
        ).scalar_one()
        dangling = conn.execute(
            sa.text(
                f"SELECT count(*) FROM {prefix}identifiers i LEFT JOIN {prefix}profiles p "
                f"ON p.id = i.profile_id WHERE p.id IS NULL"
            )
        ).scalar_one()
        merged, merges = conn.execute(
            sa.text(
                f"SELECT (SELECT count(*) FROM {prefix}profiles WHERE merged_into IS NOT NULL), "
                f"(SELECT count(*) FROM {prefix}merges)"
            )
        ).one()
    assert on_merged == 0
    assert dangling == 0
    assert merged == merges


def _kill_mid_import(url: str, prefix: str, engine: sa.Engine) -> int:
    SQLStore(url, table_prefix=prefix).close()
    code = (
        "import sys; from tests.storage.test_robustness import run_import; "
        "run_import(sys.argv[1], sys.argv[2])"
    )
    child = subprocess.Popen([sys.executable, "-c", code, url, prefix], cwd=ROOT)
    deadline = time.monotonic() + 120
    while _count(engine, prefix) < 5 * BATCH:
        assert child.poll() is None, "the import ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    return _count(engine, prefix)


def _crash_and_resume(url: str, prefix: str, engine: sa.Engine) -> None:
    stored = _kill_mid_import(url, prefix, engine)
    assert 0 < stored < STREAM_SIZE
    assert stored % BATCH == 0  # batches are all or nothing
    _consistent(engine, prefix)
    store = SQLStore(url, table_prefix=prefix)
    summary = Hub(store).ingest_many(stream(), batch_size=BATCH)
    store.close()
    assert summary.duplicate == stored
    assert _count(engine, prefix) == STREAM_SIZE  # exactly one copy of each
    _consistent(engine, prefix)
    with engine.connect() as conn:
        live = conn.execute(
            sa.text(f"SELECT count(*) FROM {prefix}profiles WHERE merged_into IS NULL")
        ).scalar_one()
    assert live == 1500


def test_sigkill_during_sqlite_import(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    engine = sa.create_engine(url)
    _crash_and_resume(url, "omnichannel_", engine)
    engine.dispose()


@pytest.mark.postgres
def test_sigkill_during_postgres_import(
    postgres_url: str, postgres_engine: sa.Engine, table_prefix: str
) -> None:
    _crash_and_resume(postgres_url, table_prefix, postgres_engine)


# --- the same webhook from two workers at once --------------------------------------------

ROUNDS = 25


def _deliver(url: str, prefix: str, barrier: Any, results: Any) -> None:
    store = SQLStore(url, table_prefix=prefix)
    hub = Hub(store)
    for n in range(ROUNDS):
        webhook = make_interaction(
            f"wamid.{n}", Identifier.phone(f"+4869{n:07d}"), channel="whatsapp", minutes=n
        )
        barrier.wait()
        result = hub.ingest(webhook)
        results.put((n, result.profile_id, result.interaction_id, result.outcome.value))
    store.close()


def _redeliver_concurrently(url: str, prefix: str) -> None:
    SQLStore(url, table_prefix=prefix).close()
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [ctx.Process(target=_deliver, args=(url, prefix, barrier, results)) for _ in range(2)]
    for proc in procs:
        proc.start()
    seen: dict[int, list[tuple[str, str, str]]] = {}
    for _ in range(2 * ROUNDS):
        n, profile_id, interaction_id, outcome = results.get(timeout=120)
        seen.setdefault(n, []).append((profile_id, interaction_id, outcome))
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    for pair in seen.values():
        (p1, i1, o1), (p2, i2, o2) = pair
        assert (p1, i1) == (p2, i2)  # both workers get the same result
        assert sorted([o1, o2]) == [IngestOutcome.CREATED.value, IngestOutcome.DUPLICATE.value]
    store = SQLStore(url, table_prefix=prefix)
    with store.engine.connect() as conn:
        stored = conn.execute(sa.text(f"SELECT count(*) FROM {prefix}interactions")).scalar()
    store.close()
    assert stored == ROUNDS  # stored once each


def test_same_webhook_twice_at_once_on_sqlite(tmp_path: Path) -> None:
    _redeliver_concurrently(f"sqlite:///{tmp_path / 'twice.db'}", "omnichannel_")


@pytest.mark.postgres
def test_same_webhook_twice_at_once_on_postgres(postgres_url: str, table_prefix: str) -> None:
    _redeliver_concurrently(postgres_url, table_prefix)


# --- a connection lost in the middle of a transaction -------------------------------------


def _lose_connection_mid_transaction(store: SQLStore, killer: sa.Engine, phone: Identifier) -> None:
    with store.transaction() as tx:
        tx.owners("default", [phone.match])
        with killer.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = 'omni-victim'"
                )
            )
        tx.owners("default", [phone.match])


@pytest.mark.postgres
def test_lost_postgres_connection_is_store_unavailable(
    postgres_url: str, postgres_engine: sa.Engine, table_prefix: str
) -> None:
    separator = "&" if "?" in postgres_url else "?"
    victim_url = f"{postgres_url}{separator}application_name=omni-victim"
    store = SQLStore(victim_url, table_prefix=table_prefix)
    phone = Identifier.phone("+48601234567")
    with pytest.raises(StoreUnavailableError) as caught:
        _lose_connection_mid_transaction(store, postgres_engine, phone)
    assert isinstance(caught.value.__cause__, sa.exc.DBAPIError)
    # the pool replaces the dead connection: the next ingest works
    assert Hub(store).ingest(make_interaction("m1", phone)).outcome is IngestOutcome.CREATED
    store.close()
