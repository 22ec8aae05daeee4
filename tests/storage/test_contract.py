"""The store contract (broker/storage/base.py), checked the same way on SQLite and MongoDB.

Every test here runs twice (`[sqlite]`, `[mongo]`): what a user sees must not depend on
the store behind the broker.
"""

from __future__ import annotations

import asyncio
import copy
import random

import pytest
from store_support import (
    EX,
    LATER,
    OpenStore,
    random_json,
    rich_entity,
    simple_entity,
    with_json_value,
)

from broker.query.ast import AttrPath, Comparison, EntityQuery, TypeName, Value
from broker.storage.base import DuplicateEntity, EntityStore, StoreError
from broker.types import DEFAULT_TENANT, ExpandedEntity

AWKWARD_TENANTS = [
    "Madrid/Centro",
    "city.of.madrid",
    "$tenant",
    "Upper",
    "upper",
    "tenant with spaces",
    "ñandú-東京",
    "t_1",
    "x" * 120,
    "x" * 121,
]


async def test_ping_answers_once_started(store: EntityStore) -> None:
    assert await store.ping() is True


async def test_created_entity_reads_back_equal(store: EntityStore) -> None:
    entity = rich_entity()
    await store.create_entity(DEFAULT_TENANT, copy.deepcopy(entity))
    assert await store.get_entity(DEFAULT_TENANT, entity["id"]) == entity


async def test_any_json_value_with_any_keys_reads_back_equal(store: EntityStore) -> None:
    rng = random.Random(20260101)
    sent = [
        with_json_value(simple_entity(f"urn:ngsi-ld:T:{i}"), random_json(rng)) for i in range(40)
    ]
    await asyncio.gather(*(store.create_entity(DEFAULT_TENANT, e) for e in sent))
    for entity in sent:
        assert await store.get_entity(DEFAULT_TENANT, entity["id"]) == entity


async def test_get_of_unknown_entity_is_none(store: EntityStore) -> None:
    assert await store.get_entity(DEFAULT_TENANT, "urn:ngsi-ld:T:none") is None
    assert await store.get_entity("never-written", "urn:ngsi-ld:T:none") is None


async def test_duplicate_create_raises_and_keeps_the_first(store: EntityStore) -> None:
    first = simple_entity("urn:ngsi-ld:T:1", speed=1)
    await store.create_entity(DEFAULT_TENANT, first)
    with pytest.raises(DuplicateEntity):
        await store.create_entity(DEFAULT_TENANT, simple_entity("urn:ngsi-ld:T:1", speed=2))
    assert await store.get_entity(DEFAULT_TENANT, "urn:ngsi-ld:T:1") == first
    assert await store.count_entities(DEFAULT_TENANT) == 1


async def test_duplicate_entity_is_a_store_error(store: EntityStore) -> None:
    await store.create_entity(DEFAULT_TENANT, simple_entity("urn:ngsi-ld:T:1"))
    with pytest.raises(StoreError):
        await store.create_entity(DEFAULT_TENANT, simple_entity("urn:ngsi-ld:T:1"))


async def test_replace_overwrites_the_whole_entity(store: EntityStore) -> None:
    await store.create_entity(DEFAULT_TENANT, rich_entity("urn:ngsi-ld:V:1"))
    replacement = simple_entity("urn:ngsi-ld:V:1", kind="Bus", seats=40)
    replacement["modifiedAt"] = LATER
    assert await store.replace_entity(DEFAULT_TENANT, replacement) is True
    assert await store.get_entity(DEFAULT_TENANT, "urn:ngsi-ld:V:1") == replacement


async def test_replace_of_unknown_entity_is_false_and_creates_nothing(
    store: EntityStore,
) -> None:
    assert await store.replace_entity(DEFAULT_TENANT, simple_entity("urn:ngsi-ld:T:x")) is False
    assert await store.get_entity(DEFAULT_TENANT, "urn:ngsi-ld:T:x") is None
    assert await store.count_entities(DEFAULT_TENANT) == 0


