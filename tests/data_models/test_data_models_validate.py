"""Invalid entities: each problem names the field and says what is wrong."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from data_models.registry import get_model
from data_models.validate import Problem, validate


def _example(entity_type: str, normalized: bool = False) -> dict[str, Any]:
    model = get_model(entity_type)
    assert model is not None
    return copy.deepcopy(dict(model.example_normalized if normalized else model.example))


def _fields(problems: list[Problem]) -> dict[str, str]:
    return {p.field: p.message for p in problems}


def test_wrong_value_type_names_the_attribute() -> None:
    entity = _example("AirQualityObserved") | {"no2": "high"}
    assert _fields(validate(entity)) == {"no2": 'expected number, got string "high"'}


def test_out_of_range_number_names_the_bound() -> None:
    entity = _example("ParkingSpot") | {"width": -2.5}
    assert _fields(validate(entity)) == {"width": "-2.5 is below the minimum 0"}
    entity = _example("WasteContainer") | {"fillingLevel": 1.3}
    assert _fields(validate(entity)) == {"fillingLevel": "1.3 is above the maximum 1"}


def test_missing_id_is_reported_as_a_missing_attribute() -> None:
    entity = _example("Streetlight")
    del entity["id"]
    problems = validate(entity)
    assert [(p.entity_id, p.field, p.message) for p in problems] == [
        (None, "id", "required attribute is missing")
    ]
    assert str(problems[0]) == "(no id): id: required attribute is missing"


def test_unknown_enum_value_lists_the_allowed_ones() -> None:
    entity = _example("ParkingSpot", normalized=True)
    entity["status"]["value"] = "parked"
    (problem,) = validate(entity)
    assert problem.field == "status"
    assert problem.message == '"parked" is not one of: "closed", "free", "occupied", "unknown"'
    assert problem.entity_id == "urn:ngsi-ld:ParkingSpot:santander-daoiz-velarde-1-5"


def test_enum_inside_an_array_names_the_item() -> None:
    entity = _example("ParkingSpot") | {"category": ["onStreet", "floating"]}
    assert list(_fields(validate(entity))) == ["category[1]"]


@pytest.mark.parametrize(
    ("geometry", "field", "message"),
    [
        ({"type": "Point", "coordinates": [1.0]}, "location.coordinates",
         "GeoJSON Point: needs at least 2 items, has 1"),
        ({"type": "Point", "coordinates": [1.0, "north"]}, "location.coordinates[1]",
         'GeoJSON Point: expected number, got string "north"'),
        ({"type": "LineString", "coordinates": [[1.0, 2.0]]}, "location.coordinates",
         "GeoJSON LineString: needs at least 2 items, has 1"),
        ({"type": "Circle", "coordinates": [1.0, 2.0]}, "location",
         "matches none of: GeoJSON Point"),
    ],
)
def test_bad_location_geometry_names_the_geometry_member(
    geometry: dict[str, Any], field: str, message: str
) -> None:
    entity = _example("WeatherObserved", normalized=True)
    entity["location"]["value"] = geometry
    (problem,) = validate(entity)
    assert problem.field == field
    assert message in problem.message


def test_bad_date_time_is_reported() -> None:
    entity = _example("AirQualityObserved") | {"dateObserved": "30/11/2026 08:00"}
    assert _fields(validate(entity)) == {
        "dateObserved": '"30/11/2026 08:00" is not a valid date-time'
    }
    assert validate(entity | {"dateObserved": "2026-11-30T08:00:00+01:00"}) == []


def test_relationship_object_must_be_an_entity_id() -> None:
    entity = _example("DeviceMeasurement", normalized=True)
    entity["refDevice"]["object"] = "not an id"
    assert list(_fields(validate(entity))) == ["refDevice"]


def test_one_of_several_attributes_required() -> None:
    entity = {"id": "urn:ngsi-ld:TrafficFlowObserved:1", "type": "TrafficFlowObserved",
              "dateObserved": "2026-11-30T08:00:00Z"}
    assert _fields(validate(entity)) == {
        "": "one of refRoadSegment, location, address is required"
    }


def test_structured_value_members_are_checked() -> None:
    entity = _example("ThreePhaseAcMeasurement") | {"phaseVoltage": {"L1": -230.0}}
    assert _fields(validate(entity)) == {"phaseVoltage.L1": "-230.0 is below the minimum 0"}


def test_type_with_no_bundled_model_is_reported_as_such() -> None:
    problems = validate({"id": "urn:ngsi-ld:Bench:1", "type": "Bench"})
    assert [(p.field, p.message) for p in problems] == [
        ("type", "no bundled model for type Bench")
    ]


def test_missing_type_and_non_object_entity() -> None:
    assert _fields(validate({"id": "urn:x"})) == {"type": "required attribute is missing"}
    assert _fields(validate(["not", "an", "entity"])) == {
        "": "an entity is a JSON object, not array"
    }


def test_type_by_full_iri_validates_against_the_model() -> None:
    entity = _example("ParkingSpot") | {
        "type": "https://smartdatamodels.org/dataModel.Parking/ParkingSpot", "status": "gone"
    }
    assert list(_fields(validate(entity))) == ["status"]
