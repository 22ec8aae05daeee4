"""For the MQTT notification tests: an MQTT server on a free loopback port (Mosquitto, or
amqtt where the binary is missing: conformance_tests/mqtt_server.py; never the system's) and
an MQTT subscriber that records what arrives."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiomqtt
import orjson
import pytest

from conformance_tests.mqtt_server import MQTT_PASSWORD as PASSWORD
from conformance_tests.mqtt_server import MQTT_USER as USER
from conformance_tests.mqtt_server import MqttServer, NoMqttServer, mqtt_server, mqtt_server_kind
from conformance_tests.tls import ServerCert


@contextlib.contextmanager
def started_mqtt_server(tls: Sequence[ServerCert] = ()) -> Iterator[MqttServer]:
    try:
        kind = mqtt_server_kind()
    except NoMqttServer as exc:
        pytest.skip(str(exc))
    with mqtt_server(tls, kind=kind) as server:
        yield server


def require_version(server: MqttServer, version: str) -> None:
    if version not in server.versions:
        pytest.skip(f"{server.kind} does not speak {version}")


__all__ = [
    "PASSWORD",
    "USER",
    "MqttServer",
    "require_version",
    "started_mqtt_server",
    "subscriber",
]


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
async def subscriber(server: MqttServer, topic: str = "#") -> AsyncIterator[Subscriber]:
    """Records every message published under `topic` (QoS 2 subscription: each message
    arrives with the QoS it was published with, where `server.forwards_publish_qos`)."""
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
