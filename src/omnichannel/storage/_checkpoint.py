"""Checkpoints of a SQLite write-ahead log on a thread of their own.

In WAL mode a commit appends pages to the ``-wal`` file; a *checkpoint* copies them back
into the database file and syncs both files. SQLite's automatic checkpoint runs inside the
commit that crosses its threshold, so that commit waits for thousands of random page
writes and two fsyncs. :class:`Checkpointer` runs passive checkpoints on a thread after
commits instead. Passive checkpoints never block a writer or a reader, and the thread
spends nearly all its time waiting for the disk (SQLite does not hold the GIL then).

The log only starts over from its beginning when a writer begins while every frame in it
has been copied back. Under a steady stream of writes the thread never quite catches up
at that moment, so a writer that finds the log longer than ``limit_pages`` first
finishes the copy itself: a short checkpoint of the frames committed since the thread's
last one (:meth:`Checkpointer.before_write`). The log therefore stays near
``limit_pages`` long, as with SQLite's own threshold.

Connections opened by the store keep SQLite's automatic checkpoint as a backstop, at twice
that length, for a process in which this thread cannot run.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["Checkpointer"]


class Checkpointer:
    """Passive checkpoints of one SQLite database file, on a background thread.

    Args:
        path: the database file (it must exist; the thread never creates one).
        limit_pages: how long the write-ahead log may grow before the next writer
            finishes the checkpoint itself, so that the log starts over.
        interval: the shortest time between two checkpoints of the thread, in seconds.
            Under many small commits, each checkpoint then covers many of them.
        idle: the thread ends after this many seconds without a commit (the next commit
            starts it again), so an unclosed store leaves no thread behind for long.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        limit_pages: int,
        interval: float = 0.25,
        idle: float = 5.0,
    ) -> None:
        self.path = Path(path)
        self.limit_pages = limit_pages
        self.interval = interval
        self.idle = idle
        self.checkpoints = 0
        """Checkpoints the thread has run (for tests and diagnostics)."""
        self.restarts = 0
        """Times a writer finished the copy so that the log started over."""
        self.catching_up = 0.0
        """Seconds writers spent finishing copies (waiting for the thread included)."""
        self.last_error: sqlite3.Error | None = None
        """The last error a checkpoint met; the next commit (or write) tries again."""
        self._reset()

    def _reset(self) -> None:
        # Locks and the thread do not survive a fork: a child process starts afresh.
        self._pid = os.getpid()
        self._state = threading.Lock()  # guards _thread and _closed
        self._copying = threading.Lock()  # held while this process runs a checkpoint
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._frames = 0  # the log's length in pages when the last checkpoint ran

    def _same_process(self) -> None:
        if self._pid != os.getpid():
            self._reset()

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def committed(self) -> None:
        """Note a commit: the thread checkpoints soon (and starts, if it is not running)."""
        self._same_process()
        with self._state:
            if self._closed:
                return
            self._wake.set()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"omnichannel-checkpoint:{self.path.name}", daemon=True
                )
                self._thread.start()

    def before_write(self, connection: Any) -> None:
        """Called on a store connection just before it begins a write transaction.

        When the log has grown past ``limit_pages``, finish copying it back (waiting for
        the thread if it is copying), so that this transaction starts the log over.
        ``connection`` is the ``sqlite3`` connection, outside any transaction.
        """
        self._same_process()
        if self._frames < self.limit_pages:
            return
        started = time.perf_counter()
        with self._copying:
            try:
                row = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error as exc:  # the transaction can go on; the log goes on too
                self.last_error = exc
                return
            busy, log, copied = row
            # A reader that still needs older frames keeps them: the log goes on then, and
            # the next writer tries again.
            if busy or copied < log:
                self._frames = log
            else:
                self._frames = 0
                self.restarts += 1
            self.catching_up += time.perf_counter() - started

    def close(self) -> None:
        """Stop the thread, after the checkpoint it is running (if any)."""
        self._same_process()
        with self._state:
            self._closed = True
            thread, self._thread = self._thread, None
        self._stop.set()
        self._wake.set()
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=rw",
                uri=True,
                timeout=30,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            self.last_error = exc
            with self._state:
                self._thread = None
            return
        try:
            connection.execute("PRAGMA synchronous = NORMAL")
            self._loop(connection)
        finally:
            connection.close()

    def _loop(self, connection: sqlite3.Connection) -> None:
        while True:
            if not self._wake.wait(self.idle):
                with self._state:
                    if not self._wake.is_set():  # no commit came: end; the next starts us
                        self._thread = None
                        return
            if self._stop.is_set():
                return
            self._wake.clear()
            with self._copying:
                try:
                    _, log, _ = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:
                    self.last_error = exc
                else:
                    self._frames = log
                    self.checkpoints += 1
            if self._stop.wait(self.interval):
                return
