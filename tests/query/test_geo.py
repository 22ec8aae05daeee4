"""geoQ parsing and evaluation (clause 4.10): every georel, every geometry type."""

from __future__ import annotations

from typing import Any

import pytest

from broker.errors import BadRequestData
from broker.query.ast import GeoQuery
from broker.query.evaluate import match_geo
from broker.query.geometry import haversine_m, point_segment_m
from broker.query.geoq import parse_geoq, unparse_geoq

LOC = "location"
SQUARE = "[[[0,0],[1,0],[1,1],[0,1],[0,0]]]"


def located(geometry: dict[str, Any]) -> dict[str, Any]:
    return {"id": "urn:x:1", "type": ["T"],
            "attrs": {LOC: [{"type": "GeoProperty", "value": geometry}]}}


def geo(georel: str, geometry: str, coordinates: str) -> GeoQuery:
    return parse_geoq(georel, geometry, coordinates)


def test_parse_near_and_defaults() -> None:
    g = geo("near;maxDistance==2000", "Point", "[8,40]")
    assert (g.georel, g.max_distance, g.min_distance, g.geoproperty) == ("near", 2000.0, None, LOC)
    assert g.geometry_dict() == {"type": "Point", "coordinates": [8, 40]}
    g = parse_geoq("near;minDistance==5.5", "Point", "[8,40]", "observationSpace")
    assert (g.min_distance, g.geoproperty) == (5.5, "observationSpace")
    assert parse_geoq(**unparse_geoq(g)) == g


@pytest.mark.parametrize(
    ("georel", "geometry", "coordinates", "field"),
    [
        ("near", "Point", "[8,40]", "georel"),
        ("near;maxDistance==0", "Point", "[8,40]", "georel"),
        ("near;maxDistance==-3", "Point", "[8,40]", "georel"),
        ("near;distance==3", "Point", "[8,40]", "georel"),
        ("beside", "Point", "[8,40]", "georel"),
        ("within", "Circle", "[8,40]", "geometry"),
        ("within", "GeometryCollection", "[8,40]", "geometry"),
        ("within", "Point", "[8,", "coordinates"),
        ("within", "Point", "[[8,40]]", "coordinates"),
        ("within", "Point", "[200,40]", "coordinates"),
        ("within", "Polygon", "[[[0,0],[1,0],[1,1],[0,0.5]]]", "coordinates"),
        ("within", "Polygon", "[[[0,0],[1,1],[1,0],[0,1],[0,0]]]", "coordinates"),
        (None, "Point", "[8,40]", "georel"),
        ("within", None, "[8,40]", "geometry"),
        ("within", "Point", None, "coordinates"),
    ],
)
def test_parse_errors_name_the_parameter(
    georel: str | None, geometry: str | None, coordinates: str | None, field: str
) -> None:
    with pytest.raises(BadRequestData) as err:
        parse_geoq(georel, geometry, coordinates)
    assert err.value.field == field


def test_haversine_and_cross_track() -> None:
    # one degree of longitude on the equator: 2 pi R / 360
    assert haversine_m((0, 0), (1, 0)) == pytest.approx(111_195, rel=1e-4)
    assert point_segment_m((0.5, 1), (0, 0), (1, 0)) == pytest.approx(111_195, rel=1e-3)
    assert point_segment_m((2, 0), (0, 0), (1, 0)) == pytest.approx(111_195, rel=1e-4)


def test_near_on_the_sphere() -> None:
    madrid = located({"type": "Point", "coordinates": [-3.7038, 40.4168]})
    # Madrid - Toledo is about 67 km
    assert match_geo(madrid, geo("near;maxDistance==70000", "Point", "[-4.0273,39.8628]"))
    assert not match_geo(madrid, geo("near;maxDistance==60000", "Point", "[-4.0273,39.8628]"))
    assert match_geo(madrid, geo("near;minDistance==60000", "Point", "[-4.0273,39.8628]"))
    assert not match_geo(madrid, geo("near;minDistance==70000", "Point", "[-4.0273,39.8628]"))


def test_near_with_lines_and_polygons() -> None:
    point = located({"type": "Point", "coordinates": [0.5, 1.001]})
    assert match_geo(point, geo("near;maxDistance==200", "LineString", "[[0,1],[1,1]]"))
    assert not match_geo(point, geo("near;maxDistance==50", "LineString", "[[0,1],[1,1]]"))
    inside = located({"type": "Point", "coordinates": [0.5, 0.5]})
    assert match_geo(inside, geo("near;maxDistance==1", "Polygon", SQUARE))
    assert not match_geo(inside, geo("near;minDistance==1", "Polygon", SQUARE))
    square = located({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]})
    # the nearest point counts (as MongoDB's $nearSphere measures): a corner is at 0 m
    assert match_geo(square, geo("near;maxDistance==1000", "Point", "[0,0]"))
    assert not match_geo(square, geo("near;minDistance==1000", "Point", "[0,0]"))
    # about 11 km from the square's nearest corner
    assert not match_geo(square, geo("near;maxDistance==1000", "Point", "[-0.1,0]"))
    assert match_geo(square, geo("near;minDistance==1000", "Point", "[-0.1,0]"))
    assert match_geo(square, geo("near;maxDistance==160000", "Point", "[0,0]"))
    assert match_geo(square, geo("near;minDistance==100000", "Point", "[2,0.5]"))
    assert not match_geo(square, geo("near;minDistance==120000", "Point", "[2,0.5]"))


