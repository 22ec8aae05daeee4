"""geoQ (ETSI GS CIM 009 clause 4.10): `georel`, `geometry`, `coordinates`, `geoproperty`.

    georel = near;maxDistance==N / near;minDistance==N (metres, N > 0) / within / contains
             / intersects / equals / disjoint / overlaps
    geometry = Point / MultiPoint / LineString / MultiLineString / Polygon / MultiPolygon
    coordinates = the GeoJSON coordinates of that geometry, as JSON (RFC 7946 3.1.1)

The reference geometry is validated as a stored GeoProperty is (model/geojson.py) and, for
polygons, also for simple-feature validity (no self-intersections), because the topological
relations are undefined otherwise.
"""

from __future__ import annotations

import math
import re
from typing import Any, cast

import orjson

from broker.errors import BadRequestData
from broker.model.geojson import geometry_error
from broker.model.validate import is_valid_name
from broker.query.ast import GeometryType, GeoQuery, GeoRel
from broker.query.geometry import validity_error

DEFAULT_GEOPROPERTY = "location"
GEORELS: frozenset[str] = frozenset(
    {"near", "within", "contains", "intersects", "disjoint", "equals", "overlaps"}
)
GEOMETRY_TYPES: frozenset[str] = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
)
_NEAR = re.compile(r"near;(maxDistance|minDistance)==(.+)\Z")
_POSITIVE_NUMBER = re.compile(r"(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?\Z")


def _bad(field: str, detail: str) -> BadRequestData:
    return BadRequestData(f"{field}: {detail}", field=field)


def parse_geoq(
    georel: str | None,
    geometry: str | None,
    coordinates: str | Any,
    geoproperty: str | None = None,
) -> GeoQuery:
    """One GeoQuery from its four parameters. `coordinates` is the JSON text of a query
    string, or already-parsed JSON (the geoQ member of a subscription or a POST query)."""
    if not georel:
        raise _bad("georel", "a geo-query needs georel, geometry and coordinates")
    if not geometry:
        raise _bad("geometry", "a geo-query needs georel, geometry and coordinates")
    if coordinates is None or coordinates == "":
        raise _bad("coordinates", "a geo-query needs georel, geometry and coordinates")
    rel, max_distance, min_distance = _parse_georel(georel)
    if geometry not in GEOMETRY_TYPES:
        raise _bad(
            "geometry",
            f"{geometry!r} is not one of {', '.join(sorted(GEOMETRY_TYPES))}",
        )
    coords = _parse_coordinates(coordinates)
    err = geometry_error({"type": geometry, "coordinates": coords})
    if err is None:
        err = validity_error({"type": geometry, "coordinates": coords})
    if err is not None:
        raise _bad("coordinates", f"not a valid {geometry}: {err}")
    prop = DEFAULT_GEOPROPERTY if geoproperty is None else geoproperty
    if not is_valid_name(prop):
        raise _bad("geoproperty", f"{prop!r} is not a valid attribute name")
    return GeoQuery(
        georel=cast(GeoRel, rel),
        geometry_type=cast(GeometryType, geometry),
        coordinates=cast(tuple[object, ...], _tuples(coords)),
        geoproperty=prop,
        max_distance=max_distance,
        min_distance=min_distance,
    )


def _parse_georel(text: str) -> tuple[str, float | None, float | None]:
    m = _NEAR.match(text)
    if m is not None:
        number = m.group(2)
        if not _POSITIVE_NUMBER.match(number) or float(number) <= 0 or not math.isfinite(
            float(number)
        ):
            raise _bad(
                "georel",
                f"{m.group(1)} must be a positive number of metres, not {number!r} "
                f"(at position {m.start(2) + 1})",
            )
        distance = float(number)
        if m.group(1) == "maxDistance":
            return "near", distance, None
        return "near", None, distance
    if text == "near" or text.startswith("near;"):
        raise _bad("georel", f"near needs ';maxDistance==N' or ';minDistance==N': {text!r}")
    if text not in GEORELS:
        raise _bad("georel", f"{text!r} is not a georel ({', '.join(sorted(GEORELS))})")
    return text, None, None


def _parse_coordinates(coordinates: str | Any) -> Any:
    if not isinstance(coordinates, str):
        return coordinates
    try:
        return orjson.loads(coordinates)
    except orjson.JSONDecodeError as exc:
        raise _bad(
            "coordinates", f"not JSON ({exc.msg} at position {exc.pos + 1})"
        ) from None


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def unparse_geoq(geo: GeoQuery) -> dict[str, str]:
    """The query parameters of a GeoQuery (its exact inverse for `parse_geoq`)."""
    if geo.max_distance is not None:
        georel = f"near;maxDistance=={_number(geo.max_distance)}"
    elif geo.min_distance is not None:
        georel = f"near;minDistance=={_number(geo.min_distance)}"
    else:
        georel = geo.georel
    return {
        "georel": georel,
        "geometry": geo.geometry_type,
        "coordinates": orjson.dumps(geo.geometry_dict()["coordinates"]).decode(),
        "geoproperty": geo.geoproperty,
    }


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
