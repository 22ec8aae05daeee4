"""Clause 6.5.3.3: PUT /entities/{entityId} (Replace Entity, behaviour in 5.6.18)."""

from __future__ import annotations

from conformance_tests.client import JSON, Client, assert_problem, entity_path, new_id
from conformance_tests.samples import vehicle


def test_replace_entity_answers_204_and_replaces_every_attribute(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    replacement = {
        "id": entity["id"],
        "type": "Vehicle",
        "colour": {"type": "Property", "value": "red"},
    }
    r = client.put(entity_path(entity["id"]), json=replacement)
    assert r.status == 204, r
    assert client.entity(entity["id"]) == replacement


def test_replace_entity_without_id_and_type_in_body_keeps_them(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.put(
        entity_path(entity["id"]),
        json={"type": "Vehicle", "colour": {"type": "Property", "value": "blue"}},
    )
    assert r.status == 204, r
    got = client.entity(entity["id"])
    assert got == {
        "id": entity["id"], "type": "Vehicle", "colour": {"type": "Property", "value": "blue"}
    }


def test_replace_entity_keeps_its_creation_time(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    created = client.entity(entity["id"], params={"options": "sysAttrs"})["createdAt"]
    r = client.put(entity_path(entity["id"]), json=vehicle(entity["id"]))
    assert r.status == 204, r
    assert client.entity(entity["id"], params={"options": "sysAttrs"})["createdAt"] == created


def test_replace_unknown_entity_is_404_and_creates_nothing(client: Client) -> None:
    entity = vehicle()
    r = client.put(entity_path(entity["id"]), json=entity)
    assert_problem(r, 404, "ResourceNotFound")
    assert not client.exists(entity["id"])


def test_replace_entity_with_other_id_in_body_is_400_and_changes_nothing(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    before = client.entity(entity["id"], params={"options": "sysAttrs"})
    r = client.put(entity_path(entity["id"]), json=vehicle(new_id()))
    assert_problem(r, 400, "BadRequestData")
    assert client.entity(entity["id"], params={"options": "sysAttrs"}) == before


def test_replace_entity_with_invalid_attribute_is_400_and_changes_nothing(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    before = client.entity(entity["id"], params={"options": "sysAttrs"})
    bad = vehicle(entity["id"], speed={"type": "Property", "value": None})
    r = client.put(entity_path(entity["id"]), json=bad)
    assert_problem(r, 400, "BadRequestData")
    assert client.entity(entity["id"], params={"options": "sysAttrs"}) == before


def test_replace_entity_with_malformed_json_is_400_invalid_request(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.put(entity_path(entity["id"]), body=b'{"type": "Vehicle",', content_type=JSON)
    assert_problem(r, 400, "InvalidRequest")
    assert client.entity(entity["id"]) == entity
