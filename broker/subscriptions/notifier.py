"""The HTTP notifier: one bounded queue and a few workers per endpoint origin.

Notifications to one receiver (scheme, host and port) wait only behind each other: a slow or
dead receiver fills its own queue and occupies its own workers, never another's. The
client session is shared and has no overall connection limit, so a receiver that holds
connections open cannot starve the rest; each origin holds at most
`notification_concurrency` connections.

A notification is POSTed with the endpoint's timeout (or `notification_timeout`); a
connection error, a timeout or a status outside 2xx is retried `notification_retries` times,
`notification_retry_backoff` seconds apart, doubling. Its outcome updates the
subscription's counters (timesSent, lastNotification, lastSuccess, or timesFailed,
lastFailure and `status: failed` until a later success). When a queue is full
(`notification_queue_size`) the notification is dropped and counted
(`agora_notifications_dropped`, and `dropped` per origin). After a failure, an endpoint's
`cooldown` (ms) skips that subscription's notifications until it has passed.

Requests go through the guarded connector (broker.netguard): unless `allow_private_urls`,
an endpoint host that resolves to a private, loopback or link-local address is refused at
connection time too, so DNS cannot be re-pointed after the check at subscription time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp

from broker.metrics import Metrics
from broker.netguard import guarded_connector
from broker.settings import Settings
from broker.subscriptions.notification import Outbound, Pending
from broker.subscriptions.stats import StatsBook

log = logging.getLogger(__name__)

Build = Callable[[Pending], Awaitable[Outbound]]


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


@dataclass(slots=True)
class _Queued:
    pending: Pending
    enqueued: float


@dataclass(slots=True)
class EndpointQueue:
    origin: str
    scheme: str
    queue: asyncio.Queue[_Queued]
    workers: list[asyncio.Task[None]] = field(default_factory=list)
    dropped: int = 0


class HttpNotifier:
    def __init__(
        self,
        settings: Settings,
        build: Build,
        stats: StatsBook,
        metrics: Metrics,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._build = build
        self._stats = stats
        self._metrics = metrics
        self._clock = clock
        self._queues: dict[str, EndpointQueue] = {}
        self._session: aiohttp.ClientSession | None = None
        self._accepting = False
        self._cooling: dict[tuple[str, str], float] = {}

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            connector=guarded_connector(allow_private=self._settings.allow_private_urls, limit=0),
            trust_env=False,
        )
        self._accepting = True

    def queues(self) -> list[EndpointQueue]:
        return list(self._queues.values())

    def submit(self, pending: Pending) -> bool:
        """Queue a notification without waiting; False when it was dropped (queue full, or
        the notifier is not running)."""
        uri = pending.sub.record["notification"]["endpoint"]["uri"]
        origin = origin_of(uri)
        queue = self._queues.get(origin)
        if queue is None:
            if not self._accepting:
                return False
            queue = self._open(origin)
        scheme = queue.scheme
        if not self._accepting or queue.queue.full():
            queue.dropped += 1
            self._metrics.notifications_dropped.labels(scheme).inc()
            return False
        queue.queue.put_nowait(_Queued(pending, self._clock()))
        self._metrics.notification_queue_depth.labels(scheme).inc()
        return True

    def _open(self, origin: str) -> EndpointQueue:
        scheme = origin.partition(":")[0]
        queue = EndpointQueue(origin, scheme, asyncio.Queue(self._settings.notification_queue_size))
        for _ in range(self._settings.notification_concurrency):
            queue.workers.append(asyncio.create_task(self._work(queue)))
        self._queues[origin] = queue
        return queue

    async def close(self) -> None:
        """Stop taking notifications, deliver what is queued (for at most
        `notification_drain_timeout` seconds), then stop the workers and the session."""
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
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _work(self, queue: EndpointQueue) -> None:
        while True:
            queued = await queue.queue.get()
            self._metrics.notification_queue_depth.labels(queue.scheme).dec()
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
        outbound = await self._build(pending)
        timeout = endpoint.get("timeout")
        seconds = timeout / 1000 if timeout is not None else self._settings.notification_timeout
        ok = await self._post_with_retries(outbound, seconds)
        self._stats.sent(sub.key, pending.notified_at, ok=ok)
        labels = queue.scheme
        if ok:
            self._metrics.notifications_sent.labels(labels).inc()
        else:
            self._metrics.notifications_failed.labels(labels).inc()
            cooldown = endpoint.get("cooldown")
            if cooldown is not None:
                self._cooling[sub.key] = self._clock() + cooldown / 1000
        self._metrics.notification_latency.labels(labels).observe(self._clock() - queued.enqueued)

    async def _post_with_retries(self, outbound: Outbound, seconds: float) -> bool:
        delay = self._settings.notification_retry_backoff
        for attempt in range(self._settings.notification_retries + 1):
            if attempt:
                await asyncio.sleep(delay)
                delay *= 2
            if await self._post(outbound, seconds):
                return True
        return False

    async def _post(self, outbound: Outbound, seconds: float) -> bool:
        session = self._session
        if session is None:
            return False
        try:
            async with session.post(
                outbound.url,
                data=outbound.body,
                headers=outbound.headers,
                timeout=aiohttp.ClientTimeout(total=seconds),
                allow_redirects=False,
            ) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return True
                log.info("notification to %s answered %s", outbound.url, response.status)
                return False
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.info("notification to %s failed: %r", outbound.url, exc)
            return False
