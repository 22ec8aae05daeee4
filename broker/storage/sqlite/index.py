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

import itertools
import math
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from broker.model.geojson import GEOMETRY_TYPES, geometry_error, iter_positions
from broker.types import ExpandedEntity, Instance

Box = tuple[float, float, float, float]
"""(min lon, min lat, max lon, max lat)."""

WORLD: Box = (-180.0, -90.0, 180.0, 90.0)
_INT64 = 2**63 - 1

ATTR_VALUE_ROW = tuple[str, str, str, str | None, str, Any]


def index_entity(conn: sqlite3.Connection, tenant: str, entity: ExpandedEntity) -> None:
    """Write the side-table rows of `entity`, replacing any it had (create and replace alike)."""
    entity_id = entity["id"]
    unindex_entity(conn, tenant, entity_id)
    conn.executemany(
        "INSERT INTO attr_values (tenant, id, attr, dataset, kind, val) VALUES (?, ?, ?, ?, ?, ?)",
        list(attr_value_rows(tenant, entity)),
    )
    for attr, box in geo_boxes_of(entity):
        cursor = conn.execute(
            "INSERT INTO geo_shapes (tenant, id, attr) VALUES (?, ?, ?)", (tenant, entity_id, attr)
        )
        min_lon, min_lat, max_lon, max_lat = box
        conn.execute(
            "INSERT INTO geo_boxes (rid, min_lon, max_lon, min_lat, max_lat) "
            "VALUES (?, ?, ?, ?, ?)",
            (cursor.lastrowid, min_lon, max_lon, min_lat, max_lat),
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


def geometry_box(geometry: Any) -> Box | None:
    """A box containing `geometry` (None when it is not a valid GeoJSON geometry).

    The box of the positions, widened where an edge read as a great-circle arc would leave
    it: its latitude range grows to the arc's extreme latitude, and an edge across the
    antimeridian makes the longitude range whole.
    """
    if geometry_error(geometry) is not None:
        return None
    positions = iter_positions(geometry)
    lons = [float(p[0]) for p in positions]
    lats = [float(p[1]) for p in positions]
    min_lon, max_lon, min_lat, max_lat = min(lons), max(lons), min(lats), max(lats)
    for a, b in _edges(geometry):
        if abs(a[0] - b[0]) > 180.0:
            min_lon, max_lon = -180.0, 180.0
        low, high = _arc_latitudes(a, b)
        min_lat, max_lat = min(min_lat, low), max(max_lat, high)
    return min_lon, min_lat, max_lon, max_lat


def _edges(geometry: dict[str, Any]) -> Iterator[tuple[list[float], list[float]]]:
    kind = geometry["type"]
    if kind == "GeometryCollection":
        for member in geometry["geometries"]:
            yield from _edges(member)
        return
    coords = geometry["coordinates"]
    lines: list[Any] = []
    if kind == "LineString":
        lines = [coords]
    elif kind in ("MultiLineString", "Polygon"):
        lines = coords
    elif kind == "MultiPolygon":
        lines = [ring for polygon in coords for ring in polygon]
    for line in lines:
        yield from itertools.pairwise(line)


def _unit(position: list[float]) -> tuple[float, float, float]:
    lon, lat = math.radians(position[0]), math.radians(position[1])
    return math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)


def _cross(
    u: tuple[float, float, float], v: tuple[float, float, float]
) -> tuple[float, float, float]:
    return u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]


def _dot(u: tuple[float, float, float], v: tuple[float, float, float]) -> float:
    return u[0] * v[0] + u[1] * v[1] + u[2] * v[2]


def _arc_latitudes(a: list[float], b: list[float]) -> tuple[float, float]:
    """The lowest and highest latitude on the short great-circle arc from a to b."""
    low, high = min(a[1], b[1]), max(a[1], b[1])
    ua, ub = _unit(a), _unit(b)
    n = _cross(ua, ub)
    norm = math.sqrt(_dot(n, n))
    if norm < 1e-12:
        return low, high
    n = (n[0] / norm, n[1] / norm, n[2] / norm)
    # The circle's northernmost point: the pole direction with its normal component removed.
    v = (-n[2] * n[0], -n[2] * n[1], 1.0 - n[2] * n[2])
    vnorm = math.sqrt(_dot(v, v))
    if vnorm < 1e-12:
        return low, high
    v = (v[0] / vnorm, v[1] / vnorm, v[2] / vnorm)
    for point in (v, (-v[0], -v[1], -v[2])):
        if _dot(_cross(ua, point), n) >= 0 and _dot(_cross(point, ub), n) >= 0:
            lat = math.degrees(math.asin(max(-1.0, min(1.0, point[2]))))
            low, high = min(low, lat), max(high, lat)
    return low, high


# Smaller than any radius a distance formula would use for the Earth (the polar radius), so
# an angle computed with it is never too small.
_EARTH_RADIUS_MIN = 6_356_752.0


def near_box(lon: float, lat: float, distance: float) -> Box | None:
    """A box containing every point within `distance` metres of (lon, lat), or None when
    that is (nearly) a hemisphere. 1% and a hair of slack cover rounding and whatever Earth
    radius the exact distance uses."""
    theta = distance / _EARTH_RADIUS_MIN * 1.01 + 1e-9
    if theta >= math.pi / 2:
        return None
    dlat = math.degrees(theta)
    min_lat, max_lat = lat - dlat, lat + dlat
    if min_lat <= -90.0 or max_lat >= 90.0:
        return -180.0, max(min_lat, -90.0), 180.0, min(max_lat, 90.0)
    cos_lat = math.cos(math.radians(lat))
    if math.sin(theta) >= cos_lat:
        return -180.0, min_lat, 180.0, max_lat
    dlon = math.degrees(math.asin(math.sin(theta) / cos_lat)) * 1.01 + 1e-9
    if lon - dlon < -180.0 or lon + dlon > 180.0:
        return -180.0, min_lat, 180.0, max_lat
    return lon - dlon, min_lat, lon + dlon, max_lat


def widened(box: Box, margin: float = 1e-7) -> Box:
    """`box` grown by `margin` degrees (and a relative hair) on every side, for float slack."""
    min_lon, min_lat, max_lon, max_lat = box
    pad = margin + 1e-9 * max(abs(v) for v in box)
    return min_lon - pad, min_lat - pad, max_lon + pad, max_lat + pad
