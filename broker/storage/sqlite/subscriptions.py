"""Subscriptions in SQLite: the `subscriptions` table and the statements on it.

One row per (tenant, id): `doc` is the stored record, `stats` the delivery counters, both
orjson text. Counters are written apart from the record so a periodic flush never overwrites
an update of the subscription that committed in between. `revision` is a fresh token at
every create and update (replicas poll the tokens to see what changed); `lease` the epoch
seconds of the last notification slot a process claimed (periodic and throttled
subscriptions: `claim`).

`SUBSCRIPTIONS_SCHEMA` (schema 5) creates the table and `SUBSCRIPTION_LEASES_SCHEMA`
(schema 6) adds `revision` and `lease`; `schema.MIGRATIONS` appends them (they are kept here
so that they read as one unit with the statements that use them).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Sequence
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
SUBSCRIPTION_LEASES_SCHEMA: tuple[str, ...] = (
    "ALTER TABLE subscriptions ADD COLUMN revision TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE subscriptions ADD COLUMN lease REAL",
)


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _stored(
    tenant: str, doc: str, stats: str, revision: str = "", lease: float | None = None
) -> StoredSubscription:
    return StoredSubscription(tenant, orjson.loads(doc), orjson.loads(stats), revision, lease)


def new_revision() -> str:
    return uuid.uuid4().hex


def insert(conn: sqlite3.Connection, tenant: str, record: dict[str, Any]) -> None:
    try:
        conn.execute(
            "INSERT INTO subscriptions (tenant, id, doc, revision) VALUES (?, ?, ?, ?)",
            (tenant, record["id"], _dumps(record), new_revision()),
        )
    except sqlite3.IntegrityError:
        raise DuplicateSubscription(f"subscription {record['id']} already exists") from None
    conn.execute("INSERT OR IGNORE INTO tenants (id) VALUES (?)", (tenant,))


def select_one(
    conn: sqlite3.Connection, tenant: str, subscription_id: str
) -> StoredSubscription | None:
    row = conn.execute(
        "SELECT doc, stats, revision, lease FROM subscriptions WHERE tenant = ? AND id = ?",
        (tenant, subscription_id),
    ).fetchone()
    return None if row is None else _stored(tenant, *row)


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
    rows = conn.execute(
        "SELECT tenant, doc, stats, revision, lease FROM subscriptions ORDER BY tenant, id"
    )
    return [_stored(*row) for row in rows]


def select_revisions(conn: sqlite3.Connection) -> dict[tuple[str, str], str]:
    rows = conn.execute("SELECT tenant, id, revision FROM subscriptions")
    return {(tenant, sid): revision for tenant, sid, revision in rows}


def update(conn: sqlite3.Connection, tenant: str, record: dict[str, Any]) -> bool:
    cursor = conn.execute(
        "UPDATE subscriptions SET doc = ?, revision = ? WHERE tenant = ? AND id = ?",
        (_dumps(record), new_revision(), tenant, record["id"]),
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


def claim(
    conn: sqlite3.Connection, tenant: str, subscription_id: str, now: float, interval: float
) -> tuple[bool, float | None]:
    """Take the notification slot at `now` unless one was taken less than `interval` seconds
    before; the answer and the lease that holds afterwards."""
    cursor = conn.execute(
        "UPDATE subscriptions SET lease = ? WHERE tenant = ? AND id = ? "
        "AND (lease IS NULL OR lease <= ?)",
        (now, tenant, subscription_id, now - interval),
    )
    if cursor.rowcount > 0:
        return True, now
    row = conn.execute(
        "SELECT lease FROM subscriptions WHERE tenant = ? AND id = ?", (tenant, subscription_id)
    ).fetchone()
    return False, None if row is None else row[0]


def add_stats(
    conn: sqlite3.Connection,
    updates: Sequence[tuple[str, str, dict[str, Any]]],
    merge: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]],
) -> None:
    """Add counters to the stored ones, in the writer's transaction (so another process
    adding at the same time waits for it)."""
    for tenant, subscription_id, delta in updates:
        row = conn.execute(
            "SELECT stats FROM subscriptions WHERE tenant = ? AND id = ?",
            (tenant, subscription_id),
        ).fetchone()
        if row is None:
            continue
        conn.execute(
            "UPDATE subscriptions SET stats = ? WHERE tenant = ? AND id = ?",
            (_dumps(merge(orjson.loads(row[0]), delta)), tenant, subscription_id),
        )
