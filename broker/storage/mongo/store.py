"""MongoStore: the production store (PyMongo's native async client).

Layout: one database per tenant (see `names.py`); in each, an `entities` collection keyed by
entity id. The default tenant's database also holds `tenants` (every other tenant, recorded
at its first write, with its database name) and `hosted_contexts` (the /jsonldContexts
store, shared by all tenants). Collection names use only letters and underscores, which is
all nx-27017 accepts.

Several broker replicas may share one MongoDB: everything here is idempotent (index
creation, tenant registration) and the only per-process state is a cache of tenants known to
be registered.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import (
    AsyncMongoClient,
    DeleteOne,
    IndexModel,
    InsertOne,
    ReplaceOne,
    UpdateOne,
    WriteConcern,
)
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure, PyMongoError

from broker.query.ast import EntityQuery
from broker.settings import Settings
from broker.storage.base import (
    COUNTS,
    LAST_TIMES,
    AttributeDetails,
    BatchOutcome,
    BatchWrite,
    Change,
    ChangedEntity,
    DuplicateEntity,
    DuplicateSubscription,
    MissingEntity,
    Modified,
    QueryPage,
    R,
    RejectedEntity,
    StoredSubscription,
    StoreError,
    SubscriptionPage,
    TypeDetails,
    distinct_ids,
    revision_of,
)
from broker.storage.mongo import discovery
from broker.storage.mongo.capabilities import Capabilities, probe
from broker.storage.mongo.documents import REVISION, from_document, to_document
from broker.storage.mongo.indexes import query_indexes
from broker.storage.mongo.keys import decode_keys, encode_keys
from broker.storage.mongo.names import tenant_db_name
from broker.storage.mongo.query import (
    CONSERVATIVE,
    probe_query_capabilities,
    query_entities,
)
from broker.types import DEFAULT_TENANT, ExpandedEntity

Doc = dict[str, Any]

ENTITIES = "entities"
SUBSCRIPTIONS = "subscriptions"
TENANTS = "tenants"
CONTEXTS = "hosted_contexts"
SERVER_SELECTION_TIMEOUT_MS = 5000
_FORBIDDEN_IN_DB_NAME = frozenset('/\\. "$*<>:|?\x00')
_MAX_PREFIX = 40
_DUPLICATE_KEY = 11000
_GEO_KEYS = 16755
"""MongoDB's "Can't extract geo keys": a 2dsphere index cannot read the geometry."""
_MODIFY_ROUNDS = 100
"""Read-change-write rounds a modification tries while other replicas keep writing the
entity in between (each failed round means another write succeeded)."""


def entity_indexes(capabilities: Capabilities) -> list[IndexModel]:
    """The indexes every `entities` collection gets (the query work appends to this)."""
    indexes = [IndexModel([("modifiedAt", 1)], name="modifiedAt")]
    if capabilities.multikey_index:
        indexes.append(IndexModel([("type", 1)], name="type"))
    return indexes


