"""Clause 6.7: /entities/{entityId}/attrs/{attrId} — PATCH (Partial Attribute Update, 6.7.3.1 /
5.6.4), DELETE (6.7.3.2 / 5.6.5, with datasetId and deleteAll), PUT (Replace Attribute, 6.7.3.3 /
5.6.19); and GET of one attribute (a v1.9 addition this broker offers)."""

from __future__ import annotations

from typing import Any

import pytest

from conformance_tests.client import JSON, Client, assert_problem, attrs_path, canonical, new_id
from conformance_tests.samples import ATTRIBUTES, INVALID_GEOMETRIES, vehicle

GPS = "urn:ngsi-ld:Dataset:gps"
RADAR = "urn:ngsi-ld:Dataset:radar"


def _snapshot(client: Client, entity_id: str) -> dict[str, Any]:
    return client.entity(entity_id, params={"options": "sysAttrs"})


def _multi_speed_vehicle() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    instances = [
        {"type": "Property", "value": 80},
        {"type": "Property", "value": 81, "datasetId": GPS},
        {"type": "Property", "value": 82, "datasetId": RADAR},
    ]
    return vehicle(speed=instances), instances


# -- GET ---------------------------------------------------------------------------------------


def test_retrieve_attribute_gives_its_normalized_form(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.get(attrs_path(entity["id"], "speed"), accept=JSON)
    assert r.status == 200, r
    assert r.json() == entity["speed"]


def test_retrieve_unknown_attribute_is_404(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.get(attrs_path(entity["id"], "colour"), accept=JSON)
    assert_problem(r, 404, "ResourceNotFound")


def test_retrieve_attribute_of_unknown_entity_is_404(client: Client) -> None:
    r = client.get(attrs_path(new_id(), "speed"), accept=JSON)
    assert_problem(r, 404, "ResourceNotFound")


# -- PATCH: partial update ---------------------------------------------------------------------


def test_partial_update_changes_the_value_and_keeps_other_members(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.patch(attrs_path(entity["id"], "speed"), json={"type": "Property", "value": 100})
    assert r.status == 204, r
    assert client.entity(entity["id"])["speed"] == {
        "type": "Property", "value": 100, "unitCode": "KMH"
    }


def test_partial_update_with_value_only_fragment(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.patch(attrs_path(entity["id"], "speed"), json={"value": 55})
    assert r.status == 204, r
    assert client.entity(entity["id"])["speed"] == {
        "type": "Property", "value": 55, "unitCode": "KMH"
    }


def test_partial_update_adds_a_sub_property(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.patch(
        attrs_path(entity["id"], "speed"),
        json={"value": 81, "accuracy": {"type": "Property", "value": 0.5}},
    )
    assert r.status == 204, r
    assert client.entity(entity["id"])["speed"] == {
        "type": "Property",
        "value": 81,
        "unitCode": "KMH",
        "accuracy": {"type": "Property", "value": 0.5},
    }


def test_partial_update_of_one_dataset_id_instance(client: Client) -> None:
    entity, instances = _multi_speed_vehicle()
    client.create(entity)
    r = client.patch(attrs_path(entity["id"], "speed"), json={"value": 90, "datasetId": GPS})
    assert r.status == 204, r
    expected = [instances[0], {**instances[1], "value": 90}, instances[2]]
    assert canonical(client.entity(entity["id"])["speed"]) == canonical(expected)


def test_partial_update_of_unknown_attribute_is_404_and_adds_nothing(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.patch(attrs_path(entity["id"], "colour"), json={"type": "Property", "value": "red"})
    assert_problem(r, 404, "ResourceNotFound")
    assert "colour" not in client.entity(entity["id"])


def test_partial_update_of_unknown_dataset_id_is_404(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.patch(attrs_path(entity["id"], "speed"), json={"value": 1, "datasetId": GPS})
    assert_problem(r, 404, "ResourceNotFound")
    assert client.entity(entity["id"])["speed"] == entity["speed"]


def test_partial_update_of_unknown_entity_is_404(client: Client) -> None:
    r = client.patch(attrs_path(new_id(), "speed"), json={"value": 1})
    assert_problem(r, 404, "ResourceNotFound")


def test_partial_update_with_null_value_is_400_and_changes_nothing(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    before = _snapshot(client, entity["id"])
    r = client.patch(attrs_path(entity["id"], "speed"), json={"type": "Property", "value": None})
    assert_problem(r, 400, ("BadRequestData", "InvalidRequest"))
    assert _snapshot(client, entity["id"]) == before


def test_partial_update_with_invalid_geometry_is_400_and_changes_nothing(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    before = _snapshot(client, entity["id"])
    r = client.patch(
        attrs_path(entity["id"], "location"),
        json={"type": "GeoProperty", "value": INVALID_GEOMETRIES["linestring_with_one_position"]},
    )
    assert_problem(r, 400, "BadRequestData")
    assert _snapshot(client, entity["id"]) == before


def test_partial_update_with_malformed_json_is_400_invalid_request(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.patch(attrs_path(entity["id"], "speed"), body=b'{"value": 1', content_type=JSON)
    assert_problem(r, 400, "InvalidRequest")
    assert client.entity(entity["id"]) == entity


# -- PUT: replace ------------------------------------------------------------------------------


def test_replace_attribute_replaces_every_member(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    new = {"type": "Property", "value": 5, "observedAt": "2024-01-01T00:00:00.000Z"}
    r = client.put(attrs_path(entity["id"], "speed"), json=new)
    assert r.status == 204, r
    got = client.entity(entity["id"])
    assert got["speed"] == new
    assert {k: v for k, v in got.items() if k != "speed"} == {
        k: v for k, v in entity.items() if k != "speed"
    }


def test_replace_attribute_can_change_its_kind(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    rel = {"type": "Relationship", "object": "urn:ngsi-ld:Person:Alice"}
    r = client.put(attrs_path(entity["id"], "brandName"), json=rel)
    assert r.status == 204, r
    assert client.entity(entity["id"])["brandName"] == rel


def test_replace_unknown_attribute_is_404(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.put(attrs_path(entity["id"], "colour"), json={"type": "Property", "value": "red"})
    assert_problem(r, 404, "ResourceNotFound")
    assert "colour" not in client.entity(entity["id"])


def test_replace_attribute_with_invalid_body_is_400_and_changes_nothing(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    before = _snapshot(client, entity["id"])
    r = client.put(attrs_path(entity["id"], "speed"), json={"type": "Property"})
    assert_problem(r, 400, "BadRequestData")
    assert _snapshot(client, entity["id"]) == before


# -- DELETE ------------------------------------------------------------------------------------


def test_delete_attribute_answers_204_and_removes_it(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.delete(attrs_path(entity["id"], "speed"))
    assert r.status == 204, r
    got = client.entity(entity["id"])
    assert got == {k: v for k, v in entity.items() if k != "speed"}


def test_delete_unknown_attribute_is_404(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    assert_problem(client.delete(attrs_path(entity["id"], "colour")), 404, "ResourceNotFound")
    assert client.entity(entity["id"]) == entity


def test_delete_attribute_of_unknown_entity_is_404(client: Client) -> None:
    assert_problem(client.delete(attrs_path(new_id(), "speed")), 404, "ResourceNotFound")


def test_delete_attribute_with_dataset_id_removes_only_that_instance(client: Client) -> None:
    entity, instances = _multi_speed_vehicle()
    client.create(entity)
    r = client.delete(attrs_path(entity["id"], "speed"), params={"datasetId": GPS})
    assert r.status == 204, r
    got = client.entity(entity["id"])
    assert canonical(got["speed"]) == canonical([instances[0], instances[2]])


def test_delete_attribute_without_dataset_id_removes_only_the_default_instance(
    client: Client,
) -> None:
    entity, instances = _multi_speed_vehicle()
    client.create(entity)
    r = client.delete(attrs_path(entity["id"], "speed"))
    assert r.status == 204, r
    got = client.entity(entity["id"])
    assert canonical(got["speed"]) == canonical(instances[1:])


def test_delete_attribute_with_delete_all_removes_every_instance(client: Client) -> None:
    entity, _ = _multi_speed_vehicle()
    client.create(entity)
    r = client.delete(attrs_path(entity["id"], "speed"), params={"deleteAll": "true"})
    assert r.status == 204, r
    assert "speed" not in client.entity(entity["id"])


def test_delete_attribute_with_unknown_dataset_id_is_404(client: Client) -> None:
    entity, instances = _multi_speed_vehicle()
    client.create(entity)
    r = client.delete(
        attrs_path(entity["id"], "speed"), params={"datasetId": "urn:ngsi-ld:Dataset:none"}
    )
    assert_problem(r, 404, "ResourceNotFound")
    assert canonical(client.entity(entity["id"])["speed"]) == canonical(instances)


@pytest.mark.parametrize("kind", list(ATTRIBUTES), ids=list(ATTRIBUTES))
def test_replace_attribute_with_every_kind_is_given_back_unchanged(
    client: Client, kind: str
) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.put(attrs_path(entity["id"], "brandName"), json=ATTRIBUTES[kind])
    assert r.status == 204, r
    assert client.entity(entity["id"])["brandName"] == ATTRIBUTES[kind]
