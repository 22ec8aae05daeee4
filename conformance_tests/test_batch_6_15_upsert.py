"""Clause 6.15.3.1 / 5.6.8 Batch Entity Upsert: POST /entityOperations/upsert.

Absent entities are created; existing ones are replaced (options=replace, the default) or
get the element's attributes, the others kept (options=update). 201 with the ids of the
created entities when any was created, 204 when all existed, 207 when any failed. Several
elements with one id are applied in request order (FIWARE IoT Agents send that).
"""

from __future__ import annotations

from conformance_tests.client import API, ERRORS, Client, assert_problem, new_id
from conformance_tests.samples import vehicle

UPSERT = f"{API}/entityOperations/upsert"


def _speed(value: int) -> dict[str, object]:
    return {"type": "Property", "value": value}


def test_batch_upsert_of_new_entities_is_201_with_their_ids(client: Client) -> None:
    entities = [vehicle(), vehicle()]
    r = client.post(UPSERT, json=entities)
    assert r.status == 201, r
    assert r.json() == [e["id"] for e in entities]


def test_batch_upsert_of_existing_entities_only_is_204(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.post(UPSERT, json=[dict(entity, speed=_speed(5))])
    assert r.status == 204, r
    assert client.entity(entity["id"])["speed"] == _speed(5)


def test_batch_upsert_of_new_and_existing_is_201_with_only_the_created_ids(
    client: Client,
) -> None:
    old, new = vehicle(), vehicle()
    client.create(old)
    r = client.post(UPSERT, json=[old, new])
    assert r.status == 201, r
    assert r.json() == [new["id"]]


def test_batch_upsert_replace_drops_the_attributes_the_element_does_not_carry(
    client: Client,
) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.post(
        UPSERT,
        json=[{"id": entity["id"], "type": "Vehicle", "speed": _speed(1)}],
        params={"options": "replace"},
    )
    assert r.status == 204, r
    assert set(client.entity(entity["id"])) == {"id", "type", "speed"}


def test_batch_upsert_without_options_replaces(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.post(UPSERT, json=[{"id": entity["id"], "type": "Vehicle", "speed": _speed(1)}])
    assert r.status == 204, r
    assert "brandName" not in client.entity(entity["id"])


def test_batch_upsert_update_keeps_the_attributes_the_element_does_not_carry(
    client: Client,
) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.post(
        UPSERT,
        json=[{"id": entity["id"], "type": "Vehicle", "speed": _speed(1)}],
        params={"options": "update"},
    )
    assert r.status == 204, r
    assert client.entity(entity["id"]) == dict(entity, speed=_speed(1))


def test_batch_upsert_after_a_trailing_slash_with_options_update(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.post(
        UPSERT + "/",
        json=[{"id": entity["id"], "type": "Vehicle", "speed": _speed(2)}],
        params={"options": "update"},
    )
    assert r.status == 204, r
    assert client.entity(entity["id"]) == dict(entity, speed=_speed(2))


def test_batch_upsert_applies_elements_with_one_id_in_order(client: Client) -> None:
    entity_id = new_id()
    r = client.post(
        UPSERT,
        json=[
            {"id": entity_id, "type": "Vehicle", "speed": _speed(1)},
            {"id": entity_id, "type": "Vehicle", "brandName": {"type": "Property", "value": "B"}},
            {"id": entity_id, "type": "Vehicle", "speed": _speed(3)},
        ],
        params={"options": "update"},
    )
    assert r.status == 201, r
    assert r.json() == [entity_id]
    got = client.entity(entity_id)
    assert got["speed"] == _speed(3) and got["brandName"]["value"] == "B"


def test_batch_upsert_replace_of_one_id_twice_keeps_the_last(client: Client) -> None:
    entity_id = new_id()
    r = client.post(
        UPSERT,
        json=[
            {"id": entity_id, "type": "Vehicle", "speed": _speed(1)},
            {"id": entity_id, "type": "Vehicle", "brandName": {"type": "Property", "value": "B"}},
        ],
    )
    assert r.status == 201, r
    assert set(client.entity(entity_id)) == {"id", "type", "brandName"}


def test_batch_upsert_with_an_invalid_entity_is_207_and_writes_nothing_of_it(
    client: Client,
) -> None:
    old = vehicle()
    client.create(old)
    bad = dict(old, speed={"type": "Property", "value": 1, "observedAt": "yesterday"})
    good = vehicle()
    r = client.post(UPSERT, json=[bad, good], params={"options": "update"})
    assert r.status == 207, r
    body = r.json()
    assert body["success"] == [good["id"]]
    [error] = body["errors"]
    assert error["entityId"] == old["id"]
    assert error["error"]["type"] == ERRORS + "BadRequestData"
    assert "observedAt" in error["error"]["detail"]
    assert client.entity(old["id"]) == old


def test_batch_upsert_with_both_options_is_400(client: Client) -> None:
    entity = vehicle()
    r = client.post(UPSERT, json=[entity], params={"options": "replace,update"})
    assert_problem(r, 400, "BadRequestData")
    assert not client.exists(entity["id"])


def test_batch_upsert_with_an_unknown_option_is_400(client: Client) -> None:
    r = client.post(UPSERT, json=[vehicle()], params={"options": "sideways"})
    assert_problem(r, 400, "BadRequestData")
