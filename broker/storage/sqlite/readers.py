"""SQLite reads off the event loop: a few threads, each with its own connection.

In WAL mode readers never wait for the writer (they read the last committed state), so a
small pool of read connections serves many concurrent requests while the writer commits.

Handing a read to a thread and its result back costs far more than a primary-key lookup
(tens of microseconds against a few). So reads are batched both ways: a reader thread takes
every read queued when it wakes (up to `BATCH`), runs them back to back, and hands all the
results to the event loop in one `call_soon_threadsafe`. Under load that is one wake-up each
way for dozens of reads; when idle, a read still runs at once.
"""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from broker.storage.base import StoreError

T = TypeVar("T")
BATCH = 64

_Job = tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any]]
_Done = tuple[asyncio.Future[Any], bool, Any]


def _deliver(results: list[_Done]) -> None:
    for future, ok, value in results:
        if future.done():  # the caller was cancelled
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


class ReaderPool:
    def __init__(self, connect: Callable[[], sqlite3.Connection], size: int) -> None:
        if size < 1:
            raise ValueError("sqlite_readers must be at least 1")
        self._connect = connect
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._threads = [
            threading.Thread(target=self._work, name=f"agora-sqlite-reader-{i}", daemon=True)
            for i in range(size)
        ]
        self._closed = False

    async def run(self, query: Callable[[sqlite3.Connection], T]) -> T:
        """Run `query(connection)` on a reader thread; sqlite3 errors become StoreError."""
        if self._closed:
            raise StoreError("the SQLite store is closed")
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            for thread in self._threads:
                thread.start()
        future: asyncio.Future[T] = self._loop.create_future()
        self._jobs.put((query, future))
        try:
            return await future
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite read failed: {exc}") from exc

    def _work(self) -> None:
        loop = self._loop
        assert loop is not None
        conn = self._connect()
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                batch = [job]
                while len(batch) < BATCH:
                    try:
                        more = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        self._jobs.put(None)  # leave the stop signal for this thread's next turn
                        break
                    batch.append(more)
                results: list[_Done] = []
                for query, future in batch:
                    try:
                        results.append((future, True, query(conn)))
                    except BaseException as exc:
                        results.append((future, False, exc))
                try:
                    loop.call_soon_threadsafe(_deliver, results)
                except RuntimeError:  # the loop is closed: nobody waits any more
                    return
        finally:
            conn.close()

    async def close(self) -> None:
        """Let the reads in flight finish, then close every connection."""
        if self._closed:
            return
        self._closed = True
        if self._loop is None:
            return
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            await asyncio.to_thread(thread.join)
