"""Clause 6.4.3.2 / 5.7.2 Query Entities with a geo-query (clause 4.10): every georel, every
GeoJSON geometry type as query geometry and as entity geometry, `geoproperty`, the GeoJSON
FeatureCollection answer (clause 4.5.16 / 6.3.15) and the 400 for a malformed geo-query.

The places are in and around Madrid; distances are great-circle metres from Puerta del Sol:
Plaza Mayor 337 m, Retiro 1.8 km, Bernabéu 4.2 km, Barajas airport 14.7 km, Toledo 67 km.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from conformance_tests.client import API, GEOJSON, JSON, Client, assert_problem, new_id
from conformance_tests.samples import GEOMETRIES

ENTITIES = f"{API}/entities"

SOL = [-3.7038, 40.4168]
MAYOR = [-3.7074, 40.4155]
RETIRO = [-3.6823, 40.4153]
BERNABEU = [-3.6883, 40.4531]
BARAJAS = [-3.5676, 40.4983]
TOLEDO = [-4.0273, 39.8628]
PLACES = {
    "sol": SOL, "mayor": MAYOR, "retiro": RETIRO,
    "bernabeu": BERNABEU, "barajas": BARAJAS, "toledo": TOLEDO,
}


def _box(west: float, south: float, east: float, north: float) -> list[list[list[float]]]:
    return [[[west, south], [east, south], [east, north], [west, north], [west, south]]]


# Central Madrid: Sol, Plaza Mayor and Retiro are inside; Bernabéu is north of it.
CENTRE = _box(-3.72, 40.40, -3.67, 40.43)
TOLEDO_BOX = _box(-4.05, 39.84, -4.00, 39.88)
INSIDE_CENTRE = _box(-3.71, 40.41, -3.69, 40.42)
AROUND_CENTRE = _box(-3.80, 40.35, -3.60, 40.48)
EAST_OF_CENTRE = _box(-3.68, 40.41, -3.60, 40.42)  # half in, half out


def _type() -> str:
    return f"Place{uuid.uuid4().hex[:8]}"


def _geo(geometry: dict[str, Any]) -> dict[str, Any]:
    return {"type": "GeoProperty", "value": geometry}


def _make(client: Client, t: str, geometry: dict[str, Any], **attrs: Any) -> str:
    entity = {"id": new_id(t), "type": t, "location": _geo(geometry), **attrs}
    client.create(entity)
    return entity["id"]


def _point(coords: list[float]) -> dict[str, Any]:
    return {"type": "Point", "coordinates": coords}


def _line(*points: list[float]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": list(points)}


def _polygon(rings: list[list[list[float]]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": rings}


def _shift(coords: Any, dlon: float, dlat: float) -> Any:
    if coords and isinstance(coords[0], int | float):
        return [round(coords[0] + dlon, 6), round(coords[1] + dlat, 6)]
    return [_shift(c, dlon, dlat) for c in coords]


def _geo_params(
    t: str, georel: str, geometry: str, coordinates: Any, **extra: str
) -> dict[str, str]:
    return {
        "type": t,
        "georel": georel,
        "geometry": geometry,
        "coordinates": json.dumps(coordinates, separators=(",", ":")),
        **extra,
    }


def _ids(client: Client, params: dict[str, str]) -> set[str]:
    r = client.get(ENTITIES, params=params, accept=JSON)
    assert r.status == 200, f"geo-query {params} failed: {r}"
    body = r.json()
    assert isinstance(body, list), body
    return {e["id"] for e in body}


@pytest.fixture
def places(client: Client) -> tuple[str, dict[str, str]]:
    """One Point entity per place, all of a fresh type: (type, {place: id})."""
    t = _type()
    return t, {name: _make(client, t, _point(c)) for name, c in PLACES.items()}


# -- near --------------------------------------------------------------------------------------


def test_near_max_distance_returns_points_within_that_many_metres(
    client: Client, places: Any
) -> None:
    t, ids = places
    got = _ids(client, _geo_params(t, "near;maxDistance==2000", "Point", SOL))
    assert got == {ids["sol"], ids["mayor"], ids["retiro"]}


def test_near_max_distance_of_500_metres_keeps_only_the_closest(
    client: Client, places: Any
) -> None:
    t, ids = places
    got = _ids(client, _geo_params(t, "near;maxDistance==500", "Point", SOL))
    assert got == {ids["sol"], ids["mayor"]}


def test_near_max_distance_of_20_km_reaches_the_airport_but_not_toledo(
    client: Client, places: Any
) -> None:
    t, ids = places
    got = _ids(client, _geo_params(t, "near;maxDistance==20000", "Point", SOL))
    assert got == {ids[p] for p in ("sol", "mayor", "retiro", "bernabeu", "barajas")}


def test_near_min_distance_returns_points_at_least_that_far(client: Client, places: Any) -> None:
    t, ids = places
    got = _ids(client, _geo_params(t, "near;minDistance==10000", "Point", SOL))
    assert got == {ids["barajas"], ids["toledo"]}


def test_near_min_distance_excludes_the_reference_point_itself(
    client: Client, places: Any
) -> None:
    t, ids = places
    got = _ids(client, _geo_params(t, "near;minDistance==1000", "Point", SOL))
    assert got == {ids["retiro"], ids["bernabeu"], ids["barajas"], ids["toledo"]}


def test_near_measures_to_the_closest_point_of_a_line(client: Client) -> None:
    t = _type()
    # a north-south street 0.0138 degrees of longitude (about 1.17 km) east of Sol
    street = _make(client, t, _line([-3.69, 40.40], [-3.69, 40.43]))
    assert _ids(client, _geo_params(t, "near;maxDistance==1500", "Point", SOL)) == {street}
    assert _ids(client, _geo_params(t, "near;maxDistance==1000", "Point", SOL)) == set()
    # maxDistance and minDistance are complements: the street is not 1500 m away or more
    assert _ids(client, _geo_params(t, "near;minDistance==1500", "Point", SOL)) == set()
    assert _ids(client, _geo_params(t, "near;minDistance==1000", "Point", SOL)) == {street}


def test_near_combines_with_q(client: Client) -> None:
    t = _type()
    free = _make(client, t, _point(MAYOR), availableSpots={"type": "Property", "value": 12})
    _make(client, t, _point(RETIRO), availableSpots={"type": "Property", "value": 0})
    _make(client, t, _point(TOLEDO), availableSpots={"type": "Property", "value": 40})
    params = _geo_params(t, "near;maxDistance==2000", "Point", SOL, q="availableSpots>0")
    assert _ids(client, params) == {free}


# -- within ------------------------------------------------------------------------------------


def test_within_polygon_returns_the_points_inside_it(client: Client, places: Any) -> None:
    t, ids = places
    got = _ids(client, _geo_params(t, "within", "Polygon", CENTRE))
    assert got == {ids["sol"], ids["mayor"], ids["retiro"]}


def test_within_multipolygon_returns_the_points_inside_any_part(
    client: Client, places: Any
) -> None:
    t, ids = places
    got = _ids(client, _geo_params(t, "within", "MultiPolygon", [CENTRE, TOLEDO_BOX]))
    assert got == {ids["sol"], ids["mayor"], ids["retiro"], ids["toledo"]}


def test_within_requires_the_whole_entity_geometry_inside(client: Client) -> None:
    t = _type()
    inside_line = _make(client, t, _line([-3.71, 40.41], [-3.69, 40.42]))
    inside_area = _make(client, t, _polygon(INSIDE_CENTRE))
    _make(client, t, _line(SOL, BERNABEU))  # leaves the centre
    _make(client, t, _polygon(EAST_OF_CENTRE))  # half outside
    got = _ids(client, _geo_params(t, "within", "Polygon", CENTRE))
    assert got == {inside_line, inside_area}


# -- contains ----------------------------------------------------------------------------------


@pytest.fixture
def districts(client: Client) -> tuple[str, dict[str, str]]:
    t = _type()
    return t, {
        "centre": _make(client, t, _polygon(CENTRE)),
        "toledo": _make(client, t, _polygon(TOLEDO_BOX)),
        "north": _make(client, t, _polygon(_box(-3.70, 40.44, -3.68, 40.46))),
    }


def test_contains_point_returns_the_areas_around_it(client: Client, districts: Any) -> None:
    t, ids = districts
    assert _ids(client, _geo_params(t, "contains", "Point", SOL)) == {ids["centre"]}
    assert _ids(client, _geo_params(t, "contains", "Point", BERNABEU)) == {ids["north"]}


def test_contains_line_returns_the_areas_holding_all_of_it(client: Client, districts: Any) -> None:
    t, ids = districts
    inside = [[-3.71, 40.41], [-3.69, 40.42]]
    assert _ids(client, _geo_params(t, "contains", "LineString", inside)) == {ids["centre"]}
    across = [SOL, BERNABEU]  # starts in the centre, ends in the north
    assert _ids(client, _geo_params(t, "contains", "LineString", across)) == set()


def test_contains_polygon_returns_the_areas_around_it(client: Client, districts: Any) -> None:
    t, ids = districts
    assert _ids(client, _geo_params(t, "contains", "Polygon", INSIDE_CENTRE)) == {ids["centre"]}


# -- intersects / disjoint ---------------------------------------------------------------------


@pytest.fixture
def shapes(client: Client) -> tuple[str, dict[str, str]]:
    """Entities of several geometries around the CENTRE polygon."""
    t = _type()
    return t, {
        "sol": _make(client, t, _point(SOL)),
        "barajas": _make(client, t, _point(BARAJAS)),
        "sol_to_bernabeu": _make(client, t, _line(SOL, BERNABEU)),
        "east": _make(client, t, _polygon(EAST_OF_CENTRE)),
        "toledo": _make(client, t, _polygon(TOLEDO_BOX)),
    }


def test_intersects_polygon_returns_every_geometry_that_touches_it(
    client: Client, shapes: Any
) -> None:
    t, ids = shapes
    got = _ids(client, _geo_params(t, "intersects", "Polygon", CENTRE))
    assert got == {ids["sol"], ids["sol_to_bernabeu"], ids["east"]}


def test_disjoint_polygon_returns_every_geometry_that_does_not_touch_it(
    client: Client, shapes: Any
) -> None:
    t, ids = shapes
    got = _ids(client, _geo_params(t, "disjoint", "Polygon", CENTRE))
    assert got == {ids["barajas"], ids["toledo"]}


def test_intersects_line_returns_the_areas_it_crosses(client: Client, districts: Any) -> None:
    t, ids = districts
    route = [SOL, BERNABEU]  # from the centre to the north district
    got = _ids(client, _geo_params(t, "intersects", "LineString", route))
    assert got == {ids["centre"], ids["north"]}


def test_intersects_multipoint_returns_the_areas_holding_any_point(
    client: Client, districts: Any
) -> None:
    t, ids = districts
    got = _ids(client, _geo_params(t, "intersects", "MultiPoint", [SOL, TOLEDO, BARAJAS]))
    assert got == {ids["centre"], ids["toledo"]}


def test_intersects_multilinestring_returns_the_areas_any_line_crosses(
    client: Client, districts: Any
) -> None:
    t, ids = districts
    lines = [[SOL, RETIRO], [[-4.10, 39.86], [-3.95, 39.86]]]  # one in Madrid, one across Toledo
    got = _ids(client, _geo_params(t, "intersects", "MultiLineString", lines))
    assert got == {ids["centre"], ids["toledo"]}


# -- equals / overlaps -------------------------------------------------------------------------


def test_equals_point_returns_only_the_entity_at_exactly_that_point(
    client: Client, places: Any
) -> None:
    t, ids = places
    assert _ids(client, _geo_params(t, "equals", "Point", SOL)) == {ids["sol"]}


@pytest.mark.parametrize("geometry_type", list(GEOMETRIES))
def test_equals_returns_the_entity_with_the_same_geometry(
    client: Client, geometry_type: str
) -> None:
    t = _type()
    ids = {name: _make(client, t, g) for name, g in GEOMETRIES.items()}
    params = _geo_params(t, "equals", geometry_type, GEOMETRIES[geometry_type]["coordinates"])
    assert _ids(client, params) == {ids[geometry_type]}


def test_overlaps_returns_areas_that_share_part_but_not_all(client: Client) -> None:
    t = _type()
    partial = _make(client, t, _polygon(EAST_OF_CENTRE))
    _make(client, t, _polygon(INSIDE_CENTRE))  # inside: within, not overlaps
    _make(client, t, _polygon(AROUND_CENTRE))  # around: contains, not overlaps
    _make(client, t, _polygon(TOLEDO_BOX))  # apart
    assert _ids(client, _geo_params(t, "overlaps", "Polygon", CENTRE)) == {partial}


# -- every geometry type, as entity geometry and as query geometry ------------------------------


@pytest.mark.parametrize("geometry_type", list(GEOMETRIES))
def test_entity_geometry_of_each_type_is_found_by_intersects(
    client: Client, geometry_type: str
) -> None:
    t = _type()
    geometry = GEOMETRIES[geometry_type]
    here = _make(client, t, geometry)
    far = {"type": geometry_type, "coordinates": _shift(geometry["coordinates"], -0.3, -0.55)}
    _make(client, t, far)  # the same shape moved to Toledo
    assert _ids(client, _geo_params(t, "intersects", "Polygon", CENTRE)) == {here}


@pytest.mark.parametrize("geometry_type", list(GEOMETRIES))
def test_query_geometry_of_each_type_finds_the_area_it_touches(
    client: Client, geometry_type: str
) -> None:
    t = _type()
    centre = _make(client, t, _polygon(CENTRE))
    _make(client, t, _polygon(TOLEDO_BOX))
    coords = GEOMETRIES[geometry_type]["coordinates"]
    assert _ids(client, _geo_params(t, "intersects", geometry_type, coords)) == {centre}


# -- geoproperty -------------------------------------------------------------------------------


def test_geoproperty_selects_which_geo_property_is_queried(client: Client) -> None:
    t = _type()
    trip = _make(client, t, _point(SOL), origin=_geo(_point(TOLEDO)))
    near_toledo = "near;maxDistance==5000"
    assert _ids(client, _geo_params(t, near_toledo, "Point", TOLEDO, geoproperty="origin")) == {
        trip
    }
    assert _ids(client, _geo_params(t, near_toledo, "Point", TOLEDO)) == set()
    assert _ids(client, _geo_params(t, near_toledo, "Point", TOLEDO, geoproperty="location")) == (
        set()
    )


def test_geoproperty_that_an_entity_lacks_does_not_match(client: Client) -> None:
    t = _type()
    _make(client, t, _point(SOL))
    params = _geo_params(t, "near;maxDistance==1000", "Point", SOL, geoproperty="origin")
    assert _ids(client, params) == set()


# -- GeoJSON answer ----------------------------------------------------------------------------


def test_accept_geo_json_gives_a_feature_collection(client: Client) -> None:
    t = _type()
    sol = _make(client, t, _point(SOL), name={"type": "Property", "value": "Sol"})
    mayor = _make(client, t, _point(MAYOR), name={"type": "Property", "value": "Mayor"})
    _make(client, t, _point(TOLEDO))
    params = _geo_params(t, "near;maxDistance==1000", "Point", SOL)
    r = client.get(ENTITIES, params=params, accept=GEOJSON)
    assert r.status == 200, r
    assert r.content_type == GEOJSON
    body = r.json()
    assert body["type"] == "FeatureCollection"
    features = {f["id"]: f for f in body["features"]}
    assert set(features) == {sol, mayor}
    for fid, coords, name in ((sol, SOL, "Sol"), (mayor, MAYOR, "Mayor")):
        feature = features[fid]
        assert feature["type"] == "Feature"
        assert feature["geometry"] == _point(coords)
        assert feature["properties"]["type"] == t
        assert feature["properties"]["name"] == {"type": "Property", "value": name}


def test_geo_json_with_key_values_gives_simplified_properties(client: Client) -> None:
    t = _type()
    sol = _make(client, t, _point(SOL), name={"type": "Property", "value": "Sol"})
    r = client.get(ENTITIES, params={"type": t, "options": "keyValues"}, accept=GEOJSON)
    assert r.status == 200, r
    (feature,) = r.json()["features"]
    assert feature["id"] == sol
    assert feature["geometry"] == _point(SOL)
    assert feature["properties"]["name"] == "Sol"


def test_geo_json_with_geometry_property_uses_that_geo_property(client: Client) -> None:
    t = _type()
    trip = _make(client, t, _point(SOL), origin=_geo(_point(TOLEDO)))
    r = client.get(
        ENTITIES, params={"type": t, "geometryProperty": "origin"}, accept=GEOJSON
    )
    assert r.status == 200, r
    (feature,) = r.json()["features"]
    assert feature["id"] == trip
    assert feature["geometry"] == _point(TOLEDO)


def test_geo_json_of_no_match_is_an_empty_feature_collection(client: Client) -> None:
    r = client.get(ENTITIES, params={"type": _type()}, accept=GEOJSON)
    assert r.status == 200, r
    body = r.json()
    assert body["type"] == "FeatureCollection"
    assert body["features"] == []


# -- malformed geo-queries ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("georel", "geometry", "coordinates"),
    [
        ("near;maxDistance==1000", "Point", "[1]"),
        ("near;maxDistance==1000", "Point", '["a","b"]'),
        ("near;maxDistance==1000", "Point", "not-json"),
        ("near;maxDistance==1000", "Circle", "[-3.70,40.41]"),
        ("beside", "Point", "[-3.70,40.41]"),
        ("near", "Point", "[-3.70,40.41]"),
        ("near;maxDistance==far", "Point", "[-3.70,40.41]"),
        ("near;farAway==1000", "Point", "[-3.70,40.41]"),
        ("within", "Polygon", "[[[0,0],[1,0],[1,1],[0,1]]]"),
        ("within", "Polygon", "[[[0,0],[1,0],[0,0]]]"),
        ("intersects", "LineString", "[[0,0]]"),
    ],
    ids=[
        "point_with_one_coordinate",
        "point_with_string_coordinates",
        "coordinates_not_json",
        "unknown_geometry_type",
        "unknown_georel",
        "near_without_distance",
        "near_distance_not_a_number",
        "near_unknown_distance_name",
        "polygon_ring_not_closed",
        "polygon_ring_too_short",
        "linestring_with_one_position",
    ],
)
def test_malformed_geo_query_is_400_bad_request_data(
    client: Client, georel: str, geometry: str, coordinates: str
) -> None:
    params = {"type": _type(), "georel": georel, "geometry": geometry, "coordinates": coordinates}
    r = client.get(ENTITIES, params=params, accept=JSON)
    assert_problem(r, 400, "BadRequestData")


@pytest.mark.parametrize(
    "missing", ["georel", "geometry", "coordinates"], ids=lambda m: f"without_{m}"
)
def test_incomplete_geo_query_is_400_bad_request_data(client: Client, missing: str) -> None:
    params = {
        "type": _type(),
        "georel": "near;maxDistance==1000",
        "geometry": "Point",
        "coordinates": "[-3.70,40.41]",
    }
    del params[missing]
    r = client.get(ENTITIES, params=params, accept=JSON)
    assert_problem(r, 400, "BadRequestData")


def test_geo_query_alone_is_a_valid_query(client: Client) -> None:
    # a spot in the South Atlantic that no other test uses
    spot = [-25.123457, -45.987654]
    t = _type()
    here = _make(client, t, _point(spot))
    params = _geo_params(t, "near;maxDistance==10", "Point", spot)
    del params["type"]
    assert here in _ids(client, params)
