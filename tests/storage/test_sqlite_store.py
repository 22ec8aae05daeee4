"""What is particular to the SQLite store: its URL, schema versioning, pragmas, the group
commit writer and the `entity_types` side table the query engine relies on."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
from store_support import EX, simple_entity

from broker.query.ast import (
    AttrPath,
    Comparison,
    EntityQuery,
    Exists,
    GeoQuery,
    TypeAnd,
    TypeName,
    Value,
)
from broker.settings import Settings
from broker.storage.base import BatchWrite, StoreError
from broker.storage.sqlite import SqliteStore, parse_sqlite_url
from broker.storage.sqlite import schema as sqlite_schema
from broker.storage.sqlite import store as sqlite_store
from broker.storage.sqlite.connection import WAL_BACKSTOP_PAGES
from broker.storage.sqlite.index import AttrIds, entity_key, index_new_rows
from broker.storage.sqlite.schema import MIGRATIONS, SCHEMA_VERSION, migrate
from broker.storage.sqlite.writer import Call
from broker.types import DEFAULT_TENANT


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///data/agora.db", "data/agora.db"),
        ("sqlite:////var/lib/agora/agora.db", "/var/lib/agora/agora.db"),
        ("sqlite://:memory:", ":memory:"),
        ("sqlite:///:memory:", ":memory:"),
    ],
)
def test_sqlite_url_names_a_path(url: str, path: str) -> None:
    assert parse_sqlite_url(url) == path


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite:relative.db", "mongodb://x/"])
def test_sqlite_url_without_a_path_is_rejected(url: str) -> None:
    with pytest.raises(ValueError, match="sqlite"):
        parse_sqlite_url(url)


def test_unknown_synchronous_level_is_rejected() -> None:
    with pytest.raises(ValueError, match="sqlite_synchronous"):
        SqliteStore(":memory:", Settings(sqlite_synchronous="SOMETIMES"))


def _pragma(conn: sqlite3.Connection, name: str) -> Any:
    """A pragma's value on the writer's connection (a writer op: `Call(_pragma, name)`)."""
    return conn.execute(f"PRAGMA {name}").fetchone()[0]


def _half_done_then_fail(conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO contexts (id, record) VALUES ('half', '{}')")
    raise RuntimeError("boom")


async def _started(path: str, **overrides: object) -> SqliteStore:
    store = SqliteStore(path, Settings(**overrides))  # type: ignore[arg-type]
    await store.start()
    return store


async def test_new_file_gets_its_directory_wal_and_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "agora.db"
    store = await _started(str(path), sqlite_synchronous="FULL")
    try:
        assert path.exists()
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        conn.close()
        level = await store.writer.submit(Call(_pragma, "synchronous"))
        assert level == 2  # FULL
    finally:
        await store.close()


async def test_reopening_keeps_the_schema_version(tmp_path: Path) -> None:
    path = str(tmp_path / "agora.db")
    await (await _started(path)).close()
    store = await _started(path)
    await store.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


async def test_a_schema_newer_than_the_broker_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "agora.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    store = SqliteStore(str(path), Settings())
    with pytest.raises(StoreError, match="newer"):
        await store.start()


async def test_memory_database_is_one_database_for_every_connection() -> None:
    store = await _started(":memory:", sqlite_readers=4)
    try:
        sent = [simple_entity(f"urn:ngsi-ld:T:{i}") for i in range(50)]
        await asyncio.gather(*(store.create_entity(DEFAULT_TENANT, e) for e in sent))
        got = await asyncio.gather(
            *(store.get_entity(DEFAULT_TENANT, e["id"]) for e in sent * 4)
        )
        assert got == sent * 4
    finally:
        await store.close()


async def test_two_memory_stores_do_not_share_data() -> None:
    one, two = await _started(":memory:"), await _started(":memory:")
    try:
        await one.create_entity(DEFAULT_TENANT, simple_entity("urn:ngsi-ld:T:1"))
        assert await two.get_entity(DEFAULT_TENANT, "urn:ngsi-ld:T:1") is None
    finally:
        await one.close()
        await two.close()


async def test_concurrent_writes_share_transactions(tmp_path: Path) -> None:
    store = await _started(str(tmp_path / "agora.db"), group_commit_max=64)
    try:
        before = store.writer.groups_committed
        await asyncio.gather(
            *(store.create_entity("t", simple_entity(f"urn:x:{i}")) for i in range(640))
        )
        commits = store.writer.groups_committed - before
        assert 10 <= commits < 640 / 4, commits
    finally:
        await store.close()


async def test_a_failing_write_rolls_back_only_its_own_changes(tmp_path: Path) -> None:
    store = await _started(str(tmp_path / "agora.db"))

    try:
        results = await asyncio.gather(
            store.save_context({"id": "before"}),
            store.writer.submit(Call(_half_done_then_fail)),
            store.save_context({"id": "after"}),
            return_exceptions=True,
        )
        assert results[0] is None and results[2] is None
        assert isinstance(results[1], RuntimeError)
        assert [c["id"] for c in await store.load_contexts()] == ["after", "before"]
    finally:
        await store.close()


async def test_entity_types_follow_create_replace_and_delete(tmp_path: Path) -> None:
    store = await _started(str(tmp_path / "agora.db"))

    async def types_of(entity_id: str) -> list[str]:
        def query(conn: sqlite3.Connection) -> list[str]:
            rows = conn.execute(
                "SELECT type FROM entity_types WHERE tenant = 't' AND id = ? ORDER BY type",
                (entity_id,),
            )
            return [r[0] for r in rows]

        return await store.readers.run(query)

    try:
        entity = simple_entity("urn:x:1", kind="A")
        entity["type"].append(EX + "B")
        await store.create_entity("t", entity)
        assert await types_of("urn:x:1") == [EX + "A", EX + "B"]
        await store.replace_entity("t", simple_entity("urn:x:1", kind="C"))
        assert await types_of("urn:x:1") == [EX + "C"]
        await store.delete_entity("t", "urn:x:1")
        assert await types_of("urn:x:1") == []
    finally:
        await store.close()


async def test_documents_are_json_text_that_json1_can_read(tmp_path: Path) -> None:
    path = tmp_path / "agora.db"
    store = await _started(str(path))
    await store.create_entity("t", simple_entity("urn:x:1", speed=80))
    await store.close()
    conn = sqlite3.connect(path)
    kind, speed = conn.execute(
        "SELECT typeof(doc), json_extract(doc, '$.attrs.\"' || ? || '\"[0].value') "
        "FROM entities WHERE id = 'urn:x:1'",
        (EX + "speed",),
    ).fetchone()
    conn.close()
    assert (kind, speed) == ("text", 80)


async def test_reads_fail_with_store_error_once_closed(tmp_path: Path) -> None:
    store = await _started(str(tmp_path / "agora.db"))
    await store.close()
    with pytest.raises(StoreError):
        await store.get_entity(DEFAULT_TENANT, "urn:x:1")
    assert await store.ping() is False


def _counting_inserts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of creates of each `_insert_rows` call from now on (seen by a writer
    thread only, not by a writer process)."""
    calls: list[int] = []
    real = sqlite_store._insert_rows

    def counting(
        conn: sqlite3.Connection, tenant: str, creates: list[Any], keys: Any
    ) -> set[int]:
        calls.append(len(creates))
        return real(conn, tenant, creates, keys)

    monkeypatch.setattr(sqlite_store, "_insert_rows", counting)
    return calls


