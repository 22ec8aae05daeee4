"""Geometry for geo-queries (ETSI GS CIM 009 clause 4.10).

Two models, each where the spec or GeoJSON puts it:

- Distances (`near`) are metres on a sphere of the Earth's mean radius (haversine and
  great-circle cross-track distances): clause 4.10 gives distances in metres.
- The topological relations (within, contains, intersects, disjoint, equals, overlaps) are
  the OGC Simple Features relations (clause 4.10 cites them) on longitude/latitude taken as
  planar coordinates, RFC 7946 section 3.1.1's reading of GeoJSON. They are computed by
  GEOS through shapely. Geometries crossing the antimeridian are not split.

`near;maxDistance==d` matches when the target lies within the buffer of distance d around
the reference geometry: every vertex of the target is at most d from the reference (exact
for a Point reference; for other references the farthest point of a target edge is taken
at a vertex). `near;minDistance==d` matches when the target is disjoint from that buffer:
the shortest distance between target and reference exceeds d.
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache
from typing import Any

import shapely
from shapely.geometry import shape

from broker.query.ast import GeoQuery

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG), the sphere `near` distances are measured on."""

Position = tuple[float, float]


# -- spherical distances -----------------------------------------------------------------


def haversine_m(a: Position, b: Position) -> float:
    """Great-circle distance in metres between two (longitude, latitude) positions."""
    lon1, lat1 = math.radians(a[0]), math.radians(a[1])
    lon2, lat2 = math.radians(b[0]), math.radians(b[1])
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


Vec = tuple[float, float, float]


def _vec(p: Position) -> Vec:
    lon, lat = math.radians(p[0]), math.radians(p[1])
    c = math.cos(lat)
    return (c * math.cos(lon), c * math.sin(lon), math.sin(lat))


def _cross(u: Vec, v: Vec) -> Vec:
    return (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])


def _dot(u: Vec, v: Vec) -> float:
    return u[0] * v[0] + u[1] * v[1] + u[2] * v[2]


def _norm(u: Vec) -> float:
    return math.sqrt(_dot(u, u))


def _angle(u: Vec, v: Vec) -> float:
    return math.atan2(_norm(_cross(u, v)), _dot(u, v))


def point_segment_m(p: Position, a: Position, b: Position) -> float:
    """Shortest great-circle distance in metres from p to the minor arc a-b."""
    pv, av, bv = _vec(p), _vec(a), _vec(b)
    n = _cross(av, bv)
    length = _norm(n)
    if length < 1e-15:
        return EARTH_RADIUS_M * _angle(pv, av)
    n = (n[0] / length, n[1] / length, n[2] / length)
    off = _dot(pv, n)
    c = (pv[0] - off * n[0], pv[1] - off * n[1], pv[2] - off * n[2])
    if _norm(c) > 1e-15 and _dot(_cross(av, c), n) >= 0 and _dot(_cross(c, bv), n) >= 0:
        return EARTH_RADIUS_M * math.asin(min(1.0, abs(off)))
    return EARTH_RADIUS_M * min(_angle(pv, av), _angle(pv, bv))


class Parts:
    """A GeoJSON geometry as its points and its edges (polylines and rings), for distances."""

    __slots__ = ("edges", "has_area", "points", "vertices")

    def __init__(self, geometry: dict[str, Any]) -> None:
        self.points: list[Position] = []
        self.edges: list[list[Position]] = []
        self.has_area = False
        self._add(geometry)
        self.vertices: list[Position] = self.points + [p for line in self.edges for p in line]

    def _add(self, g: dict[str, Any]) -> None:
        kind: str = g["type"]
        coords: Any = g.get("coordinates")
        if kind == "Point":
            self.points.append((coords[0], coords[1]))
        elif kind == "MultiPoint":
            self.points.extend((c[0], c[1]) for c in coords)
        elif kind == "LineString":
            self.edges.append([(c[0], c[1]) for c in coords])
        elif kind == "MultiLineString":
            self.edges.extend([(c[0], c[1]) for c in line] for line in coords)
        elif kind == "Polygon":
            self.has_area = True
            self.edges.extend([(c[0], c[1]) for c in ring] for ring in coords)
        elif kind == "MultiPolygon":
            self.has_area = True
            self.edges.extend([(c[0], c[1]) for c in ring] for poly in coords for ring in poly)
        elif kind == "GeometryCollection":
            for member in g["geometries"]:
                self._add(member)

    def distance_from(self, p: Position) -> float:
        """Shortest distance in metres from p to the points and edges (not the areas)."""
        best = math.inf
        for q in self.points:
            best = min(best, haversine_m(p, q))
        for line in self.edges:
            if len(line) == 1:
                best = min(best, haversine_m(p, line[0]))
            for a, b in itertools.pairwise(line):
                best = min(best, point_segment_m(p, a, b))
        return best


