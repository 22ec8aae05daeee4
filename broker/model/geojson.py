"""GeoJSON geometry validation (IETF RFC 7946), shared by payload validation and geo-queries.

NGSI-LD GeoProperty values are GeoJSON geometries (clause 4.7); clause 4.6.3 makes all of
them mandatory except GeometryCollection, which this broker also accepts (one level, no
nesting). Positions are [longitude, latitude] or [longitude, latitude, altitude], numbers
only, inside the WGS 84 ranges. Rings are closed and have at least four positions
(RFC 7946 section 3.1.6). Multi-geometries must not be empty: an empty geometry matches
nothing in a query and is almost always a producer bug.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

GEOMETRY_TYPES = frozenset(
    {
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    }
)


def looks_like_geometry(value: Any) -> bool:
    """A JSON object whose "type" names a geometry: what concise and keyValues inference
    use to tell a GeoProperty from a Property (clause 4.5.2.3)."""
    if not isinstance(value, dict):
        return False
    kind = value.get("type")
    return isinstance(kind, str) and kind in GEOMETRY_TYPES


def is_valid_geometry(value: Any) -> bool:
    return geometry_error(value) is None


def geometry_error(value: Any) -> str | None:
    """Why `value` is not a valid geometry, or None when it is."""
    if not isinstance(value, dict):
        return "a geometry must be a JSON object"
    kind = value.get("type")
    if not isinstance(kind, str) or kind not in GEOMETRY_TYPES:
        return f"unknown geometry type {kind!r}"
    if "bbox" in value and _bbox_error(value["bbox"]) is not None:
        return "'bbox' must be an array of 4 or 6 numbers"
    if kind == "GeometryCollection":
        if "coordinates" in value:
            return "a GeometryCollection has 'geometries', not 'coordinates'"
        geometries = value.get("geometries")
        if not isinstance(geometries, list) or not geometries:
            return "'geometries' must be a non-empty array"
        for i, member in enumerate(geometries):
            if isinstance(member, dict) and member.get("type") == "GeometryCollection":
                return "nested GeometryCollections are not supported"
            err = geometry_error(member)
            if err is not None:
                return f"geometries[{i}]: {err}"
        return None
    if "coordinates" not in value:
        return f"a {kind} needs 'coordinates'"
    return _COORDINATE_CHECKS[kind](value["coordinates"])


def _bbox_error(bbox: Any) -> str | None:
    if isinstance(bbox, list) and len(bbox) in (4, 6) and all(_is_number(n) for n in bbox):
        return None
    return "bad bbox"


def _is_number(n: Any) -> bool:
    return isinstance(n, (int, float)) and not isinstance(n, bool) and math.isfinite(n)


def plain_position(pos: Any) -> tuple[float, float] | None:
    """(lon, lat) of the usual position, [lon, lat] of two floats in range: the checks of
    `_position_error` spelled out for the shape sensors send. None for anything else, which
    may still be a valid position (ints, an altitude) or an invalid one."""
    if type(pos) is list and len(pos) == 2:
        lon, lat = pos
        if (
            type(lon) is float and type(lat) is float
            and -180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0
        ):
            return lon, lat
    return None


def _position_error(pos: Any) -> str | None:
    if plain_position(pos) is not None:
        return None
    if not isinstance(pos, list) or not 2 <= len(pos) <= 3:
        return "a position must be an array of 2 or 3 numbers"
    if not all(_is_number(n) for n in pos):
        return "a position must contain numbers only"
    lon, lat = pos[0], pos[1]
    if not -180.0 <= lon <= 180.0:
        return f"longitude {lon} is out of range [-180, 180]"
    if not -90.0 <= lat <= 90.0:
        return f"latitude {lat} is out of range [-90, 90]"
    return None


def _positions_error(positions: Any, minimum: int, what: str) -> str | None:
    if not isinstance(positions, list) or len(positions) < minimum:
        return f"{what} needs at least {minimum} position{'s' if minimum > 1 else ''}"
    for pos in positions:
        err = _position_error(pos)
        if err is not None:
            return err
    return None


def _ring_error(ring: Any) -> str | None:
    err = _positions_error(ring, 4, "a linear ring")
    if err is not None:
        return err
    if ring[0] != ring[-1]:
        return "a linear ring must be closed (first position equal to the last)"
    return None


def _point(coords: Any) -> str | None:
    return _position_error(coords)


def _multi_point(coords: Any) -> str | None:
    return _positions_error(coords, 1, "a MultiPoint")


def _line_string(coords: Any) -> str | None:
    return _positions_error(coords, 2, "a LineString")


def _polygon(coords: Any) -> str | None:
    if not isinstance(coords, list) or not coords:
        return "a Polygon needs at least one linear ring"
    for ring in coords:
        err = _ring_error(ring)
        if err is not None:
            return err
    return None


def _each(check: Callable[[Any], str | None], what: str) -> Callable[[Any], str | None]:
    def run(coords: Any) -> str | None:
        if not isinstance(coords, list) or not coords:
            return f"a {what} needs at least one member"
        for member in coords:
            err = check(member)
            if err is not None:
                return err
        return None

    return run


_COORDINATE_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "Point": _point,
    "MultiPoint": _multi_point,
    "LineString": _line_string,
    "MultiLineString": _each(_line_string, "MultiLineString"),
    "Polygon": _polygon,
    "MultiPolygon": _each(_polygon, "MultiPolygon"),
}


def iter_positions(geometry: dict[str, Any]) -> list[list[float]]:
    """Every position of a (valid) geometry, flattened: what a bounding box or a coarse
    prefilter needs."""
    if geometry["type"] == "GeometryCollection":
        out: list[list[float]] = []
        for member in geometry["geometries"]:
            out.extend(iter_positions(member))
        return out
    coords = geometry["coordinates"]
    depth = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2,
             "Polygon": 2, "MultiPolygon": 3}[geometry["type"]]
    items: list[Any] = [coords]
    for _ in range(depth):
        items = [p for group in items for p in group]
    return items


def bbox(geometry: dict[str, Any]) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) of a valid geometry."""
    positions = iter_positions(geometry)
    lons = [p[0] for p in positions]
    lats = [p[1] for p in positions]
    return min(lons), min(lats), max(lons), max(lats)
