"""Discovery in SQL (clauses 5.7.5-5.7.10): entity types, attributes, counts and kinds.

Answered from the integer-keyed side tables (see `index.py`), never from the documents:

- types and their entity counts: the `entity_types` index, grouped by type;
- attribute names: the tenant's `attr_names` that still have an `attr_values` row (a name is
  never deleted, so one probe of `attr_values_by_attr` per name tells whether any entity
  holds it);
- entities per attribute: the `seq = 0` entries of `attr_values_by_attr` for that `aid`
  (every (eid, aid) pair has exactly one `seq = 0` row, whatever its datasetIds), counted in
  the index without reading the table;
- which (type, attribute, kind) combinations exist: the type's entities and their eids
  from `entity_types_by_type`, and their rows from the `attr_values` primary key, reduced
  by DISTINCT in SQL to a few rows. The kind is the instance's `atype` (NULL for an
  attribute with no instance: the attribute is listed with no kind). For one attribute the
  walk starts from that attribute's rows in `attr_values_by_attr` instead, and finds each
  entity's types by its eid, the `entity_types` primary key.

The combinations walk reads every side-table row of the entities it covers (about five per
entity in the benchmarks): it is a pass over the tenant's `attr_values`, not over its
documents. Each function runs on a reader thread; one that needs two statements runs them in
one read transaction, so both see the same snapshot.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from broker.storage.base import AttributeDetails, TypeDetails

# (type, attribute IRI, kind) for every combination held by an entity of the tenant (of
# one type with `_ONLY_TYPE`); a multi-typed entity's attributes count under each type.
_COMBINATIONS = """
SELECT c.type, n.iri, c.atype FROM (
    SELECT DISTINCT t.type, v.aid, v.atype
    FROM entity_types AS t
    JOIN attr_values AS v ON v.eid = t.eid
    WHERE t.tenant = ?1 {only_type}
) AS c JOIN attr_names AS n ON n.aid = c.aid
"""
_ONLY_TYPE = "AND t.type = ?2"

# (type, kind) for one attribute, walked from its own rows: an attribute held by few
# entities costs few probes, however many entities the tenant has.
_ONE_ATTRIBUTE = """
SELECT DISTINCT t.type, v.atype
FROM attr_names AS n
CROSS JOIN attr_values AS v ON v.aid = n.aid
CROSS JOIN entity_types AS t ON t.eid = v.eid
WHERE n.tenant = ?1 AND n.iri = ?2
"""

# Entities holding each attribute name of the tenant (0 for a name no entity holds now).
_ENTITY_COUNTS = """
SELECT n.iri, (SELECT count(*) FROM attr_values AS v WHERE v.aid = n.aid AND v.seq = 0)
FROM attr_names AS n WHERE n.tenant = ?1 {only_attribute}
"""
_ONLY_ATTRIBUTE = "AND n.iri = ?2"

_TYPE_COUNTS = "SELECT type, count(*) FROM entity_types WHERE tenant = ?1 GROUP BY type"
_TYPE_COUNT = "SELECT count(*) FROM entity_types WHERE tenant = ?1 AND type = ?2"

# The tenant's attribute names that some entity still holds (names are never deleted).
_NAMES = """
SELECT n.iri FROM attr_names AS n
WHERE n.tenant = ?1 AND EXISTS (SELECT 1 FROM attr_values AS v WHERE v.aid = n.aid)
ORDER BY n.iri
"""


def count_entities_by_type(conn: sqlite3.Connection, tenant: str) -> dict[str, int]:
    return {str(t): int(n) for t, n in conn.execute(_TYPE_COUNTS, (tenant,))}


def attribute_names(conn: sqlite3.Connection, tenant: str) -> list[str]:
    return [str(name) for (name,) in conn.execute(_NAMES, (tenant,))]


def describe_types(
    conn: sqlite3.Connection, tenant: str, entity_type: str | None
) -> list[TypeDetails]:
    with _snapshot(conn):
        if entity_type is None:
            counts = count_entities_by_type(conn, tenant)
            rows = conn.execute(_COMBINATIONS.format(only_type=""), (tenant,)).fetchall()
        else:
            row = conn.execute(_TYPE_COUNT, (tenant, entity_type)).fetchone()
            if not row[0]:
                return []
            counts = {entity_type: int(row[0])}
            rows = conn.execute(
                _COMBINATIONS.format(only_type=_ONLY_TYPE), (tenant, entity_type)
            ).fetchall()
    attributes: dict[str, dict[str, set[str]]] = {t: {} for t in counts}
    for type_name, name, kind in rows:
        per_type = attributes.get(str(type_name))
        if per_type is not None:
            kinds = per_type.setdefault(str(name), set())
            if kind is not None:
                kinds.add(str(kind))
    return [
        TypeDetails(
            type=t,
            entity_count=counts[t],
            attributes={name: frozenset(kinds) for name, kinds in sorted(attributes[t].items())},
        )
        for t in sorted(counts)
    ]


def describe_attributes(
    conn: sqlite3.Connection, tenant: str, attribute: str | None
) -> list[AttributeDetails]:
    kinds: dict[str, set[str]] = {}
    types: dict[str, set[str]] = {}
    with _snapshot(conn):
        if attribute is None:
            counts = conn.execute(_ENTITY_COUNTS.format(only_attribute=""), (tenant,)).fetchall()
            rows = conn.execute(_COMBINATIONS.format(only_type=""), (tenant,)).fetchall()
        else:
            params = (tenant, attribute)
            counts = conn.execute(
                _ENTITY_COUNTS.format(only_attribute=_ONLY_ATTRIBUTE), params
            ).fetchall()
            rows = [
                (type_name, attribute, kind)
                for type_name, kind in conn.execute(_ONE_ATTRIBUTE, params)
            ]
    for type_name, name, kind in rows:
        kinds.setdefault(str(name), set())
        if kind is not None:  # NULL: an attribute with no instance adds no kind
            kinds[str(name)].add(str(kind))
        types.setdefault(str(name), set()).add(str(type_name))
    return [
        AttributeDetails(
            name=str(name),
            entity_count=int(n),
            kinds=frozenset(kinds[name]),
            types=frozenset(types[name]),
        )
        for name, n in sorted(counts)
        if n and name in types
    ]


@contextmanager
def _snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction around the statements of one answer (the readers run in
    autocommit mode, where each statement would see the latest commit)."""
    conn.execute("BEGIN")
    try:
        yield
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")
