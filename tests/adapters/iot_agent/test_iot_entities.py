"""Measures to NGSI-LD entities: the provisioned mapping, iotagent-node-lib's conversions,
observedAt, statics, refDevice; entities that the bundled Smart Data Models and the broker
accept."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.iot_agent.entities import (
    build_entity,
    convert_value,
    entity_id,
    mapping_for,
    ngsi_ld_datetime,
)
from adapters.iot_agent.measures import MeasureError, Measures, parse_json, parse_ultralight
from adapters.iot_agent.provisioning import Attribute, Device, Group, StaticAttribute
from broker.errors import BadRequestData
from broker.jsonld import ContextResolver
from broker.model.expand import expand_entity
from broker.settings import Settings
from data_models.validate import validate

RECEIVED = "2024-05-01T10:00:00Z"
CORE_TERMS = ContextResolver(Settings()).core


def accepted_by_the_broker(entity: dict[str, Any]) -> bool:
    expand_entity(entity, CORE_TERMS, now=RECEIVED)
    return True


def build(device: Device, group: Group | None, values: dict[str, Any],
          stamp: str | None = None, **options: Any) -> dict[str, Any]:
    return build_entity(device, group, Measures(values, stamp), RECEIVED, **options)


def one(attribute_type: str, value: Any) -> Any:
    """The attribute a value of a provisioned type becomes (None when left out)."""
    device = Device("d1", attributes=(Attribute("x", attribute_type, "x"),))
    return build(device, None, {"x": value}, timestamp=False).get("x")


# -- Smart Data Models -------------------------------------------------------------------

WEATHER_GROUP = Group(
    apikey="weather-key",
    resource="/iot/d",
    entity_type="WeatherObserved",
    attributes=(
        Attribute("temperature", "Number", "t", unit_code="CEL"),
        Attribute("relativeHumidity", "Number", "h"),
        Attribute("atmosphericPressure", "Number", "p", unit_code="A97"),
        Attribute("dateObserved", "DateTime", "d"),
    ),
    static_attributes=(StaticAttribute("location", "geo:point", "40.4168, -3.7038"),),
)


def test_a_weather_station_gives_a_weatherobserved_its_model_accepts() -> None:
    device = Device("ws-001", apikey="weather-key")
    update = parse_ultralight(
        "2024-05-01T11:59:30+02:00|t|21.5|h|0.45|p|1013.2|d|2024-05-01T09:59:30Z"
    )[0]
    entity = build_entity(device, WEATHER_GROUP, update, RECEIVED)

    assert validate(entity) == []
    assert accepted_by_the_broker(entity)
    assert entity["id"] == "urn:ngsi-ld:WeatherObserved:ws-001"
    assert entity["temperature"] == {
        "type": "Property", "value": 21.5, "unitCode": "CEL",
        "observedAt": "2024-05-01T09:59:30.000Z",
    }
    assert entity["relativeHumidity"]["value"] == 0.45
    assert entity["dateObserved"]["value"] == {
        "@type": "DateTime", "@value": "2024-05-01T09:59:30.000Z"
    }
    assert entity["location"] == {
        "type": "GeoProperty", "value": {"type": "Point", "coordinates": [-3.7038, 40.4168]}
    }
    assert entity["refDevice"] == {"type": "Relationship", "object": "urn:ngsi-ld:Device:ws-001"}


def test_a_humidity_in_percent_is_what_the_weather_model_then_reports() -> None:
    device = Device("ws-001")
    update = parse_ultralight("t|21.5|h|45|d|2024-05-01T09:59:30Z")[0]
    problems = validate(build_entity(device, WEATHER_GROUP, update, RECEIVED))
    assert [(p.field, p.message) for p in problems] == [
        ("relativeHumidity", "45 is above the maximum 1")
    ]


def test_unprovisioned_ultralight_values_stay_text_and_the_model_says_so() -> None:
    device = Device("ws-002", entity_type="WeatherObserved", static_attributes=(
        StaticAttribute("location", "geo:json", {"type": "Point", "coordinates": [-3.7, 40.4]}),
        StaticAttribute("dateObserved", "DateTime", "2024-05-01T09:59:30Z"),
    ))
    entity = build_entity(device, None, parse_ultralight("temperature|21.5")[0], RECEIVED)
    assert entity["temperature"]["value"] == "21.5"
    assert [str(p) for p in validate(entity)] == [
        'urn:ngsi-ld:WeatherObserved:ws-002: temperature: expected number, got string "21.5"'
    ]


PARKING_GROUP = Group(
    apikey="parking-key",
    resource="/iot/json",
    entity_type="ParkingSpot",
    attributes=(Attribute("status", "Text", "s"),),
    static_attributes=(
        StaticAttribute("category", "Array", ["onStreet"]),
        StaticAttribute("refParkingSite", "Relationship", "urn:ngsi-ld:ParkingSite:centro"),
    ),
)


def parking_spot(device_id: str, lon: float, lat: float) -> Device:
    return Device(device_id, static_attributes=(
        StaticAttribute("location", "geo:json", {"type": "Point", "coordinates": [lon, lat]}),
    ))


def test_a_parking_sensor_gives_a_parkingspot_its_model_accepts() -> None:
    update = parse_json(b'{"s": "free"}')[0]
    entity = build_entity(parking_spot("spot-17", -3.70, 40.41), PARKING_GROUP, update, RECEIVED)

    assert validate(entity) == []
    assert accepted_by_the_broker(entity)
    assert entity["status"] == {
        "type": "Property", "value": "free", "observedAt": "2024-05-01T10:00:00Z"
    }
    assert entity["refParkingSite"] == {
        "type": "Relationship", "object": "urn:ngsi-ld:ParkingSite:centro"
    }
    # ParkingSpot's refDevice is an array in the model: a ListRelationship keeps it valid
    assert entity["refDevice"] == {
        "type": "ListRelationship", "objectList": [{"object": "urn:ngsi-ld:Device:spot-17"}]
    }


def test_a_status_outside_the_parkingspot_enum_is_reported_on_status() -> None:
    update = parse_json(b'{"s": "parked"}')[0]
    entity = build_entity(parking_spot("spot-17", -3.70, 40.41), PARKING_GROUP, update, RECEIVED)
    assert [p.field for p in validate(entity)] == ["status"]


def test_a_streetlight_over_json_with_typed_values() -> None:
    group = Group(apikey="k", entity_type="Streetlight", attributes=(
        Attribute("status", "Text", "st"),
        Attribute("powerState", "Text", "ps"),
        Attribute("illuminanceLevel", "Float", "il"),
        Attribute("dateLastSwitchingOn", "DateTime", "on"),
    ), static_attributes=(
        StaticAttribute("location", "geo:point", "40.41, -3.70"),
    ))
    update = parse_json(
        b'{"st": "ok", "ps": "on", "il": "0.8", "on": "2024-05-01T20:15:00+02:00"}'
    )[0]
    entity = build_entity(Device("lamp-9"), group, update, RECEIVED)
    assert validate(entity) == []
    assert accepted_by_the_broker(entity)
    assert entity["illuminanceLevel"]["value"] == 0.8
    assert entity["dateLastSwitchingOn"]["value"]["@value"] == "2024-05-01T18:15:00.000Z"


# -- the mapping -------------------------------------------------------------------------

def test_type_is_the_devices_then_the_groups_then_the_default() -> None:
    group = Group(apikey="k", entity_type="FromGroup")
    assert build(Device("d", entity_type="FromDevice"), group, {})["type"] == "FromDevice"
    assert build(Device("d"), group, {})["type"] == "FromGroup"
    assert build(Device("d"), None, {})["type"] == "Thing"
    assert build(Device("d"), None, {}, default_type="Sensor")["type"] == "Sensor"


def test_entity_id_is_the_entity_name_or_built_from_the_device_id() -> None:
    assert entity_id(Device("d1", entity_name="urn:ngsi-ld:Room:101"), "Room") == (
        "urn:ngsi-ld:Room:101"
    )
    assert entity_id(Device("d1"), "Room") == "urn:ngsi-ld:Room:d1"
    # iotagent-node-lib prefixes an entity name that is no URN; a URI is kept as it is
    assert entity_id(Device("d1", entity_name="Room101"), "Room") == "urn:ngsi-ld:Room:Room101"
    assert entity_id(Device("d1", entity_name="room:101"), "Room") == "room:101"
    assert entity_id(Device("my sensor"), "Thing") == "urn:ngsi-ld:Thing:my%20sensor"


def test_measures_take_the_provisioned_name_and_type_device_before_group() -> None:
    group = Group(apikey="k", attributes=(Attribute("temperature", "Text", "t"),
                                          Attribute("humidity", "Number", "h")))
    device = Device("d", attributes=(Attribute("airTemperature", "Number", "t"),))
    entity = build(device, group, {"t": "21", "h": "40"})
    assert entity["airTemperature"]["value"] == 21
    assert entity["humidity"]["value"] == 40
    assert "temperature" not in entity and "t" not in entity


def test_a_measure_sent_under_the_attribute_name_is_mapped_too() -> None:
    device = Device("d", attributes=(Attribute("temperature", "Number", "t"),))
    assert build(device, None, {"temperature": "21"})["temperature"]["value"] == 21


def test_unprovisioned_measures_keep_their_name_unless_explicit_attrs() -> None:
    device = Device("d", attributes=(Attribute("temperature", "Number", "t"),))
    assert build(device, None, {"t": "1", "x": "2"})["x"]["value"] == "2"
    explicit_group = Group(apikey="k", explicit_attrs=True)
    assert "x" not in build(device, explicit_group, {"t": "1", "x": "2"})
    relaxed = Device("d", explicit_attrs=False, attributes=device.attributes)
    assert build(relaxed, explicit_group, {"x": "2"})["x"]["value"] == "2"
    strict = Device("d", explicit_attrs=True, attributes=device.attributes)
    entity = build(strict, None, {"t": "1", "x": "2"})
    assert "x" not in entity and entity["temperature"]["value"] == 1


def test_measures_named_id_and_type_become_measure_id_and_measure_type() -> None:
    entity = build(Device("d"), None, {"id": "abc", "type": "probe"})
    assert entity["id"] == "urn:ngsi-ld:Thing:d"
    assert entity["measure_id"]["value"] == "abc"
    assert entity["measure_type"]["value"] == "probe"


def test_a_timeinstant_measure_is_the_time_never_an_attribute() -> None:
    entity = build(Device("d"), None, {"t": "1", "TimeInstant": "2024-05-01T08:00:00+02:00"})
    assert "TimeInstant" not in entity
    assert entity["t"]["observedAt"] == "2024-05-01T06:00:00.000Z"


def test_unit_code_and_metadata_sub_properties_come_from_the_provisioned_attribute() -> None:
    device = Device("d", attributes=(Attribute(
        "temperature", "Number", "t", unit_code="CEL",
        metadata={"unitCode": {"type": "Text", "value": "CEL"},
                  "accuracy": {"type": "Number", "value": 0.5}},
    ),))
    entity = build(device, None, {"t": "21.5"})
    assert entity["temperature"] == {
        "type": "Property", "value": 21.5, "unitCode": "CEL",
        "accuracy": {"type": "Property", "value": 0.5}, "observedAt": RECEIVED,
    }
    assert accepted_by_the_broker(entity)


# -- observedAt --------------------------------------------------------------------------

def test_observed_at_is_the_update_timestamp_in_utc() -> None:
    entity = build(Device("d"), None, {"t": "1"}, "2024-05-01T12:00:00.123+02:00")
    assert entity["t"]["observedAt"] == "2024-05-01T10:00:00.123Z"
    naive = build(Device("d"), None, {"t": "1"}, "2024-05-01T12:00:00")
    assert naive["t"]["observedAt"] == "2024-05-01T12:00:00.000Z"


def test_observed_at_is_the_receive_time_when_the_timestamp_flag_is_on() -> None:
    assert build(Device("d"), None, {"t": "1"})["t"]["observedAt"] == RECEIVED
    assert "observedAt" not in build(Device("d"), None, {"t": "1"}, timestamp=False)["t"]
    off_group = Group(apikey="k", timestamp=False)
    assert "observedAt" not in build(Device("d"), off_group, {"t": "1"})["t"]
    on_group = Group(apikey="k", timestamp=True)
    assert build(Device("d"), on_group, {"t": "1"}, timestamp=False)["t"]["observedAt"]
    assert "observedAt" not in build(Device("d", timestamp=False), on_group, {"t": "1"})["t"]


def test_the_device_timestamp_is_kept_even_when_the_flag_is_off() -> None:
    entity = build(Device("d", timestamp=False), None, {"t": "1"}, "2024-05-01T09:00:00Z")
    assert entity["t"]["observedAt"] == "2024-05-01T09:00:00Z"  # already NGSI-LD: kept


def test_only_measured_attributes_get_observed_at() -> None:
    device = Device("d", static_attributes=(StaticAttribute("floor", "Integer", 3),))
    entity = build(device, None, {"t": "1"})
    assert "observedAt" in entity["t"]
    assert entity["floor"] == {"type": "Property", "value": 3}
    assert "observedAt" not in entity["refDevice"]


def test_a_bad_timestamp_is_a_measure_error() -> None:
    with pytest.raises(MeasureError, match="'tomorrow' is not an ISO 8601"):
        build(Device("d"), None, {"t": "1"}, "tomorrow")
    assert ngsi_ld_datetime("2024-05-01T10:00:00.5Z") == "2024-05-01T10:00:00.5Z"
    assert ngsi_ld_datetime("20240501T120000+0200") == "2024-05-01T10:00:00.000Z"


# -- static attributes and refDevice -----------------------------------------------------

def test_static_attributes_of_group_and_device_the_device_winning() -> None:
    group = Group(apikey="k", static_attributes=(
        StaticAttribute("owner", "Text", "city"), StaticAttribute("floor", "Number", "2"),
    ))
    device = Device("d", static_attributes=(StaticAttribute("floor", "Number", "5"),))
    entity = build(device, group, {})
    assert entity["owner"]["value"] == "city"
    assert entity["floor"]["value"] == 5


def test_a_measured_attribute_wins_over_a_static_one() -> None:
    device = Device("d", static_attributes=(StaticAttribute("status", "Text", "unknown"),))
    assert build(device, None, {"status": "ok"})["status"]["value"] == "ok"
    assert build(device, None, {})["status"]["value"] == "unknown"


def test_static_unit_code_and_metadata() -> None:
    device = Device("d", static_attributes=(StaticAttribute(
        "height", "Number", 12, metadata={"unitCode": {"type": "Text", "value": "MTR"}},
    ),))
    assert build(device, None, {})["height"] == {"type": "Property", "value": 12,
                                                 "unitCode": "MTR"}


def test_ref_device_is_left_to_an_attribute_of_that_name() -> None:
    static = Device("d", static_attributes=(
        StaticAttribute("refDevice", "Relationship", "urn:ngsi-ld:Device:gateway"),
    ))
    assert build(static, None, {})["refDevice"]["object"] == "urn:ngsi-ld:Device:gateway"
    measured = Device("d", attributes=(Attribute("refDevice", "Relationship", "r"),))
    entity = build(measured, None, {"r": "urn:ngsi-ld:Device:other"})
    assert entity["refDevice"]["object"] == "urn:ngsi-ld:Device:other"


def test_each_entity_is_a_fresh_copy() -> None:
    device = Device("d", static_attributes=(StaticAttribute("tags", "Array", ["a"]),))
    first = build(device, None, {})
    first["tags"]["value"].append("changed")
    first["refDevice"]["object"] = "urn:x:y"
    second = build(device, None, {})
    assert second["tags"]["value"] == ["a"]
    assert second["refDevice"]["object"] == "urn:ngsi-ld:Device:d"


def test_a_replaced_device_gets_a_new_mapping() -> None:
    before = Device("d", attributes=(Attribute("temperature", "Number", "t"),))
    after = Device("d", attributes=(Attribute("airTemperature", "Number", "t"),))
    assert mapping_for(before) is mapping_for(before)
    assert "temperature" in build(before, None, {"t": "1"})
    assert "airTemperature" in build(after, None, {"t": "1"})


# -- names -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("bad name", "attribute 'bad name': not a valid NGSI-LD attribute name"),
        ("temp-1", "attribute 'temp-1': not a valid"),
        ("1st", "attribute '1st': not a valid"),
        ("observedAt", "attribute 'observedAt': the name is reserved"),
        ("value", "attribute 'value': the name is reserved"),
    ],
)
def test_a_forbidden_measure_name_is_a_measure_error_naming_it(key: str, says: str) -> None:
    with pytest.raises(MeasureError) as caught:
        build(Device("d"), None, {key: "1"})
    assert says in str(caught.value)


def test_a_forbidden_provisioned_name_is_an_error_when_its_measure_comes() -> None:
    device = Device("d", attributes=(Attribute("unit code", "Text", "u"),))
    assert build(device, None, {"t": "1"})["t"]["value"] == "1"
    with pytest.raises(MeasureError, match="attribute 'unit code'"):
        build(device, None, {"u": "x"})


def test_a_forbidden_static_name_is_an_error() -> None:
    device = Device("d", static_attributes=(StaticAttribute("createdAt", "Text", "x"),))
    with pytest.raises(MeasureError, match="static attribute 'createdAt': the name is reserved"):
        build(device, None, {})


def test_prefixed_names_and_iris_are_valid_names() -> None:
    entity = build(Device("d"), None, {"ex:speed": "1", "https://example.org/speed": "2"})
    assert entity["ex:speed"]["value"] == "1"
    assert entity["https://example.org/speed"]["value"] == "2"


def test_a_bad_entity_type_is_an_error() -> None:
    with pytest.raises(MeasureError, match="entity type 'Weather Station'"):
        build(Device("d", entity_type="Weather Station"), None, {})


def test_location_must_be_a_geometry() -> None:
    with pytest.raises(MeasureError, match="attribute 'location': NGSI-LD makes location"):
        build(Device("d"), None, {"location": "40.4, -3.7"})
    entity = build(Device("d"), None, {"location": {"type": "Point", "coordinates": [1, 2]}})
    assert entity["location"]["type"] == "GeoProperty"


# -- conversions (iotagent-node-lib convertAttrNGSILD) -----------------------------------

JUNE_13 = {"@type": "DateTime", "@value": "2016-06-13T00:35:30.000Z"}


@pytest.mark.parametrize(
    ("attribute_type", "value", "expected"),
    [
        ("Text", "21.5", {"type": "Property", "value": "21.5"}),
        ("Property", {"a": 1}, {"type": "Property", "value": {"a": 1}}),
        ("Number", "21.5", {"type": "Property", "value": 21.5}),
        ("Number", "21", {"type": "Property", "value": 21}),
        ("number", " -3 ", {"type": "Property", "value": -3}),
        ("Number", "1e3", {"type": "Property", "value": 1000.0}),
        ("Number", 7, {"type": "Property", "value": 7}),
        ("Integer", "21.7", {"type": "Property", "value": 21}),
        ("Float", "3", {"type": "Property", "value": 3.0}),
        ("Boolean", "true", {"type": "Property", "value": True}),
        ("Boolean", "FALSE", {"type": "Property", "value": False}),
        ("Boolean", "1", {"type": "Property", "value": True}),
        ("Boolean", 0, {"type": "Property", "value": False}),
        ("DateTime", "2016-06-13T02:35:30+02:00",
         {"type": "Property", "value": JUNE_13}),
        ("DateTime", 1465778130000,
         {"type": "Property", "value": JUNE_13}),
        ("Date", "2016-06-13T23:30:00-02:00",
         {"type": "Property", "value": {"@type": "Date", "@value": "2016-06-14"}}),
        ("Time", "10:15", {"type": "Property", "value": {"@type": "Time", "@value": "10:15:00"}}),
        ("Time", "2016-06-13T10:15:30Z",
         {"type": "Property", "value": {"@type": "Time", "@value": "10:15:30"}}),
        ("geo:point", "40.4168, -3.7038",
         {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-3.7038, 40.4168]}}),
        ("geo:json", '{"type": "Point", "coordinates": [-3.7, 40.4]}',
         {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-3.7, 40.4]}}),
        ("GeoProperty", {"type": "Point", "coordinates": [-3.7, 40.4]},
         {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [-3.7, 40.4]}}),
        ("Point", "23,12.5",
         {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [23, 12.5]}}),
        ("LineString", "23,12.5,22,12.5", {"type": "GeoProperty", "value": {
            "type": "LineString", "coordinates": [[23, 12.5], [22, 12.5]]}}),
        ("geo:polygon", [[0, 0], [1, 0], [1, 1], [0, 0]], {"type": "GeoProperty", "value": {
            "type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}}),
        ("MultiPoint", ["1,2", "3,4"], {"type": "GeoProperty", "value": {
            "type": "MultiPoint", "coordinates": [[1, 2], [3, 4]]}}),
        ("Relationship", "urn:ngsi-ld:Building:1",
         {"type": "Relationship", "object": "urn:ngsi-ld:Building:1"}),
        ("ListRelationship", '["urn:a:1", "urn:a:2"]', {"type": "ListRelationship",
         "objectList": [{"object": "urn:a:1"}, {"object": "urn:a:2"}]}),
        ("LanguageProperty", '{"en": "Main street", "es": "Calle Mayor"}', {
            "type": "LanguageProperty",
            "languageMap": {"en": "Main street", "es": "Calle Mayor"}}),
        ("LanguageProperty", "Calle Mayor",
         {"type": "LanguageProperty", "languageMap": {"@none": "Calle Mayor"}}),
        ("JsonProperty", '{"foo": "bar"}', {"type": "JsonProperty", "json": {"foo": "bar"}}),
        ("ListProperty", "[1, 2]", {"type": "ListProperty", "valueList": [1, 2]}),
        ("VocabularyProperty", "occupied", {"type": "VocabProperty", "vocab": "occupied"}),
        ("StructuredValue", '{"a": 1}', {"type": "Property", "value": {"a": 1}}),
        ("Array", '["x"]', {"type": "Property", "value": ["x"]}),
        ("Quantity", "3",
         {"type": "Property", "value": {"@type": "Quantity", "@value": "3"}}),
    ],
)
def test_values_are_converted_by_their_provisioned_type(
    attribute_type: str, value: Any, expected: Any
) -> None:
    assert one(attribute_type, value) == expected


@pytest.mark.parametrize(
    ("attribute_type", "value"),
    [("Number", "abc"), ("Number", "0x10"), ("Number", True), ("Number", "NaN"),
     ("Integer", ""), ("Float", [1]), ("Boolean", "maybe"), ("Boolean", 2),
     ("DateTime", "yesterday"), ("Date", "soon"), ("Time", "noonish"), ("None", "x"),
     ("Text", None), ("Number", None)],
)
def test_unreadable_values_and_nulls_are_left_out(attribute_type: str, value: Any) -> None:
    assert one(attribute_type, value) is None


@pytest.mark.parametrize(
    ("attribute_type", "value", "says"),
    [
        ("geo:point", "north", "'north' is not a list of coordinates"),
        ("geo:point", "1, 2, 3", "a Point has two coordinates"),
        ("geo:point", "95, 10", "latitude 95 is out of range"),
        ("Point", "200, 10", "longitude 200 is out of range"),
        ("Polygon", "0,0,1,0,1,1,0,1", "a linear ring must be closed"),
        ("LineString", "1,2", "a LineString needs at least 2 positions"),
        ("MultiPoint", "1,2,3", "an odd number of coordinates (3) for a MultiPoint"),
        ("geo:json", '{"type": "Circle"}', "not a GeoJSON geometry"),
        ("Relationship", "building 1", "a Relationship needs a URI"),
        ("ListRelationship", "[1]", "a ListRelationship needs an array of URIs"),
        ("LanguageProperty", '{"english!": "x"}', "'english!' is not a language tag"),
        ("ListProperty", "1", "a ListProperty needs an array"),
        ("VocabularyProperty", "", "a VocabProperty needs a term"),
    ],
)
def test_values_that_cannot_take_their_shape_are_measure_errors(
    attribute_type: str, value: Any, says: str
) -> None:
    with pytest.raises(MeasureError) as caught:
        one(attribute_type, value)
    assert "attribute 'x'" in str(caught.value) and says in str(caught.value)


def test_convert_value_is_the_conversion_alone() -> None:
    assert convert_value("5", "Integer", "n") == {"type": "Property", "value": 5}
    assert convert_value(None, "Integer", "n") is None


# -- whatever build_entity returns, the broker accepts -----------------------------------

TYPES = ["Text", "Number", "Integer", "Float", "Boolean", "DateTime", "Date", "Time",
         "geo:point", "geo:json", "Point", "LineString", "Polygon", "Relationship",
         "ListRelationship", "LanguageProperty", "JsonProperty", "ListProperty",
         "VocabularyProperty", "StructuredValue", "None", "Quantity"]
ul_values = st.text(st.characters(blacklist_characters="|#", blacklist_categories=("Cs",)),
                    min_size=1, max_size=12) | st.sampled_from(
    ["21.5", "-3", "true", "0", "40.4, -3.7", "23,12.5,22,12.5", "urn:ngsi-ld:X:1",
     "2024-05-01T10:00:00Z", "10:15", '{"en": "x"}', '["urn:a:1"]', "[1, 2]",
     '{"type": "Point", "coordinates": [1, 2]}', "0,0,1,0,1,1,0,0"])


@settings(max_examples=300, deadline=None)
@given(
    provisioned=st.lists(st.tuples(st.sampled_from(["t", "h", "s", "g", "location"]),
                                   st.sampled_from(TYPES)), max_size=5),
    values=st.dictionaries(st.sampled_from(["t", "h", "s", "g", "location", "other", "x y"]),
                           ul_values, max_size=5),
    stamp=st.none() | st.sampled_from(["2024-05-01T12:00:00+02:00", "bad"]),
)
def test_every_built_entity_is_one_the_broker_accepts(
    provisioned: list[tuple[str, str]], values: dict[str, str], stamp: str | None
) -> None:
    device = Device("dev-1", attributes=tuple(
        Attribute(f"{key}Attr" if key != "location" else key, kind, key)
        for key, kind in provisioned
    ))
    try:
        entity = build(device, None, values, stamp)
    except MeasureError:
        return
    try:
        expand_entity(entity, CORE_TERMS, now=RECEIVED)
    except BadRequestData as exc:  # pragma: no cover - the failure message is the point
        pytest.fail(f"the broker refused {entity}: {exc}")
