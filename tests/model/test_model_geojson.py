"""broker.model.geojson: geometry validation, by example and on random geometries."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_support import geometries, polygons

from broker.model.geojson import bbox, geometry_error, is_valid_geometry, looks_like_geometry

SQUARE = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "Point", "coordinates": [-3.7, 40.4]},
        {"type": "Point", "coordinates": [-3.7, 40.4, 650.5]},
        {"type": "MultiPoint", "coordinates": [[0, 0], [1, 1]]},
        {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
        {"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[2, 2], [3, 3]]]},
        {"type": "Polygon", "coordinates": [SQUARE]},
        {"type": "MultiPolygon", "coordinates": [[SQUARE], [SQUARE]]},
        {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [0, 0]}]},
        {"type": "Point", "coordinates": [180, -90], "bbox": [180, -90, 180, -90]},
    ],
)
def test_valid_geometries(geometry: dict[str, Any]) -> None:
    assert geometry_error(geometry) is None


@pytest.mark.parametrize(
    ("geometry", "reason"),
    [
        ("POINT(0 0)", "JSON object"),
        ({"type": "Circle", "coordinates": [0, 0]}, "unknown geometry type"),
        ({"type": "Point"}, "needs 'coordinates'"),
        ({"type": "Point", "coordinates": [0]}, "2 or 3 numbers"),
        ({"type": "Point", "coordinates": [0, 0, 0, 0]}, "2 or 3 numbers"),
        ({"type": "Point", "coordinates": ["1", 2]}, "numbers only"),
        ({"type": "Point", "coordinates": [True, 2]}, "numbers only"),
        ({"type": "Point", "coordinates": [180.1, 0]}, "longitude"),
        ({"type": "Point", "coordinates": [0, -90.5]}, "latitude"),
        ({"type": "MultiPoint", "coordinates": []}, "at least 1 position"),
        ({"type": "LineString", "coordinates": [[0, 0]]}, "at least 2 positions"),
        ({"type": "MultiLineString", "coordinates": []}, "at least one member"),
        ({"type": "Polygon", "coordinates": []}, "at least one linear ring"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]}, "at least 4 positions"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "closed"),
        ({"type": "MultiPolygon", "coordinates": [[]]}, "at least one linear ring"),
        ({"type": "GeometryCollection", "geometries": []}, "non-empty"),
        ({"type": "GeometryCollection", "coordinates": [0, 0]}, "'geometries', not"),
        ({"type": "GeometryCollection", "geometries": [{"type": "GeometryCollection",
                                                        "geometries": []}]}, "nested"),
        ({"type": "GeometryCollection", "geometries": [{"type": "Point"}]}, "geometries[0]"),
        ({"type": "Point", "coordinates": [0, 0], "bbox": [0, 0]}, "bbox"),
    ],
)
def test_invalid_geometries_say_why(geometry: Any, reason: str) -> None:
    err = geometry_error(geometry)
    assert err is not None and reason in err


def test_looks_like_geometry_only_checks_the_type_member() -> None:
    assert looks_like_geometry({"type": "Polygon"})
    assert not looks_like_geometry({"type": "Feature"})
    assert not looks_like_geometry([0, 0])


def test_bbox_of_a_polygon() -> None:
    assert bbox({"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 3], [0, 0]]]}) == (
        0, 0, 2, 3)


@settings(max_examples=150)
@given(geometries)
def test_random_valid_geometries_are_valid(geometry: dict[str, Any]) -> None:
    assert is_valid_geometry(geometry)
    west, south, east, north = bbox(geometry)
    assert -180 <= west <= east <= 180 and -90 <= south <= north <= 90


def _break(geometry: dict[str, Any], how: str) -> dict[str, Any]:
    broken = copy.deepcopy(geometry)
    ring = broken["coordinates"][0]
    if how == "open_ring":
        ring[-1] = [ring[0][0] + 1 if ring[0][0] < 180 else ring[0][0] - 1, ring[0][1]]
    elif how == "short_ring":
        broken["coordinates"][0] = [ring[0], ring[1], ring[0]]
    elif how == "longitude":
        ring[1][0] = 181
    elif how == "latitude":
        ring[1][1] = -91
    elif how == "string":
        ring[1][1] = str(ring[1][1])
    else:
        broken["type"] = "Polygone"
    return broken


@settings(max_examples=150)
@given(polygons, st.sampled_from(["open_ring", "short_ring", "longitude", "latitude",
                                  "string", "type"]))
def test_random_broken_polygons_are_invalid(geometry: dict[str, Any], how: str) -> None:
    assert not is_valid_geometry(_break(geometry, how))
