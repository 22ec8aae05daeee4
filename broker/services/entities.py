"""Entity and attribute use cases (clauses 5.6 and 5.7 of ETSI GS CIM 009).

The service owns read-modify-write: it loads the stored entity, applies one of the pure
update rules of `broker.model.operations`, writes the result back and publishes a
ChangeEvent once the store acknowledged it. Writes to one entity are serialised by a
per-entity lock inside this process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import TypeVar

from broker.errors import AlreadyExists, NonexistentTenant, ResourceNotFound
from broker.events import ChangeEvent, EventBus
from broker.model import operations
from broker.model.expand import ExpandedFragment
from broker.model.operations import UpdateResult
from broker.services.locks import EntityLocks
from broker.services.validation import ModelValidation, validated
from broker.storage.base import DuplicateEntity, EntityStore
from broker.types import DEFAULT_TENANT, ExpandedEntity, Instance

R = TypeVar("R")


_last_now: tuple[int, str] = (-1, "")


def utc_now() -> str:
    """The current time as NGSI-LD writes system timestamps (UTC, milliseconds, Z).

    Formatting a datetime costs more than a whole attribute update; under load many writes
    share a millisecond, so the string is formatted once per millisecond.
    """
    global _last_now
    ms = time.time_ns() // 1_000_000
    if ms != _last_now[0]:
        seconds, millis = divmod(ms, 1000)
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"
        _last_now = (ms, text)
    return _last_now[1]


class EntityService:
    def __init__(
        self, store: EntityStore, bus: EventBus, validation: ModelValidation | None = None
    ) -> None:
        self.store = store
        self.bus = bus
        self.validation = validation
        self._known_tenants: set[str] = {DEFAULT_TENANT}
        self.locks = EntityLocks()
        """Serialise the writes to one entity in this process (batches and purges take the
        same keys)."""

    # -- tenants ------------------------------------------------------------------------

    async def require_tenant(self, tenant: str) -> None:
        """Reads of a tenant that never had a write are 404 NonexistentTenant."""
        if tenant in self._known_tenants:
            return
        if await self.store.tenant_exists(tenant):
            self._known_tenants.add(tenant)
            return
        raise NonexistentTenant(f"tenant '{tenant}' does not exist", field="NGSILD-Tenant")

    # -- entities -----------------------------------------------------------------------

    async def create(self, tenant: str, entity: ExpandedEntity) -> None:
        if self.validation is not None:
            self.validation.check(tenant, entity)
        try:
            await self.store.create_entity(tenant, entity)
        except DuplicateEntity:
            raise AlreadyExists(f"entity '{entity['id']}' already exists", field="id") from None
        self._known_tenants.add(tenant)
        self.bus.publish(ChangeEvent(tenant, "entityCreated", entity["id"], None, entity))

    async def get(self, tenant: str, entity_id: str) -> ExpandedEntity:
        entity = await self.store.get_entity(tenant, entity_id)
        if entity is None:
            await self.require_tenant(tenant)
            raise ResourceNotFound(f"entity '{entity_id}' not found", field="entityId")
        return entity

    async def delete(self, tenant: str, entity_id: str) -> None:
        async with self.locks.one(tenant, entity_id):
            before = await self.store.delete_entity(tenant, entity_id)
        if before is None:
            await self.require_tenant(tenant)
            raise ResourceNotFound(f"entity '{entity_id}' not found", field="entityId")
        self.bus.publish(ChangeEvent(tenant, "entityDeleted", entity_id, before, None))

    async def replace(self, tenant: str, new: ExpandedEntity) -> None:
        await self._modify(
            tenant,
            new["id"],
            lambda old: (operations.replace_entity(old, new, now=utc_now()), None),
            written=None,
        )

    async def merge(self, tenant: str, entity_id: str, fragment: ExpandedFragment) -> None:
        await self._modify(
            tenant,
            entity_id,
            lambda old: operations.merge_entity(
                old, fragment.attrs, now=utc_now(), types=fragment.types, scope=fragment.scope
            ),
            written=fragment.attrs,
        )

    # -- attributes ---------------------------------------------------------------------

    async def append_attrs(
        self, tenant: str, entity_id: str, fragment: ExpandedFragment, *, overwrite: bool
    ) -> UpdateResult:
        return await self._modify(
            tenant,
            entity_id,
            lambda old: operations.append_attrs(
                old,
                fragment.attrs,
                now=utc_now(),
                overwrite=overwrite,
                types=fragment.types,
                scope=fragment.scope,
            ),
            written=fragment.attrs,
        )

    async def update_attrs(
        self, tenant: str, entity_id: str, fragment: ExpandedFragment
    ) -> UpdateResult:
        return await self._modify(
            tenant,
            entity_id,
            lambda old: operations.update_attrs(
                old, fragment.attrs, now=utc_now(), types=fragment.types, scope=fragment.scope
            ),
            written=fragment.attrs,
        )

    async def partial_update_attr(
        self, tenant: str, entity_id: str, name: str, instances: list[Instance]
    ) -> None:
        await self._modify(
            tenant,
            entity_id,
            lambda old: (operations.partial_update_attr(old, name, instances, now=utc_now()), None),
            written=(name,),
        )

    async def replace_attr(
        self, tenant: str, entity_id: str, name: str, instances: list[Instance]
    ) -> None:
        await self._modify(
            tenant,
            entity_id,
            lambda old: (operations.replace_attr(old, name, instances, now=utc_now()), None),
            written=(name,),
        )

    async def delete_attr(
        self,
        tenant: str,
        entity_id: str,
        name: str,
        *,
        dataset_id: str | None,
        delete_all: bool,
    ) -> None:
        await self._modify(
            tenant,
            entity_id,
            lambda old: (
                operations.delete_attr(
                    old, name, dataset_id=dataset_id, delete_all=delete_all, now=utc_now()
                ),
                None,
            ),
            written=(name,),
        )

    # -- the read-modify-write cycle ----------------------------------------------------

    async def _modify(
        self,
        tenant: str,
        entity_id: str,
        apply: Callable[[ExpandedEntity], tuple[ExpandedEntity, R]],
        *,
        written: Collection[str] | None,
    ) -> R:
        """Apply one update rule to the stored entity (the store reads and writes it in one
        step), check the result against its model (`written`: the attributes the rule
        writes; None: the whole entity answers), publish; returns what the rule reported."""
        apply = validated(
            self.validation, tenant, apply, lambda old: written, lambda result: result[0]
        )
        async with self.locks.one(tenant, entity_id):
            modified = await self.store.modify_entity(tenant, entity_id, apply)
        if modified is None:
            await self.require_tenant(tenant)
            raise ResourceNotFound(f"entity '{entity_id}' not found", field="entityId")
        old, new, outcome = modified
        if new is not old:
            self.bus.publish(ChangeEvent(tenant, "entityUpdated", entity_id, old, new))
        return outcome
