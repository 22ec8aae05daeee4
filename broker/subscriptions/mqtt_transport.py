"""Notifications over MQTT (clause 7, the MQTT notification binding), through aiomqtt.

The message published on the endpoint's topic is a JSON object: `metadata`, what HTTP would
send as headers (Content-Type, Link, NGSILD-Tenant, the receiverInfo pairs), and `body`, the
Notification (clause 5.3.1). It is published with the endpoint's `MQTT-QoS` (0, 1, 2); QoS 1
and 2 count as delivered once the MQTT server acknowledged the message.

One connection per MQTT server, credentials and protocol version (`MqttBroker`), opened at
the first notification and shared by every subscription that names it. A connection that
fails is dropped; the next attempt reconnects, no sooner than `mqtt_reconnect_backoff`
seconds after the last failed connect, doubling up to `mqtt_reconnect_backoff_max`, so a
dead server costs one connect attempt per backoff period, not one per notification.

Unless `allow_private_urls`, the host must resolve only to public addresses, checked at each
connect (plain MQTT connects to the address that was checked).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
import uuid
from typing import Any

import aiomqtt
import orjson

from broker.metrics import Metrics
from broker.netguard import UrlNotAllowed, public_address
from broker.settings import Settings
from broker.subscriptions.mqtt_endpoint import MqttBroker, MqttEndpoint, mqtt_endpoint
from broker.subscriptions.notification import Outbound

log = logging.getLogger(__name__)

_PROTOCOLS = {
    "mqtt3.1.1": aiomqtt.ProtocolVersion.V311,
    "mqtt5.0": aiomqtt.ProtocolVersion.V5,
}


def mqtt_message(outbound: Outbound) -> bytes:
    """The MQTT binding's message: {"metadata": headers, "body": Notification}."""
    return orjson.dumps({"metadata": outbound.headers, "body": orjson.Fragment(outbound.body)})


class MqttConnection:
    """One client connection to one MQTT server, connected on demand."""

    def __init__(
        self,
        broker: MqttBroker,
        settings: Settings,
        metrics: Metrics,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.broker = broker
        self._settings = settings
        self._tls = tls
        self._metrics = metrics
        self._client: aiomqtt.Client | None = None
        self._lock = asyncio.Lock()
        self._retry_at = 0.0
        self._backoff = settings.mqtt_reconnect_backoff

    @property
    def connected(self) -> bool:
        return self._client is not None

    async def publish(self, topic: str, payload: bytes, qos: int, seconds: float) -> bool:
        client = await self._connected(seconds)
        if client is None:
            return False
        try:
            await client.publish(topic, payload, qos=qos, timeout=seconds)
            return True
        except (aiomqtt.MqttError, TimeoutError) as exc:
            log.info("MQTT publish to %s failed: %r", self.broker.key, exc)
            await self._drop(client)
            return False

    async def _connected(self, seconds: float) -> aiomqtt.Client | None:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is not None:
                return self._client
            if time.monotonic() < self._retry_at:
                return None
            try:
                client = await asyncio.wait_for(self._connect(seconds), seconds)
            except (aiomqtt.MqttError, OSError, TimeoutError, UrlNotAllowed) as exc:
                log.info("MQTT connect to %s failed: %r", self.broker.key, exc)
                self._retry_at = time.monotonic() + self._backoff
                self._backoff = min(self._backoff * 2, self._settings.mqtt_reconnect_backoff_max)
                self._metrics.mqtt_connect_failures.inc()
                return None
            self._backoff = self._settings.mqtt_reconnect_backoff
            self._client = client
            self._metrics.mqtt_connections.inc()
            return client

    async def _connect(self, seconds: float) -> aiomqtt.Client:
        broker = self.broker
        host = broker.host
        if not self._settings.allow_private_urls:
            address = await public_address(host, broker.port)
            if not broker.tls:
                host = address
        client = aiomqtt.Client(
            host,
            broker.port,
            username=broker.username,
            password=broker.password,
            identifier=f"agora-{uuid.uuid4().hex[:12]}",
            protocol=_PROTOCOLS[broker.version],
            tls_context=self._tls_context() if broker.tls else None,
            timeout=seconds,
            keepalive=self._settings.mqtt_keepalive,
        )
        await client.__aenter__()
        return client

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls

    async def _drop(self, client: aiomqtt.Client) -> None:
        async with self._lock:
            if self._client is client:
                self._client = None
                self._metrics.mqtt_connections.dec()
        await _close(client)

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            self._metrics.mqtt_connections.dec()
            await _close(client)


async def _close(client: aiomqtt.Client) -> None:
    try:
        await asyncio.wait_for(client.__aexit__(None, None, None), 2.0)
    except Exception as exc:  # a connection already lost cannot be closed cleanly
        log.debug("MQTT disconnect: %r", exc)


class MqttTransport:
    def __init__(
        self, settings: Settings, metrics: Metrics, tls: ssl.SSLContext | None = None
    ) -> None:
        """`tls`: the client context for mqtts:// (default: the system trust store)."""
        self._settings = settings
        self._metrics = metrics
        self._tls = tls
        self._connections: dict[str, MqttConnection] = {}
        self._endpoints: dict[tuple[str, bytes], MqttEndpoint] = {}

    def endpoint(self, endpoint: dict[str, Any]) -> MqttEndpoint:
        cache_key = (endpoint["uri"], orjson.dumps(endpoint.get("notifierInfo")))
        found = self._endpoints.get(cache_key)
        if found is None:
            if len(self._endpoints) > 10_000:
                self._endpoints.clear()
            found = self._endpoints[cache_key] = mqtt_endpoint(endpoint)
        return found

    def queue_key(self, endpoint: dict[str, Any]) -> str:
        return self.endpoint(endpoint).broker.key

    def connections(self) -> list[MqttConnection]:
        return list(self._connections.values())

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        connections = list(self._connections.values())
        self._connections.clear()
        await asyncio.gather(*(c.close() for c in connections))

    async def send(self, outbound: Outbound, endpoint: dict[str, Any], seconds: float) -> bool:
        target = self.endpoint(endpoint)
        connection = self._connections.get(target.broker.key)
        if connection is None:
            connection = MqttConnection(
                target.broker, self._settings, self._metrics, self._tls
            )
            self._connections[target.broker.key] = connection
        return await connection.publish(target.topic, mqtt_message(outbound), target.qos, seconds)
