"""Subscription use cases (clause 5.8): create, retrieve, query, update, delete, per tenant.

The store holds the subscriptions; this process also keeps every one compiled in a
`SubscriptionIndex` for the matcher and the scheduler, loaded at start (sync.py), kept in
step by each operation here and, for other replicas' operations, by polling the store.
Delivery counters are the store's (the sum of every replica's flushed notifications) plus
this process's not yet flushed (`StatsBook`).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from broker.errors import AlreadyExists, ResourceNotFound
from broker.jsonld import TermMap
from broker.services.entities import utc_now
from broker.settings import Settings
from broker.storage.base import DuplicateSubscription, SubscriptionStore
from broker.subscriptions.compiled import compile_subscription
from broker.subscriptions.index import SubscriptionIndex
from broker.subscriptions.parse import check_endpoint, new_record, patched_record
from broker.subscriptions.record import SubscriptionRecord
from broker.subscriptions.stats import DeliveryStats, StatsBook

log = logging.getLogger(__name__)


class SubscriptionService:
    def __init__(
        self,
        store: SubscriptionStore,
        settings: Settings,
        require_tenant: Callable[[str], Awaitable[None]],
        index: SubscriptionIndex,
        stats: StatsBook,
        *,
        on_removed: Callable[[tuple[str, str]], None] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.index = index
        self.stats = stats
        self._require_tenant = require_tenant
        self._on_removed = on_removed
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def _lock(self, tenant: str, subscription_id: str) -> asyncio.Lock:
        key = (tenant, subscription_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def create(self, tenant: str, body: Any, terms: TermMap, context: Any) -> str:
        record = new_record(body, terms, self.settings, context=context, now=utc_now())
        await check_endpoint(record, allow_private=self.settings.allow_private_urls)
        compiled = compile_subscription(tenant, record)
        try:
            await self.store.create_subscription(tenant, record)
        except DuplicateSubscription:
            raise AlreadyExists(
                f"subscription '{record['id']}' already exists", field="id"
            ) from None
        self.index.put(compiled)
        return str(record["id"])

    async def get(
        self, tenant: str, subscription_id: str
    ) -> tuple[SubscriptionRecord, DeliveryStats]:
        stored = await self.store.get_subscription(tenant, subscription_id)
        if stored is None:
            await self._require_tenant(tenant)
            raise ResourceNotFound(
                f"subscription '{subscription_id}' not found", field="subscriptionId"
            )
        return stored.record, self._stats_of(tenant, subscription_id, stored.stats)

    async def list(
        self, tenant: str, *, limit: int, offset: int
    ) -> tuple[list[tuple[SubscriptionRecord, DeliveryStats]], int]:
        await self._require_tenant(tenant)
        page = await self.store.list_subscriptions(tenant, limit=limit, offset=offset)
        items = [(s.record, self._stats_of(tenant, s.id, s.stats)) for s in page.subscriptions]
        return items, page.total

    async def update(
        self, tenant: str, subscription_id: str, fragment: Any, terms: TermMap, context: Any
    ) -> None:
        async with self._lock(tenant, subscription_id):
            stored, _ = await self.get(tenant, subscription_id)
            record = patched_record(
                stored, fragment, terms, self.settings, context=context, now=utc_now()
            )
            if record["notification"]["endpoint"] != stored["notification"]["endpoint"]:
                await check_endpoint(record, allow_private=self.settings.allow_private_urls)
            compiled = compile_subscription(tenant, record)
            if not await self.store.replace_subscription(tenant, record):
                raise ResourceNotFound(
                    f"subscription '{subscription_id}' not found", field="subscriptionId"
                )
            self.index.put(compiled)

    async def delete(self, tenant: str, subscription_id: str) -> None:
        async with self._lock(tenant, subscription_id):
            if not await self.store.delete_subscription(tenant, subscription_id):
                await self._require_tenant(tenant)
                raise ResourceNotFound(
                    f"subscription '{subscription_id}' not found", field="subscriptionId"
                )
            key = (tenant, subscription_id)
            self.index.remove(tenant, subscription_id)
            self.stats.forget(key)
            if self._on_removed is not None:
                self._on_removed(key)

    def _stats_of(
        self, tenant: str, subscription_id: str, stored: dict[str, Any]
    ) -> DeliveryStats:
        return self.stats.current((tenant, subscription_id), stored)
