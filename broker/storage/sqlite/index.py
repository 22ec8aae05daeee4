"""Side tables that let SQL narrow a query before any document is parsed.

`attr_values` holds one row per instance of every top-level attribute: the attribute IRI,
the instance's datasetId, a `kind` and, for a scalar, the value itself in `val` (SQLite's
dynamic typing keeps numbers as numbers and text as text, so one index serves both):

    kind 'n'  Property value that is a number        val = the number
    kind 's'  Property value that is a string,       val = the string
              or Relationship `object` that is one IRI
    kind 'b'  Property value that is a boolean       val = 0 / 1
    kind 'x'  anything else (objects, arrays, lists, languageMaps, vocab, json, null,
              numbers SQLite cannot hold)           val = NULL

A row exists for every instance whatever its kind (and one for an attribute name with no
instance), so "the entity has attribute A" is one index probe. The query compiler only
ever uses these rows to build a *superset* of the matches ('x' rows are always candidates),
so what the table leaves out can make a query slower, never wrong.

`geo_boxes` (an R*Tree) holds the bounding box of every geometry-valued instance, keyed by a
rowid that `geo_shapes` maps to (tenant, entity, attribute). Boxes are widened for the
great-circle bulge of long edges, and R*Tree rounds stored boxes outwards, so a box always
contains its geometry whether edges are read as straight lines in lon/lat or as geodesics.

`index_entity` / `unindex_entity` run inside the store's write savepoints, so the side tables
change in the same transaction as the document they describe.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from broker.model.geojson import GEOMETRY_TYPES
from broker.storage.geobox import WORLD, Box, geometry_box
from broker.types import ExpandedEntity, Instance

_INT64 = 2**63 - 1

ATTR_VALUE_ROW = tuple[str, str, str, str | None, str, Any]


def index_entity(conn: sqlite3.Connection, tenant: str, entity: ExpandedEntity) -> None:
    """Write the side-table rows of `entity`, replacing any it had (create and replace alike)."""
    unindex_entity(conn, tenant, entity["id"])
    index_new_entity(conn, tenant, entity)


def index_new_entity(conn: sqlite3.Connection, tenant: str, entity: ExpandedEntity) -> None:
    """Write the side-table rows of an entity that has none yet (a fresh row)."""
    _insert_values(conn, list(attr_value_rows(tenant, entity)))
    _insert_boxes(conn, tenant, entity["id"], list(geo_boxes_of(entity)))


def reindex_entity(
    conn: sqlite3.Connection, tenant: str, old: ExpandedEntity, new: ExpandedEntity
) -> None:
    """Bring the side tables from `old` to `new`, touching only the attributes whose rows or
    boxes differ: an update of one value rewrites that attribute's rows and leaves every
    other row, and the R*Tree, alone (a full re-index cost half of an update)."""
    entity_id = new["id"]
    old_values = _by_attr(attr_value_rows(tenant, old), 2)
    new_values = _by_attr(attr_value_rows(tenant, new), 2)
    changed = [
        a for a in old_values.keys() | new_values.keys() if old_values.get(a) != new_values.get(a)
    ]
    if changed:
        conn.executemany(
            "DELETE FROM attr_values WHERE tenant = ? AND id = ? AND attr = ?",
            [(tenant, entity_id, a) for a in changed],
        )
        _insert_values(conn, [row for a in changed for row in new_values.get(a, [])])
    old_boxes = _by_attr(geo_boxes_of(old), 0)
    new_boxes = _by_attr(geo_boxes_of(new), 0)
    moved = [a for a in old_boxes.keys() | new_boxes.keys() if old_boxes.get(a) != new_boxes.get(a)]
    for attr in moved:
        if attr in old_boxes:
            _delete_boxes(conn, tenant, entity_id, attr)
        _insert_boxes(conn, tenant, entity_id, new_boxes.get(attr, []))


def _by_attr(rows: Iterable[Any], position: int) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row[position], []).append(row)
    return grouped


def _insert_values(conn: sqlite3.Connection, rows: list[ATTR_VALUE_ROW]) -> None:
    conn.executemany(
        "INSERT INTO attr_values (tenant, id, attr, dataset, kind, val) VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )


def _insert_boxes(
    conn: sqlite3.Connection, tenant: str, entity_id: str, boxes: list[tuple[str, Box]]
) -> None:
    for attr, box in boxes:
        cursor = conn.execute(
            "INSERT INTO geo_shapes (tenant, id, attr) VALUES (?, ?, ?)", (tenant, entity_id, attr)
        )
        min_lon, min_lat, max_lon, max_lat = box
        conn.execute(
            "INSERT INTO geo_boxes (rid, min_lon, max_lon, min_lat, max_lat) "
            "VALUES (?, ?, ?, ?, ?)",
            (cursor.lastrowid, min_lon, max_lon, min_lat, max_lat),
        )


def _delete_boxes(conn: sqlite3.Connection, tenant: str, entity_id: str, attr: str) -> None:
    rids = [
        (row[0],)
        for row in conn.execute(
            "SELECT rid FROM geo_shapes WHERE tenant = ? AND id = ? AND attr = ?",
            (tenant, entity_id, attr),
        )
    ]
    conn.executemany("DELETE FROM geo_boxes WHERE rid = ?", rids)
    conn.execute(
        "DELETE FROM geo_shapes WHERE tenant = ? AND id = ? AND attr = ?",
        (tenant, entity_id, attr),
    )


def unindex_entity(conn: sqlite3.Connection, tenant: str, entity_id: str) -> None:
    """Remove every side-table row of one entity (delete, and before re-indexing)."""
    conn.execute("DELETE FROM attr_values WHERE tenant = ? AND id = ?", (tenant, entity_id))
    rids = [
        (row[0],)
        for row in conn.execute(
            "SELECT rid FROM geo_shapes WHERE tenant = ? AND id = ?", (tenant, entity_id)
        )
    ]
    if rids:
        conn.executemany("DELETE FROM geo_boxes WHERE rid = ?", rids)
        conn.execute("DELETE FROM geo_shapes WHERE tenant = ? AND id = ?", (tenant, entity_id))


def index_entities(
    conn: sqlite3.Connection, tenant: str, entities: Iterable[ExpandedEntity]
) -> None:
    """`index_entity` for many entities (batch writes, back-filling)."""
    for entity in entities:
        index_entity(conn, tenant, entity)


# -- attribute values ------------------------------------------------------------------------


def attr_value_rows(tenant: str, entity: ExpandedEntity) -> Iterator[ATTR_VALUE_ROW]:
    entity_id = entity["id"]
    attrs = entity.get("attrs")
    if not isinstance(attrs, dict):
        return
    for attr, instances in attrs.items():
        if not isinstance(instances, list) or not instances:
            # No instance to describe, but `attrs=` selects on the name alone.
            yield tenant, entity_id, attr, None, "x", None
            continue
        for instance in instances:
            if not isinstance(instance, dict):
                yield tenant, entity_id, attr, None, "x", None
                continue
            dataset = instance.get("datasetId")
            kind, val = scalar_of(instance)
            yield tenant, entity_id, attr, dataset if isinstance(dataset, str) else None, kind, val


def scalar_of(instance: Instance) -> tuple[str, Any]:
    """The (kind, val) an instance is indexed under; see the module docstring."""
    kind = instance.get("type")
    if kind == "Property" and "value" in instance:
        return value_kind(instance["value"])
    if kind == "Relationship" and isinstance(instance.get("object"), str):
        return "s", instance["object"]
    return "x", None


def value_kind(value: Any) -> tuple[str, Any]:
    if isinstance(value, bool):
        return "b", int(value)
    if isinstance(value, int):
        return ("n", value) if -_INT64 <= value <= _INT64 else ("x", None)
    if isinstance(value, float):
        return ("n", value) if math.isfinite(value) else ("x", None)
    if isinstance(value, str):
        return "s", value
    return "x", None


# -- geometry boxes --------------------------------------------------------------------------


def geo_boxes_of(entity: ExpandedEntity) -> Iterator[tuple[str, Box]]:
    """(attribute, box) for every instance of a top-level attribute whose value is a
    geometry. A geometry-like value whose box cannot be computed gets the whole world, so it
    is a candidate for every geo-query and the exact evaluation decides."""
    attrs = entity.get("attrs")
    if not isinstance(attrs, dict):
        return
    for attr, instances in attrs.items():
        if not isinstance(instances, list):
            continue
        for instance in instances:
            if not isinstance(instance, dict):
                continue
            value = instance.get("value")
            if isinstance(value, dict) and value.get("type") in GEOMETRY_TYPES:
                yield attr, geometry_box(value) or WORLD
