"""benchmarks/ingest.py runs end to end at a tiny size and prints every figure."""

from __future__ import annotations

import os
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests._benchmarks import run_benchmark


def _run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return run_benchmark("ingest.py", "--workdir", str(tmp_path), *args, env=env)


def _count(db: Path, table: str) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _verdict(figure: str) -> str:
    """The pattern of a printed figure line, measured and judged against its target."""
    return re.escape(figure) + r": .+\[target .+: (MET|NOT MET)\]"


def test_sqlite_figures(tmp_path: Path) -> None:
    out = _run(
        tmp_path,
        *("--interactions", "2000", "--customers", "400", "--per-commit", "200"),
        *("--lookups", "200", "--skip-postgres"),
    )
    assert out.startswith("command: python ")
    assert "--interactions 2000" in out.splitlines()[0]
    for figure in (
        "bulk SQLite ingest_many, batch 500",
        "peak RSS over the bulk ingest",
        "bulk SQLite / floor",
        "per-commit SQLite Hub.ingest",
        "Hub.find at 2,000 interactions, p50 / p99",
        "Hub.timeline(limit=50), p50 / p99",
    ):
        assert re.search(_verdict(figure), out), figure
    assert re.search(r"ours / floor = \d+\.\d\d", out)
    assert re.search(r"bulk SQLite ingest_many, batch 500: [\d,]+ interactions/s", out)
    assert re.search(r"peak RSS over the bulk ingest: [\d,]+ MB", out)
    assert "stored 2,000 of 2,000 interactions" in out
    assert "200 found, 0 missing" in out
    assert "e. PostgreSQL: skipped" in out
    table = out[out.index("| figure | measured | target | |") :].splitlines()
    assert len(table) == 2 + 8  # header, rule, the figures
    assert _count(tmp_path / "ingest.db", "omnichannel_interactions") == 2000 + 200
    assert _count(tmp_path / "floor.db", "interactions") == 2000


@pytest.mark.postgres
def test_postgres_figures(tmp_path: Path, postgres_url: str) -> None:
    out = _run(
        tmp_path,
        *("--interactions", "300", "--customers", "60", "--per-commit", "30"),
        *("--lookups", "30", "--pg-interactions", "200"),
        env={**os.environ, "OMNICHANNEL_BENCH_POSTGRES_URL": postgres_url},
    )
    for procs in (1, 2, 4):
        line = rf"  {procs} process\(es\): 200 in [\d.]+ s = [\d,]+ interactions/s; stored 200 of"
        assert re.search(line, out), procs
    assert re.search(_verdict("PostgreSQL ingest_many, 1 process"), out)
    assert re.search(_verdict("PostgreSQL ingest_many, 4 processes"), out)
    assert "every run stored all 200 interactions: True" in out
    assert _count(tmp_path / "ingest.db", "omnichannel_interactions") == 300 + 30
