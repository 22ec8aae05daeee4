"""Clause 6.5.3.1: GET /entities/{entityId} (Retrieve Entity, behaviour in 5.7.1)."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from conformance_tests.client import API, JSON, Client, assert_problem, entity_path, new_id
from conformance_tests.samples import POINT, vehicle

STREET = {"type": "LanguageProperty", "languageMap": {"fr": "Grand Place", "nl": "Grote Markt"}}


def _parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_retrieve_entity_gives_back_exactly_what_was_created(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.retrieve(entity["id"], accept=JSON)
    assert r.status == 200, r
    assert r.json() == entity


def test_retrieve_unknown_entity_is_404_resource_not_found(client: Client) -> None:
    r = client.retrieve(new_id(), accept=JSON)
    assert_problem(r, 404, "ResourceNotFound")


def test_retrieve_entity_with_invalid_id_is_400_bad_request_data(client: Client) -> None:
    r = client.get(f"{API}/entities/thisisnotauri", accept=JSON)
    assert_problem(r, 400, "BadRequestData")


def test_retrieve_with_matching_type_returns_the_entity(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    assert client.entity(entity["id"], params={"type": "Vehicle"}) == entity


def test_retrieve_with_other_type_is_404(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.retrieve(entity["id"], params={"type": "Boat"}, accept=JSON)
    assert_problem(r, 404, "ResourceNotFound")


def test_retrieve_multi_typed_entity_by_either_type(client: Client) -> None:
    entity = vehicle(type=["Vehicle", "Car"])
    client.create(entity)
    for t in ("Vehicle", "Car"):
        assert client.entity(entity["id"], params={"type": t})["id"] == entity["id"]


def test_retrieve_with_attrs_returns_only_those_attributes(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    got = client.entity(entity["id"], params={"attrs": "speed,location"})
    assert got == {
        "id": entity["id"],
        "type": "Vehicle",
        "speed": entity["speed"],
        "location": entity["location"],
    }


def test_retrieve_with_pick_returns_only_the_picked_members(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    got = client.entity(entity["id"], params={"pick": "id,speed"})
    assert got == {"id": entity["id"], "speed": entity["speed"]}


def test_retrieve_with_omit_drops_the_omitted_members(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    got = client.entity(entity["id"], params={"omit": "speed,isParked"})
    expected = {k: v for k, v in entity.items() if k not in ("speed", "isParked")}
    assert got == expected


def test_retrieve_with_omit_type_drops_the_type(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    got = client.entity(entity["id"], params={"omit": "type"})
    assert "type" not in got
    assert got["id"] == entity["id"] and got["speed"] == entity["speed"]


def test_retrieve_without_sys_attrs_has_no_timestamps(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    got = client.entity(entity["id"])
    assert "createdAt" not in got and "modifiedAt" not in got
    assert "createdAt" not in got["speed"]


def test_retrieve_with_sys_attrs_adds_created_and_modified_at(client: Client) -> None:
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    entity = vehicle()
    client.create(entity)
    got = client.entity(entity["id"], params={"options": "sysAttrs"})
    for holder in (got, got["speed"], got["isParked"], got["location"]):
        created = _parse_time(holder["createdAt"])
        modified = _parse_time(holder["modifiedAt"])
        assert created >= before
        assert modified >= created
    assert got["speed"]["value"] == 80


def test_modified_at_advances_on_update_and_created_at_stays(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    first = client.entity(entity["id"], params={"options": "sysAttrs"})
    time.sleep(0.01)
    r = client.patch(
        f"{entity_path(entity['id'])}/attrs",
        json={"speed": {"type": "Property", "value": 99}},
    )
    assert r.status == 204, r
    second = client.entity(entity["id"], params={"options": "sysAttrs"})
    assert second["createdAt"] == first["createdAt"]
    assert _parse_time(second["modifiedAt"]) >= _parse_time(first["modifiedAt"])
    assert second["speed"]["createdAt"] == first["speed"]["createdAt"]
    assert _parse_time(second["speed"]["modifiedAt"]) > _parse_time(first["speed"]["modifiedAt"])


@pytest.mark.parametrize("option", ["keyValues", "simplified"])
def test_retrieve_key_values_gives_bare_values(client: Client, option: str) -> None:
    entity = vehicle()
    client.create(entity)
    got = client.entity(entity["id"], params={"options": option})
    assert got == {
        "id": entity["id"],
        "type": "Vehicle",
        "brandName": "Mercedes",
        "speed": 80,
        "isParked": "urn:ngsi-ld:OffStreetParking:Downtown1",
        "location": POINT,
    }


def test_retrieve_concise_drops_attribute_types(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    got = client.entity(entity["id"], params={"options": "concise"})
    assert got == {
        "id": entity["id"],
        "type": "Vehicle",
        "brandName": "Mercedes",
        "speed": {"value": 80, "unitCode": "KMH"},
        "isParked": {"object": "urn:ngsi-ld:OffStreetParking:Downtown1"},
        "location": POINT,
    }


def test_retrieve_options_normalized_is_the_default_form(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    assert client.entity(entity["id"], params={"options": "normalized"}) == entity


def test_retrieve_with_lang_turns_language_property_into_property_with_lang(
    client: Client,
) -> None:
    entity = vehicle(street=STREET)
    client.create(entity)
    got = client.entity(entity["id"], params={"lang": "nl"})
    assert got["street"] == {"type": "Property", "value": "Grote Markt", "lang": "nl"}


def test_retrieve_key_values_with_lang_gives_the_string_in_that_language(client: Client) -> None:
    entity = vehicle(street=STREET)
    client.create(entity)
    got = client.entity(entity["id"], params={"lang": "fr", "options": "keyValues"})
    assert got["street"] == "Grand Place"


def test_retrieve_without_lang_keeps_the_language_map(client: Client) -> None:
    entity = vehicle(street=STREET)
    client.create(entity)
    assert client.entity(entity["id"])["street"] == STREET


def test_retrieve_format_geojson_gives_a_feature(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.retrieve(entity["id"], params={"format": "geojson"})
    assert r.status == 200, r
    feature = r.json()
    assert feature["type"] == "Feature"
    assert feature["id"] == entity["id"]
    assert feature["geometry"] == POINT
    props = feature["properties"]
    assert props["type"] == "Vehicle"
    assert props["speed"] == entity["speed"]
    assert props["location"] == entity["location"]
