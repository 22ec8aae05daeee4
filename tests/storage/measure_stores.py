"""Measure the stores: get_entity latency and create throughput with 32 concurrent writers.

Not a test (pytest does not collect it): run `.venv/bin/python tests/storage/measure_stores.py`
from the project root. Starts nx-27017 unless MONGODB_URL is set. Figures are recorded in
broker/storage/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).parent)]

from store_support import drop_mongo_databases, rich_entity  # noqa: E402

from broker.settings import Settings  # noqa: E402
from broker.storage.base import EntityStore  # noqa: E402
from broker.storage.mongo import MongoStore  # noqa: E402
from broker.storage.sqlite import SqliteStore  # noqa: E402
from conformance_tests.servers import mongo_wire_server  # noqa: E402

WRITERS = 32


async def measure(store: EntityStore, creates: int, gets: int) -> tuple[float, float, float]:
    """(creates per second, median get µs, concurrent gets per second)."""
    template = rich_entity()
    queue = iter(range(creates))

    async def writer() -> None:
        for i in queue:
            await store.create_entity("bench", {**template, "id": f"urn:ngsi-ld:V:{i}"})

    t0 = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(WRITERS)))
    create_rate = creates / (time.perf_counter() - t0)

    samples = []
    for i in range(gets):
        t = time.perf_counter()
        await store.get_entity("bench", f"urn:ngsi-ld:V:{i % creates}")
        samples.append((time.perf_counter() - t) * 1e6)
    get_us = statistics.median(samples[gets // 10 :])

    ids = iter(range(gets))

    async def reader() -> None:
        for i in ids:
            await store.get_entity("bench", f"urn:ngsi-ld:V:{i % creates}")

    t0 = time.perf_counter()
    await asyncio.gather(*(reader() for _ in range(WRITERS)))
    read_rate = gets / (time.perf_counter() - t0)
    return create_rate, get_us, read_rate


async def run_one(name: str, make: Callable[[], Awaitable[EntityStore]], n: int, g: int) -> None:
    store = await make()
    try:
        creates, get_us, reads = await measure(store, n, g)
    finally:
        await store.close()
    print(f"{name:32s} creates/s {creates:8.0f}   get_entity {get_us:7.0f} µs   "
          f"gets/s (32 concurrent) {reads:8.0f}")


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for level in ("NORMAL", "FULL"):
            path = str(Path(tmp) / f"{level}.db")

            async def make_sqlite(level: str = level, path: str = path) -> EntityStore:
                store = SqliteStore(path, Settings(sqlite_synchronous=level))
                await store.start()
                return store

            await run_one(f"sqlite file synchronous={level}", make_sqlite, args.sqlite, args.gets)

        async def make_memory() -> EntityStore:
            store = SqliteStore(":memory:", Settings())
            await store.start()
            return store

        await run_one("sqlite :memory:", make_memory, args.sqlite, args.gets)

    if args.no_mongo:
        return
    with mongo_wire_server() as url:
        prefix = f"agora-bench-{uuid.uuid4().hex[:8]}"

        async def make_mongo() -> EntityStore:
            store = MongoStore(url, Settings(mongo_db_prefix=prefix))
            await store.start()
            return store

        try:
            await run_one("mongo (nx-27017 unless MONGODB_URL)", make_mongo, args.mongo, args.gets)
        finally:
            await drop_mongo_databases(url, prefix)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sqlite", type=int, default=5000, help="entities created on SQLite")
    parser.add_argument("--mongo", type=int, default=1000, help="entities created on MongoDB")
    parser.add_argument("--gets", type=int, default=2000, help="get_entity calls")
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop")
    parser.add_argument("--no-mongo", action="store_true")
    arguments = parser.parse_args()
    if arguments.uvloop:
        import uvloop

        uvloop.run(main(arguments))
    else:
        asyncio.run(main(arguments))
