"""The SQLite query path on fixed data: every pushed-down comparison gives the reference's
answer, side tables follow writes, the migration back-fills, geometry boxes hold."""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest

from broker.query.ast import (
    AttrPath,
    Comparison,
    EntityQuery,
    GeoQuery,
    Operator,
    Range,
    TypeName,
    TypeOr,
    Value,
    ValueList,
)
from broker.query.evaluate import matches
from broker.query.geometry import haversine_m
from broker.settings import Settings
from broker.storage.base import BatchWrite
from broker.storage.geobox import geometry_box, near_box
from broker.storage.sqlite import SqliteStore
from broker.storage.sqlite import query as sqlite_query
from broker.storage.sqlite.index import entity_key, index_entities, unindex_entity
from broker.storage.sqlite.query import compile_query, query_entities
from broker.storage.sqlite.schema import MIGRATIONS, migrate
from broker.storage.sqlite.writer import Call

EX = "https://example.org/"
N, S, LOC = EX + "n", EX + "s", EX + "loc"


def thing(i: int, n: Any, s: Any, lon: float, lat: float) -> dict[str, Any]:
    return {
        "id": f"urn:t:{i:02d}",
        "type": [EX + ("A" if i % 2 else "B")],
        "attrs": {
            N: [{"type": "Property", "value": n}],
            S: [{"type": "Property", "value": s}]
            if not isinstance(s, dict)
            else [{"type": "Relationship", "object": s["o"]}],
            LOC: [{"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}],
        },
    }


THINGS = [
    thing(0, 0, "a", 0.0, 0.0),
    thing(1, 2.5, "b", 0.001, 0.001),
    thing(2, 5, "free", 1.0, 1.0),
    thing(3, [1, 9], "urn:x", 2.0, 0.5),
    thing(4, True, {"o": "urn:x"}, -1.0, -1.0),
    thing(5, "7", 3, 10.0, 10.0),
    thing(6, -3, ["a", "z"], 0.002, 0.0),
    thing(7, 1e300, None, 179.9, 0.0),
    thing(8, {"k": 1}, "abc", -179.9, 0.0),
]


@pytest.fixture(params=[(), (N, S, LOC)], ids=["walk", "value-indexes"])
async def store(tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    """Every test runs twice: without value indexes, and with `indexed_attributes` on N and
    S (whose selective terms then fetch their candidates from the index)."""
    s = SqliteStore(str(tmp_path / "q.db"), Settings(indexed_attributes=request.param))
    await s.start()
    await s.write_batch("", [BatchWrite.create(e) for e in THINGS])
    await s.writer.submit(Call(index_entities, "", THINGS))
    yield s
    await s.close()


def reference(query: EntityQuery) -> list[str]:
    return [e["id"] for e in THINGS if matches(e, query)]


async def ids_of(store: SqliteStore, query: EntityQuery) -> list[str]:
    page = await query_entities(store, "", query, limit=100, count=True)
    assert page.total == len(page.entities)
    return [e["id"] for e in page.entities]


OPS: list[Operator] = ["==", "!=", "<", "<=", ">", ">="]
LITERALS = [
    Value(2.5, "number"),
    Value(5, "number"),
    Value("b", "string"),
    Value("urn:x", "uri"),
    Value(True, "boolean"),
    Value(3, "number"),
]


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("value", LITERALS, ids=repr)
@pytest.mark.parametrize("attr", [N, S])
async def test_each_comparison_gives_the_reference_answer(
    store: SqliteStore, op: Operator, value: Value, attr: str
) -> None:
    query = EntityQuery(q=Comparison(AttrPath(attr), op, value))
    assert await ids_of(store, query) == reference(query)


@pytest.mark.parametrize(
    "operand",
    [
        Range(Value(0, "number"), Value(5, "number")),
        Range(Value("a", "string"), Value("c", "string")),
        ValueList((Value(0, "number"), Value(9, "number"))),
        ValueList((Value("a", "string"), Value("urn:x", "uri"))),
    ],
    ids=repr,
)
async def test_ranges_and_lists_give_the_reference_answer(
    store: SqliteStore, operand: Range | ValueList
) -> None:
    for attr in (N, S):
        query = EntityQuery(q=Comparison(AttrPath(attr), "==", operand))
        assert await ids_of(store, query) == reference(query)


@pytest.mark.parametrize("pattern", ["fr.*", "a", "urn:.*", "[ab]"])
async def test_pattern_matches_the_whole_string(store: SqliteStore, pattern: str) -> None:
    query = EntityQuery(q=Comparison(AttrPath(S), "~=", Value(pattern, "string")))
    assert await ids_of(store, query) == reference(query)


@pytest.mark.parametrize(
    "geo",
    [
        GeoQuery("near", "Point", (0.0, 0.0), LOC, max_distance=200.0),
        GeoQuery("near", "Point", (0.0, 0.0), LOC, max_distance=300_000.0),
        GeoQuery("near", "Point", (179.95, 0.0), LOC, max_distance=20_000.0),
        GeoQuery(
            "within",
            "Polygon",
            (((-0.5, -0.5), (1.5, -0.5), (1.5, 1.5), (-0.5, 1.5), (-0.5, -0.5)),),
            LOC,
        ),
        GeoQuery("intersects", "Point", (1.0, 1.0), LOC),
    ],
    ids=repr,
)
async def test_geo_queries_give_the_reference_answer(store: SqliteStore, geo: GeoQuery) -> None:
    query = EntityQuery(geo=geo)
    assert await ids_of(store, query) == reference(query)


async def test_types_and_ids_are_exact_in_sql_with_paging(store: SqliteStore) -> None:
    query = EntityQuery(types=TypeName(EX + "A"))
    assert compile_query("", query).exact
    page = await query_entities(store, "", query, limit=2, offset=1, count=True)
    assert [e["id"] for e in page.entities] == ["urn:t:03", "urn:t:05"]
    assert page.total == 4


async def test_id_pattern_is_ignored_when_ids_are_given(store: SqliteStore) -> None:
    query = EntityQuery(ids=("urn:t:01",), id_pattern="nothing-like-it")
    assert await ids_of(store, query) == reference(query) == ["urn:t:01"]


async def test_deleted_entities_leave_no_side_rows(store: SqliteStore) -> None:
    eid = await store.readers.run(lambda conn: entity_key(conn, "", "urn:t:02"))
    assert eid is not None
    await store.writer.submit(Call(unindex_entity, "", "urn:t:02"))
    counts = await store.readers.run(
        lambda conn: [
            conn.execute(f"SELECT count(*) FROM {t} WHERE eid = ?", (eid,)).fetchone()[0]
            for t in ("attr_values", "geo_points", "geo_shapes")
        ]
    )
    assert counts == [0, 0, 0]


def test_migration_back_fills_existing_entities(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    for statement in MIGRATIONS[0]:
        assert isinstance(statement, str)
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO entities (tenant, id, doc) VALUES ('', ?, ?)",
        (THINGS[1]["id"], orjson.dumps(THINGS[1]).decode()),
    )
    assert migrate(conn) == 1
    rows = conn.execute(
        "SELECT n.iri, v.kind, v.val FROM attr_values v JOIN attr_names n ON n.aid = v.aid "
        "ORDER BY n.iri"
    ).fetchall()
    assert rows == [(LOC, "x", None), (N, "n", 2.5), (S, "s", "b")]
    points = conn.execute("SELECT e.id, p.lon, p.lat FROM geo_points p JOIN entities e USING (eid)")
    assert points.fetchall() == [(THINGS[1]["id"], 0.001, 0.001)]
    assert conn.execute("SELECT count(*) FROM geo_boxes").fetchone()[0] == 0
    conn.close()


def test_a_long_edge_box_covers_its_great_circle_bulge() -> None:
    line = {"type": "LineString", "coordinates": [[-60.0, 60.0], [60.0, 60.0]]}
    box = geometry_box(line)
    assert box is not None
    assert box[3] > 70.0  # the geodesic between them passes far north of 60°


@pytest.mark.parametrize("lat", [0.0, 45.0, 70.0, -80.0])
@pytest.mark.parametrize("distance", [10.0, 5_000.0, 500_000.0])
def test_near_box_contains_the_distance_circle(lat: float, distance: float) -> None:
    box = near_box(10.0, lat, distance)
    assert box is not None
    r = distance / 6_371_008.8
    for k in range(72):
        bearing = math.radians(k * 5)
        phi1, lam1 = math.radians(lat), math.radians(10.0)
        phi2 = math.asin(
            math.sin(phi1) * math.cos(r) + math.cos(phi1) * math.sin(r) * math.cos(bearing)
        )
        lam2 = lam1 + math.atan2(
            math.sin(bearing) * math.sin(r) * math.cos(phi1),
            math.cos(r) - math.sin(phi1) * math.sin(phi2),
        )
        lon, la = math.degrees(lam2), math.degrees(phi2)
        assert haversine_m((10.0, lat), (lon, la)) == pytest.approx(distance, rel=1e-6)
        assert box[0] <= lon <= box[2] and box[1] <= la <= box[3]


async def test_a_type_alternative_does_not_escape_the_other_conditions(store: SqliteStore) -> None:
    """`type=A,B&id=x` is (A or B) and id x, never A and id x, or any B."""
    for i, kind in enumerate(["A", "B", "B"]):
        await store.create_entity(
            "",
            {
                "id": f"urn:ngsi-ld:X:{i}",
                "type": [f"https://example.org/{kind}"],
                "createdAt": "2026-01-01T00:00:00.000Z",
                "modifiedAt": "2026-01-01T00:00:00.000Z",
                "attrs": {},
            },
        )
    types = TypeOr((TypeName("https://example.org/A"), TypeName("https://example.org/B")))
    page = await store.query_entities(
        "", EntityQuery(ids=("urn:ngsi-ld:X:0",), types=types), limit=10
    )
    assert [e["id"] for e in page.entities] == ["urn:ngsi-ld:X:0"]


async def test_updates_keep_the_side_tables_in_step(store: SqliteStore) -> None:
    """A replaced entity is found by its new value and place, not by its old ones; the
    attributes it kept are still found."""
    moved = thing(2, 99, "free", 50.0, 50.0)
    assert await store.replace_entity("", moved)

    def at(lon: float, lat: float) -> EntityQuery:
        return EntityQuery(geo=GeoQuery("near", "Point", (lon, lat), LOC, max_distance=1000.0))

    assert await ids_of(store, at(50.0, 50.0)) == ["urn:t:02"]
    assert "urn:t:02" not in await ids_of(store, at(1.0, 1.0))
    old_value = EntityQuery(q=Comparison(AttrPath(N), "==", Value(5, "number")))
    new_value = EntityQuery(q=Comparison(AttrPath(N), "==", Value(99, "number")))
    kept = EntityQuery(q=Comparison(AttrPath(S), "==", Value("free", "string")))
    assert await ids_of(store, old_value) == []
    assert await ids_of(store, new_value) == ["urn:t:02"]
    assert await ids_of(store, kept) == ["urn:t:02"]
    rows = store.readers.run(
        lambda c: c.execute(
            "SELECT count(*) FROM geo_points p JOIN entities e ON e.eid = p.eid "
            "WHERE e.id = 'urn:t:02'"
        ).fetchone()[0]
    )
    assert await rows == 1


def test_migration_from_version_2_keys_entities_and_side_tables_by_integer(
    tmp_path: Path,
) -> None:
    """A database written by schema version 2 (side tables keyed by id and IRI text) opens
    with every entity kept, found by id, and queryable through the re-built side tables."""
    conn = sqlite3.connect(tmp_path / "v2.db", isolation_level=None)
    for step in (*MIGRATIONS[0], *MIGRATIONS[1]):
        if isinstance(step, str):
            conn.execute(step)
    conn.execute("PRAGMA user_version = 2")
    for tenant in ("", "t2"):
        for entity in THINGS[:3]:
            conn.execute(
                "INSERT INTO entities (tenant, id, doc) VALUES (?, ?, ?)",
                (tenant, entity["id"], orjson.dumps(entity).decode()),
            )
    assert migrate(conn) == 2
    assert conn.execute("SELECT count(*) FROM entities").fetchone()[0] == 6
    assert conn.execute("SELECT count(DISTINCT eid) FROM entities").fetchone()[0] == 6
    rows = conn.execute(
        "SELECT e.tenant, e.id, v.kind, v.val FROM attr_values v "
        "JOIN entities e ON e.eid = v.eid JOIN attr_names n ON n.aid = v.aid "
        "WHERE n.iri = ? ORDER BY e.tenant, e.id",
        (N,),
    ).fetchall()
    assert rows == [
        ("", "urn:t:00", "n", 0), ("", "urn:t:01", "n", 2.5), ("", "urn:t:02", "n", 5),
        ("t2", "urn:t:00", "n", 0), ("t2", "urn:t:01", "n", 2.5), ("t2", "urn:t:02", "n", 5),
    ]
    # Each tenant has its own attribute keys, so one tenant's keys never reach another's rows.
    assert conn.execute(
        "SELECT count(DISTINCT tenant) FROM attr_names WHERE iri = ?", (N,)
    ).fetchone()[0] == 2
    assert conn.execute("SELECT count(*) FROM geo_points").fetchone()[0] == 6
    conn.close()


async def test_a_refused_batch_write_leaves_no_stale_attribute_key(store: SqliteStore) -> None:
    """A batch whose first write learns a new attribute and whose second is refused is redone
    write by write; the attribute key the store then remembers is the one in the file, so
    later writes of that attribute are found by queries."""
    fresh = EX + "fresh"
    first = {**thing(20, 1, "a", 0.0, 0.0), "id": "urn:t:20"}
    first["attrs"] = {**first["attrs"], fresh: [{"type": "Property", "value": 1}]}
    outcomes = await store.write_batch(
        "", [BatchWrite.create(first), BatchWrite.create(THINGS[0])]
    )
    assert outcomes[0] is None and outcomes[1] is not None
    later = {**thing(21, 1, "a", 0.0, 0.0), "id": "urn:t:21"}
    later["attrs"] = {**later["attrs"], fresh: [{"type": "Property", "value": 2}]}
    await store.create_entity("", later)
    query = EntityQuery(q=Comparison(AttrPath(fresh), ">", Value(0, "number")))
    assert await ids_of(store, query) == ["urn:t:20", "urn:t:21"]
    aids = await store.readers.run(
        lambda c: c.execute("SELECT aid FROM attr_names WHERE iri = ?", (fresh,)).fetchall()
    )
    assert len(aids) == 1


async def test_a_selective_term_on_an_indexed_attribute_reads_its_value_index(
    tmp_path: Path,
) -> None:
    """With `indexed_attributes`, the attribute's value index exists (created by the write
    that brought the name, and again at start for names already stored) and a selective
    comparison fetches its candidates through it, with the reference's answer."""
    settings = Settings(indexed_attributes=(N,))
    store = SqliteStore(str(tmp_path / "v.db"), settings)
    await store.start()
    await store.write_batch("", [BatchWrite.create(e) for e in THINGS])
    await store.close()
    store = SqliteStore(str(tmp_path / "v.db"), settings)
    await store.start()
    try:
        query = EntityQuery(q=Comparison(AttrPath(N), "==", Value(5, "number")))
        candidates = await store.readers.run(
            lambda conn: sqlite_query._value_candidates(conn, "", query, frozenset({N}))
        )
        assert candidates is not None
        plan = await store.readers.run(
            lambda conn: " ".join(
                str(row[-1])
                for row in conn.execute(f"EXPLAIN QUERY PLAN {candidates[0]}", candidates[1])
            )
        )
        assert "attr_values_value_" in plan
        assert await ids_of(store, query) == reference(query) == ["urn:t:02"]
        names = await store.readers.run(
            lambda conn: [
                row[0]
                for row in conn.execute(
                    "SELECT name FROM sqlite_master WHERE name LIKE 'attr_values_value_%'"
                )
            ]
        )
        assert len(names) == 1
    finally:
        await store.close()


async def test_an_unselective_term_walks_the_entities_instead(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "w.db"), Settings(indexed_attributes=(N,)))
    await store.start()
    many = [thing(i, i, "a", 0.0, 0.0) for i in range(sqlite_query.VALUE_CANDIDATES_MAX + 5)]
    await store.write_batch("", [BatchWrite.create(e) for e in many])
    try:
        query = EntityQuery(q=Comparison(AttrPath(N), ">=", Value(0, "number")))
        candidates = await store.readers.run(
            lambda conn: sqlite_query._value_candidates(conn, "", query, frozenset({N}))
        )
        assert candidates is None
        page = await query_entities(store, "", query, limit=3)
        assert [e["id"] for e in page.entities] == ["urn:t:00", "urn:t:01", "urn:t:02"]
    finally:
        await store.close()
