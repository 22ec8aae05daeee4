"""The store contract: what the services need from any store (SQLite, MongoDB).

Stores keep `ExpandedEntity` dicts (see broker/types.py) per tenant and hand back equal
dicts. A write is acknowledged only once it is durable. Tenants: the default tenant is
`DEFAULT_TENANT` (""), which always exists; another tenant exists from its first write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from broker.query.ast import EntityQuery
from broker.types import ExpandedEntity


class StoreError(Exception):
    """A store failure the caller cannot fix (connection lost, disk full...)."""


class DuplicateEntity(StoreError):
    """create_entity was given an id that already exists in that tenant."""


@dataclass(frozen=True, slots=True)
class QueryPage:
    """One page of a query's matches, in the store's stable order (entity id ascending),
    and the number of all matches when it was asked for (`count=True`)."""

    entities: list[ExpandedEntity]
    total: int | None = None


class EntityStore(Protocol):
    """Entities per tenant, plus the hosted @context documents (shared by all tenants)."""

    async def start(self) -> None:
        """Open connections, create schema/indexes. Ready to serve when it returns."""

    async def close(self) -> None:
        """Flush every pending write, then release connections."""

    async def ping(self) -> bool:
        """True when the store answers (for /health)."""

    async def tenant_exists(self, tenant: str) -> bool: ...

    async def list_tenants(self) -> list[str]:
        """Every tenant that has had a write, the default tenant included."""

    async def create_entity(self, tenant: str, entity: ExpandedEntity) -> None:
        """Insert; raises DuplicateEntity when the id exists. Creates the tenant."""

    async def get_entity(self, tenant: str, entity_id: str) -> ExpandedEntity | None: ...

    async def replace_entity(self, tenant: str, entity: ExpandedEntity) -> bool:
        """Overwrite the stored entity with the same id; False when there is none."""

    async def delete_entity(self, tenant: str, entity_id: str) -> ExpandedEntity | None:
        """Remove and return the entity; None when there was none."""

    async def count_entities(self, tenant: str) -> int: ...

    async def query_entities(
        self, tenant: str, query: EntityQuery, *, limit: int, offset: int = 0, count: bool = False
    ) -> QueryPage:
        """The entities of a tenant that match `query` (an AST with expanded names), ordered
        by id, `offset` skipped, at most `limit` returned (limit 0 with count=True: count only).
        The answer must be exactly what `broker.query.evaluate` gives over all entities."""

    async def save_context(self, record: dict[str, Any]) -> None:
        """Insert or replace a hosted @context record (keyed by record["id"])."""

    async def load_contexts(self) -> list[dict[str, Any]]: ...

    async def delete_context(self, context_id: str) -> bool: ...
