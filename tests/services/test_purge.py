"""PurgeService: every match deleted page by page, one write per page, events, locks, tenants."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import pytest

from broker.errors import InternalError, NonexistentTenant
from broker.events import ChangeEvent, EventBus
from broker.jsonld.context import TermMap
from broker.query.ast import EntityQuery
from broker.query.params import parse_entity_query
from broker.services.entities import EntityService, utc_now
from broker.services.locks import EntityLocks
from broker.services.purge import PurgeService
from broker.settings import Settings
from broker.storage.base import BatchOutcome, BatchWrite, EntityStore, QueryPage, StoreError
from broker.storage.sqlite import SqliteStore
from broker.types import DEFAULT_TENANT, ExpandedEntity

NS = "https://uri.etsi.org/ngsi-ld/default-context/"
TENANT = "cityA"


def entity(entity_id: str, *kinds: str, **attrs: object) -> ExpandedEntity:
    now = utc_now()
    return {
        "id": entity_id,
        "type": [NS + k for k in (kinds or ("Vehicle",))],
        "createdAt": now,
        "modifiedAt": now,
        "attrs": {
            NS + k: [{"type": "Property", "value": v, "createdAt": now, "modifiedAt": now}]
            for k, v in attrs.items()
        },
    }


def query(**params: str) -> EntityQuery:
    return parse_entity_query(params, TermMap())


class CountingStore:
    """The real store, counting round trips; hooks let a test act between them."""

    def __init__(self, inner: EntityStore) -> None:
        self.inner = inner
        self.queries = 0
        self.reads = 0
        self.writes = 0
        self.write_sizes: list[int] = []
        self.after_query: list[object] = []
        self.refuse: set[str] = set()

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def query_entities(
        self, tenant: str, q: EntityQuery, *, limit: int, offset: int = 0, count: bool = False
    ) -> QueryPage:
        self.queries += 1
        page = await self.inner.query_entities(tenant, q, limit=limit, offset=offset, count=count)
        while self.after_query:
            hook = self.after_query.pop()
            assert callable(hook)
            await hook()
        return page

    async def get_entities(self, tenant: str, ids: Sequence[str]) -> dict[str, ExpandedEntity]:
        self.reads += 1
        return await self.inner.get_entities(tenant, ids)

    async def write_batch(self, tenant: str, writes: Sequence[BatchWrite]) -> list[BatchOutcome]:
        self.writes += 1
        self.write_sizes.append(len(writes))
        allowed = [w for w in writes if w.entity_id not in self.refuse]
        outcomes = iter(await self.inner.write_batch(tenant, allowed) if allowed else [])
        return [
            StoreError("disk on fire") if w.entity_id in self.refuse else next(outcomes)
            for w in writes
        ]


@dataclass
class Setup:
    purge: PurgeService
    entities: EntityService
    store: CountingStore
    raw: EntityStore
    events: list[ChangeEvent]

    async def ids(self, tenant: str = DEFAULT_TENANT) -> set[str]:
        page = await self.raw.query_entities(
            tenant, EntityQuery(id_pattern=".*"), limit=1000
        )
        return {e["id"] for e in page.entities}

    async def add(self, tenant: str, *entities: ExpandedEntity) -> None:
        for e in entities:
            await self.entities.create(tenant, e)
        self.events.clear()


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    raw = SqliteStore(":memory:", Settings())
    await raw.start()
    store = CountingStore(raw)
    bus = EventBus()
    events: list[ChangeEvent] = []
    bus.subscribe(events.append)
    entities = EntityService(raw, bus)
    purge = PurgeService(store, bus, entities.locks, page_size=3)
    yield Setup(purge, entities, store, raw, events)
    await raw.close()


async def test_purge_by_type_deletes_exactly_that_type(setup: Setup) -> None:
    await setup.add(
        DEFAULT_TENANT,
        *(entity(f"urn:ngsi-ld:V:{i}", "Vehicle") for i in range(5)),
        *(entity(f"urn:ngsi-ld:P:{i}", "Parking") for i in range(2)),
    )
    result = await setup.purge.purge(DEFAULT_TENANT, query(type="Vehicle"))
    assert result.success == [f"urn:ngsi-ld:V:{i}" for i in range(5)]
    assert result.errors == []
    assert await setup.ids() == {"urn:ngsi-ld:P:0", "urn:ngsi-ld:P:1"}


async def test_each_page_is_one_write_batch_and_every_match_goes(setup: Setup) -> None:
    await setup.add(DEFAULT_TENANT, *(entity(f"urn:ngsi-ld:V:{i:02}") for i in range(10)))
    result = await setup.purge.purge(DEFAULT_TENANT, query(type="Vehicle"))
    assert len(result.success) == 10
    assert setup.store.write_sizes == [3, 3, 3, 1]
    assert setup.store.reads == 4  # one re-read under the locks per page
    assert setup.store.queries == 5  # the last one finds nothing left
    assert await setup.ids() == set()


async def test_every_deleted_entity_gets_one_entity_deleted_event(setup: Setup) -> None:
    stored = [entity(f"urn:ngsi-ld:V:{i}", speed=i) for i in range(4)]
    await setup.add(DEFAULT_TENANT, *stored)
    await setup.purge.purge(DEFAULT_TENANT, query(type="Vehicle"))
    assert [(e.trigger, e.entity_id, e.before, e.after) for e in setup.events] == [
        ("entityDeleted", e["id"], e, None) for e in stored
    ]


async def test_purge_by_type_and_q_deletes_only_matches_of_both(setup: Setup) -> None:
    await setup.add(
        DEFAULT_TENANT,
        entity("urn:ngsi-ld:V:slow", speed=10),
        entity("urn:ngsi-ld:V:fast", speed=90),
        entity("urn:ngsi-ld:P:fast", "Parking", speed=90),
    )
    result = await setup.purge.purge(DEFAULT_TENANT, query(type="Vehicle", q="speed>50"))
    assert result.success == ["urn:ngsi-ld:V:fast"]
    assert await setup.ids() == {"urn:ngsi-ld:V:slow", "urn:ngsi-ld:P:fast"}


async def test_multi_typed_entity_is_purged_by_any_of_its_types(setup: Setup) -> None:
    await setup.add(
        DEFAULT_TENANT,
        entity("urn:ngsi-ld:X:both", "Vehicle", "Car"),
        entity("urn:ngsi-ld:X:vehicle", "Vehicle"),
    )
    result = await setup.purge.purge(DEFAULT_TENANT, query(type="Car"))
    assert result.success == ["urn:ngsi-ld:X:both"]
    assert await setup.ids() == {"urn:ngsi-ld:X:vehicle"}


async def test_nothing_matching_is_an_empty_success_without_writes(setup: Setup) -> None:
    await setup.add(DEFAULT_TENANT, entity("urn:ngsi-ld:V:1"))
    result = await setup.purge.purge(DEFAULT_TENANT, query(type="Boat"))
    assert (result.success, result.errors) == ([], [])
    assert setup.store.writes == 0
    assert setup.events == []
    assert await setup.ids() == {"urn:ngsi-ld:V:1"}


async def test_unknown_tenant_is_nonexistent_tenant(setup: Setup) -> None:
    with pytest.raises(NonexistentTenant):
        await setup.purge.purge("nosuchtenant", query(type="Vehicle"))
    assert setup.store.queries == 0


async def test_purge_in_one_tenant_leaves_the_same_ids_in_others_alone(setup: Setup) -> None:
    for tenant in (TENANT, DEFAULT_TENANT, "cityB"):
        await setup.add(tenant, entity("urn:ngsi-ld:V:1"), entity("urn:ngsi-ld:V:2"))
    result = await setup.purge.purge(TENANT, query(type="Vehicle"))
    assert result.success == ["urn:ngsi-ld:V:1", "urn:ngsi-ld:V:2"]
    assert await setup.ids(TENANT) == set()
    for tenant in (DEFAULT_TENANT, "cityB"):
        assert await setup.ids(tenant) == {"urn:ngsi-ld:V:1", "urn:ngsi-ld:V:2"}
    assert {e.tenant for e in setup.events} == {TENANT}


async def test_an_entity_that_stopped_matching_before_its_lock_is_kept(setup: Setup) -> None:
    await setup.add(
        DEFAULT_TENANT, entity("urn:ngsi-ld:V:1", speed=90), entity("urn:ngsi-ld:V:2", speed=90)
    )

    async def slow_down() -> None:  # a write that lands between the page read and the locks
        await setup.raw.replace_entity(DEFAULT_TENANT, entity("urn:ngsi-ld:V:1", speed=5))

    setup.store.after_query.append(slow_down)
    result = await setup.purge.purge(DEFAULT_TENANT, query(q="speed>50"))
    assert result.success == ["urn:ngsi-ld:V:2"]
    assert await setup.ids() == {"urn:ngsi-ld:V:1"}


async def test_the_event_carries_the_entity_as_it_was_under_the_lock(setup: Setup) -> None:
    await setup.add(DEFAULT_TENANT, entity("urn:ngsi-ld:V:1", speed=90))
    newer = entity("urn:ngsi-ld:V:1", speed=95)

    async def speed_up() -> None:
        await setup.raw.replace_entity(DEFAULT_TENANT, newer)

    setup.store.after_query.append(speed_up)
    await setup.purge.purge(DEFAULT_TENANT, query(q="speed>50"))
    [event] = setup.events
    assert event.before == newer


async def test_refused_deletes_are_reported_and_the_rest_still_goes(setup: Setup) -> None:
    await setup.add(DEFAULT_TENANT, *(entity(f"urn:ngsi-ld:V:{i}") for i in range(7)))
    setup.store.refuse = {"urn:ngsi-ld:V:1", "urn:ngsi-ld:V:5"}
    result = await setup.purge.purge(DEFAULT_TENANT, query(type="Vehicle"))
    assert result.success == [f"urn:ngsi-ld:V:{i}" for i in (0, 2, 3, 4, 6)]
    assert [(e.entity_id, type(e.error)) for e in result.errors] == [
        ("urn:ngsi-ld:V:1", InternalError),
        ("urn:ngsi-ld:V:5", InternalError),
    ]
    assert await setup.ids() == {"urn:ngsi-ld:V:1", "urn:ngsi-ld:V:5"}
    assert [e.entity_id for e in setup.events] == result.success


async def test_purge_waits_for_a_write_holding_an_entity_lock(setup: Setup) -> None:
    await setup.add(DEFAULT_TENANT, entity("urn:ngsi-ld:V:1"), entity("urn:ngsi-ld:V:2"))
    held = setup.entities.locks.one(DEFAULT_TENANT, "urn:ngsi-ld:V:2")
    await held.__aenter__()
    task = asyncio.create_task(setup.purge.purge(DEFAULT_TENANT, query(type="Vehicle")))
    await asyncio.sleep(0.05)
    assert not task.done()
    assert setup.store.writes == 0
    await held.__aexit__(None, None, None)
    result = await task
    assert result.success == ["urn:ngsi-ld:V:1", "urn:ngsi-ld:V:2"]


def test_a_page_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError):
        PurgeService(None, EventBus(), EntityLocks(), page_size=0)  # type: ignore[arg-type]
