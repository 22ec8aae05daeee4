"""What is particular to the MongoDB store: key encoding, database names, the tenant registry,
indexes, write concern and error translation."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import shapely.geometry
from hypothesis import given
from hypothesis import strategies as st
from pymongo import AsyncMongoClient
from pymongo.errors import BulkWriteError, WriteError
from store_support import (
    EX,
    collect_sockets_pymongo_leaked,
    drop_mongo_databases,
    rich_entity,
    simple_entity,
)

from broker.events import EventBus
from broker.services.batch import BatchService
from broker.settings import Settings
from broker.storage.base import BatchWrite, RejectedEntity, StoreError, revision_of
from broker.storage.mongo import MongoStore
from broker.storage.mongo.keys import decode_key, decode_keys, encode_key, encode_keys
from broker.storage.mongo.names import MAX_DB_NAME_BYTES, tenant_db_name
from broker.storage.mongo.store import CONTEXTS, ENTITIES, TENANTS
from conformance_tests.servers import mongo_wire_server

json_keys = st.text(st.sampled_from(list("ab.$%_2E4\x00é東/ ")) | st.characters(), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(json_keys, inner, max_size=3),
    max_leaves=12,
)


@given(json_keys)
def test_an_encoded_key_is_a_plain_field_name(key: str) -> None:
    encoded = encode_key(key)
    assert "." not in encoded and "\x00" not in encoded and not encoded.startswith("$")
    assert decode_key(encoded) == key


@given(json_values)
def test_key_encoding_round_trips_any_json(value: Any) -> None:
    assert decode_keys(encode_keys(value)) == value


@pytest.mark.parametrize(
    ("key", "encoded"),
    [
        ("https://schema.org/name", "https://schema%2Eorg/name"),
        ("$set", "%24set"),
        ("a$b", "a$b"),
        ("100%", "100%25"),
        ("%2E", "%252E"),
        ("plain", "plain"),
    ],
)
def test_key_encoding_examples(key: str, encoded: str) -> None:
    assert encode_key(key) == encoded


@given(st.text(min_size=1, max_size=80))
def test_a_tenant_database_name_is_valid_everywhere(tenant: str) -> None:
    name = tenant_db_name("agora", tenant)
    assert name.startswith("agora-")
    assert len(name.encode()) <= MAX_DB_NAME_BYTES
    assert all(c.isascii() and (c.isalnum() or c in "_-") for c in name)


@given(st.lists(st.text(max_size=70), min_size=2, max_size=2, unique=True))
def test_different_tenants_get_names_that_differ_even_ignoring_case(pair: list[str]) -> None:
    one, two = (tenant_db_name("agora", t) for t in pair)
    assert one.lower() != two.lower()


def test_default_tenant_lives_in_the_prefix_database() -> None:
    assert tenant_db_name("agora", "") == "agora"
    assert tenant_db_name("agora", "acme") == "agora-acme"
    assert tenant_db_name("agora", "Acme") == "agora-_41cme"


@pytest.mark.parametrize("prefix", ["", "a.b", "a b", "x" * 41, "a/b"])
def test_an_unusable_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="mongo_db_prefix"):
        MongoStore("mongodb://127.0.0.1:1/", Settings(mongo_db_prefix=prefix))


async def test_an_unreachable_server_is_a_store_error() -> None:
    store = MongoStore("mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=200", Settings())
    with pytest.raises(StoreError):
        await store.start()
    await collect_sockets_pymongo_leaked(0.2)


# -- against the server ------------------------------------------------------------------


@pytest.fixture
async def raw(mongo_url: str) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    yield client
    await client.close()
    await collect_sockets_pymongo_leaked()


@pytest.fixture
async def mongo(mongo_url: str, raw: AsyncMongoClient[dict[str, Any]]) -> AsyncIterator[
    MongoStore
]:
    prefix = f"agora-mt-{uuid.uuid4().hex[:10]}"
    store = MongoStore(mongo_url, Settings(mongo_db_prefix=prefix))
    await store.start()
    yield store
    await store.close()
    await drop_mongo_databases(mongo_url, prefix)
    await collect_sockets_pymongo_leaked()


def _prefix(store: MongoStore) -> str:
    return tenant_db_name(store._prefix, "")


@pytest.mark.mongo
async def test_stored_documents_carry_encoded_keys_and_the_id_as_primary_key(
    mongo: MongoStore, raw: AsyncMongoClient[dict[str, Any]]
) -> None:
    entity = rich_entity("urn:ngsi-ld:V:1")
    await mongo.create_entity("", entity)
    doc = await raw[_prefix(mongo)][ENTITIES].find_one({"_id": "urn:ngsi-ld:V:1"})
    assert doc is not None
    assert "id" not in doc
    assert "https://example%2Eorg/speed" in doc["attrs"]
    config = doc["attrs"]["https://example%2Eorg/config"][0]["json"]
    assert set(config) == {"%24set", "100%25", "%252E", "_id", "", "%00nul"}
    assert config["%24set"] == {"a%2Eb": 1, "%24inc": None}


@pytest.mark.mongo
async def test_encoded_attribute_names_can_be_queried(
    mongo: MongoStore, raw: AsyncMongoClient[dict[str, Any]]
) -> None:
    await mongo.create_entity("", simple_entity("urn:x:1", speed=80))
    await mongo.create_entity("", simple_entity("urn:x:2", other=1))
    path = f"attrs.{encode_key(EX + 'speed')}.value"
    found = [d["_id"] async for d in raw[_prefix(mongo)][ENTITIES].find({path: 80})]
    assert found == ["urn:x:1"]


@pytest.mark.mongo
async def test_a_new_tenant_is_recorded_and_indexed_at_its_first_write(
    mongo: MongoStore, raw: AsyncMongoClient[dict[str, Any]]
) -> None:
    await mongo.create_entity("Acme/Sol", simple_entity("urn:x:1"))
    db_name = tenant_db_name(mongo._prefix, "Acme/Sol")
    record = await raw[_prefix(mongo)][TENANTS].find_one({"_id": "Acme/Sol"})
    assert record is not None and record["db"] == db_name
    keys = [list(ix["key"]) async for ix in await raw[db_name][ENTITIES].list_indexes()]
    assert ["modifiedAt"] in keys
    if mongo.capabilities.multikey_index:
        assert ["type"] in keys


@pytest.mark.mongo
async def test_a_second_store_sees_tenants_the_first_created(
    mongo: MongoStore, mongo_url: str
) -> None:
    other = MongoStore(mongo_url, Settings(mongo_db_prefix=mongo._prefix))
    await other.start()
    try:
        assert await other.tenant_exists("late") is False
        await mongo.create_entity("late", simple_entity("urn:x:1"))
        assert await other.tenant_exists("late") is True
        assert await other.get_entity("late", "urn:x:1") == simple_entity("urn:x:1")
    finally:
        await other.close()


@pytest.mark.mongo
async def test_writes_are_journaled_when_configured(mongo: MongoStore, mongo_url: str) -> None:
    assert mongo._entities("x").write_concern.document.get("j") is True
    unjournaled = MongoStore(mongo_url, Settings(mongo_journal=False))
    await unjournaled.start()
    try:
        assert "j" not in unjournaled._entities("x").write_concern.document
    finally:
        await unjournaled.close()


@pytest.mark.mongo
async def test_contexts_live_in_the_default_database(
    mongo: MongoStore, raw: AsyncMongoClient[dict[str, Any]]
) -> None:
    await mongo.save_context({"id": "c1", "body": {"@context": {"a.b": "x"}}})
    doc = await raw[_prefix(mongo)][CONTEXTS].find_one({"_id": "c1"})
    assert doc is not None
    assert doc["record"]["body"]["@context"] == {"a%2Eb": "x"}


@pytest.mark.mongo
async def test_a_lost_server_turns_reads_and_writes_into_store_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MONGODB_URL", raising=False)  # a server of our own, to stop
    with mongo_wire_server() as url:
        store = MongoStore(url + "?serverSelectionTimeoutMS=300", Settings())
        await store.start()
        await store.create_entity("", simple_entity("urn:x:1"))
    try:
        with pytest.raises(StoreError):
            await store.get_entity("", "urn:x:1")
        with pytest.raises(StoreError):
            await store.create_entity("", simple_entity("urn:x:2"))
        assert await store.ping() is False
    finally:
        await store.close()
        await collect_sockets_pymongo_leaked(0.2)



async def test_journaling_with_unacknowledged_writes_is_refused() -> None:
    store = MongoStore("mongodb://127.0.0.1:9/?w=0", Settings(mongo_journal=True))
    with pytest.raises(StoreError):
        await store.start()
    await collect_sockets_pymongo_leaked()


# -- a location a 2dsphere index cannot read ---------------------------------------------


LOCATION = "https://uri.etsi.org/ngsi-ld/location"
BOW_TIE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
"""A self-crossing ring: well-formed GeoJSON that MongoDB's 2dsphere index refuses."""


