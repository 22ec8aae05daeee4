"""Clause 6.5.3.4: PATCH /entities/{entityId} (Merge Entity, behaviour in 5.6.17)."""

from __future__ import annotations

from conformance_tests.client import MERGE_PATCH, Client, assert_problem, entity_path
from conformance_tests.samples import INVALID_GEOMETRIES, vehicle


def test_merge_entity_updates_adds_and_keeps_attributes(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    patch = {
        "brandName": {"type": "Property", "value": "Seat"},
        "colour": {"type": "Property", "value": "red"},
    }
    r = client.patch(entity_path(entity["id"]), json=patch)
    assert r.status == 204, r
    got = client.entity(entity["id"])
    assert got == {**entity, **patch}


def test_merge_entity_keeps_sub_attributes_not_in_the_patch(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.patch(entity_path(entity["id"]), json={"speed": {"type": "Property", "value": 90}})
    assert r.status == 204, r
    assert client.entity(entity["id"])["speed"] == {
        "type": "Property", "value": 90, "unitCode": "KMH"
    }


def test_merge_entity_with_ngsi_ld_null_value_deletes_the_attribute(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.patch(
        entity_path(entity["id"]), json={"speed": {"type": "Property", "value": "urn:ngsi-ld:null"}}
    )
    assert r.status == 204, r
    got = client.entity(entity["id"])
    assert "speed" not in got
    assert got["brandName"] == entity["brandName"]


def test_merge_entity_with_bare_ngsi_ld_null_deletes_the_attribute(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.patch(entity_path(entity["id"]), json={"brandName": "urn:ngsi-ld:null"})
    assert r.status == 204, r
    assert "brandName" not in client.entity(entity["id"])


def test_merge_entity_with_ngsi_ld_null_object_deletes_the_relationship(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.patch(
        entity_path(entity["id"]),
        json={"isParked": {"type": "Relationship", "object": "urn:ngsi-ld:null"}},
    )
    assert r.status == 204, r
    assert "isParked" not in client.entity(entity["id"])


def test_merge_entity_with_ngsi_ld_null_sub_attribute_deletes_only_it(client: Client) -> None:
    entity = vehicle(
        speed={
            "type": "Property",
            "value": 80,
            "accuracy": {"type": "Property", "value": 0.9},
        }
    )
    client.create(entity)
    r = client.patch(
        entity_path(entity["id"]),
        json={"speed": {"type": "Property", "value": 81, "accuracy": "urn:ngsi-ld:null"}},
    )
    assert r.status == 204, r
    assert client.entity(entity["id"])["speed"] == {"type": "Property", "value": 81}


def test_merge_entity_accepts_merge_patch_json(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.patch(
        entity_path(entity["id"]),
        json={"brandName": {"type": "Property", "value": "Seat"}},
        content_type=MERGE_PATCH,
    )
    assert r.status == 204, r
    assert client.entity(entity["id"])["brandName"]["value"] == "Seat"


def test_merge_entity_accepts_concise_fragment(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.patch(entity_path(entity["id"]), json={"brandName": "Seat", "colour": "red"})
    assert r.status == 204, r
    got = client.entity(entity["id"])
    assert got["brandName"] == {"type": "Property", "value": "Seat"}
    assert got["colour"] == {"type": "Property", "value": "red"}


def test_merge_unknown_entity_is_404(client: Client) -> None:
    entity = vehicle()
    r = client.patch(entity_path(entity["id"]), json={"colour": {"type": "Property", "value": 1}})
    assert_problem(r, 404, "ResourceNotFound")
    assert not client.exists(entity["id"])


def test_merge_with_one_invalid_attribute_is_400_and_changes_nothing(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    before = client.entity(entity["id"], params={"options": "sysAttrs"})
    patch = {
        "brandName": {"type": "Property", "value": "Seat"},
        "location": {"type": "GeoProperty", "value": INVALID_GEOMETRIES["polygon_ring_not_closed"]},
    }
    r = client.patch(entity_path(entity["id"]), json=patch)
    assert_problem(r, 400, "BadRequestData")
    assert client.entity(entity["id"], params={"options": "sysAttrs"}) == before


def test_merge_with_malformed_json_is_400_invalid_request(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.patch(entity_path(entity["id"]), body=b"{not json", content_type="application/json")
    assert_problem(r, 400, "InvalidRequest")
    assert client.entity(entity["id"]) == entity
