"""For the MQTT notification tests: a Mosquitto server on a free loopback port (started by
the test, never the system's; skipped without the binary) and an MQTT subscriber that
records what arrives."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiomqtt
import orjson
import pytest

from conformance_tests import servers
from conformance_tests.servers import MQTT_PASSWORD as PASSWORD
from conformance_tests.servers import MQTT_USER as USER
from conformance_tests.servers import Mosquitto


@contextlib.contextmanager
def mosquitto_server() -> Iterator[Mosquitto]:
    if servers.mosquitto_binary() is None:
        pytest.skip("no mosquitto binary")
    with servers.mosquitto_server() as server:
        yield server


__all__ = ["PASSWORD", "USER", "Mosquitto", "mosquitto_server", "subscriber"]


@dataclass
class Message:
    topic: str
    payload: Any
    qos: int


@dataclass
class Subscriber:
    messages: list[Message] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def on(self, topic: str) -> list[Message]:
        return [m for m in self.messages if m.topic == topic]

    async def wait_for(self, topic: str, count: int = 1, within: float = 10.0) -> list[Message]:
        async def enough() -> None:
            while len(self.on(topic)) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(enough(), within)
        return self.on(topic)


@contextlib.asynccontextmanager
async def subscriber(server: Mosquitto, topic: str = "#") -> AsyncIterator[Subscriber]:
    """Records every message published under `topic` (QoS 2 subscription: each message
    arrives with the QoS it was published with)."""
    found = Subscriber()
    async with aiomqtt.Client("127.0.0.1", server.port) as client:
        await client.subscribe(topic, qos=2)

        async def listen() -> None:
            async for message in client.messages:
                payload = message.payload
                assert isinstance(payload, bytes | bytearray)
                found.messages.append(
                    Message(str(message.topic), orjson.loads(payload), message.qos)
                )
                found.arrived.set()

        task = asyncio.create_task(listen())
        try:
            yield found
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
