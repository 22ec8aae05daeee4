"""Clause 4.5 representations of one entity: normalized, concise (4.5.2.3/4.5.3.3), simplified
a.k.a. keyValues (4.5.4), and GeoJSON (4.5.16, with geometryProperty); with sysAttrs and lang."""

from __future__ import annotations

from typing import Any

import pytest

from conformance_tests.client import GEOJSON, Client, new_id
from conformance_tests.samples import (
    GEOMETRIES,
    POINT,
    expected_concise,
    expected_key_values,
    full_vehicle,
    object_list,
    unwrap,
    vehicle,
)


@pytest.fixture
def full(client: Client) -> dict[str, Any]:
    entity = full_vehicle()
    client.create(entity)
    return entity


def test_normalized_gives_every_attribute_kind_back_unchanged(
    client: Client, full: dict[str, Any]
) -> None:
    assert client.entity(full["id"]) == full


def test_concise_drops_types_and_collapses_bare_values(
    client: Client, full: dict[str, Any]
) -> None:
    got = client.entity(full["id"], params={"options": "concise"})
    exact = expected_concise(full)
    assert {k: got.get(k) for k in exact} == exact
    assert unwrap(got["category"], "vocab") == "non-commercial"
    assert got["config"] == {"json": full["config"]["json"]}
    assert unwrap(got["tyreTreadDepths"], "valueList") == [300, 300, 120, 6]
    assert object_list(got["route"]) == ["urn:ngsi-ld:City:Antwerp", "urn:ngsi-ld:City:Rotterdam"]
    assert set(got) == set(full)


def test_concise_output_posted_back_gives_the_same_normalized_entity(
    client: Client, full: dict[str, Any]
) -> None:
    concise = client.entity(full["id"], params={"options": "concise"})
    copy_id = new_id()
    client.create({**concise, "id": copy_id})
    assert client.entity(copy_id) == {**full, "id": copy_id}


def test_key_values_gives_the_values_only(client: Client, full: dict[str, Any]) -> None:
    got = client.entity(full["id"], params={"options": "keyValues"})
    exact = expected_key_values(full)
    assert {k: got.get(k) for k in exact} == exact
    assert unwrap(got["street"], "languageMap") == {"fr": "Grand Place", "nl": "Grote Markt"}
    assert unwrap(got["category"], "vocab") == "non-commercial"
    assert unwrap(got["config"], "json") == full["config"]["json"]
    assert unwrap(got["tyreTreadDepths"], "valueList") == [300, 300, 120, 6]
    assert object_list(got["route"]) == ["urn:ngsi-ld:City:Antwerp", "urn:ngsi-ld:City:Rotterdam"]
    assert set(got) == set(full)


def test_key_values_drops_sub_attributes(client: Client, full: dict[str, Any]) -> None:
    got = client.entity(full["id"], params={"options": "keyValues"})
    assert got["speed"] == 80.5
    assert "accuracy" not in got and "providedBy" not in got


def test_concise_with_sys_attrs_keeps_timestamps_on_attributes(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    got = client.entity(entity["id"], params={"options": "concise,sysAttrs"})
    assert "createdAt" in got and "modifiedAt" in got
    assert got["brandName"]["value"] == "Mercedes"
    assert "createdAt" in got["brandName"]
    assert got["isParked"]["object"] == "urn:ngsi-ld:OffStreetParking:Downtown1"
    assert "modifiedAt" in got["isParked"]


def test_concise_of_multi_instance_attribute_keeps_dataset_ids(client: Client) -> None:
    entity = vehicle(
        speed=[
            {"type": "Property", "value": 80},
            {"type": "Property", "value": 81, "datasetId": "urn:ngsi-ld:Dataset:gps"},
        ]
    )
    client.create(entity)
    got = client.entity(entity["id"], params={"options": "concise"})
    speeds = got["speed"]
    assert isinstance(speeds, list) and len(speeds) == 2
    by_dataset = {
        (s.get("datasetId") if isinstance(s, dict) else None): (
            s["value"] if isinstance(s, dict) else s
        )
        for s in speeds
    }
    assert by_dataset == {None: 80, "urn:ngsi-ld:Dataset:gps": 81}


def test_concise_with_lang_gives_the_string_in_that_language(
    client: Client, full: dict[str, Any]
) -> None:
    got = client.entity(full["id"], params={"options": "concise", "lang": "fr"})
    assert unwrap(got["street"], "value") in ("Grand Place", {"value": "Grand Place", "lang": "fr"})


def test_lang_with_unknown_language_still_gives_a_value(
    client: Client, full: dict[str, Any]
) -> None:
    got = client.entity(full["id"], params={"lang": "de"})
    assert got["street"]["type"] == "Property"
    assert got["street"]["value"] in ("Grand Place", "Grote Markt")


# -- GeoJSON -----------------------------------------------------------------------------------


def test_geojson_feature_uses_location_by_default(client: Client, full: dict[str, Any]) -> None:
    r = client.retrieve(full["id"], accept=GEOJSON)
    assert r.status == 200, r
    feature = r.json()
    assert feature["type"] == "Feature"
    assert feature["id"] == full["id"]
    assert feature["geometry"] == POINT
    props = feature["properties"]
    assert props["type"] == "Vehicle"
    for name in ("brandName", "speed", "isParked", "location", "street"):
        assert props[name] == full[name], name


def test_geojson_geometry_property_chooses_the_geometry(client: Client) -> None:
    area = GEOMETRIES["Polygon"]
    entity = vehicle(observationSpace={"type": "GeoProperty", "value": area})
    client.create(entity)
    params = {"geometryProperty": "observationSpace"}
    r = client.retrieve(entity["id"], accept=GEOJSON, params=params)
    assert r.status == 200, r
    feature = r.json()
    assert feature["geometry"] == area
    assert feature["properties"]["location"] == entity["location"]


def test_geojson_geometry_is_null_without_that_geo_property(client: Client) -> None:
    entity = {"id": new_id(), "type": "Vehicle", "speed": {"type": "Property", "value": 1}}
    client.create(entity)
    r = client.retrieve(entity["id"], accept=GEOJSON)
    assert r.status == 200, r
    feature = r.json()
    assert feature["type"] == "Feature"
    assert feature["geometry"] is None
    assert feature["properties"]["speed"] == entity["speed"]


def test_geojson_with_key_values_simplifies_properties(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.retrieve(entity["id"], accept=GEOJSON, params={"options": "keyValues"})
    assert r.status == 200, r
    feature = r.json()
    assert feature["geometry"] == POINT
    assert feature["properties"]["speed"] == 80
    assert feature["properties"]["brandName"] == "Mercedes"
    assert feature["properties"]["location"] == POINT


def test_format_geojson_parameter_equals_accept_geo_json(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    by_accept = client.retrieve(entity["id"], accept=GEOJSON).json()
    by_format = client.retrieve(entity["id"], params={"format": "geojson"}).json()
    drop = ("@context",)
    assert {k: v for k, v in by_accept.items() if k not in drop} == {
        k: v for k, v in by_format.items() if k not in drop
    }


def test_format_key_values_parameter_equals_options_key_values(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    assert client.entity(entity["id"], params={"format": "keyValues"}) == client.entity(
        entity["id"], params={"options": "keyValues"}
    )

