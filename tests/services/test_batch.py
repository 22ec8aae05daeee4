"""BatchService: elements applied in order, one read and one write per batch, events, locks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import pytest

from broker.errors import AlreadyExists, BadRequestData, NonexistentTenant, ResourceNotFound
from broker.events import ChangeEvent, EventBus
from broker.model.expand import ExpandedFragment
from broker.model.null import deletion_instance
from broker.services.batch import BatchService
from broker.services.entities import EntityService, utc_now
from broker.settings import Settings
from broker.storage.base import BatchOutcome, BatchWrite, EntityStore
from broker.storage.sqlite import SqliteStore
from broker.types import DEFAULT_TENANT, ExpandedEntity, Instance

EX = "https://example.org/"
SPEED, COLOR = EX + "speed", EX + "color"


def prop(value: object) -> list[Instance]:
    now = utc_now()
    return [{"type": "Property", "value": value, "createdAt": now, "modifiedAt": now}]


def entity(entity_id: str, kind: str = "Vehicle", **attrs: object) -> ExpandedEntity:
    now = utc_now()
    return {
        "id": entity_id,
        "type": [EX + kind],
        "createdAt": now,
        "modifiedAt": now,
        "attrs": {EX + k: prop(v) for k, v in attrs.items()},
    }


def fragment(entity_id: str, **attrs: object) -> ExpandedFragment:
    return ExpandedFragment(attrs={EX + k: prop(v) for k, v in attrs.items()}, entity_id=entity_id)


def value(e: ExpandedEntity, name: str) -> object:
    return e["attrs"][EX + name][0]["value"]


class CountingStore:
    """A store that counts the batch round trips it serves."""

    def __init__(self, inner: EntityStore) -> None:
        self.inner = inner
        self.reads = 0
        self.writes = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def get_entities(self, tenant: str, ids: Sequence[str]) -> dict[str, ExpandedEntity]:
        self.reads += 1
        return await self.inner.get_entities(tenant, ids)

    async def write_batch(self, tenant: str, writes: Sequence[BatchWrite]) -> list[BatchOutcome]:
        self.writes += 1
        return await self.inner.write_batch(tenant, writes)


@dataclass
class Setup:
    batch: BatchService
    entities: EntityService
    store: CountingStore
    events: list[ChangeEvent]


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    raw = SqliteStore(":memory:", Settings())
    await raw.start()
    store = CountingStore(raw)
    bus = EventBus()
    events: list[ChangeEvent] = []
    bus.subscribe(events.append)
    entities = EntityService(raw, bus)
    batch = BatchService(store, bus, entities.locks, max_attributes=5)
    yield Setup(batch, entities, store, events)
    await raw.close()


async def test_create_of_many_entities_is_one_write_and_no_read(setup: Setup) -> None:
    result = await setup.batch.create(
        DEFAULT_TENANT, [entity(f"urn:ngsi-ld:V:{i}", speed=i) for i in range(100)]
    )
    assert result.errors == []
    assert result.created == result.success == [f"urn:ngsi-ld:V:{i}" for i in range(100)]
    assert (setup.store.reads, setup.store.writes) == (0, 1)
    assert value(await setup.entities.get(DEFAULT_TENANT, "urn:ngsi-ld:V:42"), "speed") == 42
    assert [e.trigger for e in setup.events] == ["entityCreated"] * 100


async def test_create_of_an_existing_id_fails_alone(setup: Setup) -> None:
    await setup.entities.create(DEFAULT_TENANT, entity("urn:ngsi-ld:V:old", speed=1))
    result = await setup.batch.create(
        DEFAULT_TENANT, [entity("urn:ngsi-ld:V:old", speed=2), entity("urn:ngsi-ld:V:new")]
    )
    assert result.success == ["urn:ngsi-ld:V:new"]
    assert [(e.entity_id, type(e.error)) for e in result.errors] == [
        ("urn:ngsi-ld:V:old", AlreadyExists)
    ]
    assert value(await setup.entities.get(DEFAULT_TENANT, "urn:ngsi-ld:V:old"), "speed") == 1


async def test_upsert_applies_elements_of_one_id_in_order(setup: Setup) -> None:
    result = await setup.batch.upsert(
        DEFAULT_TENANT,
        [
            entity("urn:ngsi-ld:V:1", speed=1),
            entity("urn:ngsi-ld:V:1", color="red"),
            entity("urn:ngsi-ld:V:1", speed=3),
        ],
        replace=False,
    )
    assert result.created == result.success == ["urn:ngsi-ld:V:1"]
    stored = await setup.entities.get(DEFAULT_TENANT, "urn:ngsi-ld:V:1")
    assert (value(stored, "speed"), value(stored, "color")) == (3, "red")
    assert [(e.trigger, e.before) for e in setup.events] == [("entityCreated", None)]


async def test_upserts_of_new_ids_skip_the_read_until_one_finds_a_stored_entity(
    setup: Setup,
) -> None:
    """A tenant's upserts are written as creates while they find nothing stored; the
    ids found taken are then read and their elements applied again, and the tenant's next
    upsert reads first, until one finds nothing stored again."""
    await setup.entities.create(DEFAULT_TENANT, entity("urn:ngsi-ld:V:old", speed=1, color="red"))

    async def upsert(*entities: ExpandedEntity) -> tuple[object, ...]:
        reads, writes = setup.store.reads, setup.store.writes
        result = await setup.batch.upsert(DEFAULT_TENANT, list(entities), replace=False)
        return (
            result.created, result.success, [e.entity_id for e in result.errors],
            setup.store.reads - reads, setup.store.writes - writes,
        )

    assert await upsert(entity("urn:ngsi-ld:V:1", speed=1), entity("urn:ngsi-ld:V:2")) == (
        ["urn:ngsi-ld:V:1", "urn:ngsi-ld:V:2"], ["urn:ngsi-ld:V:1", "urn:ngsi-ld:V:2"], [], 0, 1
    )
    setup.events.clear()
    # The guess fails for V:old: its elements are applied, in order, to what is stored.
    assert await upsert(
        entity("urn:ngsi-ld:V:old", speed=2),
        entity("urn:ngsi-ld:V:3", speed=3),
        entity("urn:ngsi-ld:V:old", size=4),
    ) == (["urn:ngsi-ld:V:3"], ["urn:ngsi-ld:V:old", "urn:ngsi-ld:V:3"], [], 1, 2)
    old = await setup.entities.get(DEFAULT_TENANT, "urn:ngsi-ld:V:old")
    assert (value(old, "speed"), value(old, "color"), value(old, "size")) == (2, "red", 4)
    assert [(e.trigger, e.entity_id) for e in setup.events] == [
        ("entityCreated", "urn:ngsi-ld:V:3"), ("entityUpdated", "urn:ngsi-ld:V:old"),
    ]
    before = setup.events[1].before
    assert before is not None and value(before, "speed") == 1
    # Known ids now: read first, one write.
    assert await upsert(entity("urn:ngsi-ld:V:old", speed=5)) == (
        [], ["urn:ngsi-ld:V:old"], [], 1, 1
    )
    assert await upsert(entity("urn:ngsi-ld:V:4")) == (
        ["urn:ngsi-ld:V:4"], ["urn:ngsi-ld:V:4"], [], 1, 1
    )
    # That one found nothing stored: the next skips the read again.
    assert await upsert(entity("urn:ngsi-ld:V:5")) == (
        ["urn:ngsi-ld:V:5"], ["urn:ngsi-ld:V:5"], [], 0, 1
    )


async def test_a_failed_guess_reports_each_element_as_a_read_first_would(setup: Setup) -> None:
    """An element whose rule fails on the stored entity is reported alone, in its place."""
    await setup.entities.create(DEFAULT_TENANT, entity("urn:ngsi-ld:V:old", speed=1))
    too_many = entity("urn:ngsi-ld:V:old", a=1, b=2, c=3, d=4, e=5)  # 6 with speed: over 5
    result = await setup.batch.upsert(
        DEFAULT_TENANT,
        [entity("urn:ngsi-ld:V:new"), too_many, entity("urn:ngsi-ld:V:old", speed=7)],
        replace=False,
    )
    assert result.created == ["urn:ngsi-ld:V:new"]
    assert result.success == ["urn:ngsi-ld:V:new", "urn:ngsi-ld:V:old"]
    assert [(e.entity_id, type(e.error)) for e in result.errors] == [
        ("urn:ngsi-ld:V:old", BadRequestData)
    ]
    old = await setup.entities.get(DEFAULT_TENANT, "urn:ngsi-ld:V:old")
    assert set(old["attrs"]) == {SPEED} and value(old, "speed") == 7


async def test_upsert_replace_drops_attributes_update_keeps_them(setup: Setup) -> None:
    for i in (1, 2):
        old = entity(f"urn:ngsi-ld:V:{i}", speed=1, color="red")
        await setup.entities.create(DEFAULT_TENANT, old)
    await setup.batch.upsert(DEFAULT_TENANT, [entity("urn:ngsi-ld:V:1", speed=2)], replace=True)
    result = await setup.batch.upsert(
        DEFAULT_TENANT, [entity("urn:ngsi-ld:V:2", speed=2)], replace=False
    )
    assert result.created == [] and result.success == ["urn:ngsi-ld:V:2"]
    replaced = await setup.entities.get(DEFAULT_TENANT, "urn:ngsi-ld:V:1")
    updated = await setup.entities.get(DEFAULT_TENANT, "urn:ngsi-ld:V:2")
    assert set(replaced["attrs"]) == {SPEED}
    assert set(updated["attrs"]) == {SPEED, COLOR} and value(updated, "speed") == 2
    assert setup.events[-1].trigger == "entityUpdated"
    assert setup.events[-1].before is not None and value(setup.events[-1].before, "speed") == 1


async def test_a_failing_element_keeps_what_the_earlier_elements_of_its_id_did(
    setup: Setup,
) -> None:
    too_many = entity("urn:ngsi-ld:V:1", a=1, b=2, c=3, d=4, e=5, f=6)
    result = await setup.batch.upsert(
        DEFAULT_TENANT,
        [entity("urn:ngsi-ld:V:1", speed=1), too_many, entity("urn:ngsi-ld:V:1", speed=2)],
        replace=False,
    )
    assert result.success == ["urn:ngsi-ld:V:1"]
    assert [type(e.error) for e in result.errors] == [BadRequestData]
    stored = await setup.entities.get(DEFAULT_TENANT, "urn:ngsi-ld:V:1")
    assert set(stored["attrs"]) == {SPEED} and value(stored, "speed") == 2


async def test_update_needs_the_entity_and_honours_no_overwrite(setup: Setup) -> None:
    await setup.entities.create(DEFAULT_TENANT, entity("urn:ngsi-ld:V:1", speed=1))
    result = await setup.batch.update(
        DEFAULT_TENANT,
        [fragment("urn:ngsi-ld:V:1", speed=9, color="blue"), fragment("urn:ngsi-ld:V:none")],
        overwrite=False,
    )
    assert result.success == ["urn:ngsi-ld:V:1"]
    assert [(e.entity_id, type(e.error)) for e in result.errors] == [
        ("urn:ngsi-ld:V:none", ResourceNotFound)
    ]
    stored = await setup.entities.get(DEFAULT_TENANT, "urn:ngsi-ld:V:1")
    assert (value(stored, "speed"), value(stored, "color")) == (1, "blue")
    assert await setup.store.get_entity(DEFAULT_TENANT, "urn:ngsi-ld:V:none") is None


async def test_merge_deletes_with_the_null_and_keeps_the_rest(setup: Setup) -> None:
    await setup.entities.create(DEFAULT_TENANT, entity("urn:ngsi-ld:V:1", speed=1, color="red"))
    merge = ExpandedFragment(
        attrs={
            COLOR: [deletion_instance("Property", dataset_id=None, now=utc_now())],
            SPEED: prop(5),
        },
        entity_id="urn:ngsi-ld:V:1",
    )
    result = await setup.batch.merge(DEFAULT_TENANT, [merge])
    assert result.success == ["urn:ngsi-ld:V:1"] and result.errors == []
    stored = await setup.entities.get(DEFAULT_TENANT, "urn:ngsi-ld:V:1")
    assert set(stored["attrs"]) == {SPEED} and value(stored, "speed") == 5


async def test_delete_reports_missing_ids_and_publishes_deletions(setup: Setup) -> None:
    await setup.batch.create(DEFAULT_TENANT, [entity("urn:ngsi-ld:V:1"), entity("urn:ngsi-ld:V:2")])
    setup.events.clear()
    result = await setup.batch.delete(
        DEFAULT_TENANT, ["urn:ngsi-ld:V:1", "urn:ngsi-ld:V:x", "urn:ngsi-ld:V:2"]
    )
    assert result.success == ["urn:ngsi-ld:V:1", "urn:ngsi-ld:V:2"]
    assert [e.entity_id for e in result.errors] == ["urn:ngsi-ld:V:x"]
    assert [(e.trigger, e.after) for e in setup.events] == [("entityDeleted", None)] * 2
    assert await setup.store.count_entities(DEFAULT_TENANT) == 0


async def test_deleting_an_id_twice_fails_the_second_element(setup: Setup) -> None:
    await setup.batch.create(DEFAULT_TENANT, [entity("urn:ngsi-ld:V:1")])
    result = await setup.batch.delete(DEFAULT_TENANT, ["urn:ngsi-ld:V:1", "urn:ngsi-ld:V:1"])
    assert result.success == ["urn:ngsi-ld:V:1"] and len(result.errors) == 1


async def test_update_in_a_tenant_that_never_had_a_write_is_nonexistent_tenant(
    setup: Setup,
) -> None:
    with pytest.raises(NonexistentTenant):
        await setup.batch.update("nowhere", [fragment("urn:ngsi-ld:V:1", speed=1)], overwrite=True)
    result = await setup.batch.upsert("somewhere", [entity("urn:ngsi-ld:V:1")], replace=True)
    assert result.created == ["urn:ngsi-ld:V:1"]
    assert await setup.store.tenant_exists("somewhere")


async def test_a_batch_and_a_single_update_of_one_entity_lose_nothing(setup: Setup) -> None:
    """EntityService and BatchService share the per-entity locks: many concurrent appends of
    different attributes through both paths all land."""
    await setup.entities.create(DEFAULT_TENANT, entity("urn:ngsi-ld:V:1"))
    batch = BatchService(setup.store, setup.batch.bus, setup.entities.locks)

    async def single(i: int) -> None:
        await setup.entities.append_attrs(
            DEFAULT_TENANT,
            "urn:ngsi-ld:V:1",
            ExpandedFragment(attrs={f"{EX}single{i}": prop(i)}),
            overwrite=True,
        )

    async def batched(i: int) -> None:
        await batch.update(
            DEFAULT_TENANT,
            [ExpandedFragment(attrs={f"{EX}batch{i}": prop(i)}, entity_id="urn:ngsi-ld:V:1")],
            overwrite=True,
        )

    await asyncio.gather(*(f(i) for i in range(20) for f in (single, batched)))
    stored = await setup.entities.get(DEFAULT_TENANT, "urn:ngsi-ld:V:1")
    assert len(stored["attrs"]) == 40


async def test_an_empty_batch_touches_no_store(setup: Setup) -> None:
    result = await setup.batch.create(DEFAULT_TENANT, [])
    assert (result.success, result.errors, setup.store.reads, setup.store.writes) == (
        [],
        [],
        0,
        0,
    )


async def test_a_rule_that_fails_for_want_of_the_stored_entity_is_applied_to_it(
    setup: Setup,
) -> None:
    """Applied as if absent, an element can fail otherwise than it fails on the stored
    entity: an id none of whose elements went through is read, and they are applied again."""
    batch = BatchService(setup.store, setup.batch.bus, setup.entities.locks, max_attributes=2)
    await setup.entities.create(DEFAULT_TENANT, entity("urn:ngsi-ld:V:old", speed=1))
    reads = setup.store.reads
    result = await batch.create(
        DEFAULT_TENANT, [entity("urn:ngsi-ld:V:old", a=1, b=2, c=3), entity("urn:ngsi-ld:V:n")]
    )
    # As a read first answers: the id exists, whatever else is wrong with the element.
    assert [(e.entity_id, type(e.error)) for e in result.errors] == [
        ("urn:ngsi-ld:V:old", AlreadyExists)
    ]
    assert result.created == ["urn:ngsi-ld:V:n"]
    assert setup.store.reads == reads + 1
