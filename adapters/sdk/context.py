"""`AdapterContext`: what an adapter is given at start — publish entities, count messages
and errors, log."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from adapters.sdk.client import NgsiLdClient
from adapters.sdk.metrics import AdapterCounters, AdapterMetrics
from adapters.sdk.publisher import BatchPublisher, PublishSettings

JsonLdContext = str | Mapping[str, Any] | Sequence[Any]
"""A URL (sent in a Link header) or a context object / array (sent inline as `@context`)."""


class AdapterContext:
    """One adapter's link to a broker.

    `publish` takes a normalized NGSI-LD entity and returns at once; the entity is buffered
    and sent in batches (see `adapters.sdk.publisher`). Its @context is, in order: the
    `context` argument, the entity's own `@context` member, the adapter's `default_context`;
    with none of them the broker applies the core context. A URL goes in a Link header, an
    object or array inline in the entity.
    """

    def __init__(
        self,
        name: str,
        broker_url: str,
        *,
        settings: PublishSettings | None = None,
        default_context: JsonLdContext | None = None,
        default_tenant: str | None = None,
        metrics: AdapterMetrics | None = None,
    ) -> None:
        self.name = name
        self.broker_url = broker_url
        self.default_context = default_context
        self.default_tenant = default_tenant
        self.log = logging.getLogger(f"agora.adapters.{name}")
        self.metrics = metrics if metrics is not None else AdapterMetrics()
        self.counters: AdapterCounters = self.metrics.for_adapter(name)
        self.client = NgsiLdClient(broker_url)
        self.publisher = BatchPublisher(self.client, self.counters, settings, self.log)
        self._started = False

    def start(self) -> None:
        """Start the background flusher (the runtime does this before `Adapter.start`)."""
        self.publisher.start()
        self._started = True

    def publish(
        self,
        entity: Mapping[str, Any],
        *,
        tenant: str | None = None,
        context: JsonLdContext | None = None,
    ) -> None:
        if "id" not in entity or "type" not in entity:
            raise ValueError("an entity needs an 'id' and a 'type'")
        chosen = context if context is not None else entity.get("@context", self.default_context)
        body = {k: v for k, v in entity.items() if k != "@context"}
        link: str | None = None
        if isinstance(chosen, str):
            link = chosen
        elif chosen is not None:
            body["@context"] = chosen
        self.publisher.submit(body, tenant if tenant is not None else self.default_tenant, link)

    def publish_many(
        self,
        entities: Iterable[Mapping[str, Any]],
        *,
        tenant: str | None = None,
        context: JsonLdContext | None = None,
    ) -> None:
        for entity in entities:
            self.publish(entity, tenant=tenant, context=context)

    async def wait_for_room(self) -> None:
        """Wait while the publish buffer is full. An adapter reading from a queue (MQTT, a
        socket) awaits this before each message, so a burst waits in the queue instead of
        pushing the oldest buffered entities out."""
        await self.publisher.wait_for_room()

    def message_received(self, count: int = 1) -> None:
        """Count protocol messages taken in (the `messages_in` metric)."""
        self.counters.messages_in.inc(count)

    def error(self, message: str, *args: object) -> None:
        """Log and count an adapter-side error (a malformed message, a lost connection)."""
        self.counters.errors.inc()
        self.log.error(message, *args)

    async def flush(self) -> None:
        await self.publisher.flush()

    async def close(self) -> None:
        """Send what is buffered (until the close timeout), then release the HTTP client."""
        try:
            await self.publisher.close()
        finally:
            await self.client.close()

    async def __aenter__(self) -> AdapterContext:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
