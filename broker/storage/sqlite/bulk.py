"""Inserting, updating and deleting many rows with few statements.

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
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

MAX_ROWS = 1024
MAX_TERMS = 256
"""Most (a AND b) terms one DELETE ORs together (SQLite's expression depth limit is 1,000)."""
MAX_PARAMETERS = 32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999
"""SQLITE_MAX_VARIABLE_NUMBER's default (999 before SQLite 3.32)."""
UPDATE_FROM = sqlite3.sqlite_version_info >= (3, 33, 0)
"""Whether the linked SQLite has UPDATE ... FROM (3.33+)."""


def insert_rows(
    conn: sqlite3.Connection,
    head: str,
    width: int,
    rows: Sequence[Sequence[Any]],
    tail: str = "",
) -> None:
    """`head` ("INSERT INTO t (a, b)") for every row of `width` values, chunk by chunk,
    each statement ending in `tail` (" ON CONFLICT DO NOTHING").

    Rows are inserted in order, so rowids handed out by SQLite follow the order of `rows`.
    """
    for size, chunk in _chunks(rows, _largest_chunk(width)):
        conn.execute(
            _statement(head, width, size, tail), [value for row in chunk for value in row]
        )


NO_VALUE = bytearray()
"""What `insert_flat` binds for SQL NULL in a column its `row` wraps in `nullif(?, X'')`.
Python's sqlite3 binds None through its adaptation protocol (a registry look-up and two
failed attribute look-ups per parameter), which doubled the cost of an attr_values row with
two of them; a bytearray is bound directly, and no stored value is ever a blob."""


def insert_flat(
    conn: sqlite3.Connection, head: str, width: int, values: list[Any], row: str = ""
) -> None:
    """`insert_rows` for rows given as one flat list of values, `width` per row; `row` is
    the SQL of one row when it is not `(?, ?, ...)`, such as `(?, nullif(?, X''))`."""
    rows = len(values) // width
    start = 0
    for size in _sizes(rows, _largest_chunk(width)):
        end = start + size * width
        conn.execute(_statement(head, width, size, "", row), values[start:end])
        start = end


def update_rows(
    conn: sqlite3.Connection,
    table: str,
    key: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Set `columns` of the row whose `key` is row[0] to row[1:], for every row: one
    `UPDATE ... FROM (VALUES ...)` per chunk (SQLite 3.33+), else one UPDATE per row."""
    if not rows:
        return
    if not UPDATE_FROM:
        sets = ", ".join(f"{c} = ?" for c in columns)
        conn.executemany(
            f"UPDATE {table} SET {sets} WHERE {key} = ?", [(*row[1:], row[0]) for row in rows]
        )
        return
    sets = ", ".join(f"{c} = v.column{i + 2}" for i, c in enumerate(columns))
    head = f"UPDATE {table} SET {sets} FROM ("
    tail = f") AS v WHERE {table}.{key} = v.column1"
    width = len(columns) + 1
    for size, chunk in _chunks(rows, _largest_chunk(width)):
        conn.execute(
            _statement(head, width, size, tail), [value for row in chunk for value in row]
        )


def delete_pairs(
    conn: sqlite3.Connection,
    table: str,
    columns: tuple[str, str],
    pairs: Sequence[tuple[Any, Any]],
) -> None:
    """Delete the rows whose `columns` equal one of `pairs`: (a = ? AND b = ?) terms ORed
    together, which SQLite answers with one index search per term."""
    first, second = columns
    term = f"({first} = ? AND {second} = ?)"
    for size, chunk in _chunks(pairs, MAX_TERMS):
        conn.execute(_or_statement(table, term, size), [v for pair in chunk for v in pair])


def _chunks(rows: Sequence[Any], largest: int) -> Iterator[tuple[int, Sequence[Any]]]:
    start = 0
    for size in _sizes(len(rows), largest):
        yield size, rows[start : start + size]
        start += size


def _sizes(total: int, largest: int) -> Iterator[int]:
    """The chunk sizes `total` rows go in: powers of two, largest first, none over
    `largest`."""
    while total > 0:
        size = min(largest, 1 << (total.bit_length() - 1))
        yield size
        total -= size


def _largest_chunk(width: int) -> int:
    fit = max(MAX_PARAMETERS // max(width, 1), 1)
    return 1 << (min(fit, MAX_ROWS).bit_length() - 1)


@lru_cache(maxsize=64)
def _or_statement(table: str, term: str, terms: int) -> str:
    return f"DELETE FROM {table} WHERE " + " OR ".join([term] * terms)


@lru_cache(maxsize=256)
def _statement(head: str, width: int, rows: int, tail: str = "", row: str = "") -> str:
    one = row or "(" + ", ".join("?" * width) + ")"
    return f"{head} VALUES " + ", ".join([one] * rows) + tail
