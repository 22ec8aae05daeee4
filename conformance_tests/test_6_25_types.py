"""Clauses 6.25 and 6.26 (operations 5.7.5-5.7.7; data types EntityTypeList, EntityType and
EntityTypeInfo, clauses 5.2.24-5.2.26): GET /types lists the entity types a tenant holds,
`details=true` adds their attribute names, GET /types/{type} counts a type's entities and
gives the kinds of their attributes. Names are compacted with the request's @context.

Each test writes into a tenant of its own, so that the lists it reads are exactly its own.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from conformance_tests.client import (
    API,
    DEFAULT_VOCAB,
    JSON,
    JSONLD,
    Client,
    Response,
    assert_problem,
    entity_path,
    new_id,
    quote,
)
from conformance_tests.conftest import Target
from conformance_tests.samples import EX, full_vehicle, vehicle

TYPES = f"{API}/types"
CORE = "https://uri.etsi.org/ngsi-ld/"


def _tenant() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


def _ok(r: Response) -> Any:
    assert r.status == 200, r
    return r.json()


def _type_list(c: Client, **kw: Any) -> list[str]:
    body = _ok(c.get(TYPES, accept=JSON, **kw))
    assert body["type"] == "EntityTypeList", body
    return sorted(body["typeList"])


def _type_info(c: Client, name: str, **kw: Any) -> dict[str, Any]:
    body = _ok(c.get(f"{TYPES}/{quote(name)}", accept=JSON, **kw))
    assert isinstance(body, dict), body
    return body


def _kinds(info: dict[str, Any]) -> dict[str, list[str]]:
    return {a["attributeName"]: sorted(a["attributeTypes"]) for a in info["attributeDetails"]}


def test_type_list_is_an_entity_type_list_naming_each_type_once(target: Target) -> None:
    c = target.client(_tenant())
    c.create(vehicle())
    c.create(vehicle())
    c.create({"id": new_id("Car"), "type": "Car"})
    body = _ok(c.get(TYPES, accept=JSON))
    assert set(body) == {"id", "type", "typeList"}, body
    assert body["type"] == "EntityTypeList"
    assert body["id"].startswith("urn:ngsi-ld:EntityTypeList:"), body
    assert sorted(body["typeList"]) == ["Car", "Vehicle"]


def test_type_list_of_a_tenant_whose_entities_are_all_deleted_is_empty(target: Target) -> None:
    c = target.client(_tenant())
    entity = vehicle()
    c.create(entity)
    assert _type_list(c) == ["Vehicle"]
    assert c.delete(entity_path(entity["id"])).status == 204
    assert _type_list(c) == []


def test_type_list_with_trailing_slash_and_local_true_is_the_same(target: Target) -> None:
    c = target.client(_tenant())
    c.create(vehicle())
    assert sorted(_ok(c.get(f"{TYPES}/", accept=JSON))["typeList"]) == ["Vehicle"]
    assert _type_list(c, params={"local": "true"}) == ["Vehicle"]


def test_details_true_gives_an_entity_type_per_type_with_its_attribute_names(
    target: Target,
) -> None:
    c = target.client(_tenant())
    c.create(vehicle())
    c.create({"id": new_id("Car"), "type": "Car", "colour": {"type": "Property", "value": "red"}})
    body = _ok(c.get(TYPES, params={"details": "true"}, accept=JSON))
    assert isinstance(body, list), body
    by_name = {t["typeName"]: t for t in body}
    assert sorted(by_name) == ["Car", "Vehicle"]
    vehicle_type = by_name["Vehicle"]
    assert set(vehicle_type) == {"id", "type", "typeName", "attributeNames"}, vehicle_type
    assert (vehicle_type["id"], vehicle_type["type"]) == (DEFAULT_VOCAB + "Vehicle", "EntityType")
    assert sorted(vehicle_type["attributeNames"]) == ["brandName", "isParked", "location", "speed"]
    assert by_name["Car"]["attributeNames"] == ["colour"]


def test_type_info_counts_entities_and_gives_every_attribute_kind(target: Target) -> None:
    c = target.client(_tenant())
    c.create(full_vehicle())
    c.create(vehicle())
    info = _type_info(c, "Vehicle")
    assert set(info) == {"id", "type", "typeName", "entityCount", "attributeDetails"}, info
    assert info["id"] == DEFAULT_VOCAB + "Vehicle"
    assert (info["type"], info["typeName"], info["entityCount"]) == (
        "EntityTypeInfo", "Vehicle", 2
    )
    assert _kinds(info) == {
        "brandName": ["Property"],
        "speed": ["Property"],
        "isParked": ["Relationship"],
        "location": ["GeoProperty"],
        "street": ["LanguageProperty"],
        "category": ["VocabProperty"],
        "config": ["JsonProperty"],
        "tyreTreadDepths": ["ListProperty"],
        "route": ["ListRelationship"],
    }
    for detail in info["attributeDetails"]:
        assert set(detail) == {"id", "type", "attributeName", "attributeTypes"}, detail
        assert detail["type"] == "Attribute"
        name = detail["attributeName"]
        assert detail["id"] == (CORE + name if name == "location" else DEFAULT_VOCAB + name)


def test_sub_attributes_are_not_listed_among_a_types_attributes(target: Target) -> None:
    c = target.client(_tenant())
    c.create(full_vehicle())
    names = set(_kinds(_type_info(c, "Vehicle")))
    assert "accuracy" not in names and "providedBy" not in names


def test_multi_typed_entity_is_counted_under_each_of_its_types(target: Target) -> None:
    c = target.client(_tenant())
    c.create(vehicle(type=["Vehicle", "Car"]))
    c.create({"id": new_id("Car"), "type": "Car"})
    assert _type_list(c) == ["Car", "Vehicle"]
    assert _type_info(c, "Vehicle")["entityCount"] == 1
    car = _type_info(c, "Car")
    assert car["entityCount"] == 2
    assert sorted(_kinds(car)) == ["brandName", "isParked", "location", "speed"]


def test_counts_are_per_tenant(target: Target) -> None:
    a, b = target.client(_tenant()), target.client(_tenant())
    for _ in range(3):
        a.create(vehicle())
    b.create(vehicle())
    b.create({"id": new_id("Car"), "type": "Car"})
    assert _type_info(a, "Vehicle")["entityCount"] == 3
    assert _type_info(b, "Vehicle")["entityCount"] == 1
    assert _type_list(a) == ["Vehicle"]
    assert_problem(a.get(f"{TYPES}/Car", accept=JSON), 404, "ResourceNotFound")


def test_default_tenant_types_are_invisible_in_a_tenant(target: Target) -> None:
    own = f"Solo{uuid.uuid4().hex[:8]}"
    target.client().create({"id": new_id(own), "type": own})
    other = target.client(_tenant())
    other.create(vehicle())
    assert own not in _type_list(other)
    assert own in _type_list(target.client())


def test_names_are_compacted_with_the_user_context(
    target: Target, user_context_url: str
) -> None:
    c = target.client(_tenant())
    r = c.post(f"{API}/entities", json=vehicle(), context=user_context_url)
    assert r.status == 201, r
    assert _type_list(c, context=user_context_url) == ["Vehicle"]
    assert _type_list(c) == [EX + "Vehicle"]
    info = _type_info(c, "Vehicle", context=user_context_url)
    assert (info["id"], info["typeName"]) == (EX + "Vehicle", "Vehicle")
    assert sorted(_kinds(info)) == ["brandName", "isParked", "location", "speed"]
    assert {d["id"] for d in info["attributeDetails"]} == {
        EX + "brandName", EX + "isParked", EX + "speed", CORE + "location"
    }
    core = _type_info(c, EX + "Vehicle")
    assert core["typeName"] == EX + "Vehicle"
    assert EX + "brandName" in _kinds(core)


def test_type_is_found_by_its_full_iri_as_by_its_short_name(target: Target) -> None:
    c = target.client(_tenant())
    c.create(vehicle())
    assert _type_info(c, DEFAULT_VOCAB + "Vehicle") == _type_info(c, "Vehicle")


def test_short_name_not_in_the_request_context_does_not_find_the_type(
    target: Target, user_context_url: str
) -> None:
    c = target.client(_tenant())
    c.create(vehicle(), context=user_context_url)
    assert_problem(c.get(f"{TYPES}/Vehicle", accept=JSON), 404, "ResourceNotFound")


def test_unknown_type_is_404_resource_not_found(target: Target) -> None:
    c = target.client(_tenant())
    c.create(vehicle())
    assert_problem(c.get(f"{TYPES}/Nothing", accept=JSON), 404, "ResourceNotFound")


def test_type_of_deleted_entities_is_404(target: Target) -> None:
    c = target.client(_tenant())
    entity = vehicle()
    c.create(entity)
    c.create({"id": new_id("Car"), "type": "Car"})
    assert c.delete(entity_path(entity["id"])).status == 204
    assert_problem(c.get(f"{TYPES}/Vehicle", accept=JSON), 404, "ResourceNotFound")


@pytest.mark.parametrize("path", ["", "/Vehicle"])
def test_unknown_tenant_is_404_nonexistent_tenant(target: Target, path: str) -> None:
    r = target.client(_tenant()).get(TYPES + path, accept=JSON)
    assert_problem(r, 404, "NonexistentTenant")


def test_invalid_type_name_is_400_bad_request_data(target: Target) -> None:
    c = target.client(_tenant())
    c.create(vehicle())
    problem = assert_problem(c.get(f"{TYPES}/{quote('not a name')}"), 400, "BadRequestData")
    assert "not a name" in problem["detail"]


@pytest.mark.parametrize("param", ["details", "local"])
def test_flag_that_is_not_true_or_false_is_400_naming_it(target: Target, param: str) -> None:
    c = target.client(_tenant())
    c.create(vehicle())
    problem = assert_problem(c.get(TYPES, params={param: "yes"}), 400, "BadRequestData")
    assert param in problem["detail"]


def test_json_ld_answer_carries_the_context_in_the_body(
    target: Target, user_context_url: str
) -> None:
    c = target.client(_tenant())
    c.create(vehicle(), context=user_context_url)
    r = c.get(TYPES, accept=JSONLD, context=user_context_url)
    assert r.status == 200 and r.content_type == JSONLD, r
    assert r.link_context is None
    body = r.json()
    assert body["typeList"] == ["Vehicle"]
    assert user_context_url in str(body["@context"])
    details = c.get(TYPES, params={"details": "true"}, accept=JSONLD, context=user_context_url)
    assert all("@context" in item for item in details.json()), details


def test_json_answer_carries_the_context_in_a_link_header(
    target: Target, user_context_url: str
) -> None:
    c = target.client(_tenant())
    c.create(vehicle(), context=user_context_url)
    r = c.get(f"{TYPES}/Vehicle", accept=JSON, context=user_context_url)
    assert r.status == 200 and r.content_type == JSON, r
    assert r.link_context == user_context_url
    assert "@context" not in r.json()
