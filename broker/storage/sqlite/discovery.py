"""Discovery in SQL (clauses 5.7.5-5.7.10): entity types, attributes, counts and kinds.

Works only from the `entities` documents (JSON1 `json_each` over `$.attrs`) and the
`entity_types` table; it does not read the query side tables. Each function runs on a reader
thread and answers in one statement (two for the type details), grouped in SQL so that
Python sees one row per (type, attribute, kind set), not one per entity. See
`broker.storage.discovery` for the row shape.
"""

from __future__ import annotations

import sqlite3

from broker.storage.base import AttributeDetails, TypeDetails
from broker.storage.discovery import (
    AttributeUse,
    parse_kinds,
    summarise_attributes,
    summarise_types,
)

# The kinds of one attribute of one entity, as a sorted comma-joined set. Nearly every
# attribute has one instance, which needs no subquery.
_KINDS = """CASE WHEN json_array_length(a.value) = 1
        THEN json_extract(a.value, '$[0].type')
        ELSE (SELECT group_concat(k, ',') FROM (
                SELECT DISTINCT json_extract(i.value, '$.type') AS k
                FROM json_each(a.value) AS i ORDER BY k))
    END"""

_USES = f"""
SELECT et.type, a.key, {_KINDS} AS kinds, count(*),
       sum(et.type = json_extract(e.doc, '$.type[0]'))
FROM entity_types AS et
JOIN entities AS e ON e.tenant = et.tenant AND e.id = et.id,
     json_each(e.doc, '$.attrs') AS a
WHERE et.tenant = ? {{where}}
GROUP BY et.type, a.key, kinds
"""


def count_entities_by_type(conn: sqlite3.Connection, tenant: str) -> dict[str, int]:
    rows = conn.execute(
        "SELECT type, count(*) FROM entity_types WHERE tenant = ? GROUP BY type", (tenant,)
    )
    return {str(t): int(n) for t, n in rows}


def describe_types(
    conn: sqlite3.Connection, tenant: str, entity_type: str | None
) -> list[TypeDetails]:
    if entity_type is None:
        counts = count_entities_by_type(conn, tenant)
        uses = _uses(conn, _USES.format(where=""), (tenant,))
    else:
        row = conn.execute(
            "SELECT count(*) FROM entity_types WHERE tenant = ? AND type = ?",
            (tenant, entity_type),
        ).fetchone()
        if not row[0]:
            return []
        counts = {entity_type: int(row[0])}
        uses = _uses(conn, _USES.format(where="AND et.type = ?"), (tenant, entity_type))
    return summarise_types(counts, uses)


def describe_attributes(
    conn: sqlite3.Connection, tenant: str, attribute: str | None
) -> list[AttributeDetails]:
    if attribute is None:
        uses = _uses(conn, _USES.format(where=""), (tenant,))
    else:
        uses = _uses(conn, _USES.format(where="AND a.key = ?"), (tenant, attribute))
    return summarise_attributes(uses)


def _uses(conn: sqlite3.Connection, sql: str, params: tuple[str, ...]) -> list[AttributeUse]:
    return [
        AttributeUse(str(t), str(name), parse_kinds(kinds), int(n), int(primary or 0))
        for t, name, kinds, n, primary in conn.execute(sql, params)
    ]
