"""Discovery figures: GET /types, /types?details=true, /types/{type}, /attributes and
/attributes?details=true over HTTP on 100,000 entities of 3 types.

    .venv/bin/python -m bench.discovery [--store sqlite|mongo] [--entities 100000]
                                        [--requests 20]

The entities are those of `bench/query.py` (3 types, 5 attributes each: three numbers or
strings, a name and a Point), loaded through the store's `write_batch`. The broker then runs
in this process (aiohttp test server, uvloop) and each request is sent `--requests` times one
after another, after one warm-up request: the figures are the latency of one request on an
idle broker, not a throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from bench.query import ROOT, load
from broker.app import create_app
from broker.settings import Settings
from broker.storage.mongo import MongoStore
from broker.storage.sqlite import SqliteStore

REQUESTS = {
    "GET /types": "/ngsi-ld/v1/types",
    "GET /types?details=true": "/ngsi-ld/v1/types?details=true",
    "GET /types/{type}": "/ngsi-ld/v1/types/https%3A%2F%2Fexample.org%2FParkingSpot",
    "GET /attributes": "/ngsi-ld/v1/attributes",
    "GET /attributes?details=true": "/ngsi-ld/v1/attributes?details=true",
    "GET /attributes/{attrId}": "/ngsi-ld/v1/attributes/https%3A%2F%2Fexample.org%2FNO2",
}


async def measure(session: aiohttp.ClientSession, url: str, requests: int) -> dict[str, float]:
    async with session.get(url) as r:  # warm-up
        assert r.status == 200, await r.text()
        await r.read()
    timings = []
    for _ in range(requests):
        t0 = time.perf_counter()
        async with session.get(url) as r:
            await r.read()
        timings.append(time.perf_counter() - t0)
    timings.sort()
    return {
        "p50": statistics.median(timings) * 1000,
        "max": timings[-1] * 1000,
    }


async def bench(args: argparse.Namespace, store_url: str) -> dict[str, dict[str, float]]:
    settings = Settings(store=store_url, mongo_db_prefix=f"agora-bench-{os.getpid()}")
    store: Any
    if store_url.startswith("sqlite:"):
        store = SqliteStore(store_url.removeprefix("sqlite:///"), settings)
    else:
        store = MongoStore(store_url, settings)
    await store.start()
    try:
        seconds = await load(store, args.entities, sqlite=isinstance(store, SqliteStore))
    finally:
        await store.close()
    print(f"loaded {args.entities} entities in {seconds:.1f} s", file=sys.stderr)
    server = TestServer(create_app(settings))
    await server.start_server()
    results = {}
    try:
        async with aiohttp.ClientSession(headers={"Accept": "application/json"}) as session:
            for name, path in REQUESTS.items():
                results[name] = await measure(session, str(server.make_url(path)), args.requests)
                print(f"{name}: {results[name]}", file=sys.stderr)
    finally:
        await server.close()
    return results


async def main(args: argparse.Namespace) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    if args.store == "sqlite":
        with tempfile.TemporaryDirectory(prefix="agora-bench-") as tmp:
            results = await bench(args, f"sqlite:///{Path(tmp) / 'bench.db'}")
    else:
        sys.path.insert(0, ROOT)
        from conformance_tests.servers import mongo_wire_server

        with mongo_wire_server() as url:
            results = await bench(args, args.mongo_url or url)
    print(f"{args.entities:,} entities of 3 types, {args.store}, {args.requests} requests each")
    print("| Request | p50 ms | max ms |")
    print("|---|---:|---:|")
    for name, r in results.items():
        print(f"| `{name}` | {r['p50']:.0f} | {r['max']:.0f} |")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=["sqlite", "mongo"], default="sqlite")
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--mongo-url", default=os.environ.get("MONGODB_URL"))
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
