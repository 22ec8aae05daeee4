"""The discovery part of the store contract (count_entities_by_type, describe_types,
describe_attributes), on SQLite and MongoDB: counts per type and per attribute, kinds, types,
multi-typed entities, tenants, and what a write or a delete changes."""

from __future__ import annotations

import copy

from store_support import EX, NOW, OpenStore, rich_entity, simple_entity

from broker.storage.base import AttributeDetails, BatchWrite, EntityStore, TypeDetails
from broker.types import DEFAULT_TENANT, ExpandedEntity

CAR = "https://uri.fiware.org/ns/data-models#Car"
VEHICLE = EX + "Vehicle"


def typed(entity_id: str, types: list[str], **attrs: list[dict[str, object]]) -> ExpandedEntity:
    return {
        "id": entity_id,
        "type": types,
        "createdAt": NOW,
        "modifiedAt": NOW,
        "attrs": {EX + name: instances for name, instances in attrs.items()},
    }


def prop(value: object, dataset: str | None = None) -> dict[str, object]:
    instance: dict[str, object] = {"type": "Property", "value": value}
    if dataset is not None:
        instance["datasetId"] = dataset
    return instance


REL = {"type": "Relationship", "object": "urn:ngsi-ld:Person:P1"}
GEO = {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1.0, 2.0]}}


def by_type(found: list[TypeDetails]) -> dict[str, TypeDetails]:
    return {t.type: t for t in found}


def by_name(found: list[AttributeDetails]) -> dict[str, AttributeDetails]:
    return {a.name: a for a in found}


async def test_an_empty_tenant_has_no_types_and_no_attributes(store: EntityStore) -> None:
    assert await store.count_entities_by_type(DEFAULT_TENANT) == {}
    assert await store.describe_types(DEFAULT_TENANT) == []
    assert await store.describe_attributes(DEFAULT_TENANT) == []
    assert await store.describe_types(DEFAULT_TENANT, VEHICLE) == []
    assert await store.describe_attributes(DEFAULT_TENANT, EX + "speed") == []


async def test_every_kind_of_the_rich_entity_is_reported_under_its_attribute(
    store: EntityStore,
) -> None:
    await store.create_entity(DEFAULT_TENANT, rich_entity())
    expected = {
        EX + "speed": {"Property"},
        EX + "name": {"Property"},
        EX + "location": {"GeoProperty"},
        EX + "owner": {"Relationship"},
        EX + "config": {"JsonProperty"},
        EX + "label": {"LanguageProperty"},
        EX + "category": {"VocabProperty"},
        EX + "readings": {"ListProperty"},
        EX + "path": {"ListRelationship"},
        EX + "empty": {"Property"},
    }
    attributes = by_name(await store.describe_attributes(DEFAULT_TENANT))
    assert {name: set(a.kinds) for name, a in attributes.items()} == expected
    assert all(a.entity_count == 1 for a in attributes.values())
    assert all(a.types == {VEHICLE, CAR} for a in attributes.values())
    types = by_type(await store.describe_types(DEFAULT_TENANT))
    assert sorted(types) == sorted([VEHICLE, CAR])
    for details in types.values():
        assert details.entity_count == 1
        assert {n: set(k) for n, k in details.attributes.items()} == expected


async def test_sub_attributes_are_not_attributes_of_the_entity(store: EntityStore) -> None:
    await store.create_entity(DEFAULT_TENANT, rich_entity())
    names = {a.name for a in await store.describe_attributes(DEFAULT_TENANT)}
    assert EX + "since.year" not in names and EX + "verifiedBy" not in names


async def test_a_multi_typed_entity_counts_under_each_type_and_once_per_attribute(
    store: EntityStore,
) -> None:
    await store.create_entity(DEFAULT_TENANT, typed("urn:e:1", [VEHICLE, CAR], speed=[prop(1)]))
    await store.create_entity(DEFAULT_TENANT, typed("urn:e:2", [CAR], speed=[prop(2)]))
    await store.create_entity(DEFAULT_TENANT, typed("urn:e:3", [VEHICLE], owner=[REL]))
    assert await store.count_entities_by_type(DEFAULT_TENANT) == {VEHICLE: 2, CAR: 2}
    speed = by_name(await store.describe_attributes(DEFAULT_TENANT))[EX + "speed"]
    assert speed == AttributeDetails(
        EX + "speed", 2, frozenset({"Property"}), frozenset({VEHICLE, CAR})
    )
    types = by_type(await store.describe_types(DEFAULT_TENANT))
    assert types[VEHICLE] == TypeDetails(
        VEHICLE,
        2,
        {EX + "owner": frozenset({"Relationship"}), EX + "speed": frozenset({"Property"})},
    )
    assert types[CAR] == TypeDetails(CAR, 2, {EX + "speed": frozenset({"Property"})})


