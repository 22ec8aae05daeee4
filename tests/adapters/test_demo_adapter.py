"""The demo adapter against a real `agora serve`, through the test kit."""

from __future__ import annotations

import pytest

from adapters.demo import plugin
from adapters.demo.readings import entity_context, reading_to_entity
from adapters.demo.sensors import SimulatedSensors
from adapters.sdk import ConfigError
from adapters.sdk.testing import AgoraBroker, replay, run_adapter
from data_models.validate import validate

WEATHER = "https://smartdatamodels.org/dataModel.Weather/WeatherObserved"
PARKING = "https://smartdatamodels.org/dataModel.Parking/ParkingSpot"
TEMPERATURE = "https://smartdatamodels.org/dataModel.Weather/temperature"
RECORDED = "tests/adapters/recorded/weather-readings.jsonl"


async def test_simulated_weather_stations_appear_in_the_broker(
    agora_broker: AgoraBroker, agora_tenant: str
) -> None:
    config = {"sensors": 4, "interval": 0.1, "site": "s1", "tenant": agora_tenant, "seed": 1}
    async with run_adapter(plugin, config, agora_broker.url) as (_, ctx):
        found = await agora_broker.wait_for_entities(4, type=WEATHER, tenant=agora_tenant)
    assert sorted(e["id"] for e in found) == [
        f"urn:ngsi-ld:WeatherObserved:s1-{n}" for n in range(1, 5)
    ]
    assert all(TEMPERATURE in e for e in found)
    assert ctx.counters.snapshot()["errors"] == 0


async def test_simulated_parking_spots_are_valid_smart_data_models(
    agora_broker: AgoraBroker, agora_tenant: str
) -> None:
    config = {"sensors": 2, "kind": "ParkingSpot", "interval": 60, "tenant": agora_tenant}
    async with run_adapter(plugin, config, agora_broker.url) as (adapter, _):
        found = await agora_broker.wait_for_entities(2, type=PARKING, tenant=agora_tenant)
    assert {e["type"] for e in found} == {PARKING}
    # what the adapter publishes, checked against the bundled model
    assert isinstance(adapter, SimulatedSensors)
    for sensor in ("1", "2"):
        assert validate(reading_to_entity(adapter.reading(sensor), "demo")) == []


async def test_recorded_readings_replayed_become_entities_and_a_bad_one_an_error(
    agora_broker: AgoraBroker, agora_tenant: str
) -> None:
    config = {"interval": 3600, "site": "rec", "tenant": agora_tenant, "sensors": 1}
    async with run_adapter(plugin, config, agora_broker.url) as (adapter, ctx):
        assert await replay(adapter, RECORDED) == 4
        await ctx.flush()
    entity = await agora_broker.entity(
        "urn:ngsi-ld:WeatherObserved:rec-valencia-1", tenant=agora_tenant
    )
    assert entity is not None
    assert entity[TEMPERATURE]["value"] == 14.9  # the later reading of the same station won
    assert await agora_broker.entity(
        "urn:ngsi-ld:WeatherObserved:rec-valencia-3", tenant=agora_tenant
    ) is None
    counts = ctx.counters.snapshot()
    # 4 recorded messages and the simulated sensor's first reading
    assert counts["messages_in"] == 5 and counts["errors"] == 1


def test_the_demo_configuration_error_names_the_field() -> None:
    with pytest.raises(ConfigError, match=r"^sensors: expected an integer"):
        plugin.configure({"sensors": "many"})
    with pytest.raises(ConfigError, match="sensors must be at least 1"):
        plugin.configure({"sensors": 0})


def test_the_inline_context_is_the_bundled_model_context() -> None:
    assert entity_context("WeatherObserved")["WeatherObserved"] == WEATHER
