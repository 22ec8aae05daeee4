"""Periodic notifications (timeInterval, clause 5.2.12): every `timeInterval` seconds, one
Notification with every entity the subscription selects, as it is now, in the
subscription's format.

Each due slot is claimed in the store first (`claim_notification`), so among replicas
sharing a store exactly one sends it, and after a restart the next one is due
`timeInterval` after the last one sent, not at once: the claim that is refused answers with
the stored lease, which gives the next due time. Paused and expired subscriptions are not
notified; a slot with no matching entity sends nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Protocol

from broker.metrics import Metrics
from broker.query.ast import EntityQuery
from broker.services.entities import utc_now
from broker.storage.base import QueryPage, StoreError, SubscriptionStore
from broker.subscriptions.compiled import CompiledSubscription
from broker.subscriptions.index import SubscriptionIndex
from broker.subscriptions.notification import Pending
from broker.types import ExpandedEntity

log = logging.getLogger(__name__)

Key = tuple[str, str]
TICK = 0.1
"""Seconds between two looks at what is due."""


class PeriodicStore(SubscriptionStore, Protocol):
    async def query_entities(
        self, tenant: str, query: EntityQuery, *, limit: int, offset: int = 0, count: bool = False
    ) -> QueryPage: ...


def periodic_queries(sub: CompiledSubscription) -> list[EntityQuery]:
    """One store query per entity selector, each with the subscription's filters."""
    f = sub.filter
    selectors = sub.selectors or (EntityQuery(),)
    return [
        EntityQuery(
            ids=s.ids, id_pattern=s.id_pattern, types=s.types, q=f.q, geo=f.geo, scope=f.scope
        )
        for s in selectors
    ]


class PeriodicScheduler:
    def __init__(
        self,
        store: PeriodicStore,
        index: SubscriptionIndex,
        submit: Callable[[Pending], bool],
        metrics: Metrics,
        *,
        page_size: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._index = index
        self._submit = submit
        self._metrics = metrics
        self._page_size = page_size
        self._clock = clock
        self._due: dict[Key, float] = {}
        self._firing: dict[Key, asyncio.Task[None]] = {}

    async def run(self) -> None:
        while True:
            self.tick()
            await asyncio.sleep(TICK)

    def tick(self) -> None:
        now = self._clock()
        periodic = self._index.periodic
        for key in [k for k in self._due if k not in periodic]:
            del self._due[key]
        for key, sub in periodic.items():
            if key in self._firing or self._due.get(key, now) > now or not sub.running(now):
                continue
            task = asyncio.create_task(self._fire(sub))
            self._firing[key] = task
            task.add_done_callback(lambda _, k=key: self._firing.pop(k, None))  # type: ignore[misc]

    async def close(self) -> None:
        tasks = list(self._firing.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _fire(self, sub: CompiledSubscription) -> None:
        interval = sub.interval
        assert interval is not None
        now = self._clock()
        try:
            granted, lease = await self._store.claim_notification(
                sub.tenant, sub.id, now, interval
            )
        except StoreError as exc:
            log.warning("periodic notification of %s not claimed: %s", sub.id, exc)
            self._due[sub.key] = now + min(interval, 5.0)
            return
        if not granted:
            self._due[sub.key] = (lease if lease is not None else now) + interval
            return
        self._due[sub.key] = now + interval
        notified_at = utc_now()
        try:
            entities = await self._matching(sub)
        except StoreError as exc:
            log.warning("periodic notification of %s: entities not read: %s", sub.id, exc)
            return
        if not entities:
            return
        self._metrics.periodic_notifications.inc()
        self._submit(Pending(sub, None, None, notified_at, tuple(entities)))

    async def _matching(self, sub: CompiledSubscription) -> list[ExpandedEntity]:
        found: dict[str, ExpandedEntity] = {}
        for query in periodic_queries(sub):
            offset = 0
            while True:
                page = await self._store.query_entities(
                    sub.tenant, query, limit=self._page_size, offset=offset
                )
                for entity in page.entities:
                    found.setdefault(entity["id"], entity)
                if len(page.entities) < self._page_size:
                    break
                offset += self._page_size
        return [found[i] for i in sorted(found)]
