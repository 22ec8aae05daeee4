"""Clause 4.14 (multi-tenancy) through the NGSILD-Tenant header (Fiware-Service as an alias):
a tenant is created by its first write, an unknown tenant cannot be read, and no
request ever sees another tenant's data."""

from __future__ import annotations

import uuid

from conformance_tests.client import assert_problem, attrs_path, entity_path, new_id
from conformance_tests.conftest import Target
from conformance_tests.samples import vehicle


def _tenant() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


def test_entity_created_in_a_tenant_is_readable_in_that_tenant(target: Target) -> None:
    c = target.client(_tenant())
    entity = vehicle()
    c.create(entity)
    assert c.entity(entity["id"]) == entity


def test_entity_of_a_tenant_is_invisible_in_the_default_tenant(target: Target) -> None:
    entity = vehicle()
    target.client(_tenant()).create(entity)
    r = target.client().retrieve(entity["id"])
    assert_problem(r, 404, "ResourceNotFound")


def test_entity_of_a_tenant_is_invisible_in_another_tenant(target: Target) -> None:
    a, b = target.client(_tenant()), target.client(_tenant())
    entity = vehicle()
    a.create(entity)
    b.create(vehicle())  # b exists as a tenant
    assert_problem(b.retrieve(entity["id"]), 404, "ResourceNotFound")


def test_entity_of_the_default_tenant_is_invisible_in_a_tenant(target: Target) -> None:
    entity = vehicle()
    target.client().create(entity)
    other = target.client(_tenant())
    other.create(vehicle())
    assert_problem(other.retrieve(entity["id"]), 404, "ResourceNotFound")


def test_reading_an_unknown_tenant_is_404_nonexistent_tenant(target: Target) -> None:
    r = target.client(_tenant()).retrieve(new_id())
    assert_problem(r, 404, "NonexistentTenant")


def test_reading_an_unknown_tenant_does_not_create_it(target: Target) -> None:
    c = target.client(_tenant())
    assert_problem(c.retrieve(new_id()), 404, "NonexistentTenant")
    assert_problem(c.retrieve(new_id()), 404, "NonexistentTenant")


def test_known_tenant_unknown_entity_is_404_resource_not_found(target: Target) -> None:
    c = target.client(_tenant())
    c.create(vehicle())
    assert_problem(c.retrieve(new_id()), 404, "ResourceNotFound")


def test_same_entity_id_lives_independently_in_two_tenants(target: Target) -> None:
    a, b = target.client(_tenant()), target.client(_tenant())
    entity_id = new_id()
    in_a = vehicle(entity_id, brandName={"type": "Property", "value": "Seat"})
    in_b = vehicle(entity_id, brandName={"type": "Property", "value": "Volvo"})
    a.create(in_a)
    b.create(in_b)
    assert a.entity(entity_id) == in_a
    assert b.entity(entity_id) == in_b
    r = a.patch(attrs_path(entity_id), json={"speed": {"type": "Property", "value": 5}})
    assert r.status == 204, r
    assert b.entity(entity_id) == in_b
    assert a.delete(entity_path(entity_id)).status == 204
    assert b.entity(entity_id) == in_b


def test_update_in_another_tenant_cannot_reach_the_entity(target: Target) -> None:
    a, b = target.client(_tenant()), target.client(_tenant())
    entity = vehicle()
    a.create(entity)
    b.create(vehicle())
    r = b.patch(attrs_path(entity["id"]), json={"speed": {"type": "Property", "value": 1}})
    assert_problem(r, 404, "ResourceNotFound")
    assert_problem(b.delete(entity_path(entity["id"])), 404, "ResourceNotFound")
    assert a.entity(entity["id"]) == entity


def test_fiware_service_header_is_an_alias_of_ngsild_tenant(target: Target) -> None:
    tenant = _tenant()
    plain = target.client()
    entity = vehicle()
    r = plain.post("/ngsi-ld/v1/entities", json=entity, headers={"Fiware-Service": tenant})
    assert r.status == 201, r
    assert target.client(tenant).entity(entity["id"]) == entity
    r = plain.retrieve(entity["id"], headers={"Fiware-Service": tenant})
    assert r.status == 200, r
    assert_problem(plain.retrieve(entity["id"]), 404, "ResourceNotFound")


def test_duplicate_create_in_the_same_tenant_is_409(target: Target) -> None:
    c = target.client(_tenant())
    entity = vehicle()
    c.create(entity)
    assert_problem(c.post("/ngsi-ld/v1/entities", json=entity), 409, "AlreadyExists")
