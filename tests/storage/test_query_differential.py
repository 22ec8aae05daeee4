"""Both stores' query_entities give exactly what the reference evaluator gives over all
entities: random entities, random queries, random pages (ids ascending, offset, limit,
count)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from query_strategies import ATTRS, entity_lists, entity_queries
from store_support import collect_sockets_pymongo_leaked, drop_mongo_databases

from broker.query.ast import EntityQuery, GeoQuery
from broker.query.evaluate import matches
from broker.settings import Settings
from broker.storage.base import BatchWrite, QueryPage
from broker.storage.mongo import MongoStore
from broker.storage.mongo import query as mongo_query
from broker.storage.sqlite import SqliteStore
from broker.storage.sqlite import query as sqlite_query
from broker.storage.sqlite.index import index_entities
from broker.storage.sqlite.writer import Call

EXAMPLES = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
pages = st.tuples(st.integers(0, 2), st.integers(1, 8) | st.just(0), st.booleans())


def expected(entities: list[dict[str, Any]], query: EntityQuery, page: tuple[int, int, bool]
             ) -> QueryPage:
    offset, limit, count = page
    found = [e for e in sorted(entities, key=lambda e: e["id"]) if matches(e, query)]
    return QueryPage(found[offset : offset + limit], len(found) if count else None)


def _clear(conn: Any) -> None:
    for table in (
        "entities", "entity_types", "attr_values", "geo_points", "geo_shapes", "geo_boxes"
    ):
        conn.execute(f"DELETE FROM {table}")


async def _sqlite_load(store: SqliteStore, entities: list[dict[str, Any]]) -> None:
    # Writer ops as Call(module-level function, args): the writer may be a process.
    await store.writer.submit(Call(_clear))
    if entities:
        await store.write_batch("", [BatchWrite.create(e) for e in entities])
        await store.writer.submit(Call(index_entities, "", entities))


@pytest.mark.parametrize("indexed", [(), tuple(ATTRS)], ids=["walk", "value-indexes"])
def test_sqlite_query_equals_the_reference(tmp_path: Any, indexed: tuple[str, ...]) -> None:
    with asyncio.Runner() as runner:
        store = SqliteStore(str(tmp_path / "q.db"), Settings(indexed_attributes=indexed))
        runner.run(store.start())

        @EXAMPLES
        @given(entity_lists, entity_queries(), pages)
        def check(entities: list[dict[str, Any]], query: EntityQuery,
                  page: tuple[int, int, bool]) -> None:
            runner.run(_sqlite_load(store, entities))
            offset, limit, count = page
            got = runner.run(sqlite_query.query_entities(
                store, "", query, limit=limit, offset=offset, count=count))
            assert got == expected(entities, query, page)

        try:
            check()
        finally:
            runner.run(store.close())


async def _mongo_load(store: MongoStore, entities: list[dict[str, Any]]) -> None:
    await store._entities("").delete_many({})
    if entities:
        await store.write_batch("", [BatchWrite.create(e) for e in entities])


@pytest.mark.mongo
def test_mongo_query_equals_the_reference(mongo_url: str) -> None:
    prefix = f"agora-q-{uuid.uuid4().hex[:10]}"
    with asyncio.Runner() as runner:
        store = MongoStore(mongo_url, Settings(mongo_db_prefix=prefix))
        runner.run(store.start())

        @EXAMPLES
        @given(entity_lists, entity_queries(), pages)
        def check(entities: list[dict[str, Any]], query: EntityQuery,
                  page: tuple[int, int, bool]) -> None:
            runner.run(_mongo_load(store, entities))
            offset, limit, count = page
            got = runner.run(mongo_query.query_entities(
                store, "", query, limit=limit, offset=offset, count=count))
            assert got == expected(entities, query, page)

        try:
            check()
        finally:
            runner.run(store.close())
            runner.run(drop_mongo_databases(mongo_url, prefix))
            runner.run(collect_sockets_pymongo_leaked())


LOCATION = "https://uri.etsi.org/ngsi-ld/location"
NOW = "2026-01-01T00:00:00.000Z"
SCALES = st.sampled_from([1e-5, 1e-3, 0.1, 3.0, 40.0])
"""How far, in degrees, a world test's points and queries spread around its centre."""


def _clamped(lon: float, lat: float) -> list[float]:
    return [min(max(lon, -180.0), 180.0), min(max(lat, -90.0), 90.0)]


@st.composite
def _world(draw: st.DrawFn) -> tuple[list[dict[str, Any]], EntityQuery]:
    """Points (and some squares) around a centre anywhere on Earth, poles and antimeridian
    included, and a geo-query near that centre at the same scale."""
    lon, lat = draw(st.floats(-180, 180)), draw(st.floats(-90, 90))
    scale = draw(SCALES)
    offsets = st.floats(-1, 1).map(lambda f: f * scale)
    entities = []
    for i in range(draw(st.integers(0, 12))):
        x, y = _clamped(lon + draw(offsets), lat + draw(offsets))
        value: dict[str, Any] = {"type": "Point", "coordinates": [x, y]}
        if draw(st.integers(0, 4)) == 0:
            x2, y2 = _clamped(x + scale / 4, y + scale / 4)
            if x2 > x and y2 > y:
                ring = [[x, y], [x2, y], [x2, y2], [x, y2], [x, y]]
                value = {"type": "Polygon", "coordinates": [ring]}
        entities.append({
            "id": f"urn:ngsi-ld:P:{i:02d}", "type": ["https://example.org/P"],
            "createdAt": NOW, "modifiedAt": NOW,
            "attrs": {LOCATION: [{"type": "GeoProperty", "value": value}]},
        })
    qx, qy = _clamped(lon + draw(offsets), lat + draw(offsets))
    if draw(st.booleans()):
        distance = scale * 111_000.0 * draw(st.sampled_from([0.1, 0.5, 1.0, 2.0]))
        geo = GeoQuery("near", "Point", (qx, qy), LOCATION, max_distance=distance)
    else:
        x2, y2 = _clamped(qx + scale, qy + scale)
        if x2 <= qx or y2 <= qy:
            x2, y2 = qx, qy
            qx, qy = _clamped(qx - scale, qy - scale)
        ring = ((qx, qy), (x2, qy), (x2, y2), (qx, y2), (qx, qy))
        georel = draw(st.sampled_from(["within", "intersects"]))
        geo = GeoQuery(georel, "Polygon", (ring,), LOCATION)
    return entities, EntityQuery(geo=geo)


def test_sqlite_geo_queries_anywhere_on_earth_equal_the_reference(tmp_path: Any) -> None:
    """The Z-order cells of `geo_points` and the R*Tree keep every match of a geo-query at
    any place and scale: from metres to continents, at the poles and the antimeridian."""
    with asyncio.Runner() as runner:
        store = SqliteStore(str(tmp_path / "w.db"), Settings())
        runner.run(store.start())

        @EXAMPLES
        @given(_world())
        def check(world: tuple[list[dict[str, Any]], EntityQuery]) -> None:
            entities, query = world
            runner.run(_sqlite_load(store, entities))
            got = runner.run(
                sqlite_query.query_entities(store, "", query, limit=50, count=True)
            )
            assert got == expected(entities, query, (0, 50, True))

        try:
            check()
        finally:
            runner.run(store.close())
