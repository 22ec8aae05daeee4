"""Clause 6.17.3.1 / 5.6.10 Batch Entity Delete: POST /entityOperations/delete.

The body is an array of entity ids. 204 when every entity was deleted; 207 when any did not
exist (ResourceNotFound for it) or is not an id.
"""

from __future__ import annotations

from conformance_tests.client import API, ERRORS, Client, assert_problem, new_id
from conformance_tests.samples import vehicle

DELETE = f"{API}/entityOperations/delete"


def test_batch_delete_of_existing_entities_is_204(client: Client) -> None:
    entities = [vehicle(), vehicle()]
    for e in entities:
        client.create(e)
    r = client.post(DELETE, json=[e["id"] for e in entities])
    assert r.status == 204, r
    assert not any(client.exists(e["id"]) for e in entities)


def test_batch_delete_of_missing_ids_reports_them_in_errors(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    missing = new_id()
    r = client.post(DELETE, json=[missing, entity["id"]])
    assert r.status == 207, r
    body = r.json()
    assert body["success"] == [entity["id"]]
    [error] = body["errors"]
    assert error["entityId"] == missing
    assert error["error"]["type"] == ERRORS + "ResourceNotFound"
    assert not client.exists(entity["id"])


def test_batch_delete_of_something_that_is_not_an_id_fails_it_alone(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.post(DELETE, json=["not a uri", entity["id"]])
    assert r.status == 207, r
    assert r.json()["success"] == [entity["id"]]
    assert r.json()["errors"][0]["error"]["type"] == ERRORS + "BadRequestData"


def test_batch_delete_with_an_object_body_is_400(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    assert_problem(client.post(DELETE, json={"id": entity["id"]}), 400, "BadRequestData")
    assert client.exists(entity["id"])


def test_batch_delete_accepts_a_trailing_slash(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    assert client.post(DELETE + "/", json=[entity["id"]]).status == 204
    assert not client.exists(entity["id"])