HOLED = {"type": "Polygon", "coordinates": [
    [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
    [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]],
]}

TARGETS: dict[str, dict[str, Any]] = {
    "Point": {"type": "Point", "coordinates": [1, 1]},
    "PointInHole": {"type": "Point", "coordinates": [5, 5]},
    "MultiPoint": {"type": "MultiPoint", "coordinates": [[1, 1], [2, 2]]},
    "LineString": {"type": "LineString", "coordinates": [[1, 1], [2, 2]]},
    "MultiLineString": {
        "type": "MultiLineString", "coordinates": [[[1, 1], [2, 2]], [[8, 8], [9, 9]]]
    },
    "Polygon": {"type": "Polygon", "coordinates": [[[1, 1], [2, 1], [2, 2], [1, 2], [1, 1]]]},
    "MultiPolygon": {"type": "MultiPolygon", "coordinates": [
        [[[1, 1], [2, 1], [2, 2], [1, 2], [1, 1]]], [[[7, 7], [8, 7], [8, 8], [7, 8], [7, 7]]]]},
    "Crossing": {"type": "LineString", "coordinates": [[-1, 1], [2, 2]]},
    "Outside": {"type": "Polygon", "coordinates": [[[20, 20], [21, 20], [21, 21], [20, 20]]]},
    "Overlapping": {
        "type": "Polygon", "coordinates": [[[9, 9], [12, 9], [12, 12], [9, 12], [9, 9]]]
    },
}


@pytest.mark.parametrize(
    ("target", "within", "intersects", "disjoint", "overlaps"),
    [
        ("Point", True, True, False, False),
        ("PointInHole", False, False, True, False),
        ("MultiPoint", True, True, False, False),
        ("LineString", True, True, False, False),
        ("MultiLineString", True, True, False, False),
        ("Polygon", True, True, False, False),
        ("MultiPolygon", True, True, False, False),
        ("Crossing", False, True, False, False),
        ("Outside", False, False, True, False),
        ("Overlapping", False, True, False, True),
    ],
)
def test_topological_relations_against_a_polygon_with_a_hole(
    target: str, within: bool, intersects: bool, disjoint: bool, overlaps: bool
) -> None:
    import orjson

    coords = orjson.dumps(HOLED["coordinates"]).decode()
    entity = located(TARGETS[target])
    assert match_geo(entity, geo("within", "Polygon", coords)) is within
    assert match_geo(entity, geo("intersects", "Polygon", coords)) is intersects
    assert match_geo(entity, geo("disjoint", "Polygon", coords)) is disjoint
    assert match_geo(entity, geo("overlaps", "Polygon", coords)) is overlaps
    assert match_geo(entity, geo("contains", "Polygon", coords)) is False


@pytest.mark.parametrize(
    ("geometry", "coordinates"),
    [
        ("Point", "[1.5,1.5]"),
        ("MultiPoint", "[[1.5,1.5],[1.2,1.2]]"),
        ("LineString", "[[1.2,1.2],[1.8,1.8]]"),
        ("MultiLineString", "[[[1.2,1.2],[1.8,1.8]],[[1.1,1.9],[1.9,1.1]]]"),
        ("Polygon", "[[[1.2,1.2],[1.8,1.2],[1.8,1.8],[1.2,1.2]]]"),
        ("MultiPolygon", "[[[[1.2,1.2],[1.8,1.2],[1.8,1.8],[1.2,1.2]]]]"),
    ],
)
def test_contains_each_reference_geometry_type(geometry: str, coordinates: str) -> None:
    entity = located(TARGETS["Polygon"])
    assert match_geo(entity, geo("contains", geometry, coordinates))
    assert match_geo(entity, geo("intersects", geometry, coordinates))
    assert not match_geo(entity, geo("disjoint", geometry, coordinates))
    assert not match_geo(located(TARGETS["Outside"]), geo("contains", geometry, coordinates))


def test_equals_is_topological() -> None:
    square = located({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]})
    assert match_geo(square, geo("equals", "Polygon", "[[[1,0],[1,1],[0,1],[0,0],[1,0]]]"))
    assert not match_geo(square, geo("equals", "Polygon", "[[[0,0],[2,0],[2,2],[0,2],[0,0]]]"))
    assert match_geo(located({"type": "Point", "coordinates": [3, 4]}),
                     geo("equals", "Point", "[3,4]"))


def test_missing_geoproperty_never_matches() -> None:
    entity = {"id": "urn:x:1", "type": ["T"], "attrs": {}}
    assert not match_geo(entity, geo("disjoint", "Point", "[0,0]"))


def test_any_instance_of_a_multi_attribute_matches() -> None:
    entity = {"id": "urn:x:1", "type": ["T"], "attrs": {LOC: [
        {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [50, 50]}},
        {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [0.5, 0.5]},
         "datasetId": "urn:d:2"},
    ]}}
    assert match_geo(entity, geo("within", "Polygon", SQUARE))
