"""The batch part of the store contract (get_entities, write_batch), on SQLite and MongoDB.

Each write of a batch stands alone: a refused one changes nothing, the others still happen.
"""

from __future__ import annotations

import copy
import sqlite3

import pytest
from store_support import EX, LATER, OpenStore, rich_entity, simple_entity

from broker.storage.base import (
    BatchWrite,
    DuplicateEntity,
    EntityStore,
    MissingEntity,
)
from broker.storage.sqlite import SqliteStore
from broker.types import DEFAULT_TENANT


async def test_get_entities_returns_the_existing_ones_by_id(store: EntityStore) -> None:
    a, b = rich_entity("urn:ngsi-ld:T:a"), simple_entity("urn:ngsi-ld:T:b", speed=1)
    await store.create_entity(DEFAULT_TENANT, copy.deepcopy(a))
    await store.create_entity(DEFAULT_TENANT, copy.deepcopy(b))
    found = await store.get_entities(
        DEFAULT_TENANT, ["urn:ngsi-ld:T:a", "urn:ngsi-ld:T:missing", "urn:ngsi-ld:T:b"]
    )
    assert found == {a["id"]: a, b["id"]: b}


async def test_get_entities_of_no_ids_or_another_tenant_is_empty(store: EntityStore) -> None:
    await store.create_entity(DEFAULT_TENANT, simple_entity("urn:ngsi-ld:T:a"))
    assert await store.get_entities(DEFAULT_TENANT, []) == {}
    assert await store.get_entities("other", ["urn:ngsi-ld:T:a"]) == {}


async def test_get_entities_reads_more_ids_than_one_sql_statement_takes(
    store: EntityStore,
) -> None:
    ids = [f"urn:ngsi-ld:T:{i}" for i in range(1200)]
    outcomes = await store.write_batch(
        DEFAULT_TENANT, [BatchWrite.create(simple_entity(i)) for i in ids]
    )
    assert outcomes == [None] * len(ids)
    found = await store.get_entities(DEFAULT_TENANT, ids)
    assert sorted(found) == sorted(ids)


async def test_write_batch_creates_replaces_and_deletes(store: EntityStore) -> None:
    old = simple_entity("urn:ngsi-ld:T:old", speed=1)
    gone = simple_entity("urn:ngsi-ld:T:gone")
    for e in (old, gone):
        await store.create_entity(DEFAULT_TENANT, copy.deepcopy(e))
    new = rich_entity("urn:ngsi-ld:T:new")
    replaced = simple_entity("urn:ngsi-ld:T:old", kind="Car", speed=2)
    replaced["modifiedAt"] = LATER
    outcomes = await store.write_batch(
        DEFAULT_TENANT,
        [BatchWrite.create(new), BatchWrite.replace(replaced), BatchWrite.delete(gone["id"])],
    )
    assert outcomes == [None, None, None]
    assert await store.get_entity(DEFAULT_TENANT, new["id"]) == new
    assert await store.get_entity(DEFAULT_TENANT, old["id"]) == replaced
    assert await store.get_entity(DEFAULT_TENANT, gone["id"]) is None


async def test_a_refused_write_fails_alone(store: EntityStore) -> None:
    existing = simple_entity("urn:ngsi-ld:T:exists", speed=1)
    await store.create_entity(DEFAULT_TENANT, copy.deepcopy(existing))
    writes = [
        BatchWrite.create(simple_entity("urn:ngsi-ld:T:first")),
        BatchWrite.create(simple_entity("urn:ngsi-ld:T:exists", speed=99)),
        BatchWrite.replace(simple_entity("urn:ngsi-ld:T:nowhere")),
        BatchWrite.create(simple_entity("urn:ngsi-ld:T:last")),
    ]
    outcomes = await store.write_batch(DEFAULT_TENANT, writes)
    assert outcomes[0] is None and outcomes[3] is None
    assert isinstance(outcomes[1], DuplicateEntity)
    assert isinstance(outcomes[2], MissingEntity)
    assert await store.get_entity(DEFAULT_TENANT, "urn:ngsi-ld:T:exists") == existing
    assert await store.get_entity(DEFAULT_TENANT, "urn:ngsi-ld:T:nowhere") is None
    assert await store.count_entities(DEFAULT_TENANT) == 3