class MongoStore:
    """An `EntityStore` on MongoDB (or anything speaking its wire protocol)."""

    def __init__(self, url: str, settings: Settings) -> None:
        prefix = settings.mongo_db_prefix
        if not prefix or len(prefix) > _MAX_PREFIX or _FORBIDDEN_IN_DB_NAME & set(prefix):
            raise ValueError(
                f"mongo_db_prefix '{prefix}' must be 1-{_MAX_PREFIX} characters without "
                "any of / \\ . space \" $ * < > : | ?"
            )
        self.url = url
        self._prefix = prefix
        self._journal = settings.mongo_journal
        self._settings = settings
        self._client: AsyncMongoClient[Doc] | None = None
        self._write_concern: WriteConcern | None = None
        self._databases: dict[str, AsyncDatabase[Doc]] = {}
        self._known_tenants: set[str] = {DEFAULT_TENANT}
        self._registering: dict[str, asyncio.Future[None]] = {}
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._closing = False
        self.capabilities = Capabilities(multikey_index=True)
        self.query_capabilities = CONSERVATIVE

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        options: dict[str, Any] = {"appname": "agora"}
        if "serverselectiontimeoutms" not in self.url.lower():
            options["serverSelectionTimeoutMS"] = SERVER_SELECTION_TIMEOUT_MS
        try:
            client: AsyncMongoClient[Doc] = AsyncMongoClient(self.url, **options)
        except PyMongoError as exc:
            raise StoreError(f"invalid MongoDB URL: {exc}") from exc
        self._client = client
        self._closing = False
        concern = client.write_concern.document
        if self._journal:
            concern = {**concern, "j": True}
        try:
            with _translated():
                self._write_concern = WriteConcern(**concern)  # refuses w=0 with j=True
                await client.admin.command("ping")
                default = self._database(DEFAULT_TENANT)
                self.capabilities = await probe(default)
                self.query_capabilities = await probe_query_capabilities(default)
                tenants = [doc["_id"] async for doc in default[TENANTS].find({}, {"_id": 1})]
                await asyncio.gather(
                    *(self._create_entity_indexes(t) for t in [DEFAULT_TENANT, *tenants])
                )
        except BaseException:
            self._client = None
            self._databases.clear()
            await client.close()
            raise
        self._known_tenants.update(tenants)

    async def close(self) -> None:
        """Wait for the writes in flight (a write is acknowledged by the server, so that is
        all the flushing there is), then close the client."""
        self._closing = True
        await self._idle.wait()
        client, self._client = self._client, None
        self._databases.clear()
        if client is not None:
            await client.close()

    async def ping(self) -> bool:
        try:
            await self.client.admin.command("ping")
        except (PyMongoError, StoreError):
            return False
        return True

    @property
    def client(self) -> AsyncMongoClient[Doc]:
        if self._client is None:
            raise StoreError("the MongoDB store is not started")
        return self._client

    # -- tenants ---------------------------------------------------------------------------

    async def tenant_exists(self, tenant: str) -> bool:
        if tenant in self._known_tenants:
            return True
        with _translated():
            found = await self._tenants.find_one({"_id": tenant}, {"_id": 1})
        if found is not None:
            self._known_tenants.add(tenant)
        return found is not None

    async def list_tenants(self) -> list[str]:
        with _translated():
            names = [doc["_id"] async for doc in self._tenants.find({}, {"_id": 1})]
        return sorted({DEFAULT_TENANT, *names})

    # -- entities --------------------------------------------------------------------------

    async def create_entity(self, tenant: str, entity: ExpandedEntity) -> None:
        doc = to_document(entity)
        async with self._write():
            await self._ensure_tenant(tenant)
            try:
                await self._entities(tenant).insert_one(doc)
            except DuplicateKeyError:
                raise DuplicateEntity(f"entity {entity['id']} already exists") from None

    async def get_entity(self, tenant: str, entity_id: str) -> ExpandedEntity | None:
        with _translated():
            doc = await self._entities(tenant).find_one({"_id": entity_id})
        return None if doc is None else from_document(doc)

    async def replace_entity(self, tenant: str, entity: ExpandedEntity) -> bool:
        doc = to_document(entity)
        async with self._write():
            result = await self._entities(tenant).replace_one({"_id": doc["_id"]}, doc)
        return result.matched_count > 0

    async def modify_entity(
        self, tenant: str, entity_id: str, change: Change[R]
    ) -> Modified[R] | None:
        """A read, then a replace on condition that the document is still the one read (its
        `_rev`). The caller's entity lock keeps this process's writes to the entity in
        order; a write from another replica in between fails the condition, and the cycle
        runs again on what that replica wrote, so neither change is lost."""
        collection = self._entities(tenant)
        for _ in range(_MODIFY_ROUNDS):
            with _translated():
                doc = await collection.find_one({"_id": entity_id})
            if doc is None:
                return None
            old = from_document(doc)
            new, outcome = change(old)
            if new is old:
                return old, new, outcome
            # A document written before revisions is matched by having none.
            revision = revision_of(old)
            read = {"_id": entity_id, REVISION: revision or {"$exists": False}}
            async with self._write():
                result = await collection.replace_one(read, to_document(new))
            if result.matched_count:
                return old, new, outcome
        raise StoreError(
            f"entity {entity_id} changed under this write {_MODIFY_ROUNDS} times in a row"
        )

    async def delete_entity(self, tenant: str, entity_id: str) -> ExpandedEntity | None:
        async with self._write():
            doc = await self._entities(tenant).find_one_and_delete({"_id": entity_id})
        return None if doc is None else from_document(doc)

    async def query_entities(
        self, tenant: str, query: EntityQuery, *, limit: int, offset: int = 0, count: bool = False
    ) -> QueryPage:
        return await query_entities(self, tenant, query, limit=limit, offset=offset, count=count)

    async def count_entities(self, tenant: str) -> int:
        with _translated():
            return await self._entities(tenant).count_documents({})

    # -- batch operations (clauses 5.6.7-5.6.10, 5.6.20) -----------------------------------

    async def get_entities(self, tenant: str, ids: Sequence[str]) -> dict[str, ExpandedEntity]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        with _translated():
            docs = [doc async for doc in self._entities(tenant).find({"_id": {"$in": wanted}})]
        return {doc["_id"]: from_document(doc) for doc in docs}

    async def write_batch(
        self, tenant: str, writes: Sequence[BatchWrite]
    ) -> list[BatchOutcome]:
        """One unordered `bulk_write` (ids are distinct, so order cannot matter); per-write
        errors come back by index. A replace or delete with a `revision` names the `_rev`
        read. Only when the bulk matched or deleted fewer documents than it was given, one
        more read tells, per write, whether it was written (a replace: the `_rev` it wrote
        is there), changed by someone else (ChangedEntity) or gone (MissingEntity for a
        replace; nothing for a delete)."""
        distinct_ids(writes)
        if not writes:
            return []
        requests: list[InsertOne[Doc] | ReplaceOne[Doc] | DeleteOne] = []
        written: dict[int, str] = {}
        """Per replace (index): the `_rev` its document carries."""
        for i, w in enumerate(writes):
            match: Doc = {"_id": w.entity_id}
            if w.revision is not None:
                match[REVISION] = w.revision
            if w.kind == "delete":
                requests.append(DeleteOne(match))
                continue
            assert w.entity is not None
            doc = to_document(w.entity)
            if w.kind == "create":
                requests.append(InsertOne(doc))
            else:
                requests.append(ReplaceOne(match, doc))
                written[i] = doc[REVISION]
        outcomes: list[BatchOutcome] = [None] * len(writes)
        async with self._write():
            if any(w.kind == "create" for w in writes):
                await self._ensure_tenant(tenant)
            collection = self._entities(tenant)
            try:
                result = await collection.bulk_write(requests, ordered=False)
                matched, deleted = result.matched_count, result.deleted_count
            except BulkWriteError as exc:
                matched = int(exc.details.get("nMatched", 0))
                deleted = int(exc.details.get("nRemoved", 0))
                for error in exc.details.get("writeErrors", []):
                    outcomes[error["index"]] = _bulk_error(writes[error["index"]], error)
            open_replaces = [i for i in written if outcomes[i] is None]
            guarded_deletes = [
                i for i, w in enumerate(writes)
                if w.kind == "delete" and w.revision is not None and outcomes[i] is None
            ]
            deletes = sum(1 for w in writes if w.kind == "delete")
            if matched < len(open_replaces) or (guarded_deletes and deleted < deletes):
                ids = [writes[i].entity_id for i in open_replaces + guarded_deletes]
                stored = {
                    d["_id"]: d.get(REVISION)
                    async for d in collection.find({"_id": {"$in": ids}}, {REVISION: 1})
                }
                for i in open_replaces:
                    entity_id = writes[i].entity_id
                    if entity_id not in stored:
                        outcomes[i] = MissingEntity(f"entity {entity_id} does not exist")
                    elif stored[entity_id] != written[i]:
                        outcomes[i] = ChangedEntity(f"entity {entity_id} changed since read")
                for i in guarded_deletes:
                    if writes[i].entity_id in stored:
                        outcomes[i] = ChangedEntity(
                            f"entity {writes[i].entity_id} changed since read"
                        )
        return outcomes

    # -- discovery (clauses 5.7.5-5.7.10; pipelines in discovery.py) -----------------------

    async def count_entities_by_type(self, tenant: str) -> dict[str, int]:
        with _translated():
            return await discovery.count_entities_by_type(self._entities(tenant))

    async def attribute_names(self, tenant: str) -> list[str]:
        with _translated():
            return await discovery.attribute_names(self._entities(tenant))

    async def describe_types(
        self, tenant: str, entity_type: str | None = None
    ) -> list[TypeDetails]:
        with _translated():
            return await discovery.describe_types(self._entities(tenant), entity_type)

    async def describe_attributes(
        self, tenant: str, attribute: str | None = None
    ) -> list[AttributeDetails]:
        with _translated():
            return await discovery.describe_attributes(self._entities(tenant), attribute)

    # -- subscriptions (clause 5.8) -------------------------------------------------------
    # One `subscriptions` collection per tenant database: {_id, record, stats, revision,
    # lease}, the record's keys encoded as an entity's are. `revision` is a fresh token at
    # every create and update; `lease` the last notification slot claimed (epoch seconds).

    async def create_subscription(self, tenant: str, record: dict[str, Any]) -> None:
        doc = {
            "_id": record["id"],
            "record": encode_keys(record),
            "stats": {},
            "revision": uuid.uuid4().hex,
        }
        async with self._write():
            await self._ensure_tenant(tenant)
            try:
                await self._subscriptions(tenant).insert_one(doc)
            except DuplicateKeyError:
                raise DuplicateSubscription(
                    f"subscription {record['id']} already exists"
                ) from None

    async def get_subscription(
        self, tenant: str, subscription_id: str
    ) -> StoredSubscription | None:
        with _translated():
            doc = await self._subscriptions(tenant).find_one({"_id": subscription_id})
        return None if doc is None else _stored_subscription(tenant, doc)

    async def list_subscriptions(
        self, tenant: str, *, limit: int, offset: int = 0
    ) -> SubscriptionPage:
        collection = self._subscriptions(tenant)
        with _translated():
            total = await collection.count_documents({})
            found: list[StoredSubscription] = []
            if limit > 0:
                cursor = collection.find({}).sort("_id", 1).skip(offset).limit(limit)
                found = [_stored_subscription(tenant, doc) async for doc in cursor]
        return SubscriptionPage(found, total)

    async def replace_subscription(self, tenant: str, record: dict[str, Any]) -> bool:
        async with self._write():
            result = await self._subscriptions(tenant).update_one(
                {"_id": record["id"]},
                {"$set": {"record": encode_keys(record), "revision": uuid.uuid4().hex}},
            )
        return result.matched_count > 0

    async def delete_subscription(self, tenant: str, subscription_id: str) -> bool:
        async with self._write():
            result = await self._subscriptions(tenant).delete_one({"_id": subscription_id})
        return result.deleted_count > 0

    async def load_subscriptions(self) -> list[StoredSubscription]:
        found: list[StoredSubscription] = []
        for tenant in await self.list_tenants():
            with _translated():
                cursor = self._subscriptions(tenant).find({}).sort("_id", 1)
                found.extend([_stored_subscription(tenant, doc) async for doc in cursor])
        return found

    async def subscription_revisions(self) -> dict[tuple[str, str], str]:
        found: dict[tuple[str, str], str] = {}
        for tenant in await self.list_tenants():
            with _translated():
                cursor = self._subscriptions(tenant).find({}, {"revision": 1})
                async for doc in cursor:
                    found[(tenant, str(doc["_id"]))] = str(doc.get("revision", ""))
        return found

    async def claim_notification(
        self, tenant: str, subscription_id: str, now: float, interval: float
    ) -> tuple[bool, float | None]:
        collection = self._subscriptions(tenant)
        free = {"$or": [{"lease": None}, {"lease": {"$lte": now - interval}}]}
        async with self._write():
            taken = await collection.find_one_and_update(
                {"_id": subscription_id, **free}, {"$set": {"lease": now}}, {"_id": 1}
            )
            if taken is not None:
                return True, now
            doc = await collection.find_one({"_id": subscription_id}, {"lease": 1})
        if doc is None:
            return False, None
        lease = doc.get("lease")
        return False, None if lease is None else float(lease)

    async def add_subscription_stats(
        self, updates: Sequence[tuple[str, str, dict[str, Any]]]
    ) -> None:
        by_tenant: dict[str, list[UpdateOne]] = {}
        for tenant, subscription_id, added in updates:
            change: dict[str, Any] = {}
            counts = {f"stats.{n}": int(added[n]) for n in COUNTS if n in added}
            if counts:
                change["$inc"] = counts
            latest = {f"stats.{n}": added[n] for n in LAST_TIMES if added.get(n) is not None}
            if latest:
                change["$max"] = latest
            if change:
                by_tenant.setdefault(tenant, []).append(
                    UpdateOne({"_id": subscription_id}, change)
                )
            if "status" in added and added.get("lastNotification") is not None:
                # the status of the later notification: set only where none is later
                by_tenant.setdefault(tenant, []).append(
                    UpdateOne(
                        {
                            "_id": subscription_id,
                            "stats.lastNotification": {"$lte": added["lastNotification"]},
                        },
                        {"$set": {"stats.status": added["status"]}},
                    )
                )
        async with self._write():
            for tenant, requests in by_tenant.items():
                await self._subscriptions(tenant).bulk_write(requests, ordered=True)

    async def save_subscription_stats(
        self, updates: Sequence[tuple[str, str, dict[str, Any]]]
    ) -> None:
        by_tenant: dict[str, list[UpdateOne]] = {}
        for tenant, subscription_id, stats in updates:
            by_tenant.setdefault(tenant, []).append(
                UpdateOne({"_id": subscription_id}, {"$set": {"stats": encode_keys(stats)}})
            )
        async with self._write():
            for tenant, requests in by_tenant.items():
                await self._subscriptions(tenant).bulk_write(requests, ordered=False)

    # -- hosted @contexts -----------------------------------------------------------------

    async def save_context(self, record: dict[str, Any]) -> None:
        doc = {"_id": record["id"], "record": encode_keys(record)}
        async with self._write():
            await self._contexts.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def load_contexts(self) -> list[dict[str, Any]]:
        with _translated():
            docs = [doc async for doc in self._contexts.find({}).sort("_id", 1)]
        return [decode_keys(doc["record"]) for doc in docs]

    async def delete_context(self, context_id: str) -> bool:
        async with self._write():
            result = await self._contexts.delete_one({"_id": context_id})
        return result.deleted_count > 0

    # -- helpers ---------------------------------------------------------------------------

    def _database(self, tenant: str) -> AsyncDatabase[Doc]:
        db = self._databases.get(tenant)
        if db is None:
            db = self.client.get_database(
                tenant_db_name(self._prefix, tenant), write_concern=self._write_concern
            )
            self._databases[tenant] = db
        return db

    def _entities(self, tenant: str) -> AsyncCollection[Doc]:
        return self._database(tenant)[ENTITIES]

    def _subscriptions(self, tenant: str) -> AsyncCollection[Doc]:
        return self._database(tenant)[SUBSCRIPTIONS]

    @property
    def _tenants(self) -> AsyncCollection[Doc]:
        return self._database(DEFAULT_TENANT)[TENANTS]

    @property
    def _contexts(self) -> AsyncCollection[Doc]:
        return self._database(DEFAULT_TENANT)[CONTEXTS]

    async def _create_entity_indexes(self, tenant: str) -> None:
        indexes = entity_indexes(self.capabilities) + query_indexes(
            self.query_capabilities,
            multikey_index=self.capabilities.multikey_index,
            settings=self._settings,
        )
        await self._entities(tenant).create_indexes(indexes)

    async def _ensure_tenant(self, tenant: str) -> None:
        """Give a tenant its indexes and its `tenants` record before its first write.

        Concurrent first writes to one tenant share one registration.
        """
        if tenant in self._known_tenants:
            return
        pending = self._registering.get(tenant)
        if pending is None:
            pending = asyncio.ensure_future(self._register(tenant))
            self._registering[tenant] = pending
            pending.add_done_callback(lambda _: self._registering.pop(tenant, None))
        await asyncio.shield(pending)

    async def _register(self, tenant: str) -> None:
        await self._create_entity_indexes(tenant)
        await self._tenants.update_one(
            {"_id": tenant},
            {
                "$setOnInsert": {
                    "db": tenant_db_name(self._prefix, tenant),
                    "createdAt": datetime.now(UTC).isoformat(),
                }
            },
            upsert=True,
        )
        self._known_tenants.add(tenant)

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[None]:
        """Count a write in flight (so close() can wait for it) and translate its errors."""
        if self._closing:
            raise StoreError("the MongoDB store is closing")
        self._in_flight += 1
        self._idle.clear()
        try:
            with _translated():
                yield
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()


