"""Discovery in SQL (clauses 5.7.5-5.7.10): entity types, attributes, counts and kinds.

Answered from the side tables' summary (see `index.py`), never from the documents:

- types and their entity counts: `type_counts` (entities per type, kept by the writes
  wherever they write or delete `entity_types` rows; a count that falls to 0 stays, skipped);
- attribute names: the tenant's `attr_names` whose `attr_holders` count is above 0 (a name
  is never deleted; its count falls to 0 when no entity holds it any more);
- entities per attribute: that count;
- which (type, attribute, kind) combinations exist: the `attr_kinds` rows above 0, one per
  (attribute, entity type, attribute type) that some entity has. The kind is the instance's
  type, '' (read as NULL) for an attribute with no instance, which is listed with no kind.

The writes keep the summary in step in their own transaction (`index.Census`,
`index.count_types`): a create counts its entity once per type and once per attribute (and
per type and kind), an update counts it again where its types or an attribute's kinds
changed, a delete takes it out. So discovery costs a read
of the summary (a few rows per attribute and type), whatever the tenant's size. Each function
runs on a reader thread; one that needs two statements runs them in one read transaction, so
both see the same snapshot.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from broker.storage.base import AttributeDetails, TypeDetails

# (type, attribute IRI, kind) for every combination held by an entity of the tenant (of
# one type with `_ONLY_TYPE`); a multi-typed entity's attributes count under each type.
_COMBINATIONS = """
SELECT k.type, n.iri, nullif(k.atype, '') FROM attr_names AS n
JOIN attr_kinds AS k ON k.aid = n.aid
WHERE n.tenant = ?1 AND k.entities > 0 {only_type}
"""
_ONLY_TYPE = "AND k.type = ?2"

# (type, kind) for one attribute.
_ONE_ATTRIBUTE = """
SELECT k.type, nullif(k.atype, '') FROM attr_names AS n
JOIN attr_kinds AS k ON k.aid = n.aid
WHERE n.tenant = ?1 AND n.iri = ?2 AND k.entities > 0
"""

# Entities holding each attribute name of the tenant (0 for a name no entity holds now).
_ENTITY_COUNTS = """
SELECT n.iri, coalesce((SELECT h.entities FROM attr_holders AS h WHERE h.aid = n.aid), 0)
FROM attr_names AS n WHERE n.tenant = ?1 {only_attribute}
"""
_ONLY_ATTRIBUTE = "AND n.iri = ?2"

_TYPE_COUNTS = (
    "SELECT type, entities FROM type_counts WHERE tenant = ?1 AND entities > 0 ORDER BY type"
)
_TYPE_COUNT = "SELECT entities FROM type_counts WHERE tenant = ?1 AND type = ?2"

# The tenant's attribute names that some entity still holds (names are never deleted).
_NAMES = """
SELECT n.iri FROM attr_names AS n JOIN attr_holders AS h ON h.aid = n.aid
WHERE n.tenant = ?1 AND h.entities > 0
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
            if row is None or not row[0]:
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