async def test_creates_queued_together_are_inserted_with_one_statement_per_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Creates that queue while the writer is busy go in together (a few `_insert_rows`
    calls, not one per entity), land in the right tenants, and are queryable."""
    calls = _counting_inserts(monkeypatch)
    store = await _started(str(tmp_path / "agora.db"), sqlite_writer="thread")
    try:
        await asyncio.gather(
            *(
                store.create_entity(tenant, simple_entity(f"urn:x:{tenant}:{i}", speed=i))
                for i in range(50)
                for tenant in ("a", "b")
            )
        )
        assert sum(calls) == 100
        assert len(calls) < 20, calls
        for tenant in ("a", "b"):
            page = await store.query_entities(
                tenant, EntityQuery(q=Exists(AttrPath(EX + "speed"))), limit=1000, count=True
            )
            assert page.total == 50
            assert {e["id"] for e in page.entities} == {f"urn:x:{tenant}:{i}" for i in range(50)}
        assert set(await store.list_tenants()) >= {"a", "b"}
    finally:
        await store.close()


async def test_a_duplicate_among_creates_queued_together_fails_alone(tmp_path: Path) -> None:
    store = await _started(str(tmp_path / "agora.db"))
    try:
        await store.create_entity("t", simple_entity("urn:x:old", speed=0))
        ids = ["urn:x:1", "urn:x:old", "urn:x:2", "urn:x:2", "urn:x:3"]
        results = await asyncio.gather(
            *(store.create_entity("t", simple_entity(i, speed=1)) for i in ids),
            return_exceptions=True,
        )
        assert [type(r).__name__ for r in results] == [
            "NoneType", "DuplicateEntity", "NoneType", "DuplicateEntity", "NoneType",
        ]
        page = await store.query_entities(
            "t", EntityQuery(q=Exists(AttrPath(EX + "speed"))), limit=100
        )
        assert [e["id"] for e in page.entities] == [
            "urn:x:1", "urn:x:2", "urn:x:3", "urn:x:old"
        ]
    finally:
        await store.close()


async def test_a_taken_id_among_creates_queued_together_does_not_redo_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create whose id exists is skipped by the group's one INSERT and reported alone:
    the rest of the group (single creates and create-only batches) is inserted once, not
    rolled back and inserted again entity by entity."""
    inserted = _counting_inserts(monkeypatch)
    store = await _started(str(tmp_path / "agora.db"), sqlite_writer="thread")
    try:
        await store.create_entity("t", simple_entity("urn:x:old", speed=0))
        inserted.clear()
        singles = [f"urn:x:s{i}" for i in range(20)] + ["urn:x:old", "urn:x:s3"]
        batches = [
            [BatchWrite.create(simple_entity(f"urn:x:b{n}-{i}", speed=1)) for i in range(10)]
            for n in range(4)
        ]
        batches[2][5] = BatchWrite.create(simple_entity("urn:x:old", speed=1))
        results = await asyncio.gather(
            *(store.create_entity("t", simple_entity(i, speed=1)) for i in singles),
            *(store.write_batch("t", b) for b in batches),
            return_exceptions=True,
        )
        assert [type(r).__name__ for r in results[:22]] == (
            ["NoneType"] * 20 + ["DuplicateEntity", "DuplicateEntity"]
        )
        outcomes = results[22:]
        assert outcomes[0] == outcomes[1] == outcomes[3] == [None] * 10
        assert isinstance(outcomes[2], list)
        assert [type(o).__name__ for o in outcomes[2]] == (
            ["NoneType"] * 5 + ["DuplicateEntity"] + ["NoneType"] * 4
        )
        assert sum(inserted) == 22 + 40  # each create went into an INSERT once
        page = await store.query_entities(
            "t", EntityQuery(q=Exists(AttrPath(EX + "speed"))), limit=1000, count=True
        )
        assert page.total == 1 + 20 + 39
        old = await store.get_entity("t", "urn:x:old")
        assert old is not None and old["attrs"][EX + "speed"][0]["value"] == 0
    finally:
        await store.close()