async def test_modify_applies_the_rule_to_the_stored_entity_and_reports_both(
    store: EntityStore,
) -> None:
    await store.create_entity(DEFAULT_TENANT, simple_entity("urn:ngsi-ld:V:1", speed=1))
    replacement = simple_entity("urn:ngsi-ld:V:1", kind="Bus", speed=2)
    seen: list[ExpandedEntity] = []

    def change(old: ExpandedEntity) -> tuple[ExpandedEntity, str]:
        seen.append(copy.deepcopy(old))
        return replacement, "changed"

    modified = await store.modify_entity(DEFAULT_TENANT, "urn:ngsi-ld:V:1", change)
    assert modified is not None
    old, new, outcome = modified
    assert old == simple_entity("urn:ngsi-ld:V:1", speed=1) == seen[-1]
    assert new == replacement and outcome == "changed"
    assert await store.get_entity(DEFAULT_TENANT, "urn:ngsi-ld:V:1") == replacement
    page = await store.query_entities(
        DEFAULT_TENANT,
        EntityQuery(types=TypeName(EX + "Bus"), q=Comparison(
            AttrPath(EX + "speed"), "==", Value(2, "number"))),
        limit=10,
    )
    assert [e["id"] for e in page.entities] == ["urn:ngsi-ld:V:1"]


async def test_modify_of_unknown_entity_is_none_and_does_not_run_the_rule(
    store: EntityStore,
) -> None:
    def change(old: ExpandedEntity) -> tuple[ExpandedEntity, None]:
        raise AssertionError("the rule ran")

    assert await store.modify_entity(DEFAULT_TENANT, "urn:ngsi-ld:T:x", change) is None
    assert await store.get_entity(DEFAULT_TENANT, "urn:ngsi-ld:T:x") is None


async def test_a_refusing_rule_changes_nothing_and_other_writes_still_happen(
    store: EntityStore,
) -> None:
    await store.create_entity(DEFAULT_TENANT, simple_entity("urn:ngsi-ld:V:1", speed=1))

    def refuse(old: ExpandedEntity) -> tuple[ExpandedEntity, None]:
        raise LookupError("no such attribute")

    results = await asyncio.gather(
        store.modify_entity(DEFAULT_TENANT, "urn:ngsi-ld:V:1", refuse),
        store.create_entity(DEFAULT_TENANT, simple_entity("urn:ngsi-ld:V:2")),
        return_exceptions=True,
    )
    assert isinstance(results[0], LookupError) and results[1] is None
    assert await store.get_entity(DEFAULT_TENANT, "urn:ngsi-ld:V:1") == simple_entity(
        "urn:ngsi-ld:V:1", speed=1
    )
    assert await store.get_entity(DEFAULT_TENANT, "urn:ngsi-ld:V:2") is not None


async def test_a_rule_that_changes_nothing_writes_nothing(store: EntityStore) -> None:
    entity = simple_entity("urn:ngsi-ld:V:1", speed=1)
    await store.create_entity(DEFAULT_TENANT, entity)
    modified = await store.modify_entity(
        DEFAULT_TENANT, "urn:ngsi-ld:V:1", lambda old: (old, "same")
    )
    assert modified is not None and modified[0] is modified[1] and modified[2] == "same"
    assert await store.get_entity(DEFAULT_TENANT, "urn:ngsi-ld:V:1") == entity


async def test_delete_returns_the_entity_and_removes_it(store: EntityStore) -> None:
    entity = rich_entity("urn:ngsi-ld:V:gone")
    await store.create_entity(DEFAULT_TENANT, entity)
    assert await store.delete_entity(DEFAULT_TENANT, entity["id"]) == entity
    assert await store.get_entity(DEFAULT_TENANT, entity["id"]) is None
    assert await store.delete_entity(DEFAULT_TENANT, entity["id"]) is None
    assert await store.count_entities(DEFAULT_TENANT) == 0


async def test_a_deleted_id_can_be_created_again(store: EntityStore) -> None:
    await store.create_entity(DEFAULT_TENANT, simple_entity("urn:ngsi-ld:T:1", v=1))
    await store.delete_entity(DEFAULT_TENANT, "urn:ngsi-ld:T:1")
    again = simple_entity("urn:ngsi-ld:T:1", v=2)
    await store.create_entity(DEFAULT_TENANT, again)
    assert await store.get_entity(DEFAULT_TENANT, "urn:ngsi-ld:T:1") == again


