"""Clause 6.6: /entities/{entityId}/attrs — POST (Append Attributes, 6.6.3.1 / 5.6.3) and
PATCH (Update Attributes, 6.6.3.2 / 5.6.2), with the UpdateResult of 5.2.18 on 207."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from conformance_tests.client import (
    DEFAULT_VOCAB,
    Client,
    Response,
    assert_problem,
    attrs_path,
    canonical,
)
from conformance_tests.conftest import Target
from conformance_tests.samples import ATTRIBUTES, INVALID_GEOMETRIES, vehicle

GPS = "urn:ngsi-ld:Dataset:gps"
BAD_POINT = INVALID_GEOMETRIES["point_with_one_coordinate"]


def _name(name: str) -> str:
    """Attribute names in an UpdateResult: the short term or its default-vocabulary IRI."""
    return name.removeprefix(DEFAULT_VOCAB)


def _update_result(r: Response) -> tuple[set[str], set[str]]:
    assert r.status == 207, f"expected 207 Multi-Status with an UpdateResult, got {r}"
    body = r.json()
    assert isinstance(body, dict), body
    updated = body.get("updated", [])
    not_updated = body.get("notUpdated", [])
    assert isinstance(updated, list) and isinstance(not_updated, list), body
    for item in not_updated:
        assert isinstance(item.get("attributeName"), str), item
        assert isinstance(item.get("reason"), str) and item["reason"], item
    return {_name(n) for n in updated}, {_name(i["attributeName"]) for i in not_updated}


def _snapshot(client: Client, entity_id: str) -> dict[str, Any]:
    return client.entity(entity_id, params={"options": "sysAttrs"})


# -- POST /attrs: append -----------------------------------------------------------------------


def test_append_new_attribute_answers_204_and_adds_it(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    colour = {"type": "Property", "value": "red"}
    r = client.post(attrs_path(entity["id"]), json={"colour": colour})
    assert r.status == 204, r
    assert client.entity(entity["id"]) == {**entity, "colour": colour}


def test_append_existing_attribute_overwrites_it_by_default(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    speed = {"type": "Property", "value": 120}
    r = client.post(attrs_path(entity["id"]), json={"speed": speed})
    assert r.status == 204, r
    assert client.entity(entity["id"])["speed"] == speed


def test_append_with_no_overwrite_keeps_existing_and_answers_207_not_updated(
    client: Client,
) -> None:
    entity = vehicle()
    client.create(entity)
    colour = {"type": "Property", "value": "red"}
    r = client.post(
        attrs_path(entity["id"]),
        json={"speed": {"type": "Property", "value": 120}, "colour": colour},
        params={"options": "noOverwrite"},
    )
    updated, not_updated = _update_result(r)
    assert updated == {"colour"}
    assert not_updated == {"speed"}
    got = client.entity(entity["id"])
    assert got["speed"] == entity["speed"]
    assert got["colour"] == colour


def test_append_with_no_overwrite_and_only_new_attributes_answers_204(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.post(
        attrs_path(entity["id"]),
        json={"colour": {"type": "Property", "value": "red"}},
        params={"options": "noOverwrite"},
    )
    assert r.status == 204, r


def test_append_instance_with_new_dataset_id_keeps_the_default_instance(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    gps = {"type": "Property", "value": 81, "datasetId": GPS}
    r = client.post(attrs_path(entity["id"]), json={"speed": gps})
    assert r.status == 204, r
    got = client.entity(entity["id"])
    assert canonical(got["speed"]) == canonical([entity["speed"], gps])


def test_append_to_unknown_entity_is_404(client: Client) -> None:
    entity = vehicle()
    r = client.post(attrs_path(entity["id"]), json={"colour": {"type": "Property", "value": 1}})
    assert_problem(r, 404, "ResourceNotFound")
    assert not client.exists(entity["id"])


def test_append_to_invalid_entity_id_is_400(client: Client) -> None:
    r = client.post(attrs_path("notauri"), json={"colour": {"type": "Property", "value": 1}})
    assert_problem(r, 400, "BadRequestData")


def test_append_invalid_fragment_is_400_and_changes_nothing(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    before = _snapshot(client, entity["id"])
    r = client.post(
        attrs_path(entity["id"]),
        json={
            "colour": {"type": "Property", "value": "red"},
            "area": {"type": "GeoProperty", "value": BAD_POINT},
        },
    )
    assert_problem(r, 400, "BadRequestData")
    assert _snapshot(client, entity["id"]) == before


def test_append_null_value_is_400_and_changes_nothing(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    before = _snapshot(client, entity["id"])
    r = client.post(attrs_path(entity["id"]), json={"colour": {"type": "Property", "value": None}})
    assert_problem(r, 400, "BadRequestData")
    assert _snapshot(client, entity["id"]) == before


def test_append_malformed_json_is_400_invalid_request(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.post(attrs_path(entity["id"]), body=b'{"colour": ', content_type="application/json")
    assert_problem(r, 400, "InvalidRequest")
    assert client.entity(entity["id"]) == entity


# -- PATCH /attrs: update ----------------------------------------------------------------------


def test_update_existing_attributes_answers_204(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    patch = {
        "speed": {"type": "Property", "value": 30, "unitCode": "KMH"},
        "brandName": {"type": "Property", "value": "Seat"},
    }
    r = client.patch(attrs_path(entity["id"]), json=patch)
    assert r.status == 204, r
    assert client.entity(entity["id"]) == {**entity, **patch}


def test_update_with_missing_attribute_answers_207_and_does_not_add_it(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.patch(
        attrs_path(entity["id"]),
        json={
            "speed": {"type": "Property", "value": 30},
            "colour": {"type": "Property", "value": "red"},
        },
    )
    updated, not_updated = _update_result(r)
    assert updated == {"speed"}
    assert not_updated == {"colour"}
    got = client.entity(entity["id"])
    assert got["speed"]["value"] == 30
    assert "colour" not in got


def test_update_with_only_missing_attributes_answers_207_with_nothing_updated(
    client: Client,
) -> None:
    entity = vehicle()
    client.create(entity)
    before = _snapshot(client, entity["id"])
    r = client.patch(attrs_path(entity["id"]), json={"colour": {"type": "Property", "value": 1}})
    updated, not_updated = _update_result(r)
    assert updated == set()
    assert not_updated == {"colour"}
    after = _snapshot(client, entity["id"])
    assert {k: v for k, v in after.items() if k != "modifiedAt"} == {
        k: v for k, v in before.items() if k != "modifiedAt"
    }


def test_update_relationship_object(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    rel = {"type": "Relationship", "object": "urn:ngsi-ld:OffStreetParking:Uptown2"}
    r = client.patch(attrs_path(entity["id"]), json={"isParked": rel})
    assert r.status == 204, r
    assert client.entity(entity["id"])["isParked"] == rel


def test_update_one_dataset_id_instance_leaves_the_others(client: Client) -> None:
    default = {"type": "Property", "value": 80}
    gps = {"type": "Property", "value": 81, "datasetId": GPS}
    entity = vehicle(speed=[default, gps])
    client.create(entity)
    fragment = {"speed": {"type": "Property", "value": 99, "datasetId": GPS}}
    r = client.patch(attrs_path(entity["id"]), json=fragment)
    assert r.status == 204, r
    got = client.entity(entity["id"])
    assert canonical(got["speed"]) == canonical([default, {**gps, "value": 99}])


def test_update_unknown_entity_is_404(client: Client) -> None:
    entity = vehicle()
    r = client.patch(attrs_path(entity["id"]), json={"speed": {"type": "Property", "value": 1}})
    assert_problem(r, 404, "ResourceNotFound")


def test_update_invalid_fragment_is_400_and_changes_nothing(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    before = _snapshot(client, entity["id"])
    r = client.patch(
        attrs_path(entity["id"]),
        json={
            "speed": {"type": "Property", "value": 1},
            "isParked": {"type": "Relationship", "object": "not a uri"},
        },
    )
    assert_problem(r, 400, "BadRequestData")
    assert _snapshot(client, entity["id"]) == before


def test_update_with_forbidden_character_in_name_is_400(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    before = _snapshot(client, entity["id"])
    r = client.patch(attrs_path(entity["id"]), json={"sp=eed": {"type": "Property", "value": 1}})
    assert_problem(r, 400, "BadRequestData")
    assert _snapshot(client, entity["id"]) == before


def test_concurrent_appends_of_different_attributes_lose_none(target: Target) -> None:
    client = target.client()
    entity = vehicle()
    client.create(entity)

    def append(i: int) -> int:
        fragment = {f"counter{i}": {"type": "Property", "value": i}}
        return target.client().post(attrs_path(entity["id"]), json=fragment).status

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(append, range(32)))
    assert statuses == [204] * 32, statuses
    got = client.entity(entity["id"])
    assert {f"counter{i}" for i in range(32)} <= set(got)
    assert all(got[f"counter{i}"]["value"] == i for i in range(32))


def test_concurrent_updates_of_different_attributes_lose_none(target: Target) -> None:
    client = target.client()
    attrs = {f"counter{i}": {"type": "Property", "value": 0} for i in range(16)}
    entity = vehicle(**attrs)
    client.create(entity)

    def update(i: int) -> int:
        fragment = {f"counter{i}": {"type": "Property", "value": i + 100}}
        return target.client().patch(attrs_path(entity["id"]), json=fragment).status

    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(update, range(16)))
    assert statuses == [204] * 16, statuses
    got = client.entity(entity["id"])
    assert [got[f"counter{i}"]["value"] for i in range(16)] == [i + 100 for i in range(16)]


@pytest.mark.parametrize("kind", list(ATTRIBUTES), ids=list(ATTRIBUTES))
def test_append_attribute_of_every_kind_is_given_back_unchanged(client: Client, kind: str) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.post(attrs_path(entity["id"]), json={"added": ATTRIBUTES[kind]})
    assert r.status == 204, r
    assert client.entity(entity["id"])["added"] == ATTRIBUTES[kind]


@pytest.mark.parametrize("kind", list(ATTRIBUTES), ids=list(ATTRIBUTES))
def test_update_attribute_to_every_kind_is_given_back_unchanged(client: Client, kind: str) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.patch(attrs_path(entity["id"]), json={"brandName": ATTRIBUTES[kind]})
    assert r.status == 204, r
    assert client.entity(entity["id"])["brandName"] == ATTRIBUTES[kind]
