"""Clause 6.4.3.1: POST /entities (Create Entity, behaviour in 5.6.1); input rules of 6.3."""

from __future__ import annotations

import json
import os
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from conformance_tests.client import (
    API,
    JSON,
    JSONLD,
    Client,
    assert_problem,
    entity_path,
    new_id,
)
from conformance_tests.conftest import Target
from conformance_tests.samples import INVALID_GEOMETRIES, POINT, vehicle

ENTITIES = f"{API}/entities"
MAX_BODY_BYTES = int(os.environ.get("AGORA_CONFORMANCE_MAX_BODY_BYTES", str(1024 * 1024)))


def _assert_rejected_and_absent(
    client: Client, r: Any, entity_id: str, status: int, error: str | tuple[str, ...]
) -> None:
    assert_problem(r, status, error)
    assert not client.exists(entity_id), "a rejected create must not write the entity"


def test_create_entity_answers_201_with_location_of_the_new_entity(client: Client) -> None:
    entity = vehicle()
    r = client.post(ENTITIES, json=entity)
    assert r.status == 201, r
    location = r.header("location")
    assert location, "201 Created must carry a Location header"
    path = urllib.parse.unquote(urllib.parse.urlsplit(location).path)
    assert path == f"{API}/entities/{entity['id']}"


