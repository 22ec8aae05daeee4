"""The notifier: one bounded queue and a few workers per endpoint, whatever its protocol.

A `Transport` per URI scheme does the sending (http_transport.py: POST; mqtt_transport.py:
publish) and names the queue an endpoint belongs to: an HTTP origin (scheme, host, port),
or an MQTT connection (server, credentials, protocol version). Notifications to one
endpoint wait only behind each other: a slow or dead receiver fills its own queue and
occupies its own workers, never another's; each queue has `notification_concurrency`
workers.

A notification is sent with the endpoint's timeout (or `notification_timeout`); a failure
(connection error, timeout, a status outside 2xx, an MQTT publish not acknowledged) is
retried `notification_retries` times, `notification_retry_backoff` seconds apart, doubling.
Its outcome updates the subscription's counters (timesSent, lastNotification, lastSuccess,
or timesFailed, lastFailure and `status: failed` until a later success). When a queue is
full (`notification_queue_size`) the notification is dropped and counted
(`agora_notifications_dropped`, and `dropped` per queue). After a failure, an endpoint's
`cooldown` (ms) skips that subscription's notifications until it has passed.

`admit`, when given, is asked before a throttled subscription's notification is sent (the
store's lease, shared by replicas: see leases.py); a refused one is skipped, uncounted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from broker.metrics import Metrics
from broker.settings import Settings
from broker.subscriptions.notification import Outbound, Pending
from broker.subscriptions.stats import StatsBook

log = logging.getLogger(__name__)

Build = Callable[[Pending], Awaitable[Outbound]]
Admit = Callable[[Pending], Awaitable[bool]]


class Transport(Protocol):
    def queue_key(self, endpoint: dict[str, Any]) -> str:
        """The queue (and connection) an endpoint's notifications share."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def send(self, outbound: Outbound, endpoint: dict[str, Any], seconds: float) -> bool:
        """One attempt; True when the receiver took the notification."""


@dataclass(slots=True)
class _Queued:
    pending: Pending
    enqueued: float


@dataclass(slots=True)
class _SchemeMetrics:
    """The metrics of one endpoint scheme, their labels resolved once."""

    sent: Any
    failed: Any
    dropped: Any
    depth: Any
    latency: Any

    @classmethod
    def of(cls, metrics: Metrics, scheme: str) -> _SchemeMetrics:
        return cls(
            metrics.notifications_sent.labels(scheme),
            metrics.notifications_failed.labels(scheme),
            metrics.notifications_dropped.labels(scheme),
            metrics.notification_queue_depth.labels(scheme),
            metrics.notification_latency.labels(scheme),
        )


@dataclass(slots=True)
class EndpointQueue:
    origin: str
    scheme: str
    transport: Transport
    queue: asyncio.Queue[_Queued]
    metrics: _SchemeMetrics
    workers: list[asyncio.Task[None]] = field(default_factory=list)
    dropped: int = 0


class Notifier:
    def __init__(
        self,
        settings: Settings,
        build: Build,
        stats: StatsBook,
        metrics: Metrics,
        transports: Mapping[str, Transport],
        *,
        admit: Admit | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._build = build
        self._stats = stats
        self._metrics = metrics
        self._transports = dict(transports)
        self._admit = admit
        self._clock = clock
        self._queues: dict[str, EndpointQueue] = {}
        self._accepting = False
        self._cooling: dict[tuple[str, str], float] = {}

    @property
    def schemes(self) -> frozenset[str]:
        return frozenset(self._transports)

    async def start(self) -> None:
        for transport in set(self._transports.values()):
            await transport.start()
        self._accepting = True

    def queues(self) -> list[EndpointQueue]:
        return list(self._queues.values())

    def submit(self, pending: Pending) -> bool:
        """Queue a notification without waiting; False when it was dropped (queue full, or
        the notifier is not running, or no transport for its scheme)."""
        endpoint = pending.sub.record["notification"]["endpoint"]
        uri: str = endpoint["uri"]
        scheme = uri.partition(":")[0].lower()
        transport = self._transports.get(scheme)
        if transport is None:
            log.warning("no transport for %s notifications (%s)", scheme, pending.sub.id)
            return False
        try:
            key = transport.queue_key(endpoint)
        except ValueError as exc:
            log.warning("subscription %s: endpoint not usable: %s", pending.sub.id, exc)
            return False
        queue = self._queues.get(key)
        if queue is None:
            if not self._accepting:
                return False
            queue = self._open(key, scheme, transport)
        if not self._accepting or queue.queue.full():
            queue.dropped += 1
            queue.metrics.dropped.inc()
            return False
        queue.queue.put_nowait(_Queued(pending, self._clock()))
        queue.metrics.depth.inc()
        return True

    def _open(self, key: str, scheme: str, transport: Transport) -> EndpointQueue:
        queue = EndpointQueue(
            key,
            scheme,
            transport,
            asyncio.Queue(self._settings.notification_queue_size),
            _SchemeMetrics.of(self._metrics, scheme),
        )
        for _ in range(self._settings.notification_concurrency):
            queue.workers.append(asyncio.create_task(self._work(queue)))
        self._queues[key] = queue
        return queue

    async def close(self) -> None:
        """Stop taking notifications, deliver what is queued (for at most
        `notification_drain_timeout` seconds), then stop the workers and the transports."""
        self._accepting = False
        queues = list(self._queues.values())
        if queues:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.gather(*(q.queue.join() for q in queues)),
                    self._settings.notification_drain_timeout,
                )
        for queue in queues:
            for worker in queue.workers:
                worker.cancel()
        for queue in queues:
            await asyncio.gather(*queue.workers, return_exceptions=True)
        self._queues.clear()
        for transport in set(self._transports.values()):
            await transport.close()

    async def _work(self, queue: EndpointQueue) -> None:
        while True:
            queued = await queue.queue.get()
            queue.metrics.depth.dec()
            try:
                await self._deliver(queue, queued)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("notification for %s failed to build", queued.pending.sub.id)
            finally:
                queue.queue.task_done()

    async def _deliver(self, queue: EndpointQueue, queued: _Queued) -> None:
        pending = queued.pending
        sub = pending.sub
        endpoint = sub.record["notification"]["endpoint"]
        cooldown_until = self._cooling.get(sub.key)
        if cooldown_until is not None:
            if self._clock() < cooldown_until:
                return
            del self._cooling[sub.key]
        if sub.throttling is not None and self._admit is not None:
            if not await self._admit(pending):
                return
        outbound = await self._build(pending)
        timeout = endpoint.get("timeout")
        seconds = timeout / 1000 if timeout is not None else self._settings.notification_timeout
        ok = await self._send_with_retries(queue.transport, outbound, endpoint, seconds)
        self._stats.sent(sub.key, pending.notified_at, ok=ok)
        if ok:
            queue.metrics.sent.inc()
        else:
            queue.metrics.failed.inc()
            cooldown = endpoint.get("cooldown")
            if cooldown is not None:
                self._cooling[sub.key] = self._clock() + cooldown / 1000
        queue.metrics.latency.observe(self._clock() - queued.enqueued)

    async def _send_with_retries(
        self, transport: Transport, outbound: Outbound, endpoint: dict[str, Any], seconds: float
    ) -> bool:
        delay = self._settings.notification_retry_backoff
        for attempt in range(self._settings.notification_retries + 1):
            if attempt:
                await asyncio.sleep(delay)
                delay *= 2
            if await transport.send(outbound, endpoint, seconds):
                return True
        return False