def _stored_subscription(tenant: str, doc: Doc) -> StoredSubscription:
    lease = doc.get("lease")
    return StoredSubscription(
        tenant,
        decode_keys(doc["record"]),
        decode_keys(doc.get("stats", {})),
        str(doc.get("revision", "")),
        None if lease is None else float(lease),
    )


def _bulk_error(write: BatchWrite, error: dict[str, Any]) -> StoreError:
    """A bulk write's per-operation error as the store contract's error."""
    if error.get("code") == _DUPLICATE_KEY:
        return DuplicateEntity(f"entity {write.entity_id} already exists")
    if error.get("code") == _GEO_KEYS:
        return _unreadable_location(str(error.get("errmsg", "")))
    return StoreError(f"MongoDB: {error.get('errmsg', error)}")


def _unreadable_location(message: str) -> RejectedEntity:
    """MongoDB's refusal of a `location` its 2dsphere index cannot read. Its message quotes
    the whole document, then says what is wrong ("Loop is not valid: ... Edges 0 and 2
    cross", "longitude/latitude is out of bounds"): the reason is the part after it."""
    reason = message.rsplit("}", 1)[-1].strip(" :") or message
    return RejectedEntity(
        f"the location GeoProperty is not a geometry MongoDB can index: {reason[-300:]}",
        field="location",
    )


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """PyMongo errors as the store contract's errors."""
    try:
        yield
    except DuplicateKeyError as exc:
        raise DuplicateEntity(str(exc)) from exc
    except PyMongoError as exc:
        if isinstance(exc, OperationFailure) and exc.code == _GEO_KEYS:
            raise _unreadable_location(str((exc.details or {}).get("errmsg", exc))) from exc
        raise StoreError(f"MongoDB: {exc}") from exc