def _at_version(path: Path, version: int) -> sqlite3.Connection:
    """A new file with the schema as it was at `version` (its migrations run, no later)."""
    conn = sqlite3.connect(path, isolation_level=None)
    for before in range(version):
        for step in MIGRATIONS[before]:
            if isinstance(step, str):
                conn.execute(step)
            else:
                step(conn)
    conn.execute(f"PRAGMA user_version = {version}")
    return conn


def test_migration_from_version_3_drops_the_modification_time_index(tmp_path: Path) -> None:
    conn = _at_version(tmp_path / "v3.db", 3)
    conn.execute(
        "INSERT INTO entities (tenant, id, doc) VALUES ('', 'urn:x:1', ?)",
        (orjson.dumps(simple_entity("urn:x:1")).decode(),),
    )
    assert migrate(conn) == 3
    indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "entities_by_modified_at" not in indexes and "entities_by_id" in indexes
    assert conn.execute("SELECT id FROM entities").fetchall() == [("urn:x:1",)]


async def test_migration_to_version_7_keeps_every_entitys_types(tmp_path: Path) -> None:
    """A version-6 file (entity_types keyed by id) opens with every type where it was: type
    queries, discovery counts and a later change of type all see the migrated rows."""
    path = tmp_path / "v6.db"
    conn = _at_version(path, 6)
    both = dict(simple_entity("urn:x:2", speed=2), type=[EX + "Car", EX + "Thing"])
    rows = [
        ("t", simple_entity("urn:x:1", speed=1)),
        ("t", both),
        ("u", simple_entity("urn:x:1", "Car", speed=3)),
    ]
    for tenant, entity in rows:
        conn.execute(
            "INSERT INTO entities (tenant, id, doc) VALUES (?, ?, ?)",
            (tenant, entity["id"], orjson.dumps(entity).decode()),
        )
        conn.executemany(
            "INSERT INTO entity_types (tenant, id, type) VALUES (?, ?, ?)",
            [(tenant, entity["id"], t) for t in entity["type"]],
        )
        eid = entity_key(conn, tenant, entity["id"])
        assert eid is not None
        index_new_rows(conn, tenant, [(eid, entity)], AttrIds(), geometry=False)
    conn.close()

    store = await _started(str(path))
    try:
        async def ids(tenant: str, types: Any) -> list[str]:
            page = await store.query_entities(tenant, EntityQuery(types=types), limit=100)
            return [e["id"] for e in page.entities]

        assert await ids("t", TypeName(EX + "Thing")) == ["urn:x:1", "urn:x:2"]
        assert await ids("t", TypeName(EX + "Car")) == ["urn:x:2"]
        assert await ids("t", TypeAnd((TypeName(EX + "Car"), TypeName(EX + "Thing")))) == [
            "urn:x:2"
        ]
        assert await ids("u", TypeName(EX + "Car")) == ["urn:x:1"]
        assert await ids("u", TypeName(EX + "Thing")) == []
        assert await store.count_entities_by_type("t") == {EX + "Car": 1, EX + "Thing": 2}
        described = {d.type: set(d.attributes) for d in await store.describe_types("t")}
        assert described == {EX + "Car": {EX + "speed"}, EX + "Thing": {EX + "speed"}}
        # A migrated row changes type and is deleted like a new one.
        await store.replace_entity("t", simple_entity("urn:x:2", "Bus", speed=5))
        assert await ids("t", TypeName(EX + "Car")) == []
        assert await ids("t", TypeName(EX + "Bus")) == ["urn:x:2"]
        await store.delete_entity("t", "urn:x:1")
        assert await ids("t", TypeName(EX + "Thing")) == []
        assert await ids("u", TypeName(EX + "Car")) == ["urn:x:1"]
    finally:
        await store.close()


