"""End to end: a real MQTT server, a real Agora broker validating writes against the bundled
Smart Data Models, and the iot-agent between them. Devices are provisioned over the API and
publish JSON and UltraLight measures; the entities appear in Agora as their models say."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import aiohttp
import aiomqtt
import pytest

from adapters.iot_agent import plugin
from adapters.iot_agent.agent import IotAgent
from adapters.sdk import AdapterContext, PublishSettings
from adapters.sdk.testing import AgoraBroker, free_port, run_adapter
from conformance_tests.mqtt_server import MqttServer, mqtt_server
from data_models.validate import validate

TENANT = "valencia"
SCOPE = {"Fiware-Service": TENANT, "Fiware-ServicePath": "/"}
WEATHER_CONTEXT = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Weather/master/context.jsonld"
)
ENVIRONMENT_CONTEXT = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Environment/master/"
    "context.jsonld"
)
VALENCIA = {"type": "Point", "coordinates": [-0.3763, 39.4699]}


@pytest.fixture(scope="module")
def mqtt() -> Iterator[MqttServer]:
    with mqtt_server() as server:
        yield server


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgoraBroker]:
    server = AgoraBroker(tmp_path_factory.mktemp("agora"))
    with mock.patch.dict(os.environ, {"AGORA_VALIDATION": "enforce"}):
        server.start()
    try:
        yield server
    finally:
        server.stop()


class Agent:
    def __init__(self, agent: IotAgent, ctx: AdapterContext, mqtt: MqttServer) -> None:
        self.agent, self.ctx, self.mqtt = agent, ctx, mqtt
        self.api = f"http://127.0.0.1:{agent.ports['provisioning']}"

    async def provision(self, path: str, member: str, items: list[dict[str, Any]]) -> None:
        async with aiohttp.ClientSession() as session, session.post(
            self.api + path, json={member: items}, headers=SCOPE
        ) as answer:
            assert answer.status == 201, await answer.text()

    async def publish(self, topic: str, payload: bytes) -> None:
        async with aiomqtt.Client("127.0.0.1", self.mqtt.port) as client:
            await client.publish(topic, payload, qos=1)


@pytest.fixture
async def agent(
    mqtt: MqttServer, broker: AgoraBroker, tmp_path: Path
) -> AsyncIterator[Agent]:
    config = {"mqtt_url": mqtt.url, "mqtt_qos": 1, "registry": str(tmp_path / "r.db"),
              "provisioning_host": "127.0.0.1", "provisioning_port": free_port(),
              "http_port": 0}
    settings = PublishSettings(flush_interval=0.05)
    async with run_adapter(plugin, config, broker.url, settings=settings) as (adapter, ctx):
        assert isinstance(adapter, IotAgent)
        await asyncio.wait_for(adapter.mqtt_ready.wait(), 10)
        yield Agent(adapter, ctx, mqtt)


async def wait_for(
    broker: AgoraBroker, entity_id: str, context: str, check: Any = None, within: float = 10
) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        entity = await broker.entity(entity_id, tenant=TENANT, context=context)
        if entity is not None and (check is None or check(entity)):
            return entity
        if time.monotonic() > deadline:
            raise AssertionError(f"{entity_id} did not arrive as expected: {entity}")
        await asyncio.sleep(0.05)


def without_context(entity: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entity.items() if k != "@context"}


async def test_json_measures_over_mqtt_become_a_valid_weather_observed(
    agent: Agent, broker: AgoraBroker
) -> None:
    await agent.provision("/iot/groups", "groups", [{
        "apikey": "weather-key", "resource": "/iot/json", "entity_type": "WeatherObserved",
        "attributes": [
            {"object_id": "t", "name": "temperature", "type": "Number",
             "metadata": {"unitCode": {"type": "Text", "value": "CEL"}}},
            {"object_id": "h", "name": "relativeHumidity", "type": "Number"},
        ],
    }])
    await agent.provision("/iot/devices", "devices", [{
        "device_id": "ws1", "protocol": "IoTA-JSON",
        "static_attributes": [{"name": "location", "type": "geo:json", "value": VALENCIA}],
    }])
    await agent.publish("/json/weather-key/ws1/attrs",
                        b'{"t": 21.5, "h": 0.61, "TimeInstant": "2026-12-02T09:00:00Z"}')
    entity = await wait_for(broker, "urn:ngsi-ld:WeatherObserved:ws1", WEATHER_CONTEXT)
    assert entity["type"] == "WeatherObserved"
    assert entity["temperature"]["value"] == 21.5
    assert entity["temperature"]["unitCode"] == "CEL"
    assert entity["temperature"]["observedAt"].startswith("2026-12-02T09:00:00")
    assert entity["relativeHumidity"]["value"] == 0.61
    assert entity["location"]["value"] == VALENCIA
    assert entity["refDevice"]["object"] == "urn:ngsi-ld:Device:ws1"
    assert validate(without_context(entity)) == []


async def test_ultralight_measures_over_mqtt_become_a_valid_air_quality_observed(
    agent: Agent, broker: AgoraBroker
) -> None:
    await agent.provision("/iot/groups", "groups", [{
        "apikey": "air-key", "resource": "/iot/d", "entity_type": "AirQualityObserved",
        "attributes": [
            {"object_id": "no2", "name": "NO2", "type": "Number",
             "metadata": {"unitCode": {"type": "Text", "value": "GQ"}}},
        ],
        "static_attributes": [{"name": "location", "type": "geo:json", "value": VALENCIA}],
    }])
    await agent.publish("/ul/air-key/aq1/attrs", b"2026-12-02T09:05:00Z|no2|41")
    entity = await wait_for(broker, "urn:ngsi-ld:AirQualityObserved:aq1", ENVIRONMENT_CONTEXT)
    assert entity["NO2"]["value"] == 41
    assert entity["NO2"]["unitCode"] == "GQ"
    assert entity["NO2"]["observedAt"].startswith("2026-12-02T09:05:00")
    assert validate(without_context(entity)) == []


async def test_a_measure_its_model_refuses_is_counted_and_changes_nothing(
    agent: Agent, broker: AgoraBroker
) -> None:
    await agent.provision("/iot/groups", "groups", [{
        "apikey": "strict-key", "resource": "/iot/json", "entity_type": "WeatherObserved",
        "attributes": [{"object_id": "h", "name": "relativeHumidity", "type": "Number"}],
        "static_attributes": [{"name": "location", "type": "geo:json", "value": VALENCIA}],
    }])
    await agent.publish("/json/strict-key/ws2/attrs", b'{"h": 0.5}')
    await wait_for(broker, "urn:ngsi-ld:WeatherObserved:ws2", WEATHER_CONTEXT)
    errors_before = agent.ctx.counters.snapshot()["errors"]
    await agent.publish("/json/strict-key/ws2/attrs", b'{"h": 60}')  # percent, not 0..1
    deadline = time.monotonic() + 10
    while agent.ctx.counters.snapshot()["errors"] == errors_before:
        assert time.monotonic() < deadline, "the refused measure was not counted"
        await asyncio.sleep(0.05)
    entity = await wait_for(broker, "urn:ngsi-ld:WeatherObserved:ws2", WEATHER_CONTEXT)
    assert entity["relativeHumidity"]["value"] == 0.5
