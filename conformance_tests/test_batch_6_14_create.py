"""Clause 6.14.3.1 / 5.6.7 Batch Entity Creation: POST /entityOperations/create.

201 with the array of created ids when every entity was created, 207 with a
BatchOperationResult (clause 5.2.16) otherwise; a body that is not a non-empty array is 400
for the whole request. Each entity is all-or-nothing.
"""

from __future__ import annotations

from typing import Any

from conformance_tests.client import (
    API,
    CORE_CONTEXT,
    ERRORS,
    JSON,
    Client,
    assert_problem,
    new_id,
)
from conformance_tests.samples import vehicle

CREATE = f"{API}/entityOperations/create"


def _problem_of(errors: list[dict[str, Any]], entity_id: str) -> dict[str, Any]:
    found = [e["error"] for e in errors if e["entityId"] == entity_id]
    assert len(found) == 1, errors
    problem = found[0]
    assert problem["type"].startswith(ERRORS) and problem["title"] and problem["detail"]
    return dict(problem)


def test_batch_create_of_new_entities_is_201_with_their_ids(client: Client) -> None:
    entities = [vehicle() for _ in range(3)]
    r = client.post(CREATE, json=entities)
    assert r.status == 201, r
    assert r.content_type == JSON
    assert r.json() == [e["id"] for e in entities]
    for e in entities:
        assert client.entity(e["id"]) == e


def test_batch_create_with_an_existing_id_is_207_already_exists_for_it_alone(
    client: Client,
) -> None:
    existing = vehicle()
    client.create(existing)
    fresh = vehicle()
    r = client.post(CREATE, json=[dict(existing, speed={"type": "Property", "value": 1}), fresh])
    assert r.status == 207, r
    body = r.json()
    assert body["success"] == [fresh["id"]]
    assert _problem_of(body["errors"], existing["id"])["type"] == ERRORS + "AlreadyExists"
    assert client.entity(existing["id"])["speed"]["value"] == 80
    assert client.exists(fresh["id"])


def test_batch_create_of_an_invalid_entity_fails_it_alone_naming_the_field(
    client: Client,
) -> None:
    bad = vehicle(speed={"type": "Property"})  # no value
    good = vehicle()
    r = client.post(CREATE, json=[bad, good])
    assert r.status == 207, r
    body = r.json()
    assert body["success"] == [good["id"]]
    problem = _problem_of(body["errors"], bad["id"])
    assert problem["type"] == ERRORS + "BadRequestData"
    assert "speed" in problem["detail"]
    assert not client.exists(bad["id"])


def test_batch_create_of_an_entity_without_id_fails_it_alone(client: Client) -> None:
    good = vehicle()
    no_id = {k: v for k, v in vehicle().items() if k != "id"}
    r = client.post(CREATE, json=[no_id, good])
    assert r.status == 207, r
    assert r.json()["success"] == [good["id"]]
    assert len(r.json()["errors"]) == 1


def test_batch_create_of_one_id_twice_creates_the_first_and_fails_the_second(
    client: Client,
) -> None:
    entity_id = new_id()
    first, second = vehicle(entity_id), vehicle(entity_id, speed={"type": "Property", "value": 2})
    r = client.post(CREATE, json=[first, second])
    assert r.status == 207, r
    assert r.json()["success"] == [entity_id]
    assert _problem_of(r.json()["errors"], entity_id)["type"] == ERRORS + "AlreadyExists"
    assert client.entity(entity_id)["speed"]["value"] == 80


def test_batch_create_with_a_link_header_context_expands_every_entity(
    client: Client, user_context_url: str
) -> None:
    entity = vehicle()
    r = client.post(CREATE, json=[entity], context=user_context_url)
    assert r.status == 201, r
    assert client.entity(entity["id"], context=user_context_url) == entity
    core = client.entity(entity["id"])
    assert "https://example.org/agora/speed" in core


def test_batch_create_of_ld_json_takes_each_entitys_own_context(
    client: Client, user_context_url: str
) -> None:
    with_user = dict(vehicle(), **{"@context": user_context_url})
    with_core = dict(vehicle(), **{"@context": CORE_CONTEXT})
    r = client.post(CREATE, json=[with_user, with_core], content_type="application/ld+json")
    assert r.status == 201, r
    assert "https://example.org/agora/speed" in client.entity(with_user["id"])
    assert "speed" in client.entity(with_core["id"])


def test_batch_create_of_ld_json_without_context_in_an_element_fails_it_alone(
    client: Client, user_context_url: str
) -> None:
    with_ctx = dict(vehicle(), **{"@context": user_context_url})
    without = vehicle()
    r = client.post(CREATE, json=[with_ctx, without], content_type="application/ld+json")
    assert r.status == 207, r
    assert r.json()["success"] == [with_ctx["id"]]
    assert _problem_of(r.json()["errors"], without["id"])["type"] == ERRORS + "BadRequestData"


def test_batch_create_of_json_with_context_in_an_element_fails_it_alone(
    client: Client, user_context_url: str
) -> None:
    inline = dict(vehicle(), **{"@context": user_context_url})
    plain = vehicle()
    r = client.post(CREATE, json=[inline, plain])
    assert r.status == 207, r
    assert r.json()["success"] == [plain["id"]]
    assert not client.exists(inline["id"])


def test_batch_create_of_ld_json_with_a_link_header_is_400(
    client: Client, user_context_url: str
) -> None:
    entity = dict(vehicle(), **{"@context": user_context_url})
    r = client.post(
        CREATE, json=[entity], content_type="application/ld+json", context=user_context_url
    )
    assert_problem(r, 400, "BadRequestData")
    assert not client.exists(entity["id"])


def test_batch_create_with_a_body_that_is_not_an_array_is_400(client: Client) -> None:
    entity = vehicle()
    assert_problem(client.post(CREATE, json=entity), 400, "BadRequestData")
    assert not client.exists(entity["id"])


def test_batch_create_with_an_empty_array_is_400(client: Client) -> None:
    assert_problem(client.post(CREATE, json=[]), 400, "BadRequestData")


def test_batch_create_over_the_entity_limit_is_400_and_writes_nothing(client: Client) -> None:
    entities = [vehicle() for _ in range(1001)]  # the default limit is 1000
    assert_problem(client.post(CREATE, json=entities), 400, "BadRequestData")
    assert not client.exists(entities[0]["id"])


def test_batch_create_with_invalid_json_is_400(client: Client) -> None:
    r = client.post(CREATE, body=b"[{", content_type=JSON)
    assert_problem(r, 400, ("InvalidRequest", "BadRequestData"))


def test_batch_create_with_an_element_that_is_not_an_object_fails_it_alone(
    client: Client,
) -> None:
    good = vehicle()
    r = client.post(CREATE, json=[42, good])
    assert r.status == 207, r
    assert r.json()["success"] == [good["id"]]
    assert len(r.json()["errors"]) == 1


def test_batch_create_accepts_a_trailing_slash(client: Client) -> None:
    entity = vehicle()
    r = client.post(CREATE + "/", json=[entity])
    assert r.status == 201, r
    assert client.exists(entity["id"])