async def test_migration_to_version_8_moves_points_out_of_the_rtree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version-7 file (every geometry's box in the R*Tree) opens with its Points in
    geo_points and its other shapes still boxed: geo-queries find both as before, and a
    migrated Point moves and is deleted like a new one. The documents are re-read in chunks
    (here of two), each once."""
    monkeypatch.setattr(sqlite_schema, "MIGRATION_CHUNK", 2)
    path = tmp_path / "v7.db"
    conn = _at_version(path, 7)
    loc = "https://uri.etsi.org/ngsi-ld/location"
    square = [[[2.0, 2.0], [3.0, 2.0], [3.0, 3.0], [2.0, 3.0], [2.0, 2.0]]]
    rows = [
        ("t", "urn:x:1", {"type": "Point", "coordinates": [1.0, 1.0]}, (1.0, 1.0, 1.0, 1.0)),
        ("t", "urn:x:2", {"type": "Polygon", "coordinates": square}, (2.0, 3.0, 2.0, 3.0)),
        ("u", "urn:x:1", {"type": "Point", "coordinates": [1.0, 1.0]}, (1.0, 1.0, 1.0, 1.0)),
    ]
    for tenant, entity_id, geometry, (min_lon, max_lon, min_lat, max_lat) in rows:
        entity = simple_entity(entity_id, speed=1)
        entity["attrs"][loc] = [{"type": "GeoProperty", "value": geometry}]
        eid = conn.execute(
            "INSERT INTO entities (tenant, id, doc) VALUES (?, ?, ?)",
            (tenant, entity_id, orjson.dumps(entity).decode()),
        ).lastrowid
        conn.executemany(
            "INSERT INTO entity_types (eid, type, tenant, id) VALUES (?, ?, ?, ?)",
            [(eid, t, tenant, entity_id) for t in entity["type"]],
        )
        assert eid is not None
        index_new_rows(conn, tenant, [(eid, entity)], AttrIds(), geometry=False)
        aid = conn.execute(
            "SELECT aid FROM attr_names WHERE tenant = ? AND iri = ?", (tenant, loc)
        ).fetchone()[0]
        rid = conn.execute(
            "INSERT INTO geo_shapes (eid, aid, id) VALUES (?, ?, ?)", (eid, aid, entity_id)
        ).lastrowid
        conn.execute(
            "INSERT INTO geo_boxes VALUES (?, ?, ?, ?, ?)",
            (rid, min_lon, max_lon, min_lat, max_lat),
        )
    conn.close()

    store = await _started(str(path))
    try:
        async def near(tenant: str, lon: float, lat: float) -> list[str]:
            geo = GeoQuery("near", "Point", (lon, lat), loc, max_distance=20_000.0)
            page = await store.query_entities(tenant, EntityQuery(geo=geo), limit=100)
            return [e["id"] for e in page.entities]

        assert await near("t", 1.0, 1.0) == ["urn:x:1"]
        assert await near("t", 2.5, 2.5) == ["urn:x:2"]
        assert await near("u", 1.0, 1.0) == ["urn:x:1"]
        assert await near("u", 2.5, 2.5) == []
        tables = await store.readers.run(lambda c: [
            c.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("geo_points", "geo_shapes", "geo_boxes")
        ])
        assert tables == [2, 1, 1]
        moved = simple_entity("urn:x:1", speed=1)
        moved["attrs"][loc] = [
            {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [5.0, 5.0]}}
        ]
        await store.replace_entity("t", moved)
        assert await near("t", 1.0, 1.0) == []
        assert await near("t", 5.0, 5.0) == ["urn:x:1"]
        await store.delete_entity("u", "urn:x:1")
        assert await near("u", 1.0, 1.0) == []
        points = await store.readers.run(
            lambda c: c.execute("SELECT count(*) FROM geo_points").fetchone()[0]
        )
        assert points == 1
    finally:
        await store.close()


async def test_every_connection_gets_the_configured_page_cache(tmp_path: Path) -> None:
    store = await _started(str(tmp_path / "agora.db"), sqlite_cache_mb=48)
    try:
        reader = await store.readers.run(
            lambda conn: conn.execute("PRAGMA cache_size").fetchone()[0]
        )
        writer = await store.writer.submit(Call(_pragma, "cache_size"))
        assert reader == writer == -48 * 1024
    finally:
        await store.close()


async def test_the_wal_is_copied_back_off_the_writer_and_commits_never_do_it(
    tmp_path: Path,
) -> None:
    store = await _started(str(tmp_path / "agora.db"))
    try:
        backstop = await store.writer.submit(Call(_pragma, "wal_autocheckpoint"))
        assert backstop == WAL_BACKSTOP_PAGES
        before = (tmp_path / "agora.db").stat().st_size
        await asyncio.gather(
            *(store.create_entity("t", simple_entity(f"urn:x:{i}", speed=i)) for i in range(200))
        )
        checkpointer = store._checkpointer
        assert checkpointer is not None
        deadline = asyncio.get_running_loop().time() + 5
        while checkpointer.checkpoints == 0:
            assert asyncio.get_running_loop().time() < deadline, "no checkpoint ran"
            await asyncio.sleep(0.05)
        # The committed pages reached the database file itself, not only the WAL.
        assert (tmp_path / "agora.db").stat().st_size > before
    finally:
        await store.close()
    assert store._checkpointer is None


async def test_migration_to_version_9_drops_the_timestamp_copies_and_keeps_every_entity(
    tmp_path: Path,
) -> None:
    """A version-8 file (timestamps copied into entities.created_at / modified_at) opens
    with every entity readable, queryable and writable; the copies are gone where SQLite can
    drop a column (3.35+)."""
    path = tmp_path / "v8.db"
    conn = _at_version(path, 8)
    entity = simple_entity("urn:x:1", speed=4)
    eid = conn.execute(
        "INSERT INTO entities (tenant, id, doc, created_at, modified_at) VALUES (?, ?, ?, ?, ?)",
        ("t", "urn:x:1", orjson.dumps(entity).decode(), "2026-01-01T00:00:00Z",
         "2026-01-01T00:00:00Z"),
    ).lastrowid
    assert eid is not None
    conn.executemany(
        "INSERT INTO entity_types (eid, type, tenant, id) VALUES (?, ?, ?, ?)",
        [(eid, t, "t", "urn:x:1") for t in entity["type"]],
    )
    index_new_rows(conn, "t", [(eid, entity)], AttrIds())
    conn.close()

    store = await _started(str(path))
    try:
        assert await store.get_entity("t", "urn:x:1") == entity
        speed_is_4 = Comparison(AttrPath(EX + "speed"), "==", Value(4, "number"))
        query = EntityQuery(types=TypeName(EX + "Thing"), q=speed_is_4)
        page = await store.query_entities("t", query, limit=10)
        assert [e["id"] for e in page.entities] == ["urn:x:1"]
        await store.replace_entity("t", simple_entity("urn:x:1", speed=5))
        await store.create_entity("t", simple_entity("urn:x:2", speed=6))
        columns = await store.readers.run(
            lambda c: [row[1] for row in c.execute("PRAGMA table_info(entities)")]
        )
        if sqlite3.sqlite_version_info >= (3, 35, 0):
            assert columns == ["eid", "tenant", "id", "doc"]
        got = await store.get_entity("t", "urn:x:1")
        assert got is not None and got["attrs"][EX + "speed"][0]["value"] == 5
    finally:
        await store.close()


def _three_entities_at(path: Path, version: int) -> None:
    """A file at `version` holding, as that version's writes left them (document, types,
    side-table rows, counted in discovery's attribute summary from version 10 on), tenant t:
    urn:x:1 (Thing, speed 1) and urn:x:2 (Car and Thing, speed 2, name "b"); tenant u:
    urn:x:1 (Car, speed 3)."""
    conn = _at_version(path, version)
    both = dict(simple_entity("urn:x:2", speed=2, name="b"), type=[EX + "Car", EX + "Thing"])
    rows = [
        ("t", simple_entity("urn:x:1", speed=1)),
        ("t", both),
        ("u", simple_entity("urn:x:1", "Car", speed=3)),
    ]
    for tenant, entity in rows:
        eid = conn.execute(
            "INSERT INTO entities (tenant, id, doc) VALUES (?, ?, ?)",
            (tenant, entity["id"], orjson.dumps(entity).decode()),
        ).lastrowid
        assert eid is not None
        conn.executemany(
            "INSERT INTO entity_types (eid, type, tenant, id) VALUES (?, ?, ?, ?)",
            [(eid, t, tenant, entity["id"]) for t in entity["type"]],
        )
        types = [entity["type"]] if version >= 10 else None
        index_new_rows(conn, tenant, [(eid, entity)], AttrIds(), types=types)
    conn.close()


async def test_migration_to_version_10_builds_discoverys_summary_from_the_side_tables(
    tmp_path: Path,
) -> None:
    """A version-9 file (discovery walked attr_values through its (aid, atype, eid) index)
    opens with the summary filled from what it holds: the same counts, names and kinds, per
    tenant; the index is gone, and later writes keep the summary in step."""
    path = tmp_path / "v9.db"
    _three_entities_at(path, 9)

    store = await _started(str(path))
    try:
        attributes = {
            a.name: (a.entity_count, a.types) for a in await store.describe_attributes("t")
        }
        assert attributes == {
            EX + "speed": (2, frozenset({EX + "Thing", EX + "Car"})),
            EX + "name": (1, frozenset({EX + "Thing", EX + "Car"})),
        }
        assert await store.attribute_names("u") == [EX + "speed"]
        described = {d.type: set(d.attributes) for d in await store.describe_types("t")}
        assert described == {EX + "Car": {EX + "speed", EX + "name"},
                             EX + "Thing": {EX + "speed", EX + "name"}}
        await store.delete_entity("t", "urn:x:2")
        assert await store.attribute_names("t") == [EX + "speed"]
        assert [a.entity_count for a in await store.describe_attributes("t", EX + "speed")] == [1]
        indexes = await store.readers.run(lambda c: [
            row[0] for row in c.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        ])
        assert "attr_values_by_attr" not in indexes
    finally:
        await store.close()


async def test_migration_to_version_11_counts_entities_per_type_from_entity_types(
    tmp_path: Path,
) -> None:
    """A version-10 file (the type list counted `entity_types` rows per request) opens with
    `type_counts` filled from what it holds, per tenant, and later creates, type changes and
    deletes keep it in step."""
    path = tmp_path / "v10.db"
    _three_entities_at(path, 10)

    store = await _started(str(path))
    try:
        assert await store.count_entities_by_type("t") == {EX + "Thing": 2, EX + "Car": 1}
        assert await store.count_entities_by_type("u") == {EX + "Car": 1}
        await store.create_entity("t", simple_entity("urn:x:3", "Car", speed=4))
        await store.replace_entity("t", simple_entity("urn:x:2", "Bus", speed=2))
        await store.delete_entity("t", "urn:x:1")
        assert await store.count_entities_by_type("t") == {EX + "Car": 1, EX + "Bus": 1}
        (car,) = await store.describe_types("t", EX + "Car")
        assert car.entity_count == 1
        assert await store.describe_types("t", EX + "Thing") == []
        assert await store.count_entities_by_type("u") == {EX + "Car": 1}
    finally:
        await store.close()
