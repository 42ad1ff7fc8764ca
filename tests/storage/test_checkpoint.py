"""The background checkpointer of SQLite stores: it copies the write-ahead log back off the
commit path, the log still starts over, and the thread ends with the store."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from omnichannel import Hub, Identifier, StoreError
from omnichannel.storage import SQLStore
from omnichannel.storage import _sql as sql_module
from omnichannel.storage._checkpoint import Checkpointer
from omnichannel.testing import make_interaction

PAGE = 4096


def _until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[Path, sqlite3.Connection]]:
    """A WAL database whose writer never checkpoints on its own."""
    path = tmp_path / "wal.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
    yield path, writer
    writer.close()


def _checkpointed(checkpointer: Checkpointer, count: int) -> None:
    _until(lambda: checkpointer.checkpoints >= count)


def _write(
    writer: sqlite3.Connection, checkpointer: Checkpointer, pages: int, *, poke: bool = True
) -> None:
    """One write transaction of about ``pages`` pages, as the store runs it."""
    checkpointer.before_write(writer)
    writer.execute("BEGIN IMMEDIATE")
    writer.executemany(
        "INSERT INTO blobs (data) VALUES (?)", [(b"x" * (PAGE - 200),) for _ in range(pages)]
    )
    writer.execute("COMMIT")
    if poke:
        checkpointer.committed()


def _wal_pages(path: Path) -> int:
    return (path.with_name(path.name + "-wal").stat().st_size - 32) // (PAGE + 24)


def test_the_thread_copies_committed_pages_into_the_database(
    database: tuple[Path, sqlite3.Connection],
) -> None:
    path, writer = database
    checkpointer = Checkpointer(path, limit_pages=10_000)
    before = path.stat().st_size
    _write(writer, checkpointer, 100, poke=False)
    assert path.stat().st_size == before  # committed, but only in the log yet
    checkpointer.committed()
    _checkpointed(checkpointer, 1)
    assert path.stat().st_size >= before + 100 * PAGE
    assert checkpointer.running
    checkpointer.close()
    assert not checkpointer.running
    assert checkpointer.last_error is None


def test_a_writer_past_the_limit_finishes_the_copy_and_the_log_starts_over(
    database: tuple[Path, sqlite3.Connection],
) -> None:
    path, writer = database
    checkpointer = Checkpointer(path, limit_pages=200, interval=60.0)
    _write(writer, checkpointer, 300)
    _until(lambda: checkpointer.checkpoints == 1)  # then the thread waits a minute
    for _ in range(5):
        _write(writer, checkpointer, 100)
    # The first of the five found the log past the limit, finished the copy and started
    # the log over; the other four appended to the new log.
    assert checkpointer.restarts == 1
    assert _wal_pages(path) < 300 + 400
    checkpointer.close()  # does not wait out the minute
    assert writer.execute("SELECT count(*) FROM blobs").fetchone() == (800,)


def test_under_a_steady_stream_of_writes_the_log_stays_short(
    database: tuple[Path, sqlite3.Connection],
) -> None:
    path, writer = database
    checkpointer = Checkpointer(path, limit_pages=200, interval=0.0)
    longest = 0
    for _ in range(100):
        _write(writer, checkpointer, 50)  # 5,000 pages in all
        longest = max(longest, _wal_pages(path))
    checkpointer.close()
    assert longest < 2_500
    assert checkpointer.last_error is None
    assert writer.execute("SELECT count(*) FROM blobs").fetchone() == (5_000,)


def test_a_reader_keeps_its_snapshot_and_the_log_starts_over_after_it(
    database: tuple[Path, sqlite3.Connection],
) -> None:
    path, writer = database
    checkpointer = Checkpointer(path, limit_pages=50, interval=0.0)
    _write(writer, checkpointer, 60)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM blobs").fetchone() == (60,)
    for checkpoints in (2, 3, 4):
        _write(writer, checkpointer, 60)
        _checkpointed(checkpointer, checkpoints)
        assert reader.execute("SELECT count(*) FROM blobs").fetchone() == (60,)
    # The reader's pages cannot be copied over: the log has not started over since
    # (one restart, before the first of the three, is possible if everything had been
    # copied before the reader began).
    pinned = checkpointer.restarts
    assert pinned <= 1
    assert _wal_pages(path) >= 120
    reader.execute("COMMIT")
    reader.close()
    for _ in range(3):
        _write(writer, checkpointer, 10)
        _checkpointed(checkpointer, 5)
    checkpointer.close()
    assert checkpointer.restarts > pinned
    assert writer.execute("SELECT count(*) FROM blobs").fetchone() == (270,)


def test_an_idle_thread_ends_and_the_next_commit_starts_one(
    database: tuple[Path, sqlite3.Connection],
) -> None:
    path, writer = database
    checkpointer = Checkpointer(path, limit_pages=10_000, idle=0.05)
    _write(writer, checkpointer, 5)
    _until(lambda: not checkpointer.running)
    _write(writer, checkpointer, 5)
    _checkpointed(checkpointer, 2)
    checkpointer.close()
    checkpointer.committed()  # after close: nothing starts
    assert not checkpointer.running


def test_a_failed_catch_up_lets_the_write_go_on(
    database: tuple[Path, sqlite3.Connection],
) -> None:
    path, writer = database
    checkpointer = Checkpointer(path, limit_pages=1)
    _write(writer, checkpointer, 5)
    _checkpointed(checkpointer, 1)
    closed = sqlite3.connect(path)
    closed.close()
    checkpointer.before_write(closed)  # past the limit, and the copy fails: no raise
    assert isinstance(checkpointer.last_error, sqlite3.ProgrammingError)
    assert checkpointer.restarts == 0
    _write(writer, checkpointer, 5)
    checkpointer.close()
    assert checkpointer.restarts == 1


def test_the_thread_never_creates_a_missing_database(tmp_path: Path) -> None:
    missing = tmp_path / "gone.db"
    checkpointer = Checkpointer(missing, limit_pages=10)
    checkpointer.committed()
    _until(lambda: not checkpointer.running)
    assert isinstance(checkpointer.last_error, sqlite3.OperationalError)
    assert not missing.exists()


def test_a_forked_child_starts_with_fresh_locks(
    database: tuple[Path, sqlite3.Connection],
) -> None:
    path, writer = database
    checkpointer = Checkpointer(path, limit_pages=10_000)
    checkpointer._copying.acquire()  # as if a parent's thread held it when it forked
    checkpointer._pid = -1
    _write(writer, checkpointer, 5)
    _checkpointed(checkpointer, 1)
    checkpointer.close()


# --- through SQLStore ------------------------------------------------------------------


def test_sqlstore_ingests_with_a_short_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql_module, "_BACKGROUND_WAL_PAGES", 100)
    monkeypatch.setattr(sql_module, "_CHECKPOINT_INTERVAL", 0.0)
    path = tmp_path / "omni.db"
    store = SQLStore(f"sqlite:///{path}")
    checkpointer = store._checkpointer
    assert checkpointer is not None
    hub = Hub(store)
    for n in range(300):
        hub.ingest(make_interaction(f"m{n}", Identifier.phone(f"+486012{n:05d}")))
    assert checkpointer.restarts >= 1
    assert checkpointer.last_error is None
    assert _wal_pages(path) < 2_000
    store.close()
    assert not checkpointer.running
    reopened = SQLStore(f"sqlite:///{path}")
    with reopened.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT count(*) FROM omnichannel_interactions").scalar()
    assert stored == 300
    reopened.close()


def test_sqlstore_connections_keep_sqlites_checkpoint_as_a_backstop(tmp_path: Path) -> None:
    background = SQLStore(f"sqlite:///{tmp_path / 'a.db'}")
    inline = SQLStore(f"sqlite:///{tmp_path / 'b.db'}", checkpoint="inline")
    assert inline._checkpointer is None
    for store, pages in ((background, 80_000), (inline, 10_000)):
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == pages
        store.close()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_sqlstore_in_memory_has_no_checkpoint_thread(url: str) -> None:
    store = SQLStore(url)
    assert store._checkpointer is None
    store.close()


def test_sqlstore_on_a_uri_filename_leaves_checkpoints_to_sqlite(tmp_path: Path) -> None:
    # A URI filename carries its own options (read-only, immutable...): hands off.
    store = SQLStore(f"sqlite:///file:{tmp_path / 'omni.db'}?uri=true")
    assert store._checkpointer is None
    Hub(store).ingest(make_interaction("m1", Identifier.phone("+48601234567")))
    store.close()


@pytest.mark.parametrize("given", ["url", "engine"])
def test_sqlstore_refuses_an_unknown_checkpoint_mode(tmp_path: Path, given: str) -> None:
    url = f"sqlite:///{tmp_path / 'omni.db'}"
    engine = sa.create_engine(url)
    with pytest.raises(StoreError, match="checkpoint must be 'background' or 'inline', not 'x'"):
        SQLStore(url if given == "url" else engine, checkpoint="x")  # type: ignore[arg-type]
    engine.dispose()
    assert not (tmp_path / "omni.db").exists()  # refused before opening anything


def test_sqlstore_on_a_given_engine_leaves_checkpoints_to_it(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'omni.db'}")
    store = SQLStore(engine)
    assert store._checkpointer is None
    store.close()
    engine.dispose()
