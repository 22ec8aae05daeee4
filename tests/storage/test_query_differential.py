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
from query_strategies import ATTRS, entity_lists, entity_queries, worlds
from store_support import collect_sockets_pymongo_leaked, drop_mongo_databases

from broker.query.ast import EntityQuery
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


def test_sqlite_geo_queries_anywhere_on_earth_equal_the_reference(tmp_path: Any) -> None:
    """The Z-order cells of `geo_points` and the R*Tree keep every match of a geo-query at
    any place and scale: from metres to continents, at the poles and the antimeridian."""
    with asyncio.Runner() as runner:
        store = SqliteStore(str(tmp_path / "w.db"), Settings())
        runner.run(store.start())

        @EXAMPLES
        @given(worlds())
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
