"""The test shown in docs/writing-an-adapter.md: an adapter tested with the kit."""

from adapters.demo import plugin
from adapters.sdk.testing import AgoraBroker, replay, run_adapter

WEATHER = "https://smartdatamodels.org/dataModel.Weather/WeatherObserved"


async def test_recorded_readings_become_weather_entities(
    agora_broker: AgoraBroker, agora_tenant: str
) -> None:
    config = {"site": "doc", "interval": 3600, "tenant": agora_tenant}
    async with run_adapter(plugin, config, agora_broker.url) as (adapter, ctx):
        await replay(adapter, "tests/adapters/recorded/weather-readings.jsonl")
        await ctx.flush()
    found = await agora_broker.entities(type=WEATHER, tenant=agora_tenant)
    assert "urn:ngsi-ld:WeatherObserved:doc-valencia-2" in {e["id"] for e in found}
    assert ctx.counters.snapshot()["errors"] == 1  # the recording holds one bad reading
