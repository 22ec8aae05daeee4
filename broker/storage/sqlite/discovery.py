"""Discovery in SQL (clauses 5.7.5-5.7.10): entity types, attributes, counts and kinds.

Works only from the `entities` documents (JSON1 `json_each` over `$.attrs`) and the
`entity_types` table; it does not read the query side tables. Each function runs on a reader
thread and answers in one statement (two for the type details), grouped in SQL so that
Python sees one row per (entity types, attribute, kind set), not one per entity. See
`broker.storage.discovery` for the row shape.
"""

from __future__ import annotations

import sqlite3

import orjson

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

# One row per (types of the entity, attribute, kind set). The entity's types come from the
# `entity_types` index as one JSON array per entity, so that each document is parsed once, by
# `json_each`, and a multi-typed entity is not scanned once per type.
_USES = f"""
WITH sig AS (
    SELECT id, json_group_array(type) AS types FROM entity_types
    WHERE tenant = ?1 {{only_type}} GROUP BY id
)
SELECT sig.types, a.key, {_KINDS} AS kinds, count(*)
FROM sig JOIN entities AS e ON e.tenant = ?1 AND e.id = sig.id,
     json_each(e.doc, '$.attrs') AS a
{{only_attribute}}
GROUP BY sig.types, a.key, kinds
"""
_ONLY_TYPE = "AND id IN (SELECT id FROM entity_types WHERE tenant = ?1 AND type = ?2)"
_ONLY_ATTRIBUTE = "WHERE a.key = ?2"


def count_entities_by_type(conn: sqlite3.Connection, tenant: str) -> dict[str, int]:
    rows = conn.execute(
        "SELECT type, count(*) FROM entity_types WHERE tenant = ? GROUP BY type", (tenant,)
    )
    return {str(t): int(n) for t, n in rows}


def attribute_names(conn: sqlite3.Connection, tenant: str) -> list[str]:
    rows = conn.execute(
        "SELECT DISTINCT a.key FROM entities AS e, json_each(e.doc, '$.attrs') AS a "
        "WHERE e.tenant = ?",
        (tenant,),
    )
    return sorted(str(name) for (name,) in rows)


def describe_types(
    conn: sqlite3.Connection, tenant: str, entity_type: str | None
) -> list[TypeDetails]:
    if entity_type is None:
        counts = count_entities_by_type(conn, tenant)
        uses = _uses(conn, _USES.format(only_type="", only_attribute=""), (tenant,))
    else:
        row = conn.execute(
            "SELECT count(*) FROM entity_types WHERE tenant = ? AND type = ?",
            (tenant, entity_type),
        ).fetchone()
        if not row[0]:
            return []
        counts = {entity_type: int(row[0])}
        sql = _USES.format(only_type=_ONLY_TYPE, only_attribute="")
        uses = [u for u in _uses(conn, sql, (tenant, entity_type)) if u.type == entity_type]
    return summarise_types(counts, uses)


def describe_attributes(
    conn: sqlite3.Connection, tenant: str, attribute: str | None
) -> list[AttributeDetails]:
    if attribute is None:
        uses = _uses(conn, _USES.format(only_type="", only_attribute=""), (tenant,))
    else:
        sql = _USES.format(only_type="", only_attribute=_ONLY_ATTRIBUTE)
        uses = _uses(conn, sql, (tenant, attribute))
    return summarise_attributes(uses)


def _uses(conn: sqlite3.Connection, sql: str, params: tuple[str, ...]) -> list[AttributeUse]:
    """The rows under each of their entities' types; the first type of the array is the one
    whose row counts the entities for the attribute totals."""
    uses: list[AttributeUse] = []
    for types_json, name, kinds_text, n in conn.execute(sql, params):
        types = orjson.loads(types_json)
        kinds = parse_kinds(kinds_text)
        count = int(n)
        uses.extend(
            AttributeUse(str(t), str(name), kinds, count, count if i == 0 else 0)
            for i, t in enumerate(types)
        )
    return uses
