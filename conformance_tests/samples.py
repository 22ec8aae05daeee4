"""Payloads the tests share: a user @context and entities using every attribute kind."""

from __future__ import annotations

from typing import Any

from conformance_tests.client import new_id

EX = "https://example.org/agora/"

# A user @context: every term the sample entities use maps into EX.
USER_TERMS: dict[str, str] = {
    term: EX + term
    for term in (
        "Vehicle", "Car", "Truck", "OffStreetParking", "Person", "City",
        "brandName", "speed", "accuracy", "isParked", "providedBy", "street", "category",
        "config", "tyreTreadDepths", "route", "observationSpace", "temperature", "name",
        "non-commercial", "commercial", "owner", "colour",
    )
}
USER_CONTEXT: dict[str, Any] = {"@context": USER_TERMS}

POINT = {"type": "Point", "coordinates": [-3.7038, 40.4168]}

GEOMETRIES: dict[str, dict[str, Any]] = {
    "Point": POINT,
    "MultiPoint": {"type": "MultiPoint", "coordinates": [[-3.70, 40.41], [-3.71, 40.42]]},
    "LineString": {"type": "LineString", "coordinates": [[-3.70, 40.41], [-3.71, 40.42]]},
    "MultiLineString": {
        "type": "MultiLineString",
        "coordinates": [[[-3.70, 40.41], [-3.71, 40.42]], [[-3.72, 40.43], [-3.73, 40.44]]],
    },
    "Polygon": {
        "type": "Polygon",
        "coordinates": [[[-3.70, 40.41], [-3.71, 40.41], [-3.71, 40.42], [-3.70, 40.41]]],
    },
    "MultiPolygon": {
        "type": "MultiPolygon",
        "coordinates": [
            [[[-3.70, 40.41], [-3.71, 40.41], [-3.71, 40.42], [-3.70, 40.41]]],
            [[[-3.60, 40.31], [-3.61, 40.31], [-3.61, 40.32], [-3.60, 40.31]]],
        ],
    },
}

INVALID_GEOMETRIES: dict[str, dict[str, Any]] = {
    "unknown_geometry_type": {"type": "Circle", "coordinates": [1.0, 2.0]},
    "point_with_one_coordinate": {"type": "Point", "coordinates": [1.0]},
    "point_with_string_coordinates": {"type": "Point", "coordinates": ["a", "b"]},
    "point_without_coordinates": {"type": "Point"},
    "linestring_with_one_position": {"type": "LineString", "coordinates": [[1.0, 2.0]]},
    "polygon_ring_not_closed": {
        "type": "Polygon",
        "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]],
    },
    "polygon_ring_too_short": {
        "type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]]]
    },
    "geometry_is_a_string": "POINT(1 2)",  # type: ignore[dict-item]
}


# One attribute of every kind and shape, keyed by a name for test ids.
ATTRIBUTES: dict[str, dict[str, Any]] = {
    "property_number": {"type": "Property", "value": 21.5},
    "property_integer": {"type": "Property", "value": 7},
    "property_string": {"type": "Property", "value": "hello"},
    "property_unicode_string": {"type": "Property", "value": "Zürich, 東京, Ελλάδα 🚲"},
    "property_empty_string": {"type": "Property", "value": ""},
    "property_large_integer": {"type": "Property", "value": 9007199254740993},
    "property_negative_float": {"type": "Property", "value": -0.000123456789},
    "property_boolean": {"type": "Property", "value": False},
    "property_object": {"type": "Property", "value": {"street": "Gran Via", "number": 1}},
    "property_array": {"type": "Property", "value": [1, "two", 3.0]},
    "property_with_unit_code": {"type": "Property", "value": 80, "unitCode": "KMH"},
    "property_with_observed_at": {
        "type": "Property", "value": 1, "observedAt": "2024-05-01T10:00:00.000Z"
    },
    "property_with_datetime_value": {
        "type": "Property", "value": {"@type": "DateTime", "@value": "2024-05-01T10:00:00Z"}
    },
    "relationship": {"type": "Relationship", "object": "urn:ngsi-ld:Person:Alice"},
    "relationship_with_object_type": {
        "type": "Relationship", "object": "urn:ngsi-ld:Person:Alice", "objectType": "Person"
    },
    "language_property": {
        "type": "LanguageProperty", "languageMap": {"en": "Town hall", "es": "Ayuntamiento"}
    },
    "vocab_property": {"type": "VocabProperty", "vocab": "commercial"},
    "vocab_property_list": {"type": "VocabProperty", "vocab": ["commercial", "municipal"]},
    "json_property": {"type": "JsonProperty", "json": {"nested": {"list": [1, 2], "flag": True}}},
    "json_property_with_null_inside": {"type": "JsonProperty", "json": {"a": None, "b": [None]}},
    "json_property_array": {"type": "JsonProperty", "json": [{"x": 1}, {"x": 2}]},
    "list_property": {"type": "ListProperty", "valueList": [300, 300, 120, 6]},
    "list_relationship": {
        "type": "ListRelationship",
        "objectList": [
            {"object": "urn:ngsi-ld:City:Antwerp"},
            {"object": "urn:ngsi-ld:City:Ghent"},
        ],
    },
    **{
        f"geo_property_{name}": {"type": "GeoProperty", "value": geometry}
        for name, geometry in GEOMETRIES.items()
    },
}