# -- shapes ------------------------------------------------------------------------------


def to_shape(geometry: dict[str, Any]) -> Any:
    """A shapely geometry of a GeoJSON geometry; an invalid one is made valid."""
    if geometry.get("type") == "Point":
        c = geometry["coordinates"]
        return shapely.Point(c[0], c[1])
    geom = shape(geometry)
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    return geom


def validity_error(geometry: dict[str, Any]) -> str | None:
    """Why a well-formed GeoJSON geometry is not a valid simple feature, or None."""
    if geometry["type"] not in ("Polygon", "MultiPolygon"):
        return None
    geom = shape(geometry)
    if geom.is_valid:
        return None
    return str(shapely.is_valid_reason(geom))


class Reference:
    """The reference geometry of one GeoQuery, prepared once and cached."""

    __slots__ = ("geojson", "parts", "point", "shape")

    def __init__(self, geo: GeoQuery) -> None:
        self.geojson = geo.geometry_dict()
        self.parts = Parts(self.geojson)
        self.shape = to_shape(self.geojson)
        shapely.prepare(self.shape)
        only_point = geo.geometry_type == "Point"
        self.point: Position | None = self.parts.points[0] if only_point else None

    def distance_from(self, p: Position) -> float:
        if self.point is not None:
            return haversine_m(p, self.point)
        if self.parts.has_area and bool(self.shape.intersects(shapely.Point(p))):
            return 0.0
        return self.parts.distance_from(p)


@lru_cache(maxsize=512)
def reference(geo: GeoQuery) -> Reference:
    return Reference(geo)


def _target_position(target: dict[str, Any]) -> Position | None:
    if target.get("type") == "Point":
        c = target["coordinates"]
        return (c[0], c[1])
    return None


def near_max(target: dict[str, Any], ref: Reference, distance: float) -> bool:
    """The target comes within `distance` metres of the reference: its nearest point does,
    as MongoDB's `$nearSphere`/`$maxDistance` measure it (and Orion-LD users expect).
    maxDistance and minDistance are complements."""
    p = _target_position(target)
    if p is not None:
        return ref.distance_from(p) <= distance
    return not near_min(target, ref, distance)


def near_min(target: dict[str, Any], ref: Reference, distance: float) -> bool:
    """The target is disjoint from the buffer of `distance` metres around the reference."""
    p = _target_position(target)
    if p is not None:
        return ref.distance_from(p) > distance
    if bool(ref.shape.intersects(to_shape(target))):
        return False
    parts = Parts(target)
    nearest = min(
        min((ref.distance_from(v) for v in parts.vertices), default=math.inf),
        min((parts.distance_from(v) for v in ref.parts.vertices), default=math.inf),
    )
    return nearest > distance


def relate(georel: str, target: dict[str, Any], ref: Reference) -> bool:
    """A topological relation (clause 4.10) of the target geometry to the reference."""
    t = to_shape(target)
    r = ref.shape
    if georel == "intersects":
        return bool(shapely.intersects(r, t))
    if georel == "disjoint":
        return bool(shapely.disjoint(r, t))
    if georel == "within":
        return bool(shapely.contains(r, t))
    if georel == "contains":
        return bool(shapely.within(r, t))
    if georel == "equals":
        return bool(shapely.equals(t, r))
    if georel == "overlaps":
        return bool(shapely.overlaps(t, r))
    raise ValueError(f"unknown georel {georel!r}")