async def test_same_id_in_two_tenants_stays_apart(store: EntityStore) -> None:
    in_default = simple_entity("urn:ngsi-ld:T:1", owner="default")
    in_a = simple_entity("urn:ngsi-ld:T:1", owner="a")
    await store.create_entity(DEFAULT_TENANT, in_default)
    await store.create_entity("a", in_a)
    assert await store.get_entity(DEFAULT_TENANT, "urn:ngsi-ld:T:1") == in_default
    assert await store.get_entity("a", "urn:ngsi-ld:T:1") == in_a
    assert await store.get_entity("b", "urn:ngsi-ld:T:1") is None

    replaced = simple_entity("urn:ngsi-ld:T:1", owner="a, replaced")
    assert await store.replace_entity("a", replaced) is True
    assert await store.get_entity(DEFAULT_TENANT, "urn:ngsi-ld:T:1") == in_default

    assert await store.delete_entity("a", "urn:ngsi-ld:T:1") == replaced
    assert await store.get_entity(DEFAULT_TENANT, "urn:ngsi-ld:T:1") == in_default
    assert await store.count_entities(DEFAULT_TENANT) == 1
    assert await store.count_entities("a") == 0


async def test_tenant_names_that_differ_only_in_case_or_are_awkward_stay_apart(
    store: EntityStore,
) -> None:
    for tenant in AWKWARD_TENANTS:
        await store.create_entity(tenant, simple_entity("urn:ngsi-ld:T:1", tenant=tenant))
    for tenant in AWKWARD_TENANTS:
        got = await store.get_entity(tenant, "urn:ngsi-ld:T:1")
        assert got == simple_entity("urn:ngsi-ld:T:1", tenant=tenant)
        assert await store.count_entities(tenant) == 1
    assert await store.list_tenants() == sorted([DEFAULT_TENANT, *AWKWARD_TENANTS])


async def test_default_tenant_always_exists(store: EntityStore) -> None:
    assert await store.tenant_exists(DEFAULT_TENANT) is True
    assert await store.list_tenants() == [DEFAULT_TENANT]


async def test_a_tenant_exists_from_its_first_write(store: EntityStore) -> None:
    assert await store.tenant_exists("acme") is False
    await store.get_entity("acme", "urn:ngsi-ld:T:1")
    await store.replace_entity("acme", simple_entity("urn:ngsi-ld:T:1"))
    assert await store.tenant_exists("acme") is False, "reads and no-op writes create nothing"
    await store.create_entity("acme", simple_entity("urn:ngsi-ld:T:1"))
    assert await store.tenant_exists("acme") is True
    assert await store.list_tenants() == [DEFAULT_TENANT, "acme"]


async def test_a_tenant_outlives_its_last_entity(store: EntityStore) -> None:
    await store.create_entity("acme", simple_entity("urn:ngsi-ld:T:1"))
    await store.delete_entity("acme", "urn:ngsi-ld:T:1")
    assert await store.tenant_exists("acme") is True


async def test_count_entities_counts_one_tenant(store: EntityStore) -> None:
    await asyncio.gather(
        *(store.create_entity("a", simple_entity(f"urn:ngsi-ld:T:{i}")) for i in range(7)),
        *(store.create_entity("b", simple_entity(f"urn:ngsi-ld:T:{i}")) for i in range(3)),
    )
    assert await store.count_entities("a") == 7
    assert await store.count_entities("b") == 3
    assert await store.count_entities(DEFAULT_TENANT) == 0
    assert await store.count_entities("nobody") == 0


async def test_contexts_are_saved_loaded_replaced_and_deleted(store: EntityStore) -> None:
    first = {
        "id": "ctx-1",
        "url": "http://localhost:1026/ngsi-ld/v1/jsonldContexts/ctx-1",
        "kind": "Hosted",
        "body": {"@context": {"schema.org": "https://schema.org/", "$weird": {"@id": "x.y"}}},
    }
    second = {"id": "ctx-2", "kind": "Cached", "body": {"@context": ["https://a.b/c.jsonld"]}}
    await store.save_context(first)
    await store.save_context(second)
    assert sorted(await store.load_contexts(), key=lambda r: r["id"]) == [first, second]

    updated = {**first, "kind": "ImplicitlyCreated"}
    await store.save_context(updated)
    assert sorted(await store.load_contexts(), key=lambda r: r["id"]) == [updated, second]

    assert await store.delete_context("ctx-1") is True
    assert await store.delete_context("ctx-1") is False
    assert await store.load_contexts() == [second]


async def test_contexts_are_shared_by_all_tenants_and_are_not_entities(
    store: EntityStore,
) -> None:
    await store.save_context({"id": "ctx", "body": {}})
    assert await store.count_entities(DEFAULT_TENANT) == 0
    assert await store.list_tenants() == [DEFAULT_TENANT]