def _placed(entity_id: str, geometry: dict[str, Any]) -> dict[str, Any]:
    entity = simple_entity(entity_id, speed=1)
    entity["attrs"][LOCATION] = [{"type": "GeoProperty", "value": geometry}]
    return entity


class _Refusing2dsphere:
    """The store's `entities` collection as a MongoDB with the `geo_location` index serves
    it: a document whose location is not a valid geometry is refused with error 16755 (the
    message quotes the document, then the reason), the others are written."""

    REASON = (
        "Can't extract geo keys: { _id: \"x\", attrs: {} }  Loop is not valid: Edges 0 and 2 cross"
    )

    def __init__(self, real: Any) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    @staticmethod
    def _refused(doc: dict[str, Any]) -> bool:
        instances = doc.get("attrs", {}).get(encode_key(LOCATION), [])
        return any(not shapely.geometry.shape(i["value"]).is_valid for i in instances)

    async def insert_one(self, doc: dict[str, Any]) -> Any:
        if self._refused(doc):
            raise WriteError(self.REASON, 16755, {"code": 16755, "errmsg": self.REASON})
        return await self.real.insert_one(doc)

    async def bulk_write(self, requests: list[Any], ordered: bool = True) -> Any:
        docs = [getattr(r, "_doc", None) for r in requests]
        bad = [i for i, d in enumerate(docs) if d is not None and self._refused(d)]
        kept = [r for i, r in enumerate(requests) if i not in bad]
        result = await self.real.bulk_write(kept, ordered=ordered) if kept else None
        if not bad:
            return result
        raise BulkWriteError({
            "writeErrors": [{"index": i, "code": 16755, "errmsg": self.REASON} for i in bad],
            "nMatched": result.matched_count if result else 0,
        })


