"""A Store that records each entity operation's latency
(agora_store_operation_duration_seconds); subscription operations pass straight through."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from broker.metrics import Metrics
from broker.query.ast import EntityQuery
from broker.storage.base import (
    AttributeDetails,
    BatchOutcome,
    BatchWrite,
    Change,
    Modified,
    QueryPage,
    R,
    Store,
    StoredSubscription,
    SubscriptionPage,
    TypeDetails,
)
from broker.types import ExpandedEntity


class TimedStore:
    """Delegates to a store, observing the latency of the entity operations."""

    def __init__(self, store: Store, metrics: Metrics) -> None:
        self.inner = store
        h = metrics.store_latency
        self._get = h.labels("get_entity")
        self._create = h.labels("create_entity")
        self._replace = h.labels("replace_entity")
        self._modify = h.labels("modify_entity")
        self._delete = h.labels("delete_entity")
        self._query = h.labels("query_entities")
        self._get_many = h.labels("get_entities")
        self._write_batch = h.labels("write_batch")
        self._types = h.labels("describe_types")
        self._attributes = h.labels("describe_attributes")
        self._attribute_names = h.labels("attribute_names")

    async def start(self) -> None:
        await self.inner.start()

    async def close(self) -> None:
        await self.inner.close()

    async def ping(self) -> bool:
        return await self.inner.ping()

    async def tenant_exists(self, tenant: str) -> bool:
        return await self.inner.tenant_exists(tenant)

    async def list_tenants(self) -> list[str]:
        return await self.inner.list_tenants()

    async def create_entity(self, tenant: str, entity: ExpandedEntity) -> None:
        t0 = time.perf_counter()
        try:
            await self.inner.create_entity(tenant, entity)
        finally:
            self._create.observe(time.perf_counter() - t0)

    async def get_entity(self, tenant: str, entity_id: str) -> ExpandedEntity | None:
        t0 = time.perf_counter()
        try:
            return await self.inner.get_entity(tenant, entity_id)
        finally:
            self._get.observe(time.perf_counter() - t0)

    async def replace_entity(self, tenant: str, entity: ExpandedEntity) -> bool:
        t0 = time.perf_counter()
        try:
            return await self.inner.replace_entity(tenant, entity)
        finally:
            self._replace.observe(time.perf_counter() - t0)

    async def modify_entity(
        self, tenant: str, entity_id: str, change: Change[R]
    ) -> Modified[R] | None:
        t0 = time.perf_counter()
        try:
            return await self.inner.modify_entity(tenant, entity_id, change)
        finally:
            self._modify.observe(time.perf_counter() - t0)

    async def delete_entity(self, tenant: str, entity_id: str) -> ExpandedEntity | None:
        t0 = time.perf_counter()
        try:
            return await self.inner.delete_entity(tenant, entity_id)
        finally:
            self._delete.observe(time.perf_counter() - t0)

    async def query_entities(
        self, tenant: str, query: EntityQuery, *, limit: int, offset: int = 0, count: bool = False
    ) -> QueryPage:
        t0 = time.perf_counter()
        try:
            return await self.inner.query_entities(
                tenant, query, limit=limit, offset=offset, count=count
            )
        finally:
            self._query.observe(time.perf_counter() - t0)

    async def count_entities(self, tenant: str) -> int:
        return await self.inner.count_entities(tenant)

    async def get_entities(self, tenant: str, ids: Sequence[str]) -> dict[str, ExpandedEntity]:
        t0 = time.perf_counter()
        try:
            return await self.inner.get_entities(tenant, ids)
        finally:
            self._get_many.observe(time.perf_counter() - t0)

    async def write_batch(
        self, tenant: str, writes: Sequence[BatchWrite]
    ) -> list[BatchOutcome]:
        t0 = time.perf_counter()
        try:
            return await self.inner.write_batch(tenant, writes)
        finally:
            self._write_batch.observe(time.perf_counter() - t0)

    async def count_entities_by_type(self, tenant: str) -> dict[str, int]:
        return await self.inner.count_entities_by_type(tenant)

    async def attribute_names(self, tenant: str) -> list[str]:
        t0 = time.perf_counter()
        try:
            return await self.inner.attribute_names(tenant)
        finally:
            self._attribute_names.observe(time.perf_counter() - t0)

    async def describe_types(
        self, tenant: str, entity_type: str | None = None
    ) -> list[TypeDetails]:
        t0 = time.perf_counter()
        try:
            return await self.inner.describe_types(tenant, entity_type)
        finally:
            self._types.observe(time.perf_counter() - t0)

    async def describe_attributes(
        self, tenant: str, attribute: str | None = None
    ) -> list[AttributeDetails]:
        t0 = time.perf_counter()
        try:
            return await self.inner.describe_attributes(tenant, attribute)
        finally:
            self._attributes.observe(time.perf_counter() - t0)

    async def save_context(self, record: dict[str, Any]) -> None:
        await self.inner.save_context(record)

    async def load_contexts(self) -> list[dict[str, Any]]:
        return await self.inner.load_contexts()

    async def delete_context(self, context_id: str) -> bool:
        return await self.inner.delete_context(context_id)

    async def create_subscription(self, tenant: str, record: dict[str, Any]) -> None:
        await self.inner.create_subscription(tenant, record)

    async def get_subscription(
        self, tenant: str, subscription_id: str
    ) -> StoredSubscription | None:
        return await self.inner.get_subscription(tenant, subscription_id)

    async def list_subscriptions(
        self, tenant: str, *, limit: int, offset: int = 0
    ) -> SubscriptionPage:
        return await self.inner.list_subscriptions(tenant, limit=limit, offset=offset)

    async def replace_subscription(self, tenant: str, record: dict[str, Any]) -> bool:
        return await self.inner.replace_subscription(tenant, record)

    async def delete_subscription(self, tenant: str, subscription_id: str) -> bool:
        return await self.inner.delete_subscription(tenant, subscription_id)

    async def load_subscriptions(self) -> list[StoredSubscription]:
        return await self.inner.load_subscriptions()

    async def subscription_revisions(self) -> dict[tuple[str, str], str]:
        return await self.inner.subscription_revisions()

    async def claim_notification(
        self, tenant: str, subscription_id: str, now: float, interval: float
    ) -> tuple[bool, float | None]:
        return await self.inner.claim_notification(tenant, subscription_id, now, interval)

    async def add_subscription_stats(
        self, updates: Sequence[tuple[str, str, dict[str, Any]]]
    ) -> None:
        await self.inner.add_subscription_stats(updates)

    async def save_subscription_stats(
        self, updates: Sequence[tuple[str, str, dict[str, Any]]]
    ) -> None:
        await self.inner.save_subscription_stats(updates)
