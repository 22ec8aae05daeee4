"""Purge Entities (ETSI GS CIM 009 v1.9, HTTP binding in clause 6.4.3.3): delete every
entity of a tenant that matches a query.

The matches are found with the store's query machinery, in pages in id order, from the same
EntityQuery a GET /entities builds. Each page is then handled as a batch delete is: its ids
are locked (EntityService's per-entity locks, taken in sorted order), read again in one
round trip, checked against the query once more with the reference evaluator (an entity
changed since the page was read that no longer matches is left alone), deleted in one
`write_batch`, and one entityDeleted ChangeEvent is published per deleted entity, exactly
as Delete Entity publishes it.

A purge is not one transaction: each page commits on its own, so a purge that fails half way
keeps the deletions of the pages before the failure. A matching entity created while a purge
runs is deleted when its id sorts after the page being handled.
"""

from __future__ import annotations

from broker.errors import InternalError, NonexistentTenant
from broker.events import ChangeEvent, EventBus
from broker.query.ast import EntityQuery
from broker.query.evaluate import matches
from broker.services.batch import BatchResult, EntityError
from broker.services.locks import EntityLocks
from broker.storage.base import BatchWrite, EntityStore

DEFAULT_PAGE_SIZE = 1000


class PurgeService:
    def __init__(
        self,
        store: EntityStore,
        bus: EventBus,
        locks: EntityLocks,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.store = store
        self.bus = bus
        self.page_size = page_size
        self._locks = locks

    async def purge(self, tenant: str, query: EntityQuery) -> BatchResult:
        """Delete every entity of `tenant` that matches `query`. `success` lists the deleted
        ids in id order; `errors` the matches the store refused to delete (left in place).
        An unknown tenant is NonexistentTenant; nothing matching is an empty success."""
        if not await self.store.tenant_exists(tenant):
            raise NonexistentTenant(f"tenant '{tenant}' does not exist", field="NGSILD-Tenant")
        result = BatchResult()
        kept = 0  # matches the store refused to delete: they stay first in id order
        while True:
            page = await self.store.query_entities(
                tenant, query, limit=self.page_size, offset=kept
            )
            if not page.entities:
                return result
            ids = sorted(e["id"] for e in page.entities)
            async with self._locks.hold(tenant, ids):
                current = await self.store.get_entities(tenant, ids)
                doomed = [current[i] for i in ids if i in current and matches(current[i], query)]
                writes = [BatchWrite.delete(e["id"]) for e in doomed]
                outcomes = await self.store.write_batch(tenant, writes) if writes else []
                for entity, outcome in zip(doomed, outcomes, strict=True):
                    entity_id = entity["id"]
                    if outcome is None:
                        result.success.append(entity_id)
                        self.bus.publish(
                            ChangeEvent(tenant, "entityDeleted", entity_id, entity, None)
                        )
                    else:
                        kept += 1
                        result.errors.append(
                            EntityError(
                                entity_id,
                                InternalError(
                                    f"entity '{entity_id}' could not be deleted: {outcome}"
                                ),
                            )
                        )
