"""Buffered batch upsert: what `AdapterContext.publish` feeds.

- One buffer per tenant, in publish order. A batch is sent when a tenant's buffer holds
  `batch_size` entities, and every `flush_interval` whatever is buffered is sent. One flush
  runs at a time and batches of a tenant leave in order, so several updates to one entity
  reach the broker in the order they were published.
- While the broker is unreachable or answers 5xx/429 the batch is retried with exponential
  backoff (`retry_initial` doubling up to `retry_max`); meanwhile publishing goes on into
  the buffer.
- The buffer is bounded (`max_buffered` entities over all tenants). When it is full the
  *oldest* buffered entity is dropped to make room for the newest (a sensor's latest reading
  is the one worth keeping); each drop is counted in `dropped` and logged.
- Entities the broker refuses (a 207's errors, or a 4xx for the whole batch) are counted in
  `errors` and logged with the broker's reason; they are not retried, the entity is at
  fault.
- `close()` sends what is buffered, retrying until `close_timeout`; what is still undelivered
  then is counted in `dropped` and logged. Nothing is lost without a count and a log line.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.sdk.client import BrokerUnavailable, NgsiLdClient, UpsertOutcome
from adapters.sdk.metrics import AdapterCounters

DROP_LOG_INTERVAL = 10.0
"""Seconds between two overflow log lines while drops go on (each line says how many)."""
FAILURES_LOGGED_PER_BATCH = 5


@dataclass(frozen=True, slots=True)
class PublishSettings:
    """How an adapter's entities are batched and delivered."""

    batch_size: int = 100
    flush_interval: float = 1.0
    max_buffered: int = 10_000
    retry_initial: float = 0.5
    retry_max: float = 30.0
    close_timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        if self.max_buffered < self.batch_size:
            raise ValueError("max_buffered must be at least batch_size")
        if self.flush_interval <= 0 or self.retry_initial <= 0:
            raise ValueError("flush_interval and retry_initial must be positive")


@dataclass(frozen=True, slots=True)
class _Pending:
    entity: Mapping[str, Any]
    link: str | None

    @property
    def form(self) -> tuple[str | None, bool]:
        """Entities of one request share this: the Link context, or inline @context, or
        neither (the core context)."""
        return self.link, "@context" in self.entity


class _GiveUp(Exception):
    """The close deadline passed while the broker was still unavailable."""


