"""AdapterRuntime: one adapter failing to start is reported; the others run and flush."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from adapters.runtime.http import health_app
from adapters.runtime.runner import AdapterRuntime
from adapters.sdk import GROUP, AdapterContext, AdapterPlugin, ConfigError, Manifest, discover
from tests.adapters.conftest import RecordingBroker, entity


@dataclass(frozen=True)
class OneShotConfig:
    fail: bool = False


class OneShot:
    """Publishes one entity at start, or fails to start."""

    def __init__(self, config: OneShotConfig) -> None:
        self.config = config

    async def start(self, ctx: AdapterContext) -> None:
        if self.config.fail:
            raise ConnectionError("device gateway unreachable")
        ctx.message_received()
        ctx.publish(entity(1))

    async def stop(self) -> None:
        return None


one_shot = AdapterPlugin(Manifest(name="oneshot", version="1"), OneShotConfig, OneShot)
failing = AdapterPlugin(Manifest(name="failing", version="1"), OneShotConfig, OneShot)
POINTS = [
    EntryPoint(name="oneshot", value=f"{__name__}:one_shot", group=GROUP),
    EntryPoint(name="failing", value=f"{__name__}:failing", group=GROUP),
]


async def test_a_failing_adapter_makes_health_503_and_the_others_still_deliver(
    recording_broker: RecordingBroker,
    aiohttp_client: Callable[[web.Application], Awaitable[TestClient[Any, Any]]],
) -> None:
    runtime = AdapterRuntime.configure(
        discover(POINTS), ["oneshot", "failing"], recording_broker.url,
        {"failing": {"fail": True}, "publish": {"flush_interval": 60}},
    )
    client = await aiohttp_client(health_app(runtime))
    await runtime.start()
    answer = await client.get("/health")
    report = await answer.json()
    assert answer.status == 503 and report["status"] == "failing"
    assert report["adapters"]["failing"]["state"] == "failed"
    assert "device gateway unreachable" in report["adapters"]["failing"]["error"]
    assert report["adapters"]["oneshot"]["state"] == "running"
    assert report["adapters"]["oneshot"]["buffered"] == 1
    await runtime.stop()
    assert recording_broker.ids == ["urn:ngsi-ld:Thing:1"]
    metrics = await (await client.get("/metrics")).text()
    assert 'agora_adapter_entities_out_total{adapter="oneshot"} 1.0' in metrics
    assert 'agora_adapter_errors_total{adapter="failing"} 1.0' in metrics


def test_a_configuration_error_is_raised_before_anything_starts() -> None:
    with pytest.raises(ConfigError, match=r"^fail: expected true or false"):
        AdapterRuntime.configure(discover(POINTS), ["oneshot"], "http://127.0.0.1:1",
                                 {"oneshot": {"fail": "no"}})
    with pytest.raises(ConfigError, match=r"^batch_size: expected an integer"):
        AdapterRuntime.configure(discover(POINTS), ["oneshot"], "http://127.0.0.1:1",
                                 {"publish": {"batch_size": "big"}})