async def test_a_multi_attribute_counts_once_and_reports_every_kind_of_its_instances(
    store: EntityStore,
) -> None:
    await store.create_entity(
        DEFAULT_TENANT,
        typed(
            "urn:e:1",
            [VEHICLE],
            speed=[prop(1), prop(2, "urn:ds:a"), {**REL, "datasetId": "urn:ds:b"}],
        ),
    )
    await store.create_entity(DEFAULT_TENANT, typed("urn:e:2", [VEHICLE], speed=[prop(3)]))
    speed = by_name(await store.describe_attributes(DEFAULT_TENANT, EX + "speed"))[EX + "speed"]
    assert speed.entity_count == 2
    assert speed.kinds == {"Property", "Relationship"}
    (vehicle,) = await store.describe_types(DEFAULT_TENANT, VEHICLE)
    assert vehicle.attributes == {EX + "speed": frozenset({"Property", "Relationship"})}


async def test_an_entity_without_attributes_still_counts_for_its_type(store: EntityStore) -> None:
    await store.create_entity(DEFAULT_TENANT, typed("urn:e:1", [VEHICLE]))
    assert await store.describe_types(DEFAULT_TENANT) == [TypeDetails(VEHICLE, 1, {})]
    assert await store.describe_attributes(DEFAULT_TENANT) == []


async def test_one_type_or_one_attribute_is_the_same_as_in_the_full_answer(
    store: EntityStore,
) -> None:
    await store.create_entity(DEFAULT_TENANT, rich_entity("urn:e:rich"))
    await store.create_entity(
        DEFAULT_TENANT, typed("urn:e:1", [VEHICLE, EX + "Bus"], speed=[prop(1)], location=[GEO])
    )
    await store.create_entity(DEFAULT_TENANT, typed("urn:e:2", [EX + "Bus"], speed=[REL]))
    all_types = by_type(await store.describe_types(DEFAULT_TENANT))
    for name, details in all_types.items():
        assert await store.describe_types(DEFAULT_TENANT, name) == [details]
    all_attributes = by_name(await store.describe_attributes(DEFAULT_TENANT))
    for name, attribute in all_attributes.items():
        assert await store.describe_attributes(DEFAULT_TENANT, name) == [attribute]
    assert all_attributes[EX + "speed"] == AttributeDetails(
        EX + "speed",
        3,
        frozenset({"Property", "Relationship"}),
        frozenset({VEHICLE, CAR, EX + "Bus"}),
    )
    assert await store.describe_types(DEFAULT_TENANT, EX + "Nothing") == []
    assert await store.describe_attributes(DEFAULT_TENANT, EX + "nothing") == []


async def test_names_with_dots_dollars_and_percents_come_back_as_stored(store: EntityStore) -> None:
    odd = ["https://e.org/a.b.c", "https://e.org/$x", "https://e.org/100%25", "urn:x:%2E"]
    entity = typed("urn:e:1", ["https://e.org/T.v1"])
    entity["attrs"] = {name: [prop(1)] for name in odd}
    await store.create_entity(DEFAULT_TENANT, entity)
    assert [a.name for a in await store.describe_attributes(DEFAULT_TENANT)] == sorted(odd)
    for name in odd:
        assert [a.name for a in await store.describe_attributes(DEFAULT_TENANT, name)] == [name]
    (t,) = await store.describe_types(DEFAULT_TENANT, "https://e.org/T.v1")
    assert sorted(t.attributes) == sorted(odd)