async def test_entities_and_contexts_survive_a_restart(open_store: OpenStore) -> None:
    first = await open_store()
    sent = [simple_entity(f"urn:ngsi-ld:T:{i}", n=i) for i in range(200)]
    await asyncio.gather(
        *(first.create_entity("t" if i % 2 else DEFAULT_TENANT, e) for i, e in enumerate(sent)),
        first.save_context({"id": "ctx", "body": {"@context": {}}}),
    )
    await first.close()

    second = await open_store()
    for i, entity in enumerate(sent):
        assert await second.get_entity("t" if i % 2 else DEFAULT_TENANT, entity["id"]) == entity
    assert await second.count_entities("t") == 100
    assert await second.list_tenants() == [DEFAULT_TENANT, "t"]
    assert await second.load_contexts() == [{"id": "ctx", "body": {"@context": {}}}]


async def test_close_commits_writes_still_in_flight(open_store: OpenStore) -> None:
    first = await open_store()
    writes = [
        asyncio.ensure_future(first.create_entity(DEFAULT_TENANT, simple_entity(f"urn:x:{i}")))
        for i in range(100)
    ]
    await asyncio.sleep(0)  # the writes have started; none has been awaited
    await first.close()
    await asyncio.gather(*writes)

    second = await open_store()
    assert await second.count_entities(DEFAULT_TENANT) == 100


async def test_writes_after_close_are_refused(open_store: OpenStore) -> None:
    store = await open_store()
    await store.close()
    with pytest.raises(StoreError):
        await store.create_entity(DEFAULT_TENANT, simple_entity("urn:ngsi-ld:T:1"))


async def test_many_concurrent_writes_are_all_acknowledged_and_present(
    store: EntityStore,
) -> None:
    sent = [simple_entity(f"urn:ngsi-ld:T:{i}", n=i) for i in range(400)]
    results = await asyncio.gather(*(store.create_entity("load", e) for e in sent))
    assert results == [None] * len(sent)
    assert await store.count_entities("load") == len(sent)
    got = await asyncio.gather(*(store.get_entity("load", e["id"]) for e in sent))
    assert got == sent


async def test_a_failing_write_fails_alone(store: EntityStore) -> None:
    await store.create_entity("g", simple_entity("urn:ngsi-ld:T:taken", v="first"))
    ids = [f"urn:ngsi-ld:T:{i}" for i in range(60)]
    ids[17] = ids[42] = "urn:ngsi-ld:T:taken"
    results = await asyncio.gather(
        *(store.create_entity("g", simple_entity(i, v="second")) for i in ids),
        return_exceptions=True,
    )
    failed = [i for i, r in enumerate(results) if r is not None]
    assert failed == [17, 42]
    assert all(isinstance(results[i], DuplicateEntity) for i in failed)
    assert await store.count_entities("g") == 59
    taken = await store.get_entity("g", "urn:ngsi-ld:T:taken")
    assert taken == simple_entity("urn:ngsi-ld:T:taken", v="first")


async def test_concurrent_creates_of_one_id_let_exactly_one_win(store: EntityStore) -> None:
    results = await asyncio.gather(
        *(store.create_entity("race", simple_entity("urn:ngsi-ld:T:1", n=n)) for n in range(20)),
        return_exceptions=True,
    )
    winners = [n for n, r in enumerate(results) if r is None]
    assert len(winners) == 1
    assert all(isinstance(r, DuplicateEntity) for r in results if r is not None)
    stored = await store.get_entity("race", "urn:ngsi-ld:T:1")
    assert stored == simple_entity("urn:ngsi-ld:T:1", n=winners[0])


async def test_the_stored_entity_is_a_copy(store: EntityStore) -> None:
    entity = simple_entity("urn:ngsi-ld:T:1", v=1)
    await store.create_entity(DEFAULT_TENANT, entity)
    entity["attrs"][EX + "v"][0]["value"] = 2
    got = await store.get_entity(DEFAULT_TENANT, "urn:ngsi-ld:T:1")
    assert got == simple_entity("urn:ngsi-ld:T:1", v=1)
    assert got is not None
    got["attrs"].clear()
    assert await store.get_entity(DEFAULT_TENANT, "urn:ngsi-ld:T:1") == simple_entity(
        "urn:ngsi-ld:T:1", v=1
    )
