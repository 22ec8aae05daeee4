"""SQLite reads off the event loop: a few threads, each with its own connection.

In WAL mode readers never wait for the writer (they read the last committed state), so a
small pool of read connections serves many concurrent requests while the writer commits.
A connection is opened lazily by the thread that uses it and kept in thread-local storage.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from broker.storage.base import StoreError

T = TypeVar("T")


class ReaderPool:
    def __init__(self, connect: Callable[[], sqlite3.Connection], size: int) -> None:
        if size < 1:
            raise ValueError("sqlite_readers must be at least 1")
        self._connect = connect
        self._executor = ThreadPoolExecutor(size, thread_name_prefix="agora-sqlite-reader")
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._opened_lock = threading.Lock()
        self._closed = False

    async def run(self, query: Callable[[sqlite3.Connection], T]) -> T:
        """Run `query(connection)` on a reader thread; sqlite3 errors become StoreError."""
        if self._closed:
            raise StoreError("the SQLite store is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._call, query)
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite read failed: {exc}") from exc

    def _call(self, query: Callable[[sqlite3.Connection], T]) -> T:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._opened_lock:
                self._opened.append(conn)
        return query(conn)

    async def close(self) -> None:
        """Wait for the reads in flight, then close every connection."""
        if self._closed:
            return
        self._closed = True
        await asyncio.to_thread(self._executor.shutdown, True)
        with self._opened_lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()