def test_created_entity_is_retrievable_with_its_attributes(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    assert client.entity(entity["id"]) == entity


def test_create_entity_with_ld_json_and_context_in_body(client: Client) -> None:
    entity = {**vehicle(), "@context": "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"}
    r = client.post(ENTITIES, json=entity, content_type=JSONLD)
    assert r.status == 201, r
    got = client.entity(entity["id"])
    assert got == {k: v for k, v in entity.items() if k != "@context"}


def test_create_entity_with_json_charset_parameter_is_accepted(client: Client) -> None:
    entity = vehicle()
    r = client.post(ENTITIES, json=entity, content_type="application/json; charset=utf-8")
    assert r.status == 201, r


def test_create_entity_with_several_types_keeps_all_types(client: Client) -> None:
    entity = vehicle(type=["Vehicle", "Car"])
    client.create(entity)
    got = client.entity(entity["id"])
    assert isinstance(got["type"], list)
    assert sorted(got["type"]) == ["Car", "Vehicle"]


def test_create_entity_without_attributes(client: Client) -> None:
    entity = {"id": new_id(), "type": "Vehicle"}
    client.create(entity)
    assert client.entity(entity["id"]) == entity


def test_create_entity_in_concise_form_is_stored_normalized(client: Client) -> None:
    entity_id = new_id()
    concise = {
        "id": entity_id,
        "type": "Vehicle",
        "brandName": "Mercedes",
        "speed": {"value": 80, "unitCode": "KMH"},
        "isParked": {"object": "urn:ngsi-ld:OffStreetParking:Downtown1"},
        "location": POINT,
        "street": {"languageMap": {"fr": "Grand Place", "nl": "Grote Markt"}},
    }
    client.create(concise)
    got = client.entity(entity_id)
    assert got["brandName"] == {"type": "Property", "value": "Mercedes"}
    assert got["speed"] == {"type": "Property", "value": 80, "unitCode": "KMH"}
    assert got["isParked"] == {
        "type": "Relationship", "object": "urn:ngsi-ld:OffStreetParking:Downtown1"
    }
    assert got["location"] == {"type": "GeoProperty", "value": POINT}
    assert got["street"] == {
        "type": "LanguageProperty", "languageMap": {"fr": "Grand Place", "nl": "Grote Markt"}
    }


def test_create_duplicate_entity_is_409_already_exists_and_keeps_the_original(
    client: Client,
) -> None:
    entity = vehicle()
    client.create(entity)
    duplicate = {**entity, "brandName": {"type": "Property", "value": "Seat"}}
    r = client.post(ENTITIES, json=duplicate)
    assert_problem(r, 409, "AlreadyExists")
    assert client.entity(entity["id"])["brandName"]["value"] == "Mercedes"


@pytest.mark.parametrize(
    "bad_id",
    ["thisisnotauri", "urn:ngsi-ld:Vehicle:has space", 42, ["urn:ngsi-ld:Vehicle:A"], ""],
    ids=["no_scheme", "space", "number", "list", "empty"],
)
def test_create_entity_with_invalid_id_is_400_bad_request_data(
    client: Client, bad_id: Any
) -> None:
    entity = {**vehicle(), "id": bad_id}
    r = client.post(ENTITIES, json=entity)
    assert_problem(r, 400, "BadRequestData")


def test_create_entity_without_id_is_400_bad_request_data(client: Client) -> None:
    entity = vehicle()
    del entity["id"]
    assert_problem(client.post(ENTITIES, json=entity), 400, "BadRequestData")


def test_create_entity_without_type_is_400_bad_request_data_and_writes_nothing(
    client: Client,
) -> None:
    entity = vehicle()
    del entity["type"]
    _assert_rejected_and_absent(
        client, client.post(ENTITIES, json=entity), entity["id"], 400, "BadRequestData"
    )


@pytest.mark.parametrize("char", ["<", ">", '"', "'", "=", ";", "(", ")"])
def test_create_entity_with_forbidden_character_in_attribute_name_is_400(
    client: Client, char: str
) -> None:
    entity = vehicle()
    entity[f"bad{char}name"] = {"type": "Property", "value": 1}
    _assert_rejected_and_absent(
        client, client.post(ENTITIES, json=entity), entity["id"], 400, "BadRequestData"
    )


@pytest.mark.parametrize("char", ["<", "(", ";"])
def test_create_entity_with_forbidden_character_in_type_is_400(client: Client, char: str) -> None:
    entity = vehicle(type=f"Vehi{char}cle")
    _assert_rejected_and_absent(
        client, client.post(ENTITIES, json=entity), entity["id"], 400, "BadRequestData"
    )


def test_create_entity_with_null_property_value_is_400_and_writes_nothing(client: Client) -> None:
    entity = vehicle(speed={"type": "Property", "value": None})
    _assert_rejected_and_absent(
        client, client.post(ENTITIES, json=entity), entity["id"], 400, "BadRequestData"
    )


def test_create_entity_with_null_attribute_is_400_and_writes_nothing(client: Client) -> None:
    entity = vehicle(speed=None)
    _assert_rejected_and_absent(
        client, client.post(ENTITIES, json=entity), entity["id"], 400, "BadRequestData"
    )


def test_create_entity_with_ngsi_ld_null_value_is_400(client: Client) -> None:
    entity = vehicle(speed={"type": "Property", "value": "urn:ngsi-ld:null"})
    _assert_rejected_and_absent(
        client, client.post(ENTITIES, json=entity), entity["id"], 400, "BadRequestData"
    )


def test_create_entity_with_property_without_value_is_400(client: Client) -> None:
    entity = vehicle(speed={"type": "Property", "unitCode": "KMH"})
    _assert_rejected_and_absent(
        client, client.post(ENTITIES, json=entity), entity["id"], 400, "BadRequestData"
    )


def test_create_entity_with_relationship_without_object_is_400(client: Client) -> None:
    entity = vehicle(isParked={"type": "Relationship", "value": "urn:ngsi-ld:X:1"})
    _assert_rejected_and_absent(
        client, client.post(ENTITIES, json=entity), entity["id"], 400, "BadRequestData"
    )


def test_create_entity_with_relationship_object_not_a_uri_is_400(client: Client) -> None:
    entity = vehicle(isParked={"type": "Relationship", "object": "not a uri"})
    _assert_rejected_and_absent(
        client, client.post(ENTITIES, json=entity), entity["id"], 400, "BadRequestData"
    )


def test_create_entity_with_unknown_attribute_type_is_400(client: Client) -> None:
    entity = vehicle(speed={"type": "Quantity", "value": 3})
    _assert_rejected_and_absent(
        client, client.post(ENTITIES, json=entity), entity["id"], 400, "BadRequestData"
    )


def test_create_entity_with_invalid_observed_at_is_400(client: Client) -> None:
    entity = vehicle(speed={"type": "Property", "value": 3, "observedAt": "yesterday"})
    _assert_rejected_and_absent(
        client, client.post(ENTITIES, json=entity), entity["id"], 400, "BadRequestData"
    )


def test_create_entity_with_dataset_id_not_a_uri_is_400(client: Client) -> None:
    entity = vehicle(speed={"type": "Property", "value": 3, "datasetId": "not a uri"})
    _assert_rejected_and_absent(
        client, client.post(ENTITIES, json=entity), entity["id"], 400, "BadRequestData"
    )


def test_create_entity_with_two_instances_of_the_same_dataset_id_is_400(client: Client) -> None:
    entity = vehicle(
        speed=[
            {"type": "Property", "value": 1, "datasetId": "urn:ngsi-ld:Dataset:a"},
            {"type": "Property", "value": 2, "datasetId": "urn:ngsi-ld:Dataset:a"},
        ]
    )
    _assert_rejected_and_absent(
        client, client.post(ENTITIES, json=entity), entity["id"], 400, "BadRequestData"
    )


@pytest.mark.parametrize("geometry", list(INVALID_GEOMETRIES), ids=list(INVALID_GEOMETRIES))
def test_create_entity_with_invalid_geojson_is_400_and_writes_nothing(
    client: Client, geometry: str
) -> None:
    entity = vehicle(location={"type": "GeoProperty", "value": INVALID_GEOMETRIES[geometry]})
    _assert_rejected_and_absent(
        client, client.post(ENTITIES, json=entity), entity["id"], 400, "BadRequestData"
    )


def test_create_entity_with_malformed_json_is_400_invalid_request(client: Client) -> None:
    entity_id = new_id()
    # A valid entity with its closing brace missing.
    body = json.dumps(vehicle(entity_id))[:-1]
    r = client.post(ENTITIES, body=body.encode(), content_type=JSON)
    _assert_rejected_and_absent(client, r, entity_id, 400, "InvalidRequest")


def test_create_entity_with_empty_body_is_400(client: Client) -> None:
    r = client.post(ENTITIES, body=b"", content_type=JSON)
    assert_problem(r, 400, ("InvalidRequest", "BadRequestData"))


def test_create_entity_with_json_array_body_is_400(client: Client) -> None:
    r = client.post(ENTITIES, json=[vehicle()])
    assert_problem(r, 400, ("BadRequestData", "InvalidRequest"))


def test_create_entity_with_unsupported_content_type_is_415(client: Client) -> None:
    entity = vehicle()
    r = client.post(ENTITIES, body=json.dumps(entity).encode(), content_type="text/plain")
    assert r.status == 415, r
    assert not client.exists(entity["id"])


def test_create_entity_with_xml_content_type_is_415(client: Client) -> None:
    r = client.post(ENTITIES, body=b"<entity/>", content_type="application/xml")
    assert r.status == 415, r


def test_create_entity_ld_json_without_context_in_body_is_400_bad_request_data(
    client: Client,
) -> None:
    entity = vehicle()
    r = client.post(ENTITIES, json=entity, content_type=JSONLD)
    _assert_rejected_and_absent(client, r, entity["id"], 400, "BadRequestData")


def test_create_entity_ld_json_with_link_header_is_400_bad_request_data(
    client: Client, user_context_url: str
) -> None:
    entity = {**vehicle(), "@context": user_context_url}
    r = client.post(ENTITIES, json=entity, content_type=JSONLD, context=user_context_url)
    _assert_rejected_and_absent(client, r, entity["id"], 400, "BadRequestData")


def test_create_entity_with_body_over_max_body_bytes_is_413_and_writes_nothing(
    client: Client,
) -> None:
    entity = vehicle(notes={"type": "Property", "value": "x" * (MAX_BODY_BYTES + 1024)})
    r = client.post(ENTITIES, json=entity)
    assert r.status == 413, r
    if r.body:
        assert_problem(r, 413, "RequestEntityTooLarge")
    assert not client.exists(entity["id"])


def test_create_entity_just_under_max_body_bytes_is_accepted(client: Client) -> None:
    entity = vehicle(notes={"type": "Property", "value": ""})
    overhead = len(json.dumps(entity, separators=(",", ":")).encode())
    entity["notes"]["value"] = "x" * (MAX_BODY_BYTES - overhead - 64)
    r = client.post(ENTITIES, json=entity)
    assert r.status == 201, r


@pytest.mark.parametrize(
    "entity_id",
    [
        "http://example.org/vehicles/{u}",
        "https://example.org/a/{u}?c=d#e",
        "urn:ngsi-ld:Vehicle:Málaga-{u}",
        "urn:ngsi-ld:Vehicle:with%25percent-{u}",
    ],
    ids=["http_url", "url_with_query_and_fragment", "iri_with_unicode", "percent"],
)
def test_entity_with_any_uri_id_can_be_created_retrieved_and_deleted(
    client: Client, entity_id: str
) -> None:
    entity_id = entity_id.format(u=uuid.uuid4().hex)
    entity = vehicle(entity_id)
    r = client.post(ENTITIES, json=entity)
    assert r.status == 201, r
    assert client.entity(entity_id) == entity
    assert client.delete(entity_path(entity_id)).status == 204
    assert not client.exists(entity_id)


def test_concurrent_creates_of_one_id_succeed_exactly_once(target: Target) -> None:
    entity = vehicle()

    def create(i: int) -> int:
        body = {**entity, "brandName": {"type": "Property", "value": f"maker-{i}"}}
        return target.client().post(ENTITIES, json=body).status

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(create, range(16)))
    assert sorted(statuses) == [201] + [409] * 15, statuses
