"""The store contract: what the services need from any store (SQLite, MongoDB).

Stores keep `ExpandedEntity` dicts (see broker/types.py) per tenant and hand back equal
dicts. A write is acknowledged only once it is durable. Tenants: the default tenant is
`DEFAULT_TENANT` (""), which always exists; another tenant exists from its first write.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Protocol, TypeVar

from broker.errors import BadRequestData
from broker.query.ast import EntityQuery
from broker.types import ExpandedEntity


class StoreError(Exception):
    """A store failure the caller cannot fix (connection lost, disk full...)."""


class DuplicateEntity(StoreError):
    """create_entity was given an id that already exists in that tenant."""


class MissingEntity(StoreError):
    """A batch "replace" named an id that does not exist in that tenant."""


class ChangedEntity(StoreError):
    """A conditional batch write (`BatchWrite.revision`) found the entity changed since it
    was read: another process wrote it in between. The caller reads it again and re-applies
    its change."""


class RejectedEntity(StoreError, BadRequestData):
    """The store cannot hold the entity as given, for a reason only that store checks (a
    MongoDB 2dsphere index refuses a geometry it cannot read, such as a self-crossing
    polygon): bad input, answered 400 BadRequestData naming the field, and nothing written."""


class DuplicateSubscription(StoreError):
    """create_subscription was given an id that already exists in that tenant."""


class BatchWrite(NamedTuple):
    """One write of `write_batch`: "create" inserts `entity` (DuplicateEntity when its id
    exists), "replace" overwrites the stored entity of that id (MissingEntity when there is
    none), "delete" removes `entity_id` (a missing id is not an error: the caller read the
    entities under its locks and knows what it deletes). A named tuple: a batch makes one
    per entity, and a frozen dataclass costs several times as much to make.

    `revision`: the `revision_of` the entity the caller read, for a store shared by several
    processes (MongoDB): the replace or delete then happens only if the stored entity is
    still that one, else its outcome is ChangedEntity. None: unconditional."""

    kind: Literal["create", "replace", "delete"]
    entity_id: str
    entity: ExpandedEntity | None = None
    revision: str | None = None

    @staticmethod
    def create(entity: ExpandedEntity) -> BatchWrite:
        return BatchWrite("create", entity["id"], entity)

    @staticmethod
    def replace(entity: ExpandedEntity, revision: str | None = None) -> BatchWrite:
        return BatchWrite("replace", entity["id"], entity, revision)

    @staticmethod
    def delete(entity_id: str, revision: str | None = None) -> BatchWrite:
        return BatchWrite("delete", entity_id, None, revision)


def revision_of(entity: ExpandedEntity | None) -> str | None:
    """The revision a store handed out with an entity it read (`get_entities`): a store
    shared by several processes returns entities that carry one (a dict subclass with a
    `revision` attribute); others return plain dicts, and None."""
    return getattr(entity, "revision", None)


BatchOutcome = StoreError | None
"""What became of one BatchWrite: None when it was written, else why it was not."""


def distinct_ids(writes: Sequence[BatchWrite]) -> None:
    """write_batch takes each id at most once (the caller coalesces a batch's elements)."""
    if len({w.entity_id for w in writes}) != len(writes):
        raise ValueError("write_batch needs distinct entity ids")


@dataclass(frozen=True, slots=True)
class QueryPage:
    """One page of a query's matches, in the store's stable order (entity id ascending),
    and the number of all matches when it was asked for (`count=True`)."""

    entities: list[ExpandedEntity]
    total: int | None = None


@dataclass(frozen=True, slots=True)
class TypeDetails:
    """One entity type of a tenant (clauses 5.2.25-5.2.26): how many entities have it and,
    for every attribute those entities hold, the attribute kinds found ("Property",
    "Relationship", "GeoProperty", ...). Names are expanded IRIs."""

    type: str
    entity_count: int
    attributes: dict[str, frozenset[str]]


@dataclass(frozen=True, slots=True)
class AttributeDetails:
    """One attribute name of a tenant (clause 5.2.28): how many entities hold it (an entity
    counts once whatever its datasetIds), the kinds found and the types of those entities.
    Sub-attributes are not counted. Names are expanded IRIs."""

    name: str
    entity_count: int
    kinds: frozenset[str]
    types: frozenset[str]


@dataclass(frozen=True, slots=True)
class StoredSubscription:
    """A subscription as a store keeps it: `record`, the stored form the subscriptions
    package defines (names expanded; written by create/replace), and `stats`, its delivery
    counters (written apart by `save_subscription_stats`, so that a counter flush never
    overwrites a concurrent update of the record). `stats` is {} until first saved.
    `revision` changes at every create and replace (replicas compare it to see what
    changed); `lease` is the time (epoch seconds) of the last notification slot claimed with
    `claim_notification`, None before the first."""

    tenant: str
    record: dict[str, Any]
    stats: dict[str, Any]
    revision: str = ""
    lease: float | None = None

    @property
    def id(self) -> str:
        return str(self.record["id"])


COUNTS = ("timesSent", "timesFailed")
LAST_TIMES = ("lastNotification", "lastSuccess", "lastFailure")


def add_counters(stored: dict[str, Any], added: dict[str, Any]) -> dict[str, Any]:
    """Delivery counters (NotificationParams members) `stored` plus `added`, as
    `add_subscription_stats` defines it. DateTimes share one format, so text order is time
    order."""
    out = dict(stored)
    for name in COUNTS:
        if name in added or name in stored:
            out[name] = int(stored.get(name, 0)) + int(added.get(name, 0))
    for name in LAST_TIMES:
        times = [t for t in (stored.get(name), added.get(name)) if t is not None]
        if times:
            out[name] = max(times)
    if "status" in added and added.get("lastNotification", "") >= stored.get(
        "lastNotification", ""
    ):
        out["status"] = added["status"]
    return out


@dataclass(frozen=True, slots=True)
class SubscriptionPage:
    """One page of a tenant's subscriptions, ordered by id, and how many it has in all."""

    subscriptions: list[StoredSubscription]
    total: int


class SubscriptionStore(Protocol):
    """Subscriptions per tenant (clause 5.8). Records are JSON-able dicts with an "id"; a
    store keeps them as they are and hands back equal dicts."""

    async def create_subscription(self, tenant: str, record: dict[str, Any]) -> None:
        """Insert; raises DuplicateSubscription when the id exists. Creates the tenant."""

    async def get_subscription(
        self, tenant: str, subscription_id: str
    ) -> StoredSubscription | None: ...

    async def list_subscriptions(
        self, tenant: str, *, limit: int, offset: int = 0
    ) -> SubscriptionPage:
        """The tenant's subscriptions ordered by id, `offset` skipped, at most `limit`."""

    async def replace_subscription(self, tenant: str, record: dict[str, Any]) -> bool:
        """Overwrite the record of the same id (its stats stay); False when there is none."""

    async def delete_subscription(self, tenant: str, subscription_id: str) -> bool:
        """Remove the record and its stats; False when there was none."""

    async def load_subscriptions(self) -> list[StoredSubscription]:
        """Every subscription of every tenant (read once at start-up)."""

    async def subscription_revisions(self) -> dict[tuple[str, str], str]:
        """The revision of every subscription of every tenant, by (tenant, id): cheap enough
        to be polled every second by each replica."""

    async def claim_notification(
        self, tenant: str, subscription_id: str, now: float, interval: float
    ) -> tuple[bool, float | None]:
        """Atomically take the notification slot at `now` (epoch seconds) unless the last
        one was taken less than `interval` seconds before; (taken, the lease afterwards),
        lease None when the subscription is gone. Among replicas sharing the store, exactly
        one takes each slot: periodic notifications are sent once, throttling holds across
        processes and restarts."""

    async def add_subscription_stats(
        self, updates: Sequence[tuple[str, str, dict[str, Any]]]
    ) -> None:
        """Add to the stats of each (tenant, subscription id, counters): `timesSent` and
        `timesFailed` are added to the stored ones, `lastNotification`, `lastSuccess` and
        `lastFailure` become the later of the stored and the given, `status` the given one
        when its `lastNotification` is the later. Atomic per subscription, so replicas can add
        concurrently; one transaction (SQLite) or one bulk write per tenant (MongoDB); ids
        that no longer exist are skipped."""

    async def save_subscription_stats(
        self, updates: Sequence[tuple[str, str, dict[str, Any]]]
    ) -> None:
        """Set the stats of each (tenant, subscription id, stats), in one round trip per
        tenant at most; ids that no longer exist are skipped."""


R = TypeVar("R")

Change = Callable[[ExpandedEntity], tuple[ExpandedEntity, R]]
"""An update rule: the stored entity -> (the entity to store, what the rule reports). It
returns its input itself when nothing changes, may raise to refuse, and may run more than
once (on the same stored entity)."""

Modified = tuple[ExpandedEntity, ExpandedEntity, R]
"""(the entity before, the entity after, what the rule reported)."""


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

    async def modify_entity(
        self, tenant: str, entity_id: str, change: Change[R]
    ) -> Modified[R] | None:
        """Read the entity, apply `change`, write the result back unless it is the entity
        itself, as one step with respect to this store's other writes in this process
        (callers still hold the entity's lock against batch read-then-write). None when the
        entity does not exist; what `change` raises is raised."""

    async def delete_entity(self, tenant: str, entity_id: str) -> ExpandedEntity | None:
        """Remove and return the entity; None when there was none."""

    async def count_entities(self, tenant: str) -> int: ...

    # -- batch operations (clauses 5.6.7-5.6.10, 5.6.20) ------------------------------------

    async def get_entities(self, tenant: str, ids: Sequence[str]) -> dict[str, ExpandedEntity]:
        """The stored entities of `ids`, in one round trip; ids that do not exist are absent."""

    async def write_batch(
        self, tenant: str, writes: Sequence[BatchWrite]
    ) -> list[BatchOutcome]:
        """Apply every write in one round trip (SQLite: one transaction, a savepoint per write;
        MongoDB: one bulk write), each on its own: a failed write changes nothing and the
        others still happen. Ids are distinct. Returns one outcome per write, in order.
        A batch with a create creates the tenant (a replace needs an existing entity, hence
        tenant). Raises StoreError only when the whole batch failed."""

    async def query_entities(
        self, tenant: str, query: EntityQuery, *, limit: int, offset: int = 0, count: bool = False
    ) -> QueryPage:
        """The entities of a tenant that match `query` (an AST with expanded names), ordered
        by id, `offset` skipped, at most `limit` returned (limit 0 with count=True: count only).
        The answer must be exactly what `broker.query.evaluate` gives over all entities."""

    # -- discovery (clauses 5.7.5-5.7.10) ---------------------------------------------------

    async def count_entities_by_type(self, tenant: str) -> dict[str, int]:
        """Every entity type of the tenant and its number of entities (a multi-typed entity
        counts under each of its types). Needs no look at the documents' attributes."""

    async def attribute_names(self, tenant: str) -> list[str]:
        """Every attribute name the tenant's entities hold, ordered, each once (sub-attributes
        are not attributes of the entity). Cheaper than `describe_attributes`."""

    async def describe_types(
        self, tenant: str, entity_type: str | None = None
    ) -> list[TypeDetails]:
        """Every entity type of the tenant (only `entity_type` when given; [] when no entity
        has it) with its entity count and attributes, ordered by type, in one or a few round
        trips."""

    async def describe_attributes(
        self, tenant: str, attribute: str | None = None
    ) -> list[AttributeDetails]:
        """Every attribute name of the tenant (only `attribute` when given; [] when no entity
        holds it) with its entity count, kinds and entity types, ordered by name, in one or a
        few round trips."""

    async def save_context(self, record: dict[str, Any]) -> None:
        """Insert or replace a hosted @context record (keyed by record["id"])."""

    async def load_contexts(self) -> list[dict[str, Any]]: ...

    async def delete_context(self, context_id: str) -> bool: ...


class Store(EntityStore, SubscriptionStore, Protocol):
    """Everything a concrete store (SQLite, MongoDB) provides."""
