"""The SQLite schema, versioned with PRAGMA user_version.

`MIGRATIONS[n]` takes a database from version n to n+1; a fresh file runs them all. Never
edit a released migration: append a new one. Documents are kept as JSON text (not JSONB
blobs) so JSON1 functions can query them and the file stays readable with the sqlite3 shell.

A step is an SQL statement or, where SQL cannot do the work (back-filling the query side
tables, which needs the geometry code), a function of the connection, run in the same
transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import orjson

from broker.storage.base import StoreError
from broker.storage.sqlite.index import AttrIds, index_new_rows
from broker.storage.sqlite.subscriptions import SUBSCRIPTION_LEASES_SCHEMA, SUBSCRIPTIONS_SCHEMA

Step = str | Callable[[sqlite3.Connection], None]
MIGRATION_CHUNK = 1000
"""Documents a migration step that re-reads them holds in memory at once."""


def _backfill_query_index(conn: sqlite3.Connection) -> None:
    """Index every stored entity's attribute values (the table is empty when this runs).
    Version 3 also filled its geometry tables here; 7 -> 8 re-derives those from the
    documents, so this step leaves them to it."""
    ids = AttrIds()
    rows = conn.execute("SELECT eid, tenant, doc FROM entities").fetchall()
    for eid, tenant, doc in rows:
        index_new_rows(conn, tenant, [(eid, orjson.loads(doc))], ids, geometry=False)


def _points_out_of_the_rtree(conn: sqlite3.Connection) -> None:
    """Re-derive the geometry rows of every entity that can have any (a geometry value is
    an object: its attr_values row has kind 'x'): Points go to `geo_points`, other shapes
    keep a box in the R*Tree."""
    ids = AttrIds()
    conn.execute("DELETE FROM geo_shapes")
    conn.execute("DELETE FROM geo_boxes")
    last = 0
    while True:  # a chunk of documents at a time, however many the file holds
        rows = conn.execute(
            # EXISTS probes each entity's own attr_values rows; an IN (SELECT ...) would
            # read the whole table again for every chunk.
            "SELECT e.eid, e.tenant, e.doc FROM entities e WHERE e.eid > ? AND EXISTS "
            "(SELECT 1 FROM attr_values v WHERE v.eid = e.eid AND v.kind = 'x') "
            "ORDER BY e.eid LIMIT ?",
            (last, MIGRATION_CHUNK),
        ).fetchall()
        if not rows:
            return
        for eid, tenant, doc in rows:
            index_new_rows(conn, tenant, [(eid, orjson.loads(doc))], ids, attributes=False)
        last = rows[-1][0]


def _drop_timestamp_columns(conn: sqlite3.Connection) -> None:
    """Drop `entities.created_at` and `modified_at` (a rewrite of the table: once, on the
    first start of this version). SQLite before 3.35 cannot drop a column: there the two
    stay, NULL in every row written from now on."""
    if sqlite3.sqlite_version_info < (3, 35, 0):
        return
    conn.execute("ALTER TABLE entities DROP COLUMN created_at")
    conn.execute("ALTER TABLE entities DROP COLUMN modified_at")


def _nothing(conn: sqlite3.Connection) -> None:
    """Version 2 back-filled its side tables here; version 3 replaces those tables and
    back-fills its own, so a database still at version 1 skips the work."""


MIGRATIONS: tuple[tuple[Step, ...], ...] = (
    (
        """CREATE TABLE tenants (
            id TEXT PRIMARY KEY,
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
        ) WITHOUT ROWID""",
        "INSERT INTO tenants (id) VALUES ('')",
        """CREATE TABLE entities (
            tenant TEXT NOT NULL,
            id TEXT NOT NULL,
            doc TEXT NOT NULL,
            created_at TEXT,
            modified_at TEXT,
            PRIMARY KEY (tenant, id)
        )""",
        "CREATE INDEX entities_by_modified_at ON entities (tenant, modified_at)",
        """CREATE TABLE entity_types (
            tenant TEXT NOT NULL,
            id TEXT NOT NULL,
            type TEXT NOT NULL,
            PRIMARY KEY (tenant, id, type)
        ) WITHOUT ROWID""",
        "CREATE INDEX entity_types_by_type ON entity_types (tenant, type, id)",
        """CREATE TABLE contexts (
            id TEXT PRIMARY KEY,
            record TEXT NOT NULL
        ) WITHOUT ROWID""",
    ),
    # 1 -> 2: the query side tables (see index.py), back-filled from the stored documents.
    (
        """CREATE TABLE attr_values (
            tenant TEXT NOT NULL,
            id TEXT NOT NULL,
            attr TEXT NOT NULL,
            dataset TEXT,
            kind TEXT NOT NULL,
            val
        )""",
        "CREATE INDEX attr_values_by_entity ON attr_values (tenant, id, attr, kind, val)",
        "CREATE INDEX attr_values_by_value ON attr_values (tenant, attr, kind, val, id)",
        """CREATE TABLE geo_shapes (
            rid INTEGER PRIMARY KEY,
            tenant TEXT NOT NULL,
            id TEXT NOT NULL,
            attr TEXT NOT NULL
        )""",
        "CREATE INDEX geo_shapes_by_entity ON geo_shapes (tenant, id)",
        "CREATE VIRTUAL TABLE geo_boxes USING rtree(rid, min_lon, max_lon, min_lat, max_lat)",
        _nothing,
    ),
    # 2 -> 3: integer keys. Entities get `eid` (an INTEGER PRIMARY KEY: VACUUM keeps it),
    # attribute IRIs an `aid` per tenant, and the side tables are keyed by those integers.
    (
        """CREATE TABLE entities_v3 (
            eid INTEGER PRIMARY KEY,
            tenant TEXT NOT NULL,
            id TEXT NOT NULL,
            doc TEXT NOT NULL,
            created_at TEXT,
            modified_at TEXT
        )""",
        "INSERT INTO entities_v3 (tenant, id, doc, created_at, modified_at) "
        "SELECT tenant, id, doc, created_at, modified_at FROM entities ORDER BY tenant, id",
        "DROP TABLE entities",
        "ALTER TABLE entities_v3 RENAME TO entities",
        "CREATE UNIQUE INDEX entities_by_id ON entities (tenant, id)",
        "CREATE INDEX entities_by_modified_at ON entities (tenant, modified_at)",
        "DROP TABLE attr_values",
        "DROP TABLE geo_shapes",
        "DROP TABLE geo_boxes",
        """CREATE TABLE attr_names (
            aid INTEGER PRIMARY KEY,
            tenant TEXT NOT NULL,
            iri TEXT NOT NULL,
            UNIQUE (tenant, iri)
        )""",
        """CREATE TABLE attr_values (
            eid INTEGER NOT NULL,
            aid INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            dataset TEXT,
            atype TEXT,
            kind TEXT NOT NULL,
            val,
            PRIMARY KEY (eid, aid, seq)
        ) WITHOUT ROWID""",
        "CREATE INDEX attr_values_by_attr ON attr_values (aid, atype, eid)",
        """CREATE TABLE geo_shapes (
            rid INTEGER PRIMARY KEY,
            eid INTEGER NOT NULL,
            aid INTEGER NOT NULL,
            id TEXT NOT NULL
        )""",
        "CREATE INDEX geo_shapes_by_entity ON geo_shapes (eid, aid)",
        "CREATE VIRTUAL TABLE geo_boxes USING rtree(rid, min_lon, max_lon, min_lat, max_lat)",
        _backfill_query_index,
    ),
    # 3 -> 4: nothing reads entities by modification time, and the index cost every create
    # an insert and every update a move.
    ("DROP INDEX entities_by_modified_at",),
    # 4 -> 5: subscriptions (see subscriptions.py).
    SUBSCRIPTIONS_SCHEMA,
    # 5 -> 6: subscription revisions (replicas poll them) and notification leases.
    SUBSCRIPTION_LEASES_SCHEMA,
    # 6 -> 7: entity_types keyed by (eid, type): a new entity's rows land at the end of the
    # primary key (eids only grow) instead of at its id's place, and an entity's types are
    # found from its eid. `entity_types_by_type` keeps (tenant, type, id) for the id-ordered
    # walk of a type.
    (
        """CREATE TABLE entity_types_v7 (
            eid INTEGER NOT NULL,
            type TEXT NOT NULL,
            tenant TEXT NOT NULL,
            id TEXT NOT NULL,
            PRIMARY KEY (eid, type)
        ) WITHOUT ROWID""",
        "INSERT INTO entity_types_v7 (eid, type, tenant, id) "
        "SELECT e.eid, t.type, t.tenant, t.id FROM entity_types t "
        "JOIN entities e ON e.tenant = t.tenant AND e.id = t.id",
        "DROP TABLE entity_types",
        "ALTER TABLE entity_types_v7 RENAME TO entity_types",
        "CREATE INDEX entity_types_by_type ON entity_types (tenant, type, id)",
    ),
    # 7 -> 8: Points out of the R*Tree (index.py, cells.py): a Point is a `geo_points` row
    # found by its Z-order cell; other geometries keep their boxes in `geo_boxes`.
    (
        """CREATE TABLE geo_points (
            aid INTEGER NOT NULL,
            cell INTEGER NOT NULL,
            eid INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            lon REAL NOT NULL,
            lat REAL NOT NULL,
            id TEXT NOT NULL,
            PRIMARY KEY (aid, cell, eid, seq)
        ) WITHOUT ROWID""",
        "CREATE INDEX geo_points_by_entity ON geo_points (eid, aid)",
        _points_out_of_the_rtree,
    ),
    # 8 -> 9: the entity's timestamps live in its document; nothing read the copies in
    # `entities.created_at` / `modified_at`, and writing them cost every create and update
    # two more parameters and 48 bytes of row.
    (_drop_timestamp_columns,),
    # 9 -> 10: discovery from a summary kept in step by the writes (index.Census) instead of
    # the (aid, atype, eid) index on attr_values, which served discovery alone and cost every
    # attribute row a second B-tree entry.
    (
        """CREATE TABLE attr_holders (
            aid INTEGER PRIMARY KEY,
            entities INTEGER NOT NULL
        )""",
        """CREATE TABLE attr_kinds (
            aid INTEGER NOT NULL,
            type TEXT NOT NULL,
            atype TEXT NOT NULL,
            entities INTEGER NOT NULL,
            PRIMARY KEY (aid, type, atype)
        ) WITHOUT ROWID""",
        "INSERT INTO attr_holders (aid, entities) "
        "SELECT aid, count(*) FROM attr_values WHERE seq = 0 GROUP BY aid",
        "INSERT INTO attr_kinds (aid, type, atype, entities) "
        "SELECT v.aid, t.type, coalesce(v.atype, ''), count(DISTINCT v.eid) "
        "FROM attr_values AS v JOIN entity_types AS t ON t.eid = v.eid "
        "GROUP BY v.aid, t.type, coalesce(v.atype, '')",
        "DROP INDEX attr_values_by_attr",
    ),
    # 10 -> 11: entities per type kept by the writes (`type_counts`, moved wherever
    # `entity_types` rows are written or deleted), so the type list no longer counts the
    # tenant's `entity_types` rows per request.
    (
        """CREATE TABLE type_counts (
            tenant TEXT NOT NULL,
            type TEXT NOT NULL,
            entities INTEGER NOT NULL,
            PRIMARY KEY (tenant, type)
        ) WITHOUT ROWID""",
        "INSERT INTO type_counts (tenant, type, entities) "
        "SELECT tenant, type, count(*) FROM entity_types GROUP BY tenant, type",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema up to SCHEMA_VERSION; return the version found before.

    Each step runs in its own IMMEDIATE transaction and re-reads the version inside it, so two
    processes opening the same new file cannot both apply a step.
    """
    found: int | None = None
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if found is None:
                found = version
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"database schema version {version} is newer than this broker's "
                    f"({SCHEMA_VERSION}); upgrade the broker"
                )
            if version == SCHEMA_VERSION:
                conn.execute("COMMIT")
                return found
            for step in MIGRATIONS[version]:
                if isinstance(step, str):
                    conn.execute(step)
                else:
                    step(conn)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
