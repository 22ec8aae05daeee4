"""The iot-agent adapter as a device and an operator meet it: provision over the API, send
measures over HTTP or MQTT topics, and see what reaches the broker."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from adapters.iot_agent import plugin
from adapters.iot_agent.agent import IotAgent
from adapters.sdk import AdapterContext, PublishSettings
from adapters.sdk.testing import free_port, run_adapter
from tests.adapters.conftest import RecordingBroker

APIKEY = "4jggokgpepnvsb2uv4s40d59ov"
CITY = {"Fiware-Service": "valencia", "Fiware-ServicePath": "/"}
SDM_WEATHER = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Weather/master/context.jsonld"
)
GROUP = {
    "apikey": APIKEY,
    "resource": "/iot/json",
    "entity_type": "WeatherObserved",
    "attributes": [
        {"object_id": "t", "name": "temperature", "type": "Number",
         "metadata": {"unitCode": {"type": "Text", "value": "CEL"}}},
        {"object_id": "h", "name": "relativeHumidity", "type": "Number"},
    ],
    "static_attributes": [{"name": "dataProvider", "type": "Text", "value": "Valencia"}],
}


class Running:
    def __init__(self, agent: IotAgent, ctx: AdapterContext) -> None:
        self.agent, self.ctx = agent, ctx
        self.api = f"http://127.0.0.1:{agent.ports['provisioning']}"
        self.south = f"http://127.0.0.1:{agent.ports['http']}"

    async def provision(self, member: str, items: list[dict[str, Any]]) -> None:
        path = "/iot/groups" if member == "groups" else "/iot/devices"
        async with aiohttp.ClientSession() as session, session.post(
            self.api + path, json={member: items}, headers=CITY
        ) as answer:
            assert answer.status == 201, await answer.text()

    async def send(self, method: str, path: str, *, status: int = 200, **kw: Any) -> Any:
        async with aiohttp.ClientSession() as session, session.request(
            method, self.south + path, **kw
        ) as answer:
            assert answer.status == status, await answer.text()
            return await answer.json() if answer.content_type == "application/json" else None


@pytest.fixture
async def running(recording_broker: RecordingBroker) -> AsyncIterator[Running]:
    config = {"mqtt_url": "", "registry": ":memory:", "provisioning_host": "127.0.0.1",
              "provisioning_port": free_port(), "http_host": "127.0.0.1",
              "http_port": free_port()}
    settings = PublishSettings(batch_size=100, flush_interval=0.05)
    async with run_adapter(plugin, config, recording_broker.url, settings=settings) as (
        adapter, ctx,
    ):
        assert isinstance(adapter, IotAgent)
        yield Running(adapter, ctx)


async def test_a_json_measure_over_http_becomes_a_smart_data_models_entity(
    running: Running, recording_broker: RecordingBroker
) -> None:
    await running.provision("groups", [GROUP])
    await running.send("POST", "/iot/json", params={"k": APIKEY, "i": "station001"},
                       json={"t": 21.5, "h": 0.61, "TimeInstant": "2026-12-02T10:00:00Z"})
    [request] = await recording_broker.wait_for_requests(1)
    assert request.tenant == "valencia"
    assert request.link is not None and SDM_WEATHER in request.link
    [entity] = request.body
    assert entity["id"] == "urn:ngsi-ld:WeatherObserved:station001"
    assert entity["type"] == "WeatherObserved"
    assert entity["temperature"]["value"] == 21.5
    assert entity["temperature"]["unitCode"] == "CEL"
    assert entity["temperature"]["observedAt"].startswith("2026-12-02T10:00:00")
    assert entity["relativeHumidity"]["value"] == 0.61
    assert entity["dataProvider"]["value"] == "Valencia"
    assert entity["refDevice"] == {
        "type": "Relationship", "object": "urn:ngsi-ld:Device:station001",
    }
    assert "TimeInstant" not in entity


async def test_ultralight_updates_separated_by_hash_arrive_in_order(
    running: Running, recording_broker: RecordingBroker
) -> None:
    await running.provision("groups", [GROUP | {"resource": "/iot/d"}])
    await running.send("GET", "/iot/d", params={"k": APIKEY, "i": "s2", "d": "t|20.0#t|20.5"})
    await recording_broker.wait_for_requests(1)
    values = [e["temperature"]["value"] for r in recording_broker.requests for e in r.body]
    assert values == [20.0, 20.5]


async def test_a_provisioned_entity_name_and_device_attributes_win_over_the_group_s(
    running: Running, recording_broker: RecordingBroker
) -> None:
    await running.provision("groups", [GROUP])
    await running.provision("devices", [{
        "device_id": "station9", "entity_name": "urn:ngsi-ld:WeatherObserved:plaza",
        "attributes": [{"object_id": "t", "name": "airTemperature", "type": "Number"}],
    }])
    await running.send("POST", "/iot/json", params={"k": APIKEY, "i": "station9"},
                       json={"t": 3})
    [request] = await recording_broker.wait_for_requests(1)
    [entity] = request.body
    assert entity["id"] == "urn:ngsi-ld:WeatherObserved:plaza"
    assert entity["airTemperature"]["value"] == 3
    assert "temperature" not in entity


async def test_an_unknown_api_key_is_refused_counted_and_logged_and_the_agent_goes_on(
    running: Running, recording_broker: RecordingBroker, caplog: pytest.LogCaptureFixture
) -> None:
    await running.provision("groups", [GROUP])
    with caplog.at_level(logging.ERROR, "agora.adapters"):
        body = await running.send("POST", "/iot/json", params={"k": "nope", "i": "d1"},
                                  json={"t": 1}, status=404)
    assert body["name"] == "DEVICE_GROUP_NOT_FOUND"
    assert "nope" in caplog.text
    await running.send("POST", "/iot/json", params={"k": APIKEY, "i": "d1"}, json={"t": 2})
    await recording_broker.wait_for_requests(1)
    counts = running.ctx.counters.snapshot()
    assert counts["errors"] == 1 and counts["messages_in"] == 2


async def test_a_malformed_payload_is_a_bad_request_and_nothing_is_published(
    running: Running, recording_broker: RecordingBroker
) -> None:
    await running.provision("groups", [GROUP])
    await running.send("POST", "/iot/json", params={"k": APIKEY, "i": "d1"},
                       data=b"{not json", status=400)
    await running.send("GET", "/iot/d", params={"k": APIKEY}, status=400)
    await running.ctx.flush()
    assert recording_broker.requests == []
    assert running.ctx.counters.snapshot()["errors"] == 2


async def test_a_group_without_autoprovision_refuses_unknown_devices(
    running: Running, recording_broker: RecordingBroker
) -> None:
    await running.provision("groups", [GROUP | {"autoprovision": False}])
    await running.send("POST", "/iot/json", params={"k": APIKEY, "i": "stranger"},
                       json={"t": 1}, status=404)
    await running.provision("devices", [{"device_id": "known", "apikey": APIKEY}])
    await running.send("POST", "/iot/json", params={"k": APIKEY, "i": "known"}, json={"t": 1})
    [request] = await recording_broker.wait_for_requests(1)
    assert [e["id"] for e in request.body] == ["urn:ngsi-ld:WeatherObserved:known"]


async def test_a_first_message_provisions_the_device(running: Running) -> None:
    await running.provision("groups", [GROUP])
    await running.send("POST", "/iot/json", params={"k": APIKEY, "i": "newcomer"},
                       json={"t": 1})
    async with aiohttp.ClientSession() as session, session.get(
        running.api + "/iot/devices/newcomer", headers=CITY
    ) as answer:
        assert answer.status == 200
        assert (await answer.json())["device_id"] == "newcomer"


async def test_explicit_attrs_leaves_out_what_nobody_provisioned(
    running: Running, recording_broker: RecordingBroker
) -> None:
    await running.provision("groups", [GROUP | {"explicitAttrs": True}])
    await running.send("POST", "/iot/json", params={"k": APIKEY, "i": "d1"},
                       json={"t": 1, "battery": 0.9})
    [request] = await recording_broker.wait_for_requests(1)
    [entity] = request.body
    assert "temperature" in entity and "battery" not in entity


@pytest.mark.parametrize(
    ("topic", "payload"),
    [
        (f"/json/{APIKEY}/d1/attrs", b'{"t": 19.5}'),
        (f"/ul/{APIKEY}/d1/attrs", b"t|19.5"),
        (f"/json/{APIKEY}/d1/attrs/t", b"19.5"),
        (f"/{APIKEY}/d1/attrs", b'{"t": 19.5}'),
    ],
)
async def test_each_measures_topic_reaches_the_entity(
    running: Running, recording_broker: RecordingBroker, topic: str, payload: bytes
) -> None:
    await running.provision("groups", [GROUP])
    await running.agent.handle_message(payload, topic)
    [request] = await recording_broker.wait_for_requests(1)
    assert request.body[0]["temperature"]["value"] == 19.5


async def test_a_message_on_a_topic_that_is_not_a_measures_topic_is_counted(
    running: Running,
) -> None:
    await running.agent.handle_message(b"x", "/json/k/d/cmdexe")
    assert running.ctx.counters.snapshot()["errors"] == 1