async def test_each_tenant_sees_only_its_own_types_and_attributes(store: EntityStore) -> None:
    await store.create_entity(DEFAULT_TENANT, typed("urn:e:1", [VEHICLE], speed=[prop(1)]))
    await store.create_entity("a", typed("urn:e:1", [CAR], owner=[REL]))
    await store.create_entity("a", typed("urn:e:2", [CAR], owner=[REL]))
    await store.create_entity("b", typed("urn:e:1", [VEHICLE], location=[GEO]))
    assert await store.count_entities_by_type(DEFAULT_TENANT) == {VEHICLE: 1}
    assert await store.count_entities_by_type("a") == {CAR: 2}
    assert await store.describe_types("a") == [
        TypeDetails(CAR, 2, {EX + "owner": frozenset({"Relationship"})})
    ]
    assert [a.name for a in await store.describe_attributes("b")] == [EX + "location"]
    assert await store.describe_attributes("a", EX + "speed") == []
    assert await store.describe_types("never-written") == []


async def test_replace_and_delete_change_what_is_reported(store: EntityStore) -> None:
    await store.create_entity(DEFAULT_TENANT, typed("urn:e:1", [VEHICLE], speed=[prop(1)]))
    await store.create_entity(DEFAULT_TENANT, typed("urn:e:2", [CAR], speed=[prop(1)]))
    replaced = typed("urn:e:1", [EX + "Bus"], owner=[REL])
    assert await store.replace_entity(DEFAULT_TENANT, copy.deepcopy(replaced))
    assert await store.count_entities_by_type(DEFAULT_TENANT) == {EX + "Bus": 1, CAR: 1}
    speed = by_name(await store.describe_attributes(DEFAULT_TENANT))[EX + "speed"]
    assert (speed.entity_count, speed.types) == (1, {CAR})
    await store.delete_entity(DEFAULT_TENANT, "urn:e:2")
    assert await store.describe_types(DEFAULT_TENANT, CAR) == []
    assert await store.describe_attributes(DEFAULT_TENANT, EX + "speed") == []
    assert [t.type for t in await store.describe_types(DEFAULT_TENANT)] == [EX + "Bus"]


async def test_batch_writes_are_counted_like_single_writes(store: EntityStore) -> None:
    writes = [BatchWrite.create(simple_entity(f"urn:e:{i}", speed=i)) for i in range(30)]
    writes += [BatchWrite.create(simple_entity(f"urn:c:{i}", kind="Car", temp=i)) for i in range(5)]
    assert await store.write_batch(DEFAULT_TENANT, writes) == [None] * 35
    assert await store.count_entities_by_type(DEFAULT_TENANT) == {EX + "Thing": 30, EX + "Car": 5}
    attributes = by_name(await store.describe_attributes(DEFAULT_TENANT))
    assert attributes[EX + "speed"].entity_count == 30
    assert attributes[EX + "temp"] == AttributeDetails(
        EX + "temp", 5, frozenset({"Property"}), frozenset({EX + "Car"})
    )
    await store.write_batch(DEFAULT_TENANT, [BatchWrite.delete(f"urn:c:{i}") for i in range(5)])
    assert EX + "temp" not in by_name(await store.describe_attributes(DEFAULT_TENANT))
    assert await store.count_entities_by_type(DEFAULT_TENANT) == {EX + "Thing": 30}


async def test_discovery_survives_a_restart(open_store: OpenStore) -> None:
    first = await open_store()
    await first.create_entity(DEFAULT_TENANT, typed("urn:e:1", [VEHICLE], speed=[prop(1)]))
    await first.close()
    again = await open_store()
    assert await again.describe_types(DEFAULT_TENANT) == [
        TypeDetails(VEHICLE, 1, {EX + "speed": frozenset({"Property"})})
    ]


async def test_attribute_names_are_the_names_describe_attributes_gives(
    store: EntityStore,
) -> None:
    assert await store.attribute_names(DEFAULT_TENANT) == []
    await store.create_entity(DEFAULT_TENANT, rich_entity("urn:e:rich"))
    odd = typed("urn:e:1", [CAR], speed=[prop(1)])
    odd["attrs"]["https://e.org/a.b$%25"] = [prop(2)]
    await store.create_entity(DEFAULT_TENANT, odd)
    await store.create_entity("other", typed("urn:e:2", [CAR], colour=[prop("red")]))
    names = await store.attribute_names(DEFAULT_TENANT)
    assert names == [a.name for a in await store.describe_attributes(DEFAULT_TENANT)]
    assert "https://e.org/a.b$%25" in names and EX + "since.year" not in names
    assert len(names) == len(set(names)) == 11
    assert await store.attribute_names("other") == [EX + "colour"]
