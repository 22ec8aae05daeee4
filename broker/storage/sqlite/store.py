"""SqliteStore: the embedded default store (stdlib sqlite3, WAL, one group-committing writer).

Entities are rows of (tenant, id, doc) with the document as orjson text; `entity_types`
mirrors each entity's types, kept in step inside the same savepoint, so queries by type use an
index instead of parsing documents. Writes go through `GroupCommitWriter`, reads through
`ReaderPool`; nothing touches SQLite on the event loop thread.

A database file's writer may run in a process of its own (`sqlite_writer`), so every
writer op is picklable: a module-level function with its arguments (`Call`) or one of the op
classes below, which travel without their parsed entities (the document text is enough; the
writer parses it again) and keep what the write learned (new attribute keys) in the writer's
`AttrIds` only once the write has committed (`after_commit`).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any, cast

import orjson

from broker.query.ast import EntityQuery
from broker.settings import Settings
from broker.storage.base import (
    AttributeDetails,
    BatchOutcome,
    BatchWrite,
    Change,
    DuplicateEntity,
    MissingEntity,
    Modified,
    QueryPage,
    R,
    StoredSubscription,
    StoreError,
    SubscriptionPage,
    TypeDetails,
    add_counters,
    distinct_ids,
)
from broker.storage.sqlite import discovery
from broker.storage.sqlite import subscriptions as subscription_rows
from broker.storage.sqlite.bulk import insert_rows, update_rows
from broker.storage.sqlite.checkpointer import Checkpointer
from broker.storage.sqlite.connection import (
    Database,
    checked_synchronous,
    open_reader,
    open_writer,
)
from broker.storage.sqlite.index import (
    AttrIds,
    count_types,
    create_value_indexes,
    index_new_rows,
    reindex,
    reindex_rows,
    types_of,
    unindex,
)
from broker.storage.sqlite.query import query_entities
from broker.storage.sqlite.readers import ReaderPool
from broker.storage.sqlite.schema import migrate
from broker.storage.sqlite.writer import Call, GroupCommitWriter, Refused
from broker.types import DEFAULT_TENANT, ExpandedEntity


class SqliteStore:
    """An `EntityStore` in one SQLite file (or in memory, for tests and demos)."""

    def __init__(self, path: str, settings: Settings) -> None:
        checked_synchronous(settings.sqlite_synchronous)
        checked_writer_place(settings.sqlite_writer)
        if settings.sqlite_readers < 1 or settings.group_commit_max < 1:
            raise ValueError("sqlite_readers and group_commit_max must be at least 1")
        self.path = path
        self._settings = settings
        self._writer: GroupCommitWriter | None = None
        self._readers: ReaderPool | None = None
        self._checkpointer: Checkpointer | None = None
        # Tenants are never removed, so a tenant once seen needs no further lookups.
        self._known_tenants: set[str] = {DEFAULT_TENANT}
        self._indexed = frozenset(settings.indexed_attributes)
        self._written: dict[tuple[str, str], tuple[int, str]] = {}

    async def start(self) -> None:
        try:
            db = Database.at(self.path)
        except OSError as exc:
            raise StoreError(f"cannot create the directory of {self.path}: {exc}") from exc
        writer = GroupCommitWriter(
            partial(
                _open_writer,
                db,
                self._settings.sqlite_synchronous,
                self._settings.sqlite_cache_mb,
                self._indexed,
            ),
            self._settings.group_commit_max,
            process=writer_in_process(self._settings.sqlite_writer, in_memory=db.in_memory),
        )
        try:
            await writer.start(partial(_prepare, self._indexed))
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite database {self.path}: {exc}") from exc
        self._writer = writer
        self._readers = ReaderPool(
            lambda: open_reader(db, self._settings.sqlite_cache_mb), self._settings.sqlite_readers
        )
        if not db.in_memory:
            self._checkpointer = Checkpointer(db.connect, lambda: writer.groups_committed)
            self._checkpointer.start()

    async def close(self) -> None:
        """Commit every queued write, then close all connections (readers after the writer,
        so an in-memory database outlives no connection that still needs it)."""
        writer, readers = self._writer, self._readers
        if writer is not None:
            await writer.close()
        if readers is not None:
            await readers.close()
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            await asyncio.to_thread(checkpointer.close)

    @property
    def indexed_attributes(self) -> frozenset[str]:
        """The attributes whose values have an index (`indexed_attributes`)."""
        return self._indexed

    @property
    def writer(self) -> GroupCommitWriter:
        if self._writer is None:
            raise StoreError("the SQLite store is not started")
        return self._writer

    @property
    def readers(self) -> ReaderPool:
        if self._readers is None:
            raise StoreError("the SQLite store is not started")
        return self._readers

    async def ping(self) -> bool:
        if not self.writer.alive:
            return False
        try:
            return await self.readers.run(lambda c: c.execute("SELECT 1").fetchone() == (1,))
        except StoreError:
            return False

    # -- tenants ---------------------------------------------------------------------------

    async def tenant_exists(self, tenant: str) -> bool:
        if tenant in self._known_tenants:
            return True

        def query(conn: sqlite3.Connection) -> bool:
            row = conn.execute("SELECT 1 FROM tenants WHERE id = ?", (tenant,)).fetchone()
            return row is not None

        found = await self.readers.run(query)
        if found:
            self._known_tenants.add(tenant)
        return found

    async def list_tenants(self) -> list[str]:
        def query(conn: sqlite3.Connection) -> list[str]:
            return [row[0] for row in conn.execute("SELECT id FROM tenants ORDER BY id")]

        return await self.readers.run(query)

    # -- entities --------------------------------------------------------------------------

    async def create_entity(self, tenant: str, entity: ExpandedEntity) -> None:
        await self.writer.submit(_CreateOp(tenant, entity, _dumps(entity), types_of(entity)))
        self._known_tenants.add(tenant)

    async def get_entity(self, tenant: str, entity_id: str) -> ExpandedEntity | None:
        def query(conn: sqlite3.Connection) -> ExpandedEntity | None:
            row = conn.execute(
                "SELECT doc FROM entities WHERE tenant = ? AND id = ?", (tenant, entity_id)
            ).fetchone()
            return None if row is None else _loads(row[0])

        return await self.readers.run(query)

    async def replace_entity(self, tenant: str, entity: ExpandedEntity) -> bool:
        self._forget(tenant, (entity["id"],))
        op = _ReplaceOp(tenant, entity, _dumps(entity), types_of(entity))
        return bool(await self.writer.submit(op))

    async def modify_entity(
        self, tenant: str, entity_id: str, change: Change[R]
    ) -> Modified[R] | None:
        """With the writer on a thread, one op reads, changes and rewrites the entity (the
        document is read and parsed once, no reader round trip). A writer process cannot be
        handed `change` (a Python function), so then the entity is read on a reader, changed
        here, and written back only if the stored document is still the one read. The
        callers hold the entity's lock, so that condition fails only if something else wrote
        the file meanwhile; then the cycle runs again."""
        if self.writer.process_id is None:
            modified: Modified[R] | None = await self.writer.submit(
                _ModifyOp(tenant, entity_id, change)
            )
            return modified

        read = partial(_entity_row, tenant=tenant, entity_id=entity_id)
        key = (tenant, entity_id)
        hint = self._written.pop(key, None)
        while True:
            from_hint = hint is not None
            found = hint if hint is not None else await self.readers.run(read)
            hint = None
            if found is None:
                return None
            eid, text = found
            old = _loads(text)
            try:
                new, outcome = change(old)
            except Exception:
                if from_hint:  # decide on what is stored, not on what was last written here
                    continue
                raise
            if new is old:
                if from_hint:
                    continue
                return old, new, outcome
            op = _RewriteOp(tenant, new, _dumps(new), types_of(new), eid, text, old)
            if await self.writer.submit(op):
                self._remember(key, eid, op.doc)
                return old, new, outcome

    def _remember(self, key: tuple[str, str], eid: int, doc: str) -> None:
        """What modify_entity last wrote, as the first guess of its next read of that entity
        (a writer process only). A guess that is no longer what is stored fails the
        conditional write, or the rule, and the entity is then read."""
        written = self._written
        written[key] = (eid, doc)
        if len(written) > WRITTEN_HINTS:
            del written[next(iter(written))]

    def _forget(self, tenant: str, entity_ids: Iterable[str]) -> None:
        if self._written:
            for entity_id in entity_ids:
                self._written.pop((tenant, entity_id), None)

    async def delete_entity(self, tenant: str, entity_id: str) -> ExpandedEntity | None:
        self._forget(tenant, (entity_id,))
        doc = await self.writer.submit(Call(_delete_entity, tenant, entity_id))
        return None if doc is None else _loads(doc)

    async def query_entities(
        self, tenant: str, query: EntityQuery, *, limit: int, offset: int = 0, count: bool = False
    ) -> QueryPage:
        return await query_entities(self, tenant, query, limit=limit, offset=offset, count=count)

    async def count_entities(self, tenant: str) -> int:
        def query(conn: sqlite3.Connection) -> int:
            row = conn.execute("SELECT count(*) FROM entities WHERE tenant = ?", (tenant,))
            return int(row.fetchone()[0])

        return await self.readers.run(query)

    # -- batch operations (clauses 5.6.7-5.6.10, 5.6.20) -----------------------------------

    async def get_entities(self, tenant: str, ids: Sequence[str]) -> dict[str, ExpandedEntity]:
        wanted = list(dict.fromkeys(ids))

        def query(conn: sqlite3.Connection) -> list[Any]:
            return _select_by_ids(conn, "id, doc", tenant, wanted)

        if not wanted:
            return {}
        return {entity_id: _loads(doc) for entity_id, doc in await self.readers.run(query)}

    async def write_batch(
        self, tenant: str, writes: Sequence[BatchWrite]
    ) -> list[BatchOutcome]:
        """One writer job for the whole batch: it commits in one transaction (with whatever
        else is queued; a batch of creates only is inserted together with the other creates
        of its group). The writes first run together in one savepoint; only when one is
        refused is that rolled back and every write redone in a savepoint of its own (a
        savepoint per write costs a third of the batch's time, and refusals are rare)."""
        distinct_ids(writes)
        self._forget(tenant, (w.entity_id for w in writes))
        rows = [
            (w, None if w.entity is None else _dumps(w.entity), types_of(w.entity or {}))
            for w in writes
        ]
        if not writes:
            return []
        outcomes: list[BatchOutcome] = await self.writer.submit(_BatchOp(tenant, rows))
        if any(o is None and w.kind != "delete" for o, w in zip(outcomes, writes, strict=True)):
            self._known_tenants.add(tenant)
        return outcomes

    # -- discovery (clauses 5.7.5-5.7.10; SQL in discovery.py) -----------------------------

    async def count_entities_by_type(self, tenant: str) -> dict[str, int]:
        return await self.readers.run(lambda c: discovery.count_entities_by_type(c, tenant))

    async def attribute_names(self, tenant: str) -> list[str]:
        return await self.readers.run(lambda c: discovery.attribute_names(c, tenant))

    async def describe_types(
        self, tenant: str, entity_type: str | None = None
    ) -> list[TypeDetails]:
        return await self.readers.run(lambda c: discovery.describe_types(c, tenant, entity_type))

    async def describe_attributes(
        self, tenant: str, attribute: str | None = None
    ) -> list[AttributeDetails]:
        return await self.readers.run(
            lambda c: discovery.describe_attributes(c, tenant, attribute)
        )

    # -- subscriptions (clause 5.8; SQL in subscriptions.py) ------------------------------

    async def create_subscription(self, tenant: str, record: dict[str, Any]) -> None:
        await self.writer.submit(Call(subscription_rows.insert, tenant, record))
        self._known_tenants.add(tenant)

    async def get_subscription(
        self, tenant: str, subscription_id: str
    ) -> StoredSubscription | None:
        return await self.readers.run(
            lambda c: subscription_rows.select_one(c, tenant, subscription_id)
        )

    async def list_subscriptions(
        self, tenant: str, *, limit: int, offset: int = 0
    ) -> SubscriptionPage:
        found, total = await self.readers.run(
            lambda c: subscription_rows.select_page(c, tenant, limit, offset)
        )
        return SubscriptionPage(found, total)

    async def replace_subscription(self, tenant: str, record: dict[str, Any]) -> bool:
        return bool(await self.writer.submit(Call(subscription_rows.update, tenant, record)))

    async def delete_subscription(self, tenant: str, subscription_id: str) -> bool:
        return bool(
            await self.writer.submit(Call(subscription_rows.delete, tenant, subscription_id))
        )

    async def load_subscriptions(self) -> list[StoredSubscription]:
        return await self.readers.run(subscription_rows.select_all)

    async def subscription_revisions(self) -> dict[tuple[str, str], str]:
        return await self.readers.run(subscription_rows.select_revisions)

    async def claim_notification(
        self, tenant: str, subscription_id: str, now: float, interval: float
    ) -> tuple[bool, float | None]:
        claimed: tuple[bool, float | None] = await self.writer.submit(
            Call(subscription_rows.claim, tenant, subscription_id, now, interval)
        )
        return claimed

    async def add_subscription_stats(
        self, updates: Sequence[tuple[str, str, dict[str, Any]]]
    ) -> None:
        if updates:
            batch = list(updates)
            await self.writer.submit(Call(subscription_rows.add_stats, batch, add_counters))

    async def save_subscription_stats(
        self, updates: Sequence[tuple[str, str, dict[str, Any]]]
    ) -> None:
        if updates:
            batch = list(updates)
            await self.writer.submit(Call(subscription_rows.update_stats, batch))

    # -- hosted @contexts -----------------------------------------------------------------

    async def save_context(self, record: dict[str, Any]) -> None:
        await self.writer.submit(Call(_save_context, record["id"], _dumps(record)))

    async def load_contexts(self) -> list[dict[str, Any]]:
        def query(conn: sqlite3.Connection) -> list[str]:
            return [row[0] for row in conn.execute("SELECT record FROM contexts ORDER BY id")]

        return [_loads(text) for text in await self.readers.run(query)]

    async def delete_context(self, context_id: str) -> bool:
        return bool(await self.writer.submit(Call(_delete_context, context_id)))


# -- the writer's connection and its ops ---------------------------------------------------

WRITER_PLACES = ("auto", "process", "thread")
WRITTEN_HINTS = 4096
"""Entities whose last modify_entity write a store with a writer process remembers."""


CGROUP_CPU_MAX = "/sys/fs/cgroup/cpu.max"


def available_cpus() -> int:
    """The CPUs this process may run on: its affinity (where the platform tells it), and no
    more than its cgroup v2 CPU quota allows (a container limited to one CPU sees all of the
    host's in its affinity)."""
    if hasattr(os, "sched_getaffinity"):
        cpus = len(os.sched_getaffinity(0)) or 1
    else:
        cpus = os.cpu_count() or 1
    try:
        with open(CGROUP_CPU_MAX) as f:
            quota = cgroup_cpu_quota(f.read())
    except OSError:
        return cpus
    return cpus if quota is None else min(cpus, quota)


def cgroup_cpu_quota(text: str) -> int | None:
    """Whole CPUs a cgroup v2 `cpu.max` ("<quota> <period>", or "max <period>") allows, at
    least 1; None when it sets no limit or cannot be read."""
    parts = text.split()
    if len(parts) != 2 or parts[0] == "max":
        return None
    try:
        quota, period = int(parts[0]), int(parts[1])
    except ValueError:
        return None
    if quota <= 0 or period <= 0:
        return None
    return max(1, quota // period)


def checked_writer_place(place: str) -> str:
    if place not in WRITER_PLACES:
        raise ValueError(f"sqlite_writer must be one of {list(WRITER_PLACES)}, not '{place}'")
    return place


def writer_in_process(place: str, *, in_memory: bool) -> bool:
    """Whether the `sqlite_writer` setting puts the writer in a process of its own."""
    checked_writer_place(place)
    if in_memory or place == "thread":
        return False
    return place == "process" or available_cpus() >= 2


class _WriterConnection(sqlite3.Connection):
    """The writer's connection, with the attribute keys committed through it."""

    attr_ids: AttrIds


def _open_writer(
    db: Database, synchronous: str, cache_mb: int, indexed: Iterable[str]
) -> sqlite3.Connection:
    conn = cast(_WriterConnection, open_writer(db, synchronous, cache_mb, _WriterConnection))
    conn.attr_ids = AttrIds(indexed)
    return conn


def _prepare(indexed: Iterable[str], conn: sqlite3.Connection) -> None:
    """On the writer, before the first write: schema, then value indexes."""
    migrate(conn)
    create_value_indexes(conn, indexed)


def _keys(conn: sqlite3.Connection) -> _Keys:
    return _Keys(cast(_WriterConnection, conn).attr_ids)


def _entity_row(conn: sqlite3.Connection, tenant: str, entity_id: str) -> tuple[int, str] | None:
    """The entity's eid and document text, None when it does not exist."""
    row = conn.execute(
        "SELECT eid, doc FROM entities WHERE tenant = ? AND id = ?", (tenant, entity_id)
    ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def _delete_entity(conn: sqlite3.Connection, tenant: str, entity_id: str) -> str | None:
    row = conn.execute(
        "SELECT doc FROM entities WHERE tenant = ? AND id = ?", (tenant, entity_id)
    ).fetchone()
    if row is None:
        return None
    _delete_row(conn, tenant, entity_id)
    return str(row[0])


def _save_context(conn: sqlite3.Connection, context_id: str, text: str) -> None:
    conn.execute(
        "INSERT INTO contexts (id, record) VALUES (?, ?) "
        "ON CONFLICT (id) DO UPDATE SET record = excluded.record",
        (context_id, text),
    )


def _delete_context(conn: sqlite3.Connection, context_id: str) -> bool:
    cursor = conn.execute("DELETE FROM contexts WHERE id = ?", (context_id,))
    return cursor.rowcount > 0


def _dumps(value: Any) -> str:
    # Text, not bytes: a bytes parameter would be stored as a BLOB, which JSON1 (3.45+)
    # would take for JSONB rather than JSON text.
    return orjson.dumps(value).decode()


def _loads(text: str) -> Any:
    return orjson.loads(text)


def _insert_types(
    conn: sqlite3.Connection, tenant: str, eid: int, entity_id: str, types: list[str]
) -> None:
    conn.executemany(
        "INSERT INTO entity_types (eid, type, tenant, id) VALUES (?, ?, ?, ?)",
        [(eid, t, tenant, entity_id) for t in types],
    )


# -- rows: shared by the single-entity writes and write_batch ----------------------------------

_IDS_PER_SELECT = 500


def _select_by_ids(
    conn: sqlite3.Connection, columns: str, tenant: str, ids: Sequence[str]
) -> list[Any]:
    """`columns` of the tenant's entity rows among `ids`, `_IDS_PER_SELECT` ids a statement."""
    rows: list[Any] = []
    for start in range(0, len(ids), _IDS_PER_SELECT):
        chunk = ids[start : start + _IDS_PER_SELECT]
        marks = ",".join("?" * len(chunk))
        rows.extend(
            conn.execute(
                f"SELECT {columns} FROM entities WHERE tenant = ? AND id IN ({marks})",
                (tenant, *chunk),
            )
        )
    return rows


class _Keys:
    """The attribute keys one write learns, remembered by the store only once it commits."""

    __slots__ = ("ids", "learned")

    def __init__(self, ids: AttrIds) -> None:
        self.ids = ids
        self.learned: dict[tuple[str, str], int] = {}

    def commit(self) -> None:
        self.ids.commit(self.learned)


Create = tuple[ExpandedEntity, str, list[str]]
"""An entity to insert, its document text and its types."""


def _insert_row(
    conn: sqlite3.Connection,
    tenant: str,
    entity: ExpandedEntity,
    doc: str,
    types: list[str],
    keys: _Keys,
) -> None:
    if _insert_rows(conn, tenant, [(entity, doc, types)], keys):
        raise DuplicateEntity(f"entity {entity['id']} already exists")


def _insert_rows(
    conn: sqlite3.Connection, tenant: str, creates: list[Create], keys: _Keys
) -> set[int]:
    """Insert fresh entities with one statement per table (eids are handed out here: the
    writer holds the write lock, so max(eid) cannot move under it). Returns the positions
    in `creates` that were skipped, nothing of theirs written, because their id exists (in
    the tenant, or earlier in `creates`): the others go in all the same, so a create whose
    id is taken fails alone without undoing anyone else's."""
    if not creates:
        return set()
    first = int(conn.execute("SELECT coalesce(max(eid), 0) + 1 FROM entities").fetchone()[0])
    changes = conn.total_changes
    insert_rows(
        conn,
        "INSERT INTO entities (eid, tenant, id, doc)",
        4,
        [(first + k, tenant, e["id"], doc) for k, (e, doc, _) in enumerate(creates)],
        " ON CONFLICT DO NOTHING",
    )
    skipped: set[int] = set()
    if conn.total_changes - changes != len(creates):
        kept = {
            int(eid) - first
            for (eid,) in conn.execute(
                "SELECT eid FROM entities WHERE eid >= ? AND eid < ?",
                (first, first + len(creates)),
            )
        }
        skipped = set(range(len(creates))) - kept
    type_rows: list[tuple[int, str, str, str]] = []
    per_type: dict[str, int] = {}
    for k, (e, _, types) in enumerate(creates):
        if k not in skipped:
            for t in types:
                type_rows.append((first + k, t, tenant, e["id"]))
                per_type[t] = per_type.get(t, 0) + 1
    insert_rows(conn, "INSERT INTO entity_types (eid, type, tenant, id)", 4, type_rows)
    count_types(conn, tenant, per_type)
    index_new_rows(
        conn,
        tenant,
        [(first + k, e) for k, (e, _, _) in enumerate(creates) if k not in skipped],
        keys.ids,
        keys.learned,
        types=[types for k, (_, _, types) in enumerate(creates) if k not in skipped],
    )
    return skipped


def insert_together(conn: sqlite3.Connection, ops: list[_CreateOp | _BatchOp]) -> list[Any]:
    """The creates of every op, tenant by tenant, one statement per table (and chunk). A
    create whose id exists is skipped and reported (a `Refused` single create, a
    DuplicateEntity outcome in a batch's list); the others still go in."""
    by_tenant: dict[str, list[_CreateOp | _BatchOp]] = {}
    for op in ops:
        by_tenant.setdefault(op.tenant, []).append(op)
    results: dict[int, Any] = {}
    for tenant, mine in by_tenant.items():
        keys = _keys(conn)
        skipped = _insert_rows(conn, tenant, [c for op in mine for c in op.creates], keys)
        start = 0
        for op in mine:
            op.keys = keys
            count = len(op.creates)
            results[id(op)] = op.result_together(
                {k - start for k in skipped if start <= k < start + count}
            )
            start += count
        conn.execute("INSERT OR IGNORE INTO tenants (id) VALUES (?)", (tenant,))
    return [results[id(op)] for op in ops]


class _LearningOp:
    """An op whose write may learn attribute keys (`keys`, set when it runs), kept in the
    writer's AttrIds once its group has committed."""

    __slots__ = ("keys",)

    def __init__(self) -> None:
        self.keys: _Keys | None = None

    def after_commit(self) -> None:
        if self.keys is not None:
            self.keys.commit()


class _EntityOp(_LearningOp):
    """A write of one entity (its expanded form, document text and types). Pickled, it
    leaves the expanded form behind: the writer process parses the text instead, which is
    cheaper than pickling the nested dicts. What its write learned is kept once committed."""

    __slots__ = ("doc", "entity", "tenant", "types")

    def __init__(
        self, tenant: str, entity: ExpandedEntity, doc: str, types: list[str]
    ) -> None:
        super().__init__()
        self.tenant, self.entity, self.doc, self.types = tenant, entity, doc, types

    def __getstate__(self) -> tuple[Any, ...]:
        return self.tenant, self.doc, self.types

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.tenant, self.doc, self.types = state
        self.entity = _loads(self.doc)
        self.keys = None

    @property
    def creates(self) -> list[Create]:
        return [(self.entity, self.doc, self.types)]


class _CreateOp(_EntityOp):
    """One entity create as a writer op; the creates queued together in a group are
    inserted with one statement per table (`insert_together`)."""

    __slots__ = ()
    run_together = staticmethod(insert_together)

    def __call__(self, conn: sqlite3.Connection) -> None:
        self.keys = _keys(conn)
        _insert_row(conn, self.tenant, self.entity, self.doc, self.types, self.keys)
        conn.execute("INSERT OR IGNORE INTO tenants (id) VALUES (?)", (self.tenant,))

    def result_together(self, skipped: set[int]) -> Refused | None:
        if skipped:
            return Refused(DuplicateEntity(f"entity {self.entity['id']} already exists"))
        return None


class _ReplaceOp(_EntityOp):
    """Replace Entity: False, with nothing written, when the entity does not exist."""

    __slots__ = ()

    def __call__(self, conn: sqlite3.Connection) -> bool:
        self.keys = _keys(conn)
        return _update_row(conn, self.tenant, self.entity, self.doc, self.types, self.keys)


class _RewriteOp(_EntityOp):
    """modify_entity's write: the row `eid` gets the new entity only if it still holds the
    document text `old_doc` that was read (else False, nothing written)."""

    __slots__ = ("eid", "old", "old_doc")

    def __init__(
        self,
        tenant: str,
        entity: ExpandedEntity,
        doc: str,
        types: list[str],
        eid: int,
        old_doc: str,
        old: ExpandedEntity,
    ) -> None:
        super().__init__(tenant, entity, doc, types)
        self.eid, self.old_doc, self.old = eid, old_doc, old

    def __getstate__(self) -> tuple[Any, ...]:
        return (*super().__getstate__(), self.eid, self.old_doc)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        super().__setstate__(state[:3])
        self.eid, self.old_doc = state[3:]
        self.old = _loads(self.old_doc)

    def __call__(self, conn: sqlite3.Connection) -> bool:
        self.keys = _keys(conn)
        entity = self.entity
        cursor = conn.execute(
            "UPDATE entities SET doc = ? WHERE eid = ? AND tenant = ? AND doc = ?",
            (self.doc, self.eid, self.tenant, self.old_doc),
        )
        if cursor.rowcount == 0:
            return False
        _retype(conn, self.tenant, self.eid, entity["id"], self.old, self.types)
        reindex(conn, self.tenant, self.eid, self.old, entity, self.keys.ids, self.keys.learned)
        return True


class _ModifyOp:
    """modify_entity as one op on the writer thread: read, change, rewrite. It holds the
    service's update rule, so it is never handed to a writer process."""

    __slots__ = ("change", "entity_id", "rewrite", "tenant")

    def __init__(self, tenant: str, entity_id: str, change: Change[Any]) -> None:
        self.tenant, self.entity_id, self.change = tenant, entity_id, change
        self.rewrite: _RewriteOp | None = None

    def __call__(self, conn: sqlite3.Connection) -> Modified[Any] | None:
        self.rewrite = None
        found = _entity_row(conn, self.tenant, self.entity_id)
        if found is None:
            return None
        eid, text = found
        old = _loads(text)
        new, outcome = self.change(old)
        if new is not old:
            # The row is the one just read, in this transaction: the rewrite's condition holds.
            self.rewrite = _RewriteOp(self.tenant, new, _dumps(new), types_of(new), eid, text, old)
            self.rewrite(conn)
        return old, new, outcome

    def after_commit(self) -> None:
        if self.rewrite is not None:
            self.rewrite.after_commit()


BatchRow = tuple[BatchWrite, str | None, list[str]]
"""A BatchWrite, its document text (None for a delete) and its types."""


class _BatchOp(_LearningOp):
    """`write_batch` as a writer op. Alone, it runs its writes in one savepoint and, when
    one is refused, each in its own (see write_batch). A batch of creates only also takes
    part in `insert_together`, so a group of such batches (an adapter's buffered publisher,
    32 IoT Agents) is inserted with one statement per table and chunk, not one per batch:
    each statement hands the GIL back once, and while the event loop holds it every hand-back
    waits. Pickled, it travels as document texts, like `_EntityOp`."""

    __slots__ = ("create_rows", "creates", "replaces", "rows", "run_together", "tenant")

    def __init__(self, tenant: str, rows: list[BatchRow]) -> None:
        self._setup(tenant, rows)

    def _setup(self, tenant: str, rows: list[BatchRow]) -> None:
        super().__init__()
        self.tenant, self.rows = tenant, rows
        self.creates: list[Create] = []
        self.create_rows: list[int] = []
        """The position in `rows` of each of `creates`."""
        self.replaces: list[Create] = []
        for n, (w, doc, types) in enumerate(rows):
            if w.entity is not None and doc is not None:
                if w.kind == "create":
                    self.creates.append((w.entity, doc, types))
                    self.create_rows.append(n)
                else:
                    self.replaces.append((w.entity, doc, types))
        # Only a batch of creates only can go in with others (an update needs its row).
        self.run_together = insert_together if len(self.creates) == len(rows) else None

    def __getstate__(self) -> tuple[Any, ...]:
        return self.tenant, [(w.kind, w.entity_id, doc, types) for w, doc, types in self.rows]

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        tenant, rows = state
        self._setup(
            tenant,
            [
                (BatchWrite(kind, entity_id, None if doc is None else _loads(doc)), doc, types)
                for kind, entity_id, doc, types in rows
            ],
        )

    def __call__(self, conn: sqlite3.Connection) -> list[BatchOutcome]:
        tenant, rows = self.tenant, self.rows
        keys = self.keys = _keys(conn)
        conn.execute("SAVEPOINT batch")
        outcomes: list[BatchOutcome] = []
        try:
            skipped = _insert_rows(conn, tenant, self.creates, keys)
            refused = not _replace_rows(conn, tenant, self.replaces, keys) or any(
                _apply_write(conn, tenant, *row, keys) is not None
                for row in rows
                if row[0].kind == "delete"
            )
            if not refused:
                outcomes = self.result_together(skipped)
        except sqlite3.Error:
            refused = True
        if refused:
            conn.execute("ROLLBACK TO batch")
            keys.learned.clear()
            outcomes = [_apply_alone(conn, tenant, *row, keys) for row in rows]
        conn.execute("RELEASE batch")
        kinds = (w.kind for w, _, _ in rows)
        if any(o is None and k != "delete" for o, k in zip(outcomes, kinds, strict=True)):
            conn.execute("INSERT OR IGNORE INTO tenants (id) VALUES (?)", (tenant,))
        return outcomes

    def result_together(self, skipped: set[int]) -> list[BatchOutcome]:
        """An outcome per row, given the positions in `creates` that were skipped (their id
        exists)."""
        outcomes: list[BatchOutcome] = [None] * len(self.rows)
        for k in skipped:
            n = self.create_rows[k]
            outcomes[n] = DuplicateEntity(f"entity {self.rows[n][0].entity_id} already exists")
        return outcomes


def _update_row(
    conn: sqlite3.Connection,
    tenant: str,
    entity: ExpandedEntity,
    doc: str,
    types: list[str],
    keys: _Keys,
) -> bool:
    return _replace_rows(conn, tenant, [(entity, doc, types)], keys)


def _replace_rows(
    conn: sqlite3.Connection, tenant: str, replaces: list[Create], keys: _Keys
) -> bool:
    """Rewrite existing rows with a statement per table and chunk (a batch of updates to
    known entities, as IoT Agents send, took five statements per entity); False, with
    nothing written, when one of them does not exist."""
    if not replaces:
        return True
    ids = [entity["id"] for entity, _, _ in replaces]
    found = {
        entity_id: (int(eid), doc)
        for entity_id, eid, doc in _select_by_ids(conn, "id, eid, doc", tenant, ids)
    }
    if len(found) < len(set(ids)):
        return False
    update_rows(
        conn,
        "entities",
        "eid",
        ("doc",),
        [(found[e["id"]][0], doc) for e, doc, _ in replaces],
    )
    changes = []
    for entity, _, types in replaces:
        eid, text = found[entity["id"]]
        old = _loads(text)
        _retype(conn, tenant, eid, entity["id"], old, types)
        changes.append((eid, old, entity))
    reindex_rows(conn, tenant, changes, keys.ids, keys.learned)
    return True


def _retype(
    conn: sqlite3.Connection,
    tenant: str,
    eid: int,
    entity_id: str,
    old: ExpandedEntity,
    types: list[str],
) -> None:
    """Bring the entity's entity_types rows (and discovery's count per type) from `old`'s
    types to `types`."""
    was = types_of(old)
    if was != types:
        conn.execute("DELETE FROM entity_types WHERE eid = ?", (eid,))
        _insert_types(conn, tenant, eid, entity_id, types)
        moved = dict.fromkeys(was, -1)
        for t in types:
            moved[t] = moved.get(t, 0) + 1
        count_types(conn, tenant, moved)


def _delete_row(conn: sqlite3.Connection, tenant: str, entity_id: str) -> bool:
    row = conn.execute(
        "DELETE FROM entities WHERE tenant = ? AND id = ? RETURNING eid", (tenant, entity_id)
    ).fetchone()
    if row is None:
        return False
    # while its types are there: discovery's summary needs them
    types = unindex(conn, int(row[0]))
    conn.execute("DELETE FROM entity_types WHERE eid = ?", (int(row[0]),))
    count_types(conn, tenant, dict.fromkeys(types, -1))
    return True


def _apply_alone(
    conn: sqlite3.Connection,
    tenant: str,
    write: BatchWrite,
    doc: str | None,
    types: list[str],
    keys: _Keys,
) -> BatchOutcome:
    """One BatchWrite in a savepoint of its own: refused, it leaves nothing behind (not even
    an attribute key it learned)."""
    mine = _Keys(keys.ids)
    conn.execute("SAVEPOINT batch_write")
    try:
        outcome = _apply_write(conn, tenant, write, doc, types, mine)
    except sqlite3.Error as exc:
        outcome = StoreError(f"SQLite write failed: {exc}")
    if outcome is not None:
        conn.execute("ROLLBACK TO batch_write")
    else:
        keys.learned.update(mine.learned)
    conn.execute("RELEASE batch_write")
    return outcome


def _apply_write(
    conn: sqlite3.Connection,
    tenant: str,
    write: BatchWrite,
    doc: str | None,
    types: list[str],
    keys: _Keys,
) -> BatchOutcome:
    """One BatchWrite on the writer thread; a refusal is returned, not raised."""
    if write.kind == "delete":
        _delete_row(conn, tenant, write.entity_id)
        return None
    assert write.entity is not None and doc is not None
    if write.kind == "create":
        try:
            _insert_row(conn, tenant, write.entity, doc, types, keys)
        except DuplicateEntity as exc:
            return exc
        return None
    if not _update_row(conn, tenant, write.entity, doc, types, keys):
        return MissingEntity(f"entity {write.entity_id} does not exist")
    return None
