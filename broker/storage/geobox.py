"""Bounding boxes of geometries and of geo-queries, shared by the stores' geo prefilters.

A prefilter keeps every entity whose geometry box meets the query's box; the exact relation
is then evaluated by `broker.query.evaluate`, so a box may be too large (slower) but never too
small (a lost match). Boxes are widened for the great-circle bulge of long edges.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any, cast

from broker.model.geojson import geometry_error, iter_positions
from broker.query.ast import GeoQuery

Box = tuple[float, float, float, float]
"""(min lon, min lat, max lon, max lat)."""

WORLD: Box = (-180.0, -90.0, 180.0, 90.0)


def geo_box(geo: GeoQuery) -> Box | None:
    """A box every matching entity's geometry box meets, or None when there is none."""
    if geo.georel == "near":
        if geo.max_distance is None or geo.geometry_type != "Point":
            return None
        coords = geo.coordinates
        if len(coords) < 2 or not all(isinstance(c, int | float) for c in coords[:2]):
            return None
        box = near_box(float(cast(float, coords[0])), float(cast(float, coords[1])),
                       geo.max_distance)
        return None if box is None else widened(box)
    if geo.georel in ("within", "contains", "intersects", "overlaps", "equals"):
        box = geometry_box(geo.geometry_dict())
        return None if box is None else widened(box)
    return None


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
