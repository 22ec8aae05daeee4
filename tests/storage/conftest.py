"""Fixtures for the store tests: every contract test runs on SQLite and on MongoDB.

MongoDB is `nx-27017` started once per session (or the server `MONGODB_URL` names). Each test
gets its own database prefix there, and its own file for SQLite, so tests never see each
other's data; `open_store()` opens another store on the same data (restart tests).
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from store_support import OpenStore, collect_sockets_pymongo_leaked, drop_mongo_databases

from broker.settings import Settings
from broker.storage.base import EntityStore
from broker.storage.mongo import MongoStore
from broker.storage.sqlite import SqliteStore

try:
    from conformance_tests.servers import mongo_wire_server
except ModuleNotFoundError:  # run as `pytest tests/storage`, without the root on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from conformance_tests.servers import mongo_wire_server


@pytest.fixture(scope="session")
def mongo_url() -> Iterator[str]:
    with mongo_wire_server() as url:
        yield url


@pytest.fixture(
    params=["sqlite", "sqlite-process", pytest.param("mongo", marks=pytest.mark.mongo)],
)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def open_store(
    store_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[OpenStore]:
    """A factory of started stores, all on this test's data; closes whatever it opened."""
    opened: list[EntityStore] = []
    prefix = f"agora-test-{uuid.uuid4().hex[:10]}"
    url = request.getfixturevalue("mongo_url") if store_kind == "mongo" else ""

    async def open_one(**overrides: Any) -> EntityStore:
        settings = Settings(mongo_db_prefix=prefix, **overrides)
        store: EntityStore
        if store_kind == "sqlite":  # the writer on a thread
            store = SqliteStore(
                str(tmp_path / "agora.db"),
                Settings(mongo_db_prefix=prefix, sqlite_writer="thread", **overrides),
            )
        elif store_kind == "sqlite-process":  # the writer in a process of its own
            store = SqliteStore(
                str(tmp_path / "agora.db"),
                Settings(mongo_db_prefix=prefix, sqlite_writer="process", **overrides),
            )
        else:
            store = MongoStore(url, settings)
        await store.start()
        opened.append(store)
        return store

    yield open_one

    for store in opened:
        await store.close()
    if store_kind == "mongo":
        await drop_mongo_databases(url, prefix)
        await collect_sockets_pymongo_leaked()


@pytest.fixture
async def store(open_store: OpenStore) -> EntityStore:
    return await open_store()

