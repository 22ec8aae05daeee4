"""Clauses 6.27 and 6.28 (operations 5.7.8-5.7.10; data types AttributeList and Attribute,
clauses 5.2.27-5.2.28): GET /attributes lists the attribute names a tenant's entities hold,
`details=true` gives each as an Attribute (count, kinds, entity types), and
GET /attributes/{attrId} gives one. Names are compacted with the request's @context.

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
    attrs_path,
    entity_path,
    new_id,
    quote,
)
from conformance_tests.conftest import Target
from conformance_tests.samples import EX, POINT, full_vehicle, vehicle

ATTRIBUTES = f"{API}/attributes"
CORE = "https://uri.etsi.org/ngsi-ld/"
ATTRIBUTE_MEMBERS = {"id", "type", "attributeName", "attributeCount", "attributeTypes", "typeNames"}


def _tenant() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


def _ok(r: Response) -> Any:
    assert r.status == 200, r
    return r.json()


def _attribute_list(c: Client, **kw: Any) -> list[str]:
    body = _ok(c.get(ATTRIBUTES, accept=JSON, **kw))
    assert body["type"] == "AttributeList", body
    return sorted(body["attributeList"])


def _attribute(c: Client, name: str, **kw: Any) -> dict[str, Any]:
    body = _ok(c.get(f"{ATTRIBUTES}/{quote(name)}", accept=JSON, **kw))
    assert isinstance(body, dict) and set(body) == ATTRIBUTE_MEMBERS, body
    assert body["type"] == "Attribute"
    return body


def _counted(body: dict[str, Any]) -> tuple[int, list[str], list[str]]:
    return body["attributeCount"], sorted(body["attributeTypes"]), sorted(body["typeNames"])


def test_attribute_list_is_an_attribute_list_naming_each_attribute_once(target: Target) -> None:
    c = target.client(_tenant())
    c.create(vehicle())
    c.create(vehicle())
    c.create({"id": new_id("Car"), "type": "Car", "colour": {"type": "Property", "value": "red"}})
    body = _ok(c.get(ATTRIBUTES, accept=JSON))
    assert set(body) == {"id", "type", "attributeList"}, body
    assert body["type"] == "AttributeList"
    assert body["id"].startswith("urn:ngsi-ld:AttributeList:"), body
    assert sorted(body["attributeList"]) == ["brandName", "colour", "isParked", "location", "speed"]


def test_attribute_list_with_trailing_slash_and_local_true_is_the_same(target: Target) -> None:
    c = target.client(_tenant())
    c.create({"id": new_id("Car"), "type": "Car", "colour": {"type": "Property", "value": "red"}})
    assert sorted(_ok(c.get(f"{ATTRIBUTES}/", accept=JSON))["attributeList"]) == ["colour"]
    assert _attribute_list(c, params={"local": "true"}) == ["colour"]


def test_details_true_gives_an_attribute_per_name_with_count_kinds_and_types(
    target: Target,
) -> None:
    c = target.client(_tenant())
    c.create(vehicle())
    c.create(vehicle())
    c.create({"id": new_id("Car"), "type": "Car", "speed": {"type": "Property", "value": 3}})
    body = _ok(c.get(ATTRIBUTES, params={"details": "true"}, accept=JSON))
    assert isinstance(body, list), body
    by_name = {a["attributeName"]: a for a in body}
    assert sorted(by_name) == ["brandName", "isParked", "location", "speed"]
    for attribute in body:
        assert set(attribute) == ATTRIBUTE_MEMBERS, attribute
        assert attribute["type"] == "Attribute"
    assert by_name["speed"]["id"] == DEFAULT_VOCAB + "speed"
    assert _counted(by_name["speed"]) == (3, ["Property"], ["Car", "Vehicle"])
    assert _counted(by_name["isParked"]) == (2, ["Relationship"], ["Vehicle"])
    assert by_name["location"]["id"] == CORE + "location"
    assert _counted(by_name["location"]) == (2, ["GeoProperty"], ["Vehicle"])


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("brandName", "Property"),
        ("isParked", "Relationship"),
        ("location", "GeoProperty"),
        ("street", "LanguageProperty"),
        ("category", "VocabProperty"),
        ("config", "JsonProperty"),
        ("tyreTreadDepths", "ListProperty"),
        ("route", "ListRelationship"),
    ],
)
def test_attribute_reports_the_kind_it_is_stored_as(target: Target, name: str, kind: str) -> None:
    c = target.client(_tenant())
    c.create(full_vehicle())
    assert _counted(_attribute(c, name)) == (1, [kind], ["Vehicle"])


def test_one_name_used_as_property_and_relationship_reports_both_kinds(target: Target) -> None:
    c = target.client(_tenant())
    c.create({"id": new_id("Car"), "type": "Car", "owner": {"type": "Property", "value": "Ann"}})
    c.create(
        {"id": new_id("Bus"), "type": "Bus", "owner": {"type": "Relationship", "object": "urn:x:1"}}
    )
    assert _counted(_attribute(c, "owner")) == (2, ["Property", "Relationship"], ["Bus", "Car"])


def test_multi_typed_entity_counts_once_and_names_each_type(target: Target) -> None:
    c = target.client(_tenant())
    c.create(vehicle(type=["Vehicle", "Car"]))
    assert _counted(_attribute(c, "speed")) == (1, ["Property"], ["Car", "Vehicle"])


def test_sub_attributes_are_not_listed(target: Target) -> None:
    c = target.client(_tenant())
    c.create(full_vehicle())
    names = _attribute_list(c)
    assert "accuracy" not in names and "providedBy" not in names
    assert_problem(c.get(f"{ATTRIBUTES}/accuracy", accept=JSON), 404, "ResourceNotFound")


def test_counts_are_per_tenant(target: Target) -> None:
    a, b = target.client(_tenant()), target.client(_tenant())
    for _ in range(3):
        a.create(vehicle())
    b.create({"id": new_id("Car"), "type": "Car", "speed": {"type": "Property", "value": 1}})
    assert _counted(_attribute(a, "speed")) == (3, ["Property"], ["Vehicle"])
    assert _counted(_attribute(b, "speed")) == (1, ["Property"], ["Car"])
    assert _attribute_list(b) == ["speed"]


def test_names_are_compacted_with_the_user_context(
    target: Target, user_context_url: str
) -> None:
    c = target.client(_tenant())
    c.create(vehicle(), context=user_context_url)
    assert _attribute_list(c, context=user_context_url) == [
        "brandName", "isParked", "location", "speed"
    ]
    assert _attribute_list(c) == sorted(
        [EX + "brandName", EX + "isParked", EX + "speed", "location"]
    )
    speed = _attribute(c, "speed", context=user_context_url)
    assert (speed["id"], speed["attributeName"], speed["typeNames"]) == (
        EX + "speed", "speed", ["Vehicle"]
    )
    core = _attribute(c, EX + "speed")
    assert (core["attributeName"], core["typeNames"]) == (EX + "speed", [EX + "Vehicle"])


def test_attribute_is_found_by_its_full_iri_as_by_its_short_name(target: Target) -> None:
    c = target.client(_tenant())
    c.create(vehicle())
    assert _attribute(c, DEFAULT_VOCAB + "speed") == _attribute(c, "speed")
    assert _attribute(c, CORE + "location") == _attribute(c, "location")


def test_unknown_attribute_is_404_resource_not_found(target: Target) -> None:
    c = target.client(_tenant())
    c.create(vehicle())
    assert_problem(c.get(f"{ATTRIBUTES}/nothing", accept=JSON), 404, "ResourceNotFound")


def test_attribute_disappears_when_its_last_holder_loses_it(target: Target) -> None:
    c = target.client(_tenant())
    first, second = vehicle(), vehicle()
    c.create(first)
    c.create(second)
    assert c.delete(attrs_path(first["id"], "brandName")).status == 204
    assert _attribute(c, "brandName")["attributeCount"] == 1
    assert c.delete(entity_path(second["id"])).status == 204
    assert "brandName" not in _attribute_list(c)
    assert_problem(c.get(f"{ATTRIBUTES}/brandName", accept=JSON), 404, "ResourceNotFound")


def test_attribute_appended_later_is_listed(target: Target) -> None:
    c = target.client(_tenant())
    entity = vehicle()
    c.create(entity)
    r = c.post(attrs_path(entity["id"]), json={"spot": {"type": "GeoProperty", "value": POINT}})
    assert r.status == 204, r
    assert _counted(_attribute(c, "spot")) == (1, ["GeoProperty"], ["Vehicle"])


@pytest.mark.parametrize("path", ["", "/speed"])
def test_unknown_tenant_is_404_nonexistent_tenant(target: Target, path: str) -> None:
    r = target.client(_tenant()).get(ATTRIBUTES + path, accept=JSON)
    assert_problem(r, 404, "NonexistentTenant")


def test_invalid_attribute_name_is_400_bad_request_data(target: Target) -> None:
    c = target.client(_tenant())
    c.create(vehicle())
    problem = assert_problem(c.get(f"{ATTRIBUTES}/{quote('no name')}"), 400, "BadRequestData")
    assert "no name" in problem["detail"]


def test_details_that_is_not_true_or_false_is_400_naming_it(target: Target) -> None:
    c = target.client(_tenant())
    c.create(vehicle())
    problem = assert_problem(c.get(ATTRIBUTES, params={"details": "1"}), 400, "BadRequestData")
    assert "details" in problem["detail"]


def test_json_ld_answer_carries_the_context_in_the_body(
    target: Target, user_context_url: str
) -> None:
    c = target.client(_tenant())
    c.create(vehicle(), context=user_context_url)
    r = c.get(f"{ATTRIBUTES}/speed", accept=JSONLD, context=user_context_url)
    assert r.status == 200 and r.content_type == JSONLD, r
    assert r.link_context is None
    body = r.json()
    assert body["attributeName"] == "speed"
    assert user_context_url in str(body["@context"])
    r = c.get(ATTRIBUTES, accept=JSON, context=user_context_url)
    assert r.link_context == user_context_url and "@context" not in r.json()
