"""Subscriptions in SQLite: the `subscriptions` table and the statements on it.

One row per (tenant, id): `doc` is the stored record, `stats` the delivery counters, both
orjson text. Counters are written apart from the record so a periodic flush never overwrites
an update of the subscription that committed in between.

`SUBSCRIPTIONS_SCHEMA` is the migration step that creates the table; `schema.MIGRATIONS`
appends it (it is kept here so that it reads as one unit with the statements that use it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson

from broker.storage.base import DuplicateSubscription, StoredSubscription

SUBSCRIPTIONS_SCHEMA: tuple[str, ...] = (
    """CREATE TABLE subscriptions (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        doc TEXT NOT NULL,
        stats TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (tenant, id)
    ) WITHOUT ROWID""",
)


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _stored(tenant: str, doc: str, stats: str) -> StoredSubscription:
    return StoredSubscription(tenant, orjson.loads(doc), orjson.loads(stats))


def insert(conn: sqlite3.Connection, tenant: str, record: dict[str, Any]) -> None:
    try:
        conn.execute(
            "INSERT INTO subscriptions (tenant, id, doc) VALUES (?, ?, ?)",
            (tenant, record["id"], _dumps(record)),
        )
    except sqlite3.IntegrityError:
        raise DuplicateSubscription(f"subscription {record['id']} already exists") from None
    conn.execute("INSERT OR IGNORE INTO tenants (id) VALUES (?)", (tenant,))


def select_one(
    conn: sqlite3.Connection, tenant: str, subscription_id: str
) -> StoredSubscription | None:
    row = conn.execute(
        "SELECT doc, stats FROM subscriptions WHERE tenant = ? AND id = ?",
        (tenant, subscription_id),
    ).fetchone()
    return None if row is None else _stored(tenant, row[0], row[1])


def select_page(
    conn: sqlite3.Connection, tenant: str, limit: int, offset: int
) -> tuple[list[StoredSubscription], int]:
    """One page and the total, read in one transaction so they agree."""
    conn.execute("BEGIN")
    try:
        rows = conn.execute(
            "SELECT doc, stats FROM subscriptions WHERE tenant = ? ORDER BY id LIMIT ? OFFSET ?",
            (tenant, limit, offset),
        ).fetchall()
        total = int(
            conn.execute(
                "SELECT count(*) FROM subscriptions WHERE tenant = ?", (tenant,)
            ).fetchone()[0]
        )
    finally:
        conn.execute("COMMIT")
    return [_stored(tenant, doc, stats) for doc, stats in rows], total


def select_all(conn: sqlite3.Connection) -> list[StoredSubscription]:
    rows = conn.execute("SELECT tenant, doc, stats FROM subscriptions ORDER BY tenant, id")
    return [_stored(tenant, doc, stats) for tenant, doc, stats in rows]


def update(conn: sqlite3.Connection, tenant: str, record: dict[str, Any]) -> bool:
    cursor = conn.execute(
        "UPDATE subscriptions SET doc = ? WHERE tenant = ? AND id = ?",
        (_dumps(record), tenant, record["id"]),
    )
    return cursor.rowcount > 0


def delete(conn: sqlite3.Connection, tenant: str, subscription_id: str) -> bool:
    cursor = conn.execute(
        "DELETE FROM subscriptions WHERE tenant = ? AND id = ?", (tenant, subscription_id)
    )
    return cursor.rowcount > 0


def update_stats(
    conn: sqlite3.Connection, updates: Sequence[tuple[str, str, dict[str, Any]]]
) -> None:
    conn.executemany(
        "UPDATE subscriptions SET stats = ? WHERE tenant = ? AND id = ?",
        [(_dumps(stats), tenant, subscription_id) for tenant, subscription_id, stats in updates],
    )
