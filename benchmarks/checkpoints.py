"""SQLite checkpoints on the store's thread, against SQLite's own inside the commit.

Usage::

    python benchmarks/checkpoints.py                    # a 100,000-interaction file
    python benchmarks/checkpoints.py --interactions 600000 --customers 200000 --rounds 1

Builds a SQLite file from the seeded stream of ``benchmarks/ingest.py``. Then, in each
round and for each way of checkpointing (``SQLStore(checkpoint="inline")`` first, the
baseline, then ``"background"``), on a fresh copy of that file: ingests ``--new`` new
interactions with ``Hub.ingest_many`` (batches of 500), then ``--per-commit`` more with
``Hub.ingest``, one commit each. It prints each rate and the time the ingesting thread
spent committing, per interaction: from SQLAlchemy's ``commit`` event until the
connection is back in the pool, so SQLite's own checkpoints are inside it, plus the
time writers spent finishing the thread's copies before they began (background only).
The last lines give the ratios of background to inline, over all rounds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import REGION, Item, Stream
from sqlalchemy import event

from omnichannel import Hub
from omnichannel.storage import SQLStore

Mode = Literal["inline", "background"]
MODES: tuple[Mode, ...] = ("inline", "background")


@dataclass
class Run:
    """One way of checkpointing, one workload: its rate and the writer's commit time."""

    rate: float
    committing: float  # seconds per interaction


class _CommitClock:
    """Time from each ``commit`` event to the connection's return to the pool."""

    def __init__(self, store: SQLStore) -> None:
        self.total = 0.0
        self._started: float | None = None
        event.listen(store.engine, "commit", self._commit)
        event.listen(store.engine.pool, "checkin", self._checkin)

    def _commit(self, _conn: Any) -> None:
        self._started = time.perf_counter()

    def _checkin(self, _dbapi: Any, _record: Any) -> None:
        if self._started is not None:
            self.total += time.perf_counter() - self._started
            self._started = None


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _copy(source: Path, target: Path) -> None:
    _remove(target)
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    os.sync()  # or the first checkpoint of the run would pay for writing the copy out


def measure(path: Path, mode: Mode, bulk: list[Item], single: list[Item]) -> tuple[Run, Run]:
    """Ingest ``bulk`` in batches, then ``single`` one commit each, into ``path``."""
    store = SQLStore(f"sqlite:///{path}", checkpoint=mode)
    hub = Hub(store, default_region=REGION)
    hub.ingest_many(bulk[:500], batch_size=500)  # warm the caches and the pool
    clock = _CommitClock(store)
    runs: list[Run] = []
    for items, batch_size in ((bulk[500:], 500), (single, 1)):
        checkpointer = store._checkpointer
        catching_up = 0.0 if checkpointer is None else checkpointer.catching_up
        clock.total = 0.0
        started = time.perf_counter()
        if batch_size == 1:
            for item in items:
                hub.ingest(item)
        else:
            hub.ingest_many(items, batch_size=batch_size)
        seconds = time.perf_counter() - started
        if checkpointer is not None:
            catching_up = checkpointer.catching_up - catching_up
        runs.append(Run(len(items) / seconds, (clock.total + catching_up) / len(items)))
    store.close()
    return runs[0], runs[1]


def main(argv: list[str] | None = None) -> None:
    """Run the comparison; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--interactions", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--new", type=int, default=20_000)
    parser.add_argument("--per-commit", type=int, default=4_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=Path("."))
    args = parser.parse_args(argv)
    shown = sys.argv[1:] if argv is None else argv
    print("command: python benchmarks/checkpoints.py " + " ".join(shown))
    args.workdir.mkdir(parents=True, exist_ok=True)
    base, work = args.workdir / "checkpoints-base.db", args.workdir / "checkpoints.db"
    _remove(base)
    stream = Stream(args.customers, args.seed)
    store = SQLStore(f"sqlite:///{base}", checkpoint="inline")
    started = time.perf_counter()
    Hub(store, default_region=REGION).ingest_many(stream.items(args.interactions))
    store.close()
    print(
        f"built: {args.interactions:,} interactions from {args.customers:,} customers in "
        f"{time.perf_counter() - started:.1f} s; file {base.stat().st_size / 2**20:,.0f} MB"
    )
    fresh = list(
        stream.items(args.new + args.per_commit, start=args.interactions, horizon=args.interactions)
    )
    bulk, single = fresh[: args.new], fresh[args.new :]
    print(
        f"each run: ingest_many of {len(bulk) - 500:,} new interactions (after 500 to warm "
        f"up), then {len(single):,} ingests of one commit each\n"
    )
    print(f"{'round':>5}  {'checkpoints':<11}  {'bulk':>12}  {'committing':>12}  ", end="")
    print(f"{'per-commit':>12}  {'committing':>12}")
    totals: dict[str, list[Run]] = {mode: [] for mode in MODES}
    for round_ in range(1, args.rounds + 1):
        for mode in MODES:
            _copy(base, work)
            bulk_run, single_run = measure(work, mode, bulk, single)
            totals[mode] += [bulk_run, single_run]
            print(
                f"{round_:>5}  {mode:<11}  {bulk_run.rate:>10,.0f}/s  "
                f"{bulk_run.committing * 1000:>9.3f} ms  {single_run.rate:>10,.0f}/s  "
                f"{single_run.committing * 1000:>9.3f} ms"
            )
    _remove(work)
    _remove(base)
    print("\nbackground / inline, mean over the rounds (committing: per interaction)")
    for name, index in (("bulk", 0), ("per-commit", 1)):
        inline = totals["inline"][index::2]
        background = totals["background"][index::2]
        rate = _mean([r.rate for r in background]) / _mean([r.rate for r in inline])
        spent = _mean([r.committing for r in background]) / _mean([r.committing for r in inline])
        print(f"  {name:<10}  rate x{rate:.2f}  time committing x{spent:.2f}")


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


if __name__ == "__main__":
    main()
