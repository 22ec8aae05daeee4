"""Clause 6.16.3.1 / 5.6.9 Batch Entity Update: POST /entityOperations/update.

Each existing entity gets the element's attributes as Append Entity Attributes (5.6.3)
does; options=noOverwrite keeps the attributes that exist. 204 when every entity was
updated; 207 when any does not exist or is invalid, with nothing written for those.
"""

from __future__ import annotations

from conformance_tests.client import API, ERRORS, Client, assert_problem, new_id
from conformance_tests.samples import vehicle

UPDATE = f"{API}/entityOperations/update"


def _speed(value: int) -> dict[str, object]:
    return {"type": "Property", "value": value}


def test_batch_update_of_existing_entities_is_204(client: Client) -> None:
    a, b = vehicle(), vehicle()
    client.create(a)
    client.create(b)
    r = client.post(
        UPDATE, json=[{"id": a["id"], "speed": _speed(1)}, {"id": b["id"], "speed": _speed(2)}]
    )
    assert r.status == 204, r
    assert client.entity(a["id"]) == dict(a, speed=_speed(1))
    assert client.entity(b["id"])["speed"] == _speed(2)


def test_batch_update_adds_new_attributes(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    colour = {"type": "Property", "value": "red"}
    r = client.post(UPDATE, json=[{"id": entity["id"], "type": "Vehicle", "colour": colour}])
    assert r.status == 204, r
    assert client.entity(entity["id"])["colour"] == colour


def test_batch_update_no_overwrite_keeps_existing_attributes(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    colour = {"type": "Property", "value": "red"}
    r = client.post(
        UPDATE,
        json=[{"id": entity["id"], "speed": _speed(1), "colour": colour}],
        params={"options": "noOverwrite"},
    )
    assert r.status == 204, r
    got = client.entity(entity["id"])
    assert got["speed"] == entity["speed"] and got["colour"] == colour


def test_batch_update_of_a_missing_entity_is_207_resource_not_found_for_it(
    client: Client,
) -> None:
    entity = vehicle()
    client.create(entity)
    missing = new_id()
    r = client.post(
        UPDATE,
        json=[{"id": missing, "speed": _speed(1)}, {"id": entity["id"], "speed": _speed(2)}],
    )
    assert r.status == 207, r
    body = r.json()
    assert body["success"] == [entity["id"]]
    [error] = body["errors"]
    assert error["entityId"] == missing
    assert error["error"]["type"] == ERRORS + "ResourceNotFound"
    assert not client.exists(missing)


def test_batch_update_element_without_id_fails_alone(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.post(UPDATE, json=[{"speed": _speed(1)}, {"id": entity["id"], "speed": _speed(2)}])
    assert r.status == 207, r
    assert r.json()["success"] == [entity["id"]]


def test_batch_update_with_an_invalid_attribute_writes_nothing_of_that_entity(
    client: Client,
) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.post(
        UPDATE,
        json=[{"id": entity["id"], "speed": _speed(1), "brandName": {"type": "Property"}}],
    )
    assert r.status == 207, r
    assert r.json()["errors"][0]["error"]["type"] == ERRORS + "BadRequestData"
    assert client.entity(entity["id"]) == entity


def test_batch_update_in_a_tenant_that_does_not_exist_is_404(client: Client) -> None:
    other = client.with_tenant(f"none{new_id()[-12:]}")
    r = other.post(UPDATE, json=[{"id": new_id(), "speed": _speed(1)}])
    assert_problem(r, 404, "NonexistentTenant")
