"""Delivery to a real `agora serve`: retried while it is down, delivered once it is up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from adapters.sdk import AdapterContext, AdapterMetrics, PublishSettings
from adapters.sdk.testing import AgoraBroker


def thing(n: int) -> dict[str, object]:
    return {"id": f"urn:ngsi-ld:Thing:{n}", "type": "Thing",
            "n": {"type": "Property", "value": n}}


async def test_entities_published_while_the_broker_is_down_arrive_when_it_comes_up(
    agora_broker_factory: Callable[[], AgoraBroker],
) -> None:
    broker = agora_broker_factory()  # not started yet
    settings = PublishSettings(batch_size=10, flush_interval=0.05, retry_initial=0.05,
                               retry_max=0.2)
    ctx = AdapterContext("late", broker.url, settings=settings, metrics=AdapterMetrics())
    async with ctx:
        ctx.publish_many(thing(n) for n in range(25))
        deadline = time.monotonic() + 5
        while ctx.counters.snapshot()["errors"] < 2:  # it has tried, and failed, twice
            assert time.monotonic() < deadline, "the publisher never tried the broker"
            await asyncio.sleep(0.02)
        await asyncio.to_thread(broker.start)
        found = await broker.wait_for_entities(25, type="https://uri.etsi.org/ngsi-ld/default-context/Thing")
    assert sorted(e["id"] for e in found) == sorted(f"urn:ngsi-ld:Thing:{n}" for n in range(25))
    counts = ctx.counters.snapshot()
    assert counts["entities_out"] == 25 and counts["dropped"] == 0
