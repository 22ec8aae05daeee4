"""Clause 6.3.5 (JSON-LD @context resolution) and 4.4 (core and user @context): user contexts
via the Link header (application/json) or inline `@context` (application/ld+json), as URLs,
objects, arrays and nested remote contexts; the core context resolved offline; remote contexts
fetched once and cached; LdContextNotAvailable (503) when a context cannot be had; private
addresses refused unless the broker allows them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from conformance_tests.client import (
    API,
    CORE_CONTEXT,
    CORE_CONTEXTS,
    JSON,
    JSONLD,
    Client,
    assert_problem,
    attrs_path,
    context_list,
    new_id,
)
from conformance_tests.conftest import Target
from conformance_tests.context_server import ContextServer
from conformance_tests.samples import EX, USER_TERMS, vehicle

ENTITIES = f"{API}/entities"


def _expanded(entity: dict[str, Any]) -> dict[str, Any]:
    """The entity as a core-context-only reader sees it: user terms become EX IRIs."""
    out: dict[str, Any] = {}
    for key, value in entity.items():
        if key in ("id", "@context"):
            out[key] = value
        elif key == "type":
            out[key] = USER_TERMS.get(value, value)
        else:
            out[USER_TERMS.get(key, key)] = value
    return out


def _unique_path(name: str) -> str:
    return f"/contexts/{uuid.uuid4().hex}/{name}.jsonld"


def test_link_header_context_expands_terms_to_its_iris(
    client: Client, user_context_url: str
) -> None:
    entity = vehicle()
    client.create(entity, context=user_context_url)
    assert client.entity(entity["id"], context=user_context_url) == entity
    assert client.entity(entity["id"]) == _expanded(entity)


def test_inline_context_object_expands_terms(client: Client) -> None:
    entity = vehicle()
    body = {**entity, "@context": [USER_TERMS, CORE_CONTEXT]}
    r = client.post(ENTITIES, json=body, content_type=JSONLD)
    assert r.status == 201, r
    assert client.entity(entity["id"]) == _expanded(entity)


def test_inline_context_url_expands_terms(client: Client, user_context_url: str) -> None:
    entity = vehicle()
    r = client.post(ENTITIES, json={**entity, "@context": user_context_url}, content_type=JSONLD)
    assert r.status == 201, r
    assert client.entity(entity["id"], context=user_context_url) == entity
    assert client.entity(entity["id"]) == _expanded(entity)


def test_inline_context_array_of_url_and_object(client: Client, user_context_url: str) -> None:
    entity = vehicle(owner2={"type": "Property", "value": "Ana"})
    context = [user_context_url, {"owner2": "https://example.org/other/owner2"}, CORE_CONTEXT]
    r = client.post(ENTITIES, json={**entity, "@context": context}, content_type=JSONLD)
    assert r.status == 201, r
    got = client.entity(entity["id"])
    assert got["https://example.org/other/owner2"] == {"type": "Property", "value": "Ana"}
    assert got[EX + "speed"] == entity["speed"]


def test_nested_remote_context_is_followed(client: Client, context_server: ContextServer) -> None:
    inner = context_server.publish(_unique_path("inner"), {"@context": {"colour": EX + "colour"}})
    outer = context_server.publish(
        _unique_path("outer"), {"@context": [inner, {"speed": EX + "speed"}]}
    )
    entity = {
        "id": new_id(),
        "type": "Thing",
        "colour": {"type": "Property", "value": "red"},
        "speed": {"type": "Property", "value": 3},
    }
    client.create(entity, context=outer)
    got = client.entity(entity["id"])
    assert got[EX + "colour"] == entity["colour"]
    assert got[EX + "speed"] == entity["speed"]
    assert client.entity(entity["id"], context=outer) == entity


def test_terms_missing_from_the_user_context_use_the_default_vocabulary(
    client: Client, user_context_url: str
) -> None:
    entity = {
        "id": new_id(),
        "type": "Vehicle",
        "undefinedTerm": {"type": "Property", "value": 1},
    }
    client.create(entity, context=user_context_url)
    assert client.entity(entity["id"])["undefinedTerm"] == entity["undefinedTerm"]
    assert client.entity(entity["id"], context=user_context_url) == entity


def test_json_response_link_header_names_the_user_context(
    client: Client, user_context_url: str
) -> None:
    entity = vehicle()
    client.create(entity, context=user_context_url)
    r = client.retrieve(entity["id"], context=user_context_url, accept=JSON)
    assert r.status == 200, r
    assert r.link_context == user_context_url


def test_ld_json_response_carries_the_user_context_in_the_body(
    client: Client, user_context_url: str
) -> None:
    entity = vehicle()
    client.create(entity, context=user_context_url)
    r = client.retrieve(entity["id"], context=user_context_url, accept=JSONLD)
    assert r.status == 200, r
    assert user_context_url in context_list(r.json().get("@context"))


@pytest.mark.parametrize("core", CORE_CONTEXTS, ids=lambda u: u.rsplit("/", 1)[-1])
def test_core_context_url_in_link_header_resolves_offline(client: Client, core: str) -> None:
    entity = vehicle()
    client.create(entity, context=core)
    assert client.entity(entity["id"], context=core) == entity


@pytest.mark.parametrize("core", CORE_CONTEXTS, ids=lambda u: u.rsplit("/", 1)[-1])
def test_core_context_url_inline_resolves_offline(client: Client, core: str) -> None:
    entity = vehicle()
    r = client.post(ENTITIES, json={**entity, "@context": core}, content_type=JSONLD)
    assert r.status == 201, r
    assert client.entity(entity["id"]) == entity


def test_attribute_path_is_expanded_with_the_link_context(
    client: Client, user_context_url: str
) -> None:
    entity = vehicle()
    client.create(entity, context=user_context_url)
    r = client.delete(attrs_path(entity["id"], "speed"))
    assert_problem(r, 404, "ResourceNotFound")
    r = client.delete(attrs_path(entity["id"], "speed"), context=user_context_url)
    assert r.status == 204, r
    assert "speed" not in client.entity(entity["id"], context=user_context_url)


def test_attrs_parameter_is_expanded_with_the_link_context(
    client: Client, user_context_url: str
) -> None:
    entity = vehicle()
    client.create(entity, context=user_context_url)
    got = client.entity(entity["id"], params={"attrs": "speed"}, context=user_context_url)
    assert got == {"id": entity["id"], "type": "Vehicle", "speed": entity["speed"]}


def test_type_parameter_is_expanded_with_the_link_context(
    client: Client, user_context_url: str
) -> None:
    entity = vehicle()
    client.create(entity, context=user_context_url)
    assert client.entity(entity["id"], params={"type": "Vehicle"}, context=user_context_url)
    r = client.retrieve(entity["id"], params={"type": "Vehicle"}, accept=JSON)
    assert_problem(r, 404, "ResourceNotFound")


def test_unreachable_remote_context_is_503_ld_context_not_available(
    client: Client, context_server: ContextServer
) -> None:
    missing = context_server.base_url + _unique_path("missing")
    entity = vehicle()
    r = client.post(ENTITIES, json=entity, context=missing)
    assert_problem(r, 503, "LdContextNotAvailable")
    assert not client.exists(entity["id"])


def test_remote_context_that_is_not_json_is_rejected_and_writes_nothing(
    client: Client, context_server: ContextServer
) -> None:
    url = context_server.publish(_unique_path("broken"), b"this is not json")
    entity = vehicle()
    r = client.post(ENTITIES, json=entity, context=url)
    assert r.status in (400, 503), r
    assert_problem(r, r.status, ("LdContextNotAvailable", "InvalidRequest", "BadRequestData"))
    assert not client.exists(entity["id"])


def test_remote_context_is_fetched_once_and_then_cached(
    client: Client, context_server: ContextServer
) -> None:
    path = _unique_path("cached")
    url = context_server.publish(path, {"@context": USER_TERMS})
    for _ in range(3):
        client.create(vehicle(), context=url)
    assert context_server.hit_count(path) == 1


def test_private_address_context_is_refused_by_default(
    target: Target, spawn_broker: Any, context_server: ContextServer
) -> None:
    broker = spawn_broker({"AGORA_ALLOW_PRIVATE_URLS": "false"})
    guarded = Client(broker.url)
    path = _unique_path("private")
    url = context_server.publish(path, {"@context": USER_TERMS})
    entity = vehicle()
    r = guarded.post(ENTITIES, json=entity, context=url)
    assert_problem(r, 503, "LdContextNotAvailable")
    r = guarded.post(ENTITIES, json={**entity, "@context": url}, content_type=JSONLD)
    assert_problem(r, 503, "LdContextNotAvailable")
    assert context_server.hit_count(path) == 0, "the guard must refuse before fetching"
    assert not guarded.exists(entity["id"])
    # The core context still resolves on that broker: it never needs the network.
    guarded.create(vehicle(), context=CORE_CONTEXT)


def test_object_type_and_vocab_values_are_expanded_with_the_context(
    client: Client, user_context_url: str
) -> None:
    entity = {
        "id": new_id(),
        "type": "Vehicle",
        "owner": {
            "type": "Relationship", "object": "urn:ngsi-ld:Person:Ana", "objectType": "Person"
        },
        "category": {"type": "VocabProperty", "vocab": "commercial"},
    }
    client.create(entity, context=user_context_url)
    assert client.entity(entity["id"], context=user_context_url) == entity
    core_view = client.entity(entity["id"])
    assert core_view[EX + "owner"]["objectType"] == EX + "Person"
    assert core_view[EX + "category"]["vocab"] == EX + "commercial"
