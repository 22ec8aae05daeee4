"""Clause 4.5 (NGSI-LD data representation): every attribute kind, sub-attributes, observedAt,
unitCode and multi-attribute datasetId instances are stored and given back as written."""

from __future__ import annotations

from typing import Any

import pytest

from conformance_tests.client import Client, canonical, new_id
from conformance_tests.samples import ATTRIBUTES, GEOMETRIES


def _round_trip(client: Client, attrs: dict[str, Any]) -> dict[str, Any]:
    entity = {"id": new_id("Thing"), "type": "Thing", **attrs}
    client.create(entity)
    got = client.entity(entity["id"])
    return got


@pytest.mark.parametrize("kind", list(ATTRIBUTES), ids=list(ATTRIBUTES))
def test_attribute_kind_is_given_back_unchanged(client: Client, kind: str) -> None:
    got = _round_trip(client, {"attr": ATTRIBUTES[kind]})
    assert got["attr"] == ATTRIBUTES[kind]


def test_geo_property_not_named_location_is_given_back_unchanged(client: Client) -> None:
    area = {"type": "GeoProperty", "value": GEOMETRIES["Polygon"]}
    got = _round_trip(client, {"observationSpace": area})
    assert got["observationSpace"] == area


def test_sub_properties_and_sub_relationships_are_given_back(client: Client) -> None:
    attr = {
        "type": "Property",
        "value": 22,
        "unitCode": "CEL",
        "observedAt": "2024-05-01T10:00:00.000Z",
        "accuracy": {"type": "Property", "value": 0.5, "unitCode": "CEL"},
        "measuredBy": {"type": "Relationship", "object": "urn:ngsi-ld:Sensor:S1"},
        "sensorLocation": {"type": "GeoProperty", "value": GEOMETRIES["Point"]},
    }
    got = _round_trip(client, {"temperature": attr})
    assert got["temperature"] == attr


def test_sub_property_of_a_relationship_is_given_back(client: Client) -> None:
    attr = {
        "type": "Relationship",
        "object": "urn:ngsi-ld:OffStreetParking:Downtown1",
        "observedAt": "2024-05-01T10:00:00.000Z",
        "providedBy": {"type": "Relationship", "object": "urn:ngsi-ld:Person:Bob"},
        "confidence": {"type": "Property", "value": 0.8},
    }
    got = _round_trip(client, {"isParked": attr})
    assert got["isParked"] == attr


def test_nested_sub_sub_property_is_given_back(client: Client) -> None:
    attr = {
        "type": "Property",
        "value": 1,
        "level1": {"type": "Property", "value": 2, "level2": {"type": "Property", "value": 3}},
    }
    assert _round_trip(client, {"deep": attr})["deep"] == attr


def test_multi_attribute_instances_with_dataset_ids_are_given_back(client: Client) -> None:
    instances = [
        {"type": "Property", "value": 20},
        {"type": "Property", "value": 21, "datasetId": "urn:ngsi-ld:Dataset:a"},
        {"type": "Property", "value": 22, "datasetId": "urn:ngsi-ld:Dataset:b", "unitCode": "CEL"},
    ]
    got = _round_trip(client, {"temperature": instances})
    assert isinstance(got["temperature"], list)
    assert canonical(got["temperature"]) == canonical(instances)


def test_single_instance_with_dataset_id_is_kept(client: Client) -> None:
    attr = {"type": "Property", "value": 20, "datasetId": "urn:ngsi-ld:Dataset:a"}
    got = _round_trip(client, {"temperature": attr})
    assert canonical(got["temperature"]) in (attr, [attr])


def test_multi_typed_entity_keeps_every_type(client: Client) -> None:
    entity = {"id": new_id("Thing"), "type": ["Thing", "Device", "Asset"]}
    client.create(entity)
    got = client.entity(entity["id"])
    assert sorted(got["type"]) == ["Asset", "Device", "Thing"]


def test_many_attributes_on_one_entity_are_all_kept(client: Client) -> None:
    attrs = {f"a{i}": {"type": "Property", "value": i} for i in range(200)}
    got = _round_trip(client, attrs)
    assert {k: v for k, v in got.items() if k not in ("id", "type")} == attrs
