"""Discovery use cases (clauses 5.7.5-5.7.10 of ETSI GS CIM 009): which entity types and
attributes a tenant holds, with counts and attribute kinds.

Names here are expanded IRIs; the API layer compacts them with the request's @context. There
is no federation yet, so `local=true` and the default give the same answers: only what this
broker stores.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from broker.errors import ResourceNotFound
from broker.storage.base import AttributeDetails, EntityStore, TypeDetails


class DiscoveryService:
    def __init__(
        self, store: EntityStore, require_tenant: Callable[[str], Awaitable[None]]
    ) -> None:
        self.store = store
        self._require_tenant = require_tenant

    async def type_names(self, tenant: str) -> list[str]:
        """Clause 5.7.5: every entity type with at least one entity, ordered."""
        await self._require_tenant(tenant)
        return sorted(await self.store.count_entities_by_type(tenant))

    async def types(self, tenant: str) -> list[TypeDetails]:
        """Clause 5.7.6: every entity type with the attribute names of its entities."""
        await self._require_tenant(tenant)
        return await self.store.describe_types(tenant)

    async def type_info(self, tenant: str, entity_type: str, shown_as: str) -> TypeDetails:
        """Clause 5.7.7: one entity type; ResourceNotFound when no entity has it."""
        await self._require_tenant(tenant)
        found = await self.store.describe_types(tenant, entity_type)
        if not found:
            raise ResourceNotFound(f"no entity has the type '{shown_as}'", field="type")
        return found[0]

    async def attribute_names(self, tenant: str) -> list[str]:
        """Clause 5.7.8: every attribute name, ordered."""
        await self._require_tenant(tenant)
        return await self.store.attribute_names(tenant)

    async def attributes(self, tenant: str) -> list[AttributeDetails]:
        """Clause 5.7.9: every attribute name, with counts, kinds and types."""
        await self._require_tenant(tenant)
        return await self.store.describe_attributes(tenant)

    async def attribute_info(self, tenant: str, name: str, shown_as: str) -> AttributeDetails:
        """Clause 5.7.10: one attribute; ResourceNotFound when no entity holds it."""
        await self._require_tenant(tenant)
        found = await self.store.describe_attributes(tenant, name)
        if not found:
            raise ResourceNotFound(f"no entity has the attribute '{shown_as}'", field="attrId")
        return found[0]