async def test_deleting_a_missing_id_is_not_an_error(store: EntityStore) -> None:
    assert await store.write_batch(DEFAULT_TENANT, [BatchWrite.delete("urn:ngsi-ld:T:x")]) == [
        None
    ]


async def test_write_batch_refuses_an_id_twice(store: EntityStore) -> None:
    e = simple_entity("urn:ngsi-ld:T:twice")
    with pytest.raises(ValueError):
        await store.write_batch(DEFAULT_TENANT, [BatchWrite.create(e), BatchWrite.replace(e)])
    assert await store.get_entity(DEFAULT_TENANT, e["id"]) is None


async def test_an_empty_batch_writes_nothing(store: EntityStore) -> None:
    assert await store.write_batch(DEFAULT_TENANT, []) == []


async def test_a_batch_create_creates_the_tenant(store: EntityStore) -> None:
    assert not await store.tenant_exists("batchland")
    await store.write_batch("batchland", [BatchWrite.create(simple_entity("urn:ngsi-ld:T:1"))])
    assert await store.tenant_exists("batchland")
    assert "batchland" in await store.list_tenants()
    assert await store.get_entities(DEFAULT_TENANT, ["urn:ngsi-ld:T:1"]) == {}


async def test_a_batch_of_deletes_and_replaces_creates_no_tenant(store: EntityStore) -> None:
    await store.write_batch("ghost", [BatchWrite.delete("urn:ngsi-ld:T:1")])
    await store.write_batch("ghost", [BatchWrite.replace(simple_entity("urn:ngsi-ld:T:1"))])
    assert "ghost" not in await store.list_tenants()


async def test_batch_writes_survive_a_restart(open_store: OpenStore) -> None:
    first = await open_store()
    entities = [rich_entity(f"urn:ngsi-ld:T:{i}") for i in range(20)]
    await first.write_batch("t1", [BatchWrite.create(e) for e in entities])
    await first.close()
    second = await open_store()
    found = await second.get_entities("t1", [e["id"] for e in entities])
    assert found == {e["id"]: e for e in entities}


# -- SQLite specifics: one writer job, entity_types in step ---------------------------------


@pytest.fixture
async def sqlite_store(open_store: OpenStore, store_kind: str) -> SqliteStore:
    if not store_kind.startswith("sqlite"):
        pytest.skip("SQLite internals")
    store = await open_store()
    assert isinstance(store, SqliteStore)
    return store


async def test_sqlite_commits_a_whole_batch_in_one_transaction(sqlite_store: SqliteStore) -> None:
    before = sqlite_store.writer.groups_committed
    writes = [BatchWrite.create(simple_entity(f"urn:ngsi-ld:T:{i}")) for i in range(100)]
    await sqlite_store.write_batch(DEFAULT_TENANT, writes)
    assert sqlite_store.writer.groups_committed == before + 1


async def test_sqlite_keeps_entity_types_in_step_with_batch_writes(
    sqlite_store: SqliteStore,
) -> None:
    a = simple_entity("urn:ngsi-ld:T:a", kind="Car")
    b = simple_entity("urn:ngsi-ld:T:b", kind="Car")
    await sqlite_store.write_batch(DEFAULT_TENANT, [BatchWrite.create(a), BatchWrite.create(b)])
    a2 = simple_entity("urn:ngsi-ld:T:a", kind="Bus")
    a2["type"].append(EX + "Vehicle")
    dup = simple_entity("urn:ngsi-ld:T:b", kind="Tram")
    await sqlite_store.write_batch(DEFAULT_TENANT, [BatchWrite.replace(a2), BatchWrite.create(dup)])

    def types(conn: sqlite3.Connection) -> set[tuple[str, str]]:
        return set(conn.execute("SELECT id, type FROM entity_types WHERE tenant = ''"))

    assert await sqlite_store.readers.run(types) == {
        ("urn:ngsi-ld:T:a", EX + "Bus"),
        ("urn:ngsi-ld:T:a", EX + "Vehicle"),
        ("urn:ngsi-ld:T:b", EX + "Car"),
    }
    await sqlite_store.write_batch(DEFAULT_TENANT, [BatchWrite.delete("urn:ngsi-ld:T:a")])
    assert await sqlite_store.readers.run(types) == {("urn:ngsi-ld:T:b", EX + "Car")}
