"""The demo adapter: simulated sensors that publish a reading each every `interval`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from datetime import UTC, datetime
from typing import Any

from adapters.demo.config import DemoConfig
from adapters.demo.readings import BadReading, entity_context, reading_to_entity
from adapters.sdk import AdapterContext


class SimulatedSensors:
    def __init__(self, config: DemoConfig) -> None:
        self.config = config
        self.random = random.Random(config.seed)
        self.ctx: AdapterContext | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self, ctx: AdapterContext) -> None:
        self.ctx = ctx
        self.task = asyncio.create_task(self.simulate())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    async def handle_message(self, payload: bytes, topic: str | None = None) -> None:
        """One reading, as JSON: the path a real protocol's messages take."""
        assert self.ctx is not None, "start the adapter first"
        self.ctx.message_received()
        try:
            reading = json.loads(payload)
            if not isinstance(reading, dict):
                raise BadReading("a reading is a JSON object")
            entity = reading_to_entity(reading, self.config.site)
        except (ValueError, BadReading) as exc:
            self.ctx.error("bad reading %r: %s", payload[:100], exc)
            return
        self.ctx.publish(
            entity, tenant=self.config.tenant, context=dict(entity_context(entity["type"]))
        )

    async def simulate(self) -> None:
        while True:
            for sensor in range(1, self.config.sensors + 1):
                payload = json.dumps(self.reading(str(sensor))).encode()
                await self.handle_message(payload)
            await asyncio.sleep(self.config.interval)

    def reading(self, sensor: str) -> dict[str, Any]:
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        base = {
            "sensor": sensor,
            "at": at,
            "lat": round(self.config.latitude + self.random.uniform(-0.01, 0.01), 6),
            "lon": round(self.config.longitude + self.random.uniform(-0.01, 0.01), 6),
        }
        if self.config.kind == "ParkingSpot":
            return base | {"occupied": self.random.random() < 0.6}
        return base | {
            "temperature": round(self.random.gauss(15.0, 5.0), 1),
            "humidity": round(self.random.uniform(0.2, 0.95), 2),
        }