def vehicle(entity_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """A small Vehicle in normalized form (Property, Relationship, GeoProperty)."""
    entity: dict[str, Any] = {
        "id": entity_id or new_id(),
        "type": "Vehicle",
        "brandName": {"type": "Property", "value": "Mercedes"},
        "speed": {"type": "Property", "value": 80, "unitCode": "KMH"},
        "isParked": {"type": "Relationship", "object": "urn:ngsi-ld:OffStreetParking:Downtown1"},
        "location": {"type": "GeoProperty", "value": POINT},
    }
    entity.update(extra)
    return entity


def full_vehicle(entity_id: str | None = None) -> dict[str, Any]:
    """A Vehicle using every attribute kind, sub-attributes, observedAt, unitCode, objectType.

    Its normalized form is what a broker must give back unchanged.
    """
    return {
        "id": entity_id or new_id(),
        "type": "Vehicle",
        "brandName": {"type": "Property", "value": "Mercedes"},
        "speed": {
            "type": "Property",
            "value": 80.5,
            "unitCode": "KMH",
            "observedAt": "2024-05-01T10:00:00.000Z",
            "accuracy": {"type": "Property", "value": 0.9},
        },
        "isParked": {
            "type": "Relationship",
            "object": "urn:ngsi-ld:OffStreetParking:Downtown1",
            "observedAt": "2024-05-01T10:00:00.000Z",
            "providedBy": {"type": "Relationship", "object": "urn:ngsi-ld:Person:Bob"},
        },
        "location": {"type": "GeoProperty", "value": POINT},
        "street": {
            "type": "LanguageProperty",
            "languageMap": {"fr": "Grand Place", "nl": "Grote Markt"},
        },
        "category": {"type": "VocabProperty", "vocab": "non-commercial"},
        "config": {"type": "JsonProperty", "json": {"mode": "eco", "limits": [1, 2, 3]}},
        "tyreTreadDepths": {"type": "ListProperty", "valueList": [300, 300, 120, 6]},
        "route": {
            "type": "ListRelationship",
            "objectList": [
                {"object": "urn:ngsi-ld:City:Antwerp"},
                {"object": "urn:ngsi-ld:City:Rotterdam"},
            ],
        },
    }


def expected_concise(normalized: dict[str, Any]) -> dict[str, Any]:
    """The concise form (clause 4.5) of `full_vehicle` for the parts the spec makes exact."""
    return {
        "id": normalized["id"],
        "type": normalized["type"],
        "brandName": "Mercedes",
        "speed": {
            "value": 80.5,
            "unitCode": "KMH",
            "observedAt": "2024-05-01T10:00:00.000Z",
            "accuracy": 0.9,
        },
        "isParked": {
            "object": "urn:ngsi-ld:OffStreetParking:Downtown1",
            "observedAt": "2024-05-01T10:00:00.000Z",
            "providedBy": {"object": "urn:ngsi-ld:Person:Bob"},
        },
        "location": POINT,
        "street": {"languageMap": {"fr": "Grand Place", "nl": "Grote Markt"}},
    }


def expected_key_values(normalized: dict[str, Any]) -> dict[str, Any]:
    """The keyValues (simplified) form of `full_vehicle` for the parts the spec makes exact."""
    return {
        "id": normalized["id"],
        "type": normalized["type"],
        "brandName": "Mercedes",
        "speed": 80.5,
        "isParked": "urn:ngsi-ld:OffStreetParking:Downtown1",
        "location": POINT,
    }


def unwrap(value: Any, member: str) -> Any:
    """The payload of a simplified/concise attribute, bare or wrapped in its member name."""
    if isinstance(value, dict) and set(value) == {member}:
        return value[member]
    return value


def object_list(value: Any) -> list[str]:
    """ListRelationship targets from `objectList` items given as URIs or `{"object": URI}`."""
    items = unwrap(value, "objectList")
    assert isinstance(items, list), value
    return [i["object"] if isinstance(i, dict) else i for i in items]
