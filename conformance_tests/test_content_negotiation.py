"""Clause 6.3.4 (supported MIME types, 406/415) and 6.3.5/6.3.6 (where the @context travels):
application/json answers carry the @context in a Link header, application/ld+json ones in the
body, application/geo+json ones are GeoJSON Features."""

from __future__ import annotations

import json

import pytest

from conformance_tests.client import (
    CORE_CONTEXTS,
    GEOJSON,
    JSON,
    JSONLD,
    Client,
    assert_problem,
    attrs_path,
    context_list,
    entity_path,
)
from conformance_tests.samples import POINT, vehicle


@pytest.fixture
def entity(client: Client) -> dict:
    e = vehicle()
    client.create(e)
    return e


def test_accept_json_answers_json_with_link_header_and_no_context_in_body(
    client: Client, entity: dict
) -> None:
    r = client.retrieve(entity["id"], accept=JSON)
    assert r.status == 200, r
    assert r.content_type == JSON
    assert "@context" not in r.json()
    assert r.link_context in CORE_CONTEXTS, f"Link header: {r.header('link')!r}"


def test_accept_ld_json_answers_ld_json_with_context_in_body(client: Client, entity: dict) -> None:
    r = client.retrieve(entity["id"], accept=JSONLD)
    assert r.status == 200, r
    assert r.content_type == JSONLD
    body = r.json()
    assert any(c in CORE_CONTEXTS for c in context_list(body.get("@context"))), body
    assert {k: v for k, v in body.items() if k != "@context"} == entity


def test_no_accept_header_answers_json(client: Client, entity: dict) -> None:
    r = client.retrieve(entity["id"])
    assert r.status == 200, r
    assert r.content_type == JSON
    assert r.json() == entity


def test_accept_any_answers_json(client: Client, entity: dict) -> None:
    r = client.retrieve(entity["id"], accept="*/*")
    assert r.status == 200, r
    assert r.content_type == JSON


def test_accept_list_picks_a_supported_type(client: Client, entity: dict) -> None:
    r = client.retrieve(entity["id"], accept="text/html, application/ld+json;q=0.9")
    assert r.status == 200, r
    assert r.content_type == JSONLD


def test_accept_quality_values_choose_the_preferred_type(client: Client, entity: dict) -> None:
    r = client.retrieve(entity["id"], accept="application/json;q=0.2, application/ld+json;q=0.8")
    assert r.status == 200, r
    assert r.content_type == JSONLD


def test_accept_geo_json_answers_a_feature(client: Client, entity: dict) -> None:
    r = client.retrieve(entity["id"], accept=GEOJSON)
    assert r.status == 200, r
    assert r.content_type == GEOJSON
    feature = r.json()
    assert feature["type"] == "Feature"
    assert feature["id"] == entity["id"]
    assert feature["geometry"] == POINT


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "image/png"])
def test_unacceptable_accept_is_406_not_acceptable(
    client: Client, entity: dict, accept: str
) -> None:
    r = client.retrieve(entity["id"], accept=accept)
    assert_problem(r, 406, "NotAcceptable")


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "text/csv"])
def test_append_attributes_with_unsupported_content_type_is_415(
    client: Client, entity: dict, content_type: str
) -> None:
    body = json.dumps({"colour": {"type": "Property", "value": "red"}}).encode()
    r = client.post(attrs_path(entity["id"]), body=body, content_type=content_type)
    assert r.status == 415, r
    assert_problem(r, 415, "UnsupportedMediaType")
    assert client.entity(entity["id"]) == entity


def test_update_attributes_with_unsupported_content_type_is_415(
    client: Client, entity: dict
) -> None:
    body = json.dumps({"speed": {"type": "Property", "value": 1}}).encode()
    r = client.patch(attrs_path(entity["id"]), body=body, content_type="text/plain")
    assert_problem(r, 415, "UnsupportedMediaType")
    assert client.entity(entity["id"]) == entity


def test_replace_entity_with_unsupported_content_type_is_415(client: Client, entity: dict) -> None:
    body = json.dumps(entity).encode()
    r = client.put(entity_path(entity["id"]), body=body, content_type="text/plain")
    assert_problem(r, 415, "UnsupportedMediaType")
    assert client.entity(entity["id"]) == entity


def test_merge_patch_json_is_not_accepted_for_post(client: Client) -> None:
    e = vehicle()
    r = client.post("/ngsi-ld/v1/entities", json=e, content_type="application/merge-patch+json")
    assert_problem(r, 415, "UnsupportedMediaType")
    assert not client.exists(e["id"])


def test_ld_json_update_with_link_header_is_400_bad_request_data(
    client: Client, entity: dict, user_context_url: str
) -> None:
    r = client.patch(
        attrs_path(entity["id"]),
        json={"speed": {"type": "Property", "value": 1}, "@context": user_context_url},
        content_type=JSONLD,
        context=user_context_url,
    )
    assert_problem(r, 400, "BadRequestData")
    assert client.entity(entity["id"]) == entity


def test_ld_json_update_without_context_in_body_is_400_bad_request_data(
    client: Client, entity: dict
) -> None:
    r = client.patch(
        attrs_path(entity["id"]),
        json={"speed": {"type": "Property", "value": 1}},
        content_type=JSONLD,
    )
    assert_problem(r, 400, "BadRequestData")
    assert client.entity(entity["id"]) == entity


def test_error_answers_are_json_even_when_ld_json_is_accepted(client: Client) -> None:
    r = client.retrieve("urn:ngsi-ld:Vehicle:does-not-exist", accept=JSONLD)
    assert_problem(r, 404, "ResourceNotFound")
