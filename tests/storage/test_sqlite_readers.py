"""The batching reader pool: many concurrent reads, each gets its own answer."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from broker.storage.base import StoreError
from broker.storage.sqlite.readers import ReaderPool


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, check_same_thread=False)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "r.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"v{i}") for i in range(500)])
    conn.commit()
    conn.close()
    return path


async def test_concurrent_reads_each_get_their_own_row(db: Path) -> None:
    pool = ReaderPool(lambda: _connect(db), 2)

    async def read(k: int) -> str:
        def query(conn: sqlite3.Connection) -> str:
            return str(conn.execute("SELECT v FROM t WHERE k = ?", (k,)).fetchone()[0])

        return await pool.run(query)

    try:
        values = await asyncio.gather(*(read(i) for i in range(500)))
        assert values == [f"v{i}" for i in range(500)]
    finally:
        await pool.close()


async def test_a_failing_read_fails_alone_as_store_error(db: Path) -> None:
    pool = ReaderPool(lambda: _connect(db), 1)

    def bad(conn: sqlite3.Connection) -> object:
        return conn.execute("SELECT nope FROM t").fetchone()

    def good(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT count(*) FROM t").fetchone()[0])

    try:
        results = await asyncio.gather(pool.run(bad), pool.run(good), return_exceptions=True)
        assert isinstance(results[0], StoreError)
        assert results[1] == 500
    finally:
        await pool.close()


async def test_a_cancelled_read_does_not_disturb_the_others(db: Path) -> None:
    pool = ReaderPool(lambda: _connect(db), 1)

    def slow(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT count(*) FROM t a, t b").fetchone()[0])

    try:
        task = asyncio.create_task(pool.run(slow))
        await asyncio.sleep(0)
        task.cancel()
        assert await pool.run(lambda c: int(c.execute("SELECT 1").fetchone()[0])) == 1
    finally:
        await pool.close()


async def test_reads_after_close_are_refused(db: Path) -> None:
    pool = ReaderPool(lambda: _connect(db), 1)
    await pool.run(lambda c: c.execute("SELECT 1").fetchone())
    await pool.close()
    with pytest.raises(StoreError):
        await pool.run(lambda c: c.execute("SELECT 1").fetchone())
