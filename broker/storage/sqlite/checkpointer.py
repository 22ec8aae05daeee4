"""Copying the WAL back into the database file, off the writer's path.

In WAL mode every commit appends pages to the WAL, and a checkpoint copies them back into
the database file (then syncs it). SQLite's default is to checkpoint inside the COMMIT that
crosses 1,000 pages, so that commit, and every write queued behind it, waits for the copy.
Here the writer's own threshold is a backstop far away (`WAL_BACKSTOP_PAGES`), and this
thread, on its own connection, runs a PASSIVE checkpoint (which never blocks the writer or
the readers) every `interval` seconds in which something was committed, and once more when
it stops. A page written many times in an interval is copied once.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Checkpointer:
    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        commits: Callable[[], int],
        *,
        interval: float = 1.0,
    ) -> None:
        """`commits()`: how many transactions the writer has committed so far."""
        self._connect = connect
        self._commits = commits
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="agora-sqlite-checkpointer", daemon=True
        )
        self._seen = 0
        self.checkpoints = 0
        """PASSIVE checkpoints run so far."""

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        """Stop after one last checkpoint; blocks until then (call it off the event loop)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(30)

    def _run(self) -> None:
        conn = self._connect()
        try:
            while not self._stop.wait(self._interval):
                self._checkpoint(conn)
            self._checkpoint(conn)
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        commits = self._commits()
        if commits == self._seen:
            return
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as exc:  # the writer's backstop still bounds the WAL
            log.warning("WAL checkpoint failed: %s", exc)
            return
        self._seen = commits
        self.checkpoints += 1
