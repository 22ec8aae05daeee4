"""Clause 6.31.3.1 / 5.6.20 Batch Entity Merge: POST /entityOperations/merge.

Each existing entity is merged as Merge Entity (5.6.17) does: new attributes added, existing
ones merged, `urn:ngsi-ld:null` deletes. 204 when every entity was merged, 207 otherwise.
"""

from __future__ import annotations

from conformance_tests.client import API, ERRORS, Client, new_id
from conformance_tests.samples import vehicle

MERGE = f"{API}/entityOperations/merge"
NULL = "urn:ngsi-ld:null"


def test_batch_merge_adds_merges_and_deletes_with_the_ngsi_ld_null(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    colour = {"type": "Property", "value": "red"}
    r = client.post(
        MERGE,
        json=[
            {
                "id": entity["id"],
                "type": "Vehicle",
                "colour": colour,
                "speed": {"type": "Property", "value": 5},
                "brandName": {"type": "Property", "value": NULL},
            }
        ],
    )
    assert r.status == 204, r
    got = client.entity(entity["id"])
    assert "brandName" not in got
    assert got["colour"] == colour
    assert got["speed"] == {"type": "Property", "value": 5, "unitCode": "KMH"}
    assert got["isParked"] == entity["isParked"]


def test_batch_merge_of_a_missing_entity_is_207_for_it_alone(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    missing = new_id()
    r = client.post(
        MERGE,
        json=[
            {"id": missing, "speed": {"type": "Property", "value": 1}},
            {"id": entity["id"], "speed": {"type": "Property", "value": 2}},
        ],
    )
    assert r.status == 207, r
    body = r.json()
    assert body["success"] == [entity["id"]]
    assert body["errors"][0]["entityId"] == missing
    assert body["errors"][0]["error"]["type"] == ERRORS + "ResourceNotFound"
    assert not client.exists(missing)
    assert client.entity(entity["id"])["speed"]["value"] == 2


def test_batch_merge_of_one_id_twice_applies_both_in_order(client: Client) -> None:
    entity = vehicle()
    client.create(entity)
    r = client.post(
        MERGE,
        json=[
            {"id": entity["id"], "speed": {"type": "Property", "value": 1}},
            {"id": entity["id"], "speed": {"type": "Property", "value": NULL}},
        ],
    )
    assert r.status == 204, r
    assert "speed" not in client.entity(entity["id"])
