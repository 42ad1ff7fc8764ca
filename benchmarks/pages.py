"""Pages SQLite writes per ingested interaction, by table and index.

Usage::

    python benchmarks/pages.py                          # 200,000 interactions, 40,000 customers
    python benchmarks/pages.py --interactions 600000 --customers 200000 --batches 4

Builds a SQLite file from the seeded stream of ``benchmarks/ingest.py`` with
``Hub.ingest_many``, then ingests ``--batches`` more batches of new interactions, each
committed on its own right after a checkpoint that empties the write-ahead log. After
each commit it reads the page number of every frame in the log, which is every page the
commit wrote, and maps page numbers to the table or index that owns them with SQLite's
``dbstat`` view. In a file much bigger than one batch, nearly every one of these is a
random page: written once to the log at commit and once more to the file at the next
checkpoint. Where the ``dbstat`` view is missing, only the totals are printed.
"""

from __future__ import annotations

import argparse
import sqlite3
import struct
import sys
import time
from collections import Counter
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import REGION, Stream

from omnichannel import Hub
from omnichannel.storage import SQLStore

_WAL_HEADER = 32
_FRAME_HEADER = 24


def wal_pages(path: Path) -> list[int]:
    """The page number of each frame in the write-ahead log of ``path``, in log order."""
    wal = Path(f"{path}-wal")
    if not wal.exists():
        return []
    data = wal.read_bytes()
    if len(data) < _WAL_HEADER:
        return []
    page_size = struct.unpack_from(">I", data, 8)[0]
    salts = data[16:24]
    pages: list[int] = []
    offset = _WAL_HEADER
    while offset + _FRAME_HEADER + page_size <= len(data):
        if data[offset + 8 : offset + 16] != salts:
            break  # a frame left over from before the log was last restarted
        pages.append(struct.unpack_from(">I", data, offset)[0])
        offset += _FRAME_HEADER + page_size
    return pages


def checkpoint(path: Path) -> None:
    """Copy the log into the file and empty it (no other transaction may be open)."""
    with closing(sqlite3.connect(path)) as conn:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        sys.exit("the checkpoint could not empty the write-ahead log: is the file in use?")


def owners(path: Path, pages: set[int]) -> dict[int, str] | None:
    """``page -> "table or index (leaf|internal|overflow)"``; None without ``dbstat``."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        try:
            rows = conn.execute("SELECT name, pageno, pagetype FROM dbstat").fetchall()
        except sqlite3.OperationalError:
            return None
    return {pageno: f"{name} ({kind})" for name, pageno, kind in rows if pageno in pages}


def main(argv: list[str] | None = None) -> None:
    """Run the measurement; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--interactions", type=int, default=200_000)
    parser.add_argument("--customers", type=int, default=40_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--workdir", type=Path, default=Path("."))
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args(argv)
    print("command: python benchmarks/pages.py " + " ".join(sys.argv[1:] if argv is None else argv))
    args.workdir.mkdir(parents=True, exist_ok=True)
    path = args.workdir / "pages.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    stream = Stream(args.customers, args.seed)
    # SQLite's own checkpoints: no thread copies the log while its frames are read.
    store = SQLStore(f"sqlite:///{path}", checkpoint="inline")
    hub = Hub(store, default_region=REGION)
    started = time.perf_counter()
    hub.ingest_many(stream.items(args.interactions), batch_size=args.batch_size)
    print(
        f"built: {args.interactions:,} interactions from {args.customers:,} customers in "
        f"{time.perf_counter() - started:.1f} s; file {path.stat().st_size / 2**20:,.0f} MB"
    )
    new = list(
        stream.items(
            args.batch_size * args.batches, start=args.interactions, horizon=args.interactions
        )
    )
    written: list[int] = []
    for n in range(args.batches):
        checkpoint(path)
        batch = new[n * args.batch_size : (n + 1) * args.batch_size]
        hub.ingest_many(batch, batch_size=len(batch))
        written.extend(wal_pages(path))
    store.close()
    measured = args.batch_size * args.batches
    print(
        f"measured: {args.batches} commits of {args.batch_size:,} new interactions; "
        f"{len(written):,} pages written, {len(written) / measured:.2f} per interaction"
    )
    names = owners(path, set(written))
    if names is None:
        print("this SQLite has no dbstat view: no breakdown by table and index")
        return
    counts = Counter(names.get(page, "(freed or new since)") for page in written)
    print(f"\n{'pages per interaction':>22}  table or index (page kind)")
    for name, count in counts.most_common(args.top):
        print(f"{count / measured:22.2f}  {name}")
    rest = sum(count for _, count in counts.most_common()[args.top :])
    if rest:
        print(f"{rest / measured:22.2f}  (the rest)")


if __name__ == "__main__":
    main()
