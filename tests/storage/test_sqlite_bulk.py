"""Multi-row inserts (broker/storage/sqlite/bulk.py): every row lands, in order, whatever the
row count and width, and SQLite's values keep their types."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broker.storage.sqlite import bulk

VALUES = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)


def _table(width: int) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    columns = ", ".join(f"c{i}" for i in range(width))
    conn.execute(f"CREATE TABLE t (n INTEGER PRIMARY KEY, {columns})")
    return conn


@settings(max_examples=200, deadline=None)
@given(
    width=st.integers(min_value=1, max_value=7),
    count=st.integers(min_value=0, max_value=700),
    values=st.lists(VALUES, min_size=1, max_size=30),
    flat=st.booleans(),
)
def test_every_row_lands_in_order_with_its_values(
    width: int, count: int, values: list[Any], flat: bool
) -> None:
    """Given as rows (`insert_rows`) or as one flat list of values (`insert_flat`)."""
    conn = _table(width)
    rows = [
        tuple(values[(r * width + c) % len(values)] for c in range(width)) for r in range(count)
    ]
    columns = ", ".join(f"c{i}" for i in range(width))
    if flat:
        bulk.insert_flat(conn, f"INSERT INTO t ({columns})", width, [v for r in rows for v in r])
    else:
        bulk.insert_rows(conn, f"INSERT INTO t ({columns})", width, rows)
    stored = conn.execute(f"SELECT {columns} FROM t ORDER BY n").fetchall()
    assert stored == rows
    # Same types as one INSERT per row would store (an integer stays an integer).
    assert [tuple(type(v) for v in row) for row in stored] == [
        tuple(type(v) for v in row) for row in rows
    ]


@settings(max_examples=200, deadline=None)
@given(
    width=st.integers(min_value=1, max_value=7),
    count=st.integers(min_value=0, max_value=300),
    values=st.lists(VALUES, min_size=1, max_size=30),
)
def test_nulls_bound_as_no_value_land_as_null(width: int, count: int, values: list[Any]) -> None:
    """With every column wrapped in nullif(?, X''), bulk.NO_VALUE (bound for None) lands as
    NULL and every other value (the empty string, zero) as itself."""
    conn = _table(width)
    rows = [
        tuple(values[(r * width + c) % len(values)] for c in range(width)) for r in range(count)
    ]
    columns = ", ".join(f"c{i}" for i in range(width))
    one = "(" + ", ".join(["nullif(?, X'')"] * width) + ")"
    flat = [bulk.NO_VALUE if v is None else v for r in rows for v in r]
    bulk.insert_flat(conn, f"INSERT INTO t ({columns})", width, flat, one)
    stored = conn.execute(f"SELECT {columns} FROM t ORDER BY n").fetchall()
    assert stored == rows
    assert [tuple(type(v) for v in row) for row in stored] == [
        tuple(type(v) for v in row) for row in rows
    ]


def test_chunks_respect_the_parameter_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """With SQLite's old limit of 999 parameters a 7-column chunk holds at most 128 rows, and a
    statement over the limit would fail: 1,000 rows still all land."""
    monkeypatch.setattr(bulk, "MAX_PARAMETERS", 999)
    conn = _table(7)
    seen: list[int] = []
    real_execute = conn.execute

    class Recording:
        def execute(self, sql: str, params: list[Any]) -> sqlite3.Cursor:
            seen.append(len(params))
            return real_execute(sql, params)

    rows = [tuple(range(r, r + 7)) for r in range(1000)]
    head = "INSERT INTO t (c0, c1, c2, c3, c4, c5, c6)"
    bulk.insert_rows(Recording(), head, 7, rows)  # type: ignore[arg-type]
    assert max(seen) <= 999
    assert sum(seen) == 7000
    assert len(seen) <= 8 + 7  # 7 chunks of 128, then 104 = 64 + 32 + 8
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (1000,)
    seen.clear()
    bulk.insert_flat(Recording(), head, 7, [v + 1000 for r in rows for v in r])  # type: ignore[arg-type]
    assert max(seen) <= 999 and sum(seen) == 7000 and len(seen) <= 8 + 7
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (2000,)


def test_a_refused_row_fails_its_statement() -> None:
    """A duplicate key in a chunk raises, as executemany would (the store then rolls back)."""
    conn = _table(1)
    with pytest.raises(sqlite3.IntegrityError):
        bulk.insert_rows(conn, "INSERT INTO t (n, c0)", 2, [(1, "a"), (2, "b"), (1, "c")])
