"""The provisioning API on port 4041, as FIWARE IoT Agent clients call it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from adapters.iot_agent.northbound import provisioning_app
from adapters.iot_agent.registry import Registry

Client = TestClient[Any, Any]
CITY = {"Fiware-Service": "valencia", "Fiware-ServicePath": "/"}
GROUP = {
    "apikey": "4jggokgpepnvsb2uv4s40d59ov",
    "cbroker": "http://orion:1026",
    "entity_type": "WeatherObserved",
    "resource": "/iot/json",
    "attributes": [
        {"object_id": "t", "name": "temperature", "type": "Number",
         "metadata": {"unitCode": {"type": "Text", "value": "CEL"}}},
    ],
    "static_attributes": [{"name": "dataProvider", "type": "Text", "value": "city"}],
}
DEVICE = {
    "device_id": "station001",
    "entity_name": "urn:ngsi-ld:WeatherObserved:station001",
    "entity_type": "WeatherObserved",
    "protocol": "PDI-IoTA-UltraLight",
    "transport": "MQTT",
    "timezone": "Europe/Madrid",
    "attributes": [{"object_id": "h", "name": "relativeHumidity", "type": "Number"}],
}


@pytest.fixture
def registry() -> Registry:
    return Registry()


@pytest.fixture
async def api(
    registry: Registry, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> Client:
    return await aiohttp_client(provisioning_app(registry, 4041))


async def test_a_group_posted_to_groups_is_listed_with_its_count(api: Client) -> None:
    response = await api.post("/iot/groups", json={"groups": [GROUP]}, headers=CITY)
    assert response.status == 201
    listing = await (await api.get("/iot/groups", headers=CITY)).json()
    assert listing["count"] == 1
    shown = listing["groups"][0]
    assert shown["apikey"] == GROUP["apikey"] and shown["entity_type"] == "WeatherObserved"
    assert shown["attributes"][0]["metadata"]["unitCode"]["value"] == "CEL"
    assert shown["cbroker"] == "http://orion:1026"


async def test_the_older_services_path_shows_the_same_groups(api: Client) -> None:
    assert (await api.post("/iot/services", json={"services": [GROUP]}, headers=CITY)).status == 201
    listing = await (await api.get("/iot/services", headers=CITY)).json()
    assert listing["count"] == 1 and listing["services"][0]["resource"] == "/iot/json"
    groups = await (await api.get("/iot/groups", headers=CITY)).json()
    assert groups["groups"][0]["apikey"] == GROUP["apikey"]


async def test_a_second_group_with_the_same_key_and_resource_is_a_conflict(api: Client) -> None:
    await api.post("/iot/groups", json={"groups": [GROUP]}, headers=CITY)
    response = await api.post("/iot/groups", json={"groups": [GROUP]}, headers=CITY)
    assert response.status == 409
    assert (await response.json())["name"] == "DUPLICATE_GROUP"


async def test_a_malformed_group_is_refused_naming_the_member(api: Client) -> None:
    bad = GROUP | {"attributes": [{"object_id": 5}]}
    response = await api.post("/iot/groups", json={"groups": [bad]}, headers=CITY)
    assert response.status == 400
    body = await response.json()
    assert body["name"] == "WRONG_SYNTAX" and "groups[0].attributes[0].object_id" in body["message"]
    assert (await (await api.get("/iot/groups", headers=CITY)).json())["count"] == 0


async def test_a_group_is_updated_and_deleted_by_apikey_and_resource(api: Client) -> None:
    await api.post("/iot/groups", json={"groups": [GROUP]}, headers=CITY)
    query = {"apikey": GROUP["apikey"], "resource": "/iot/json"}
    response = await api.put("/iot/groups", params=query, json={"entity_type": "Device"},
                             headers=CITY)
    assert response.status == 204
    listing = await (await api.get("/iot/groups", headers=CITY)).json()
    assert listing["groups"][0]["entity_type"] == "Device"
    assert (await api.delete("/iot/groups", params=query, headers=CITY)).status == 204
    assert (await (await api.get("/iot/groups", headers=CITY)).json())["count"] == 0
    missing = await api.delete("/iot/groups", params=query, headers=CITY)
    assert missing.status == 404 and (await missing.json())["name"] == "DEVICE_GROUP_NOT_FOUND"


async def test_devices_are_created_read_updated_and_deleted(api: Client) -> None:
    assert (await api.post("/iot/devices", json={"devices": [DEVICE]}, headers=CITY)).status == 201
    shown = await (await api.get("/iot/devices/station001", headers=CITY)).json()
    assert shown["entity_name"] == DEVICE["entity_name"]
    assert shown["attributes"] == [{"object_id": "h", "name": "relativeHumidity", "type": "Number"}]
    assert shown["timezone"] == "Europe/Madrid"
    response = await api.put("/iot/devices/station001", json={"entity_type": "Device"},
                             headers=CITY)
    assert response.status == 204
    assert (await (await api.get("/iot/devices/station001", headers=CITY)).json())[
        "entity_type"] == "Device"
    assert (await api.delete("/iot/devices/station001", headers=CITY)).status == 204
    gone = await api.get("/iot/devices/station001", headers=CITY)
    assert gone.status == 404 and (await gone.json())["name"] == "DEVICE_NOT_FOUND"


async def test_a_duplicate_device_id_is_a_conflict(api: Client) -> None:
    await api.post("/iot/devices", json={"devices": [DEVICE]}, headers=CITY)
    response = await api.post("/iot/devices", json={"devices": [DEVICE]}, headers=CITY)
    assert response.status == 409 and (await response.json())["name"] == "DUPLICATE_DEVICE_ID"


async def test_device_listing_pages_with_limit_and_offset(api: Client) -> None:
    devices = [{"device_id": f"d{n}"} for n in range(5)]
    await api.post("/iot/devices", json={"devices": devices}, headers=CITY)
    page = await (await api.get("/iot/devices", params={"limit": "2", "offset": "1"},
                                headers=CITY)).json()
    assert page["count"] == 5 and [d["device_id"] for d in page["devices"]] == ["d1", "d2"]


async def test_one_service_never_sees_another_s_devices(api: Client) -> None:
    await api.post("/iot/devices", json={"devices": [DEVICE]}, headers=CITY)
    other = {"Fiware-Service": "madrid", "Fiware-ServicePath": "/"}
    assert (await (await api.get("/iot/devices", headers=other)).json())["count"] == 0
    assert (await api.get("/iot/devices/station001", headers=other)).status == 404


async def test_provisioned_devices_outlive_a_restart(
    tmp_path: Path, aiohttp_client: Callable[[web.Application], Awaitable[Client]]
) -> None:
    path = tmp_path / "iot-agent.db"
    first = Registry(path)
    api = await aiohttp_client(provisioning_app(first, 4041))
    await api.post("/iot/devices", json={"devices": [DEVICE]}, headers=CITY)
    await api.close()
    first.close()
    again = await aiohttp_client(provisioning_app(Registry(path), 4041))
    shown = await (await again.get("/iot/devices/station001", headers=CITY)).json()
    assert shown["entity_name"] == DEVICE["entity_name"]


async def test_a_body_that_is_not_json_is_wrong_syntax(api: Client) -> None:
    response = await api.post("/iot/devices", data=b"{nope", headers=CITY)
    assert response.status == 400 and (await response.json())["name"] == "WRONG_SYNTAX"
