"""Inserting many rows with few statements.

`executemany` steps its statement once per row, and each step releases the GIL and takes it
back. On the writer thread that is the expensive part: while the event loop holds the GIL,
every one of those hand-backs waits for it (up to the interpreter's switch interval), so a
batch of 100 entities (some 800 rows over five tables) ran at the pace of the event loop's
pauses, not of SQLite. A multi-row `INSERT ... VALUES (...), (...), ...` inserts a whole
chunk in one step: one GIL hand-back per chunk, and SQLite's work for the chunk runs while
the event loop carries on.

Chunks have power-of-two row counts (at most `MAX_ROWS`, and at most as many parameters as
the linked SQLite allows in one statement), so a table has only a handful of distinct
statements for the connection's statement cache, whatever the batch sizes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

MAX_ROWS = 1024
MAX_PARAMETERS = 32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999
"""SQLITE_MAX_VARIABLE_NUMBER's default (999 before SQLite 3.32)."""


def insert_rows(
    conn: sqlite3.Connection, head: str, width: int, rows: Sequence[Sequence[Any]]
) -> None:
    """`head` ("INSERT INTO t (a, b)") for every row of `width` values, chunk by chunk.

    Rows are inserted in order, so rowids handed out by SQLite follow the order of `rows`.
    """
    largest = _largest_chunk(width)
    start, total = 0, len(rows)
    while start < total:
        size = min(largest, 1 << ((total - start).bit_length() - 1))
        chunk = rows[start : start + size]
        conn.execute(_statement(head, width, size), [value for row in chunk for value in row])
        start += size


def _largest_chunk(width: int) -> int:
    fit = max(MAX_PARAMETERS // max(width, 1), 1)
    return 1 << (min(fit, MAX_ROWS).bit_length() - 1)


@lru_cache(maxsize=256)
def _statement(head: str, width: int, rows: int) -> str:
    one = "(" + ", ".join("?" * width) + ")"
    return f"{head} VALUES " + ", ".join([one] * rows)