@pytest.mark.mongo
async def test_a_location_mongodb_cannot_index_is_bad_request_data_naming_it(
    mongo: MongoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create, and one element of a batch upsert, whose location the 2dsphere index
    refuses answer 400 BadRequestData with `field: location` (not 500), and nothing of them
    is stored; the batch's other elements are written."""
    real = mongo._entities
    monkeypatch.setattr(mongo, "_entities", lambda tenant: _Refusing2dsphere(real(tenant)))
    point = {"type": "Point", "coordinates": [2.0, 41.0]}

    with pytest.raises(RejectedEntity) as refused:
        await mongo.create_entity("", _placed("urn:ngsi-ld:T:bad", BOW_TIE))
    assert refused.value.status == 400
    assert refused.value.to_problem()["type"].endswith("/BadRequestData")
    assert refused.value.field == "location"
    assert "Edges 0 and 2 cross" in refused.value.detail
    assert await mongo.get_entity("", "urn:ngsi-ld:T:bad") is None

    await mongo.create_entity("", _placed("urn:ngsi-ld:T:known", point))
    batch = BatchService(mongo, EventBus())
    result = await batch.upsert("", [
        _placed("urn:ngsi-ld:T:new", point),
        _placed("urn:ngsi-ld:T:bad2", BOW_TIE),
        _placed("urn:ngsi-ld:T:known", BOW_TIE),
    ], replace=True)
    assert result.success == ["urn:ngsi-ld:T:new"]
    errors = {e.entity_id: e.error for e in result.errors}
    assert set(errors) == {"urn:ngsi-ld:T:bad2", "urn:ngsi-ld:T:known"}
    for error in errors.values():
        assert (error.status, error.field) == (400, "location")
    assert await mongo.get_entity("", "urn:ngsi-ld:T:bad2") is None
    kept = await mongo.get_entity("", "urn:ngsi-ld:T:known")
    assert kept is not None and kept["attrs"][LOCATION][0]["value"] == point


def _adding(name: str) -> Any:
    """A change (as the services hand `modify_entity`) that adds one attribute."""

    def change(old: dict[str, Any]) -> tuple[dict[str, Any], None]:
        attrs = dict(old["attrs"], **{EX + name: [{"type": "Property", "value": name}]})
        return dict(old, attrs=attrs), None

    return change


@pytest.fixture
async def other(mongo: MongoStore, mongo_url: str) -> AsyncIterator[MongoStore]:
    """A second broker replica's store on `mongo`'s databases."""
    store = MongoStore(mongo_url, Settings(mongo_db_prefix=mongo._prefix))
    await store.start()
    yield store
    await store.close()


@pytest.mark.mongo
async def test_two_replicas_changing_one_entity_at_once_lose_no_change(
    mongo: MongoStore, other: MongoStore
) -> None:
    """Two broker replicas on one database each add attributes to the same entity, their
    reads and writes interleaving: every attribute added by either is there at the end (a
    plain read-then-replace lost about half of them), and the document's revision is not
    part of the entity."""
    await mongo.create_entity("", simple_entity("urn:ngsi-ld:T:shared", speed=1))

    async def replica(store: MongoStore, tag: str) -> None:
        for i in range(15):
            done = await store.modify_entity("", "urn:ngsi-ld:T:shared", _adding(f"{tag}{i}"))
            assert done is not None

    await asyncio.gather(replica(mongo, "a"), replica(other, "b"))
    entity = await other.get_entity("", "urn:ngsi-ld:T:shared")
    assert entity is not None
    names = {name.removeprefix(EX) for name in entity["attrs"]}
    assert names == {"speed"} | {f"{t}{i}" for t in "ab" for i in range(15)}
    assert set(entity) == {"id", "type", "createdAt", "modifiedAt", "attrs"}


@pytest.mark.mongo
async def test_a_change_to_a_document_written_before_revisions_is_kept(
    mongo: MongoStore, raw: AsyncMongoClient[dict[str, Any]]
) -> None:
    """A document stored without `_rev` (by an earlier version) is changed as any other and
    gets one."""
    doc = {"_id": "urn:ngsi-ld:T:old", "type": [EX + "Thing"], "createdAt": "2026-01-01T00:00:00Z",
           "modifiedAt": "2026-01-01T00:00:00Z", "attrs": {}}
    await mongo.create_entity("", simple_entity("urn:ngsi-ld:T:seed", speed=1))  # the tenant
    await raw[_prefix(mongo)][ENTITIES].insert_one(doc)
    done = await mongo.modify_entity("", "urn:ngsi-ld:T:old", _adding("x"))
    assert done is not None
    stored = await raw[_prefix(mongo)][ENTITIES].find_one({"_id": "urn:ngsi-ld:T:old"})
    assert stored is not None and "_rev" in stored and EX + "x" not in stored["attrs"]
    assert set(stored["attrs"]) == {encode_key(EX + "x")}


@pytest.mark.mongo
async def test_two_replicas_batch_updating_one_entity_at_once_lose_no_change(
    mongo: MongoStore, other: MongoStore
) -> None:
    """Batch upserts (options=update) on one replica and single changes on another, to the
    same entity at once: a batch element whose entity the other replica wrote between the
    batch's read and write is read and applied again, so every attribute either added is
    there at the end (without the conditional write about half were lost)."""
    await mongo.create_entity("", simple_entity("urn:ngsi-ld:T:shared", speed=1))
    batch = BatchService(mongo, EventBus())

    async def batches() -> None:
        for i in range(15):
            fragment = simple_entity("urn:ngsi-ld:T:shared", **{f"a{i}": i})
            result = await batch.upsert("", [fragment], replace=False)
            assert result.errors == []

    async def singles() -> None:
        for i in range(15):
            done = await other.modify_entity("", "urn:ngsi-ld:T:shared", _adding(f"b{i}"))
            assert done is not None

    await asyncio.gather(batches(), singles())
    entity = await mongo.get_entity("", "urn:ngsi-ld:T:shared")
    assert entity is not None
    names = {name.removeprefix(EX) for name in entity["attrs"]}
    assert names == {"speed"} | {f"{t}{i}" for t in "ab" for i in range(15)}


@pytest.mark.mongo
async def test_a_batch_write_naming_a_revision_happens_only_on_that_revision(
    mongo: MongoStore,
) -> None:
    for n in range(4):
        await mongo.create_entity("", simple_entity(f"urn:ngsi-ld:T:{n}", speed=n))
    read = await mongo.get_entities("", [f"urn:ngsi-ld:T:{n}" for n in range(4)])
    stale = {i: revision_of(e) for i, e in read.items()}
    assert all(stale.values())
    for n in (0, 1):  # another replica writes these two after the read
        await mongo.modify_entity("", f"urn:ngsi-ld:T:{n}", _adding("late"))
    outcomes = await mongo.write_batch("", [
        BatchWrite.replace(simple_entity("urn:ngsi-ld:T:0", speed=9), stale["urn:ngsi-ld:T:0"]),
        BatchWrite.delete("urn:ngsi-ld:T:1", stale["urn:ngsi-ld:T:1"]),
        BatchWrite.replace(simple_entity("urn:ngsi-ld:T:2", speed=9), stale["urn:ngsi-ld:T:2"]),
        BatchWrite.delete("urn:ngsi-ld:T:3", stale["urn:ngsi-ld:T:3"]),
        BatchWrite.replace(simple_entity("urn:ngsi-ld:T:gone", speed=9), stale["urn:ngsi-ld:T:2"]),
    ])
    assert [type(o).__name__ for o in outcomes] == [
        "ChangedEntity", "ChangedEntity", "NoneType", "NoneType", "MissingEntity"
    ]
    after = await mongo.get_entities("", [f"urn:ngsi-ld:T:{n}" for n in range(4)])
    assert set(after) == {"urn:ngsi-ld:T:0", "urn:ngsi-ld:T:1", "urn:ngsi-ld:T:2"}
    assert EX + "late" in after["urn:ngsi-ld:T:0"]["attrs"]
    assert after["urn:ngsi-ld:T:2"]["attrs"][EX + "speed"][0]["value"] == 9
