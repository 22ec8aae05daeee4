"""Clause 6.5.3.2: DELETE /entities/{entityId} (Delete Entity, behaviour in 5.6.6)."""

from __future__ import annotations

from conformance_tests.client import API, Client, assert_problem, entity_path, new_id
from conformance_tests.samples import vehicle


def test_delete_entity_answers_204_and_the_entity_is_gone(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.delete(entity_path(entity["id"]))
    assert r.status == 204, r
    assert not r.body
    assert not client.exists(entity["id"])


def test_delete_unknown_entity_is_404_resource_not_found(client: Client) -> None:
    assert_problem(client.delete(entity_path(new_id())), 404, "ResourceNotFound")


def test_delete_entity_with_invalid_id_is_400_bad_request_data(client: Client) -> None:
    assert_problem(client.delete(f"{API}/entities/notauri"), 400, "BadRequestData")


def test_delete_entity_twice_is_404_the_second_time(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    assert client.delete(entity_path(entity["id"])).status == 204
    assert_problem(client.delete(entity_path(entity["id"])), 404, "ResourceNotFound")


def test_deleted_entity_id_can_be_created_again(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    assert client.delete(entity_path(entity["id"])).status == 204
    fresh = vehicle(entity["id"], brandName={"type": "Property", "value": "Seat"})
    client.create(fresh)
    assert client.entity(entity["id"]) == fresh


def test_delete_entity_leaves_other_entities_alone(client: Client) -> None:
    a, b = vehicle(), vehicle()
    client.create(a)
    client.create(b)
    assert client.delete(entity_path(a["id"])).status == 204
    assert client.entity(b["id"]) == b