class BatchPublisher:
    def __init__(
        self,
        client: NgsiLdClient,
        counters: AdapterCounters,
        settings: PublishSettings | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        self.client = client
        self.counters = counters
        self.settings = settings or PublishSettings()
        self.log = log or logging.getLogger("agora.adapters.publish")
        self._buffers: dict[str, deque[_Pending]] = {}
        self._buffered = 0
        self._in_flight: list[_Pending] = []
        self._wake = asyncio.Event()
        self._sending = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._deadline: float | None = None
        self._drops_unlogged = 0
        self._last_drop_log: float | None = None
        self._room = asyncio.Event()
        self._room.set()

    @property
    def buffered(self) -> int:
        return self._buffered

    @property
    def full(self) -> bool:
        """As full as it may get before an adapter that can wait should wait: a batch short
        of `max_buffered`."""
        return self._buffered > self.settings.max_buffered - self.settings.batch_size

    async def wait_for_room(self) -> None:
        """Return once the buffer is below `full` (at once when it is): an adapter that
        reads from a queue (MQTT, a socket) awaits this instead of having the oldest
        buffered entities dropped."""
        while self.full and not self._closing:
            self._room.clear()
            self._wake.set()
            await self._room.wait()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    def submit(self, entity: Mapping[str, Any], tenant: str | None, link: str | None) -> None:
        if self._closing:
            raise RuntimeError("the publisher is closed")
        key = tenant or ""
        buffer = self._buffers.setdefault(key, deque())
        if self._buffered >= self.settings.max_buffered:
            self._drop_oldest(buffer)
        buffer.append(_Pending(entity, link))
        self._buffered += 1
        self.counters.buffered.set(self._buffered)
        if len(buffer) >= self.settings.batch_size:
            self._wake.set()

    async def flush(self) -> None:
        """Send everything buffered now (retrying while the broker is unavailable)."""
        async with self._sending:
            await self._drain(full_only=False)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        self._closing = True
        self._room.set()
        self._deadline = loop.time() + self.settings.close_timeout
        self._wake.set()
        if self._task is None:
            self._task = loop.create_task(self._final_drain())
        try:
            await asyncio.wait_for(asyncio.shield(self._task), self.settings.close_timeout + 1)
        except TimeoutError:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        lost = len(self._in_flight) + self._buffered
        self._in_flight = []
        if lost:
            self.counters.dropped.inc(lost)
            self.log.error(
                "%d entities were still undelivered at close (broker %s) and are lost",
                lost, self.client.broker_url,
            )
        self._buffers.clear()
        self._buffered = 0
        self.counters.buffered.set(0)
        self._log_drops(force=True)

    # -- the flusher ----------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.settings.flush_interval
        next_tick = loop.time() + interval
        while not self._closing:
            timeout = next_tick - loop.time()
            if timeout > 0:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout)
                except TimeoutError:
                    pass
            self._wake.clear()
            if self._closing:
                break
            timed = loop.time() >= next_tick
            async with self._sending:
                await self._drain(full_only=not timed)
            if timed:
                next_tick = loop.time() + interval
        await self._final_drain()

    async def _final_drain(self) -> None:
        async with self._sending:
            await self._drain(full_only=False)

    async def _drain(self, *, full_only: bool) -> None:
        size = self.settings.batch_size
        try:
            for tenant in list(self._buffers):
                buffer = self._buffers[tenant]
                while buffer and (len(buffer) >= size or not full_only):
                    batch = [buffer.popleft() for _ in range(min(size, len(buffer)))]
                    self._buffered -= len(batch)
                    self.counters.buffered.set(self._buffered)
                    if not self.full:
                        self._room.set()
                    self._in_flight = batch
                    await self._send(tenant, batch)
                    self._in_flight = []
                if not buffer:
                    del self._buffers[tenant]
        except _GiveUp:
            return

    async def _send(self, tenant: str, batch: list[_Pending]) -> None:
        """One batch, split into runs of entities sent the same way (`_Pending.form`)."""
        start = 0
        while start < len(batch):
            end = start
            while end < len(batch) and batch[end].form == batch[start].form:
                end += 1
            run = batch[start:end]
            outcome = await self._deliver(tenant, run)
            self._account(tenant, outcome)
            self._in_flight = batch[end:]
            start = end

    async def _deliver(self, tenant: str, run: list[_Pending]) -> UpsertOutcome:
        loop = asyncio.get_running_loop()
        delay = self.settings.retry_initial
        entities = [p.entity for p in run]
        attempt = 0
        while True:
            try:
                return await self.client.upsert(
                    entities, tenant=tenant or None, link_context=run[0].link
                )
            except BrokerUnavailable as exc:
                attempt += 1
                self.counters.errors.inc()
                wait = delay
                if self._deadline is not None:
                    remaining = self._deadline - loop.time()
                    if remaining <= 0:
                        raise _GiveUp from exc
                    wait = min(wait, remaining)
                if attempt == 1 or attempt % 10 == 0:
                    self.log.warning(
                        "broker unavailable (%s); %d entities waiting, retry %d in %.1fs",
                        exc, len(entities) + self._buffered, attempt, wait,
                    )
                await asyncio.sleep(wait)
                delay = min(delay * 2, self.settings.retry_max)

    def _account(self, tenant: str, outcome: UpsertOutcome) -> None:
        self.counters.entities_out.inc(outcome.accepted)
        if not outcome.failures:
            return
        self.counters.errors.inc(len(outcome.failures))
        for failure in outcome.failures[:FAILURES_LOGGED_PER_BATCH]:
            self.log.warning(
                "the broker rejected entity %s%s: %s", failure.entity_id,
                f" (tenant {tenant})" if tenant else "", failure.reason,
            )
        more = len(outcome.failures) - FAILURES_LOGGED_PER_BATCH
        if more > 0:
            self.log.warning("... and %d more rejected entities in the same batch", more)

    # -- overflow -------------------------------------------------------------------------

    def _drop_oldest(self, preferred: deque[_Pending]) -> None:
        victim = preferred if preferred else max(self._buffers.values(), key=len)
        victim.popleft()
        self._buffered -= 1
        self.counters.dropped.inc()
        self._drops_unlogged += 1
        self._log_drops(force=False)

    def _log_drops(self, *, force: bool) -> None:
        if not self._drops_unlogged:
            return
        now = time.monotonic()
        if (
            force
            or self._last_drop_log is None
            or now - self._last_drop_log >= DROP_LOG_INTERVAL
        ):
            self.log.warning(
                "buffer full (%d entities): dropped the %d oldest undelivered entities",
                self.settings.max_buffered, self._drops_unlogged,
            )
            self._drops_unlogged = 0
            self._last_drop_log = now
