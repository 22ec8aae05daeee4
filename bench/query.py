"""Query figures on the stores (issue 3, "Must show"): 100,000 entities of 3 types, three
queries, 8 concurrent clients, p50/p95 per query.

    .venv/bin/python -m bench.query [--store sqlite|mongo|both] [--entities 100000]
                                    [--clients 8] [--requests 400] [--limit 100] [--http]

Entities are loaded through the store (`write_batch`, 1,000 per batch) and the queries
run through the store's `query_entities` (no HTTP: this measures the compiler, the side
tables and the exact evaluation, not the API). MongoDB is nx-27017 unless MONGODB_URL is set.

With `--http` (SQLite only) the loaded file is served by `agora serve` pinned to CPU 0, and
the same queries go as `GET /ngsi-ld/v1/entities` requests (a hosted @context in the Link
header maps the short names) from 8 concurrent keep-alive connections of this process,
pinned to CPU 1: the latency a client sees, rendering and HTTP included.

The queries, each with random parameters per request from a fixed seed:

- `type+q`: `type=AirQualityObserved&q=NO2>{x};temperature<{y}` (two terms);
- `near`: `georel=near;maxDistance==500&geometry=Point` over every type (all have Points);
- `within`: `georel=within&geometry=Polygon` with a ~1 km square;
- `q selective, indexed`: `q=name=="thing {i}"` with no type: one match, found through the
  value index that `indexed_attributes` (here: `name`) gives the attribute.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

from broker.cli import tune_collector
from broker.query.ast import (
    And,
    AttrPath,
    Comparison,
    EntityQuery,
    GeoQuery,
    TypeName,
    Value,
)
from broker.settings import Settings
from broker.storage.base import BatchWrite, QueryPage
from broker.storage.mongo import MongoStore
from broker.storage.mongo import query as mongo_query
from broker.storage.sqlite import SqliteStore
from broker.storage.sqlite import query as sqlite_query
from broker.storage.sqlite.index import index_entities

EX = "https://example.org/"
TYPES = (EX + "AirQualityObserved", EX + "ParkingSpot", EX + "Streetlight")
LOCATION = "https://uri.etsi.org/ngsi-ld/location"
NOW = "2026-01-01T00:00:00.000Z"
# A city-sized square (Barcelona): ~25 km by 22 km.
LON0, LON1, LAT0, LAT1 = 2.05, 2.35, 41.30, 41.50
BATCH = 1000
ROOT = str(Path(__file__).resolve().parents[1])

Runner = Callable[[EntityQuery], Awaitable[QueryPage]]


def entity(i: int, rng: random.Random) -> dict[str, Any]:
    def prop(value: Any) -> list[dict[str, Any]]:
        return [{"type": "Property", "value": value}]

    return {
        "id": f"urn:ngsi-ld:Thing:{i:07d}",
        "type": [TYPES[i % 3]],
        "createdAt": NOW,
        "modifiedAt": NOW,
        "attrs": {
            EX + "NO2": prop(round(rng.uniform(0, 100), 1)),
            EX + "temperature": prop(round(rng.uniform(-5, 35), 1)),
            EX + "status": prop(rng.choice(["free", "occupied", "closed"])),
            EX + "name": prop(f"thing {i}"),
            LOCATION: [
                {
                    "type": "GeoProperty",
                    "value": {
                        "type": "Point",
                        "coordinates": [
                            round(rng.uniform(LON0, LON1), 6), round(rng.uniform(LAT0, LAT1), 6)
                        ],
                    },
                }
            ],
        },
    }


def type_q(rng: random.Random) -> EntityQuery:
    return EntityQuery(
        types=TypeName(TYPES[0]),
        q=And(
            (
                Comparison(AttrPath(EX + "NO2"), ">", Value(rng.randint(40, 90), "number")),
                Comparison(
                    AttrPath(EX + "temperature"), "<", Value(rng.randint(0, 30), "number")
                ),
            )
        ),
    )


def near(rng: random.Random) -> EntityQuery:
    point = (rng.uniform(LON0, LON1), rng.uniform(LAT0, LAT1))
    return EntityQuery(
        geo=GeoQuery("near", "Point", point, geoproperty=LOCATION, max_distance=500.0)
    )


def within(rng: random.Random) -> EntityQuery:
    lon, lat = rng.uniform(LON0, LON1 - 0.012), rng.uniform(LAT0, LAT1 - 0.009)
    ring = ((lon, lat), (lon + 0.012, lat), (lon + 0.012, lat + 0.009), (lon, lat + 0.009),
            (lon, lat))
    return EntityQuery(geo=GeoQuery("within", "Polygon", (ring,), geoproperty=LOCATION))


def q_selective(rng: random.Random) -> EntityQuery:
    """One entity by an attribute value, no type: `q=name=="thing 4242"` (the name attribute
    is in `indexed_attributes`)."""
    i = rng.randrange(100_000)
    return EntityQuery(q=Comparison(AttrPath(EX + "name"), "==", Value(f"thing {i}", "string")))


def _short(iri: str) -> str:
    return iri.rsplit("/", 1)[-1]


def _coordinates(value: Any) -> str:
    return orjson.dumps(value).decode()


def query_url(query: EntityQuery) -> str:
    """The GET /entities parameters of one of the QUERIES (names shortened through the
    context `HTTP_CONTEXT`)."""
    params: dict[str, str] = {}
    if isinstance(query.types, TypeName):
        params["type"] = _short(query.types.name)
    terms = query.q.terms if isinstance(query.q, And) else () if query.q is None else (query.q,)
    parts = []
    for term in terms:
        assert isinstance(term, Comparison) and isinstance(term.value, Value)
        literal = term.value.value
        text = f'"{literal}"' if isinstance(literal, str) else str(literal)
        parts.append(f"{_short(term.path.attr)}{term.op}{text}")
    if parts:
        params["q"] = ";".join(parts)
    if query.geo is not None:
        geo = query.geo
        params["georel"] = (
            f"near;maxDistance=={geo.max_distance:g}" if geo.georel == "near" else geo.georel
        )
        params["geometry"] = geo.geometry_type
        params["coordinates"] = _coordinates(geo.coordinates)
    return "&".join(f"{k}={urllib.parse.quote(v, safe='')}" for k, v in params.items())


HTTP_CONTEXT = {
    "@context": {
        _short(iri): iri
        for iri in (*TYPES, EX + "NO2", EX + "temperature", EX + "status", EX + "name")
    }
}


QUERIES: dict[str, Callable[[random.Random], EntityQuery]] = {
    "type+q": type_q,
    "near;maxDistance": near,
    "within Polygon": within,
    "q selective, indexed": q_selective,
}


async def load(store: Any, count: int, *, sqlite: bool) -> float:
    rng = random.Random(7)
    started = time.perf_counter()
    for first in range(0, count, BATCH):
        chunk = [entity(i, rng) for i in range(first, min(count, first + BATCH))]
        outcomes = await store.write_batch("", [BatchWrite.create(e) for e in chunk])
        if any(outcome is not None for outcome in outcomes):
            raise SystemExit(f"load failed: {next(o for o in outcomes if o is not None)}")
        if sqlite and not await _indexed_by_store(store, chunk[0]["id"]):
            await store.writer.submit(lambda conn, c=chunk: index_entities(conn, "", c))
    return time.perf_counter() - started


async def _indexed_by_store(store: SqliteStore, entity_id: str) -> bool:
    """Whether the store's writes maintain the query side tables themselves."""
    return bool(
        await store.readers.run(
            lambda conn: conn.execute(
                "SELECT 1 FROM attr_values v JOIN entities e ON e.eid = v.eid "
                "WHERE e.tenant = '' AND e.id = ?",
                (entity_id,),
            ).fetchone()
        )
    )


async def measure(run: Runner, make: Callable[[random.Random], EntityQuery], clients: int,
                  requests: int) -> dict[str, float]:
    rng = random.Random(11)
    queries = [make(rng) for _ in range(requests)]
    timings: list[float] = []
    sizes: list[int] = []
    pending = iter(queries)

    async def client() -> None:
        for query in pending:
            t0 = time.perf_counter()
            page = await run(query)
            timings.append(time.perf_counter() - t0)
            sizes.append(len(page.entities))

    for query in queries[:clients]:  # warm up caches and threads
        await run(query)
    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.perf_counter() - t0
    timings.sort()
    return {
        "p50": statistics.median(timings) * 1000,
        "p95": timings[int(len(timings) * 0.95) - 1] * 1000,
        "qps": len(timings) / wall,
        "rows": statistics.mean(sizes),
    }


async def bench_store(kind: str, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    settings = Settings(
        mongo_db_prefix=f"agora-bench-{os.getpid()}", indexed_attributes=(EX + "name",)
    )
    tmp = tempfile.TemporaryDirectory(prefix="agora-bench-")
    store: Any
    if kind == "sqlite":
        store = SqliteStore(str(Path(tmp.name) / "bench.db"), settings)
    else:
        store = MongoStore(args.mongo_url, settings)
    await store.start()
    try:
        seconds = await load(store, args.entities, sqlite=kind == "sqlite")
        tune_collector()  # as `agora serve` does once it has started
        print(f"{kind}: loaded {args.entities} entities in {seconds:.1f} s", file=sys.stderr)
        module: Any = sqlite_query if kind == "sqlite" else mongo_query

        async def run(query: EntityQuery) -> QueryPage:
            page: QueryPage = await module.query_entities(store, "", query, limit=args.limit)
            return page

        results = {}
        for name, make in QUERIES.items():
            results[name] = await measure(run, make, args.clients, args.requests)
            print(f"{kind} {name}: {results[name]}", file=sys.stderr)
        return results
    finally:
        if kind == "mongo":
            for name in await store.client.list_database_names():
                if name.startswith(settings.mongo_db_prefix):
                    await store.client.drop_database(name)
        await store.close()
        tmp.cleanup()


async def bench_http(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Load a SQLite file, serve it with `agora serve`, query it over HTTP."""
    import aiohttp

    from bench.run import LOADGEN_CPU, free_port, pinned, serve

    settings = Settings(indexed_attributes=(EX + "name",))
    with tempfile.TemporaryDirectory(prefix="agora-bench-") as tmp:
        path = Path(tmp) / "bench.db"
        store = SqliteStore(str(path), settings)
        await store.start()
        try:
            seconds = await load(store, args.entities, sqlite=True)
        finally:
            await store.close()
        print(f"http: loaded {args.entities} entities in {seconds:.1f} s", file=sys.stderr)
        port = free_port()
        env = {"AGORA_INDEXED_ATTRIBUTES": EX + "name", "AGORA_LOG_LEVEL": "WARNING"}
        agora = str(Path(sys.executable).with_name("agora"))
        cmd = [agora, "serve", "--host", "127.0.0.1", "--port", str(port),
               "--store", f"sqlite:///{path}"]
        with serve("agora", cmd, port, env=env, log=Path(tmp) / "agora.log") as server:
            if pinned(LOADGEN_CPU):
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(0, {int(LOADGEN_CPU)})
            connector = aiohttp.TCPConnector(limit=args.clients)
            async with aiohttp.ClientSession(connector=connector) as session:
                async with session.post(
                    server.url + "/ngsi-ld/v1/jsonldContexts", json=HTTP_CONTEXT
                ) as created:
                    location = created.headers["Location"]
                context_url = urllib.parse.urljoin(server.url, location)
                headers = {
                    "Accept": "application/json",
                    "Link": f'<{context_url}>; rel="http://www.w3.org/ns/json-ld#context"; '
                    'type="application/ld+json"',
                }

                async def run(query: EntityQuery) -> QueryPage:
                    url = (f"{server.url}/ngsi-ld/v1/entities?{query_url(query)}"
                           f"&limit={args.limit}")
                    async with session.get(url, headers=headers) as response:
                        body = await response.read()
                        if response.status != 200:
                            raise SystemExit(f"{url}: {response.status} {body[:300]!r}")
                    return QueryPage(orjson.loads(body))

                results = {}
                for name, make in QUERIES.items():
                    results[name] = await measure(run, make, args.clients, args.requests)
                    print(f"http {name}: {results[name]}", file=sys.stderr)
        return results


def table(results: dict[str, dict[str, dict[str, float]]], args: argparse.Namespace) -> str:
    targets = {"type+q": 20.0, "near;maxDistance": 20.0, "within Polygon": 30.0}
    kinds = list(results)
    head = "| Query | Target p95 | " + " | ".join(
        f"{k} p50 / p95 ms | {k} queries/s" for k in kinds
    ) + " | Matches per page |"
    lines = [head, "|---|---:|" + "---:|---:|" * len(kinds) + "---:|"]
    for name in QUERIES:
        target = targets.get(name)
        cells = []
        for k in kinds:
            r = results[k][name]
            cells.append(f"{r['p50']:.1f} / {r['p95']:.1f} | {r['qps']:,.0f}")
        rows = results[kinds[0]][name]["rows"]
        goal = "—" if target is None else f"≤ {target:.0f} ms"
        lines.append(f"| `{name}` | {goal} | " + " | ".join(cells) + f" | {rows:.0f} |")
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    kinds = ["sqlite", "mongo"] if args.store == "both" else [args.store]
    results = {}
    if args.http:
        kinds = []
        results["http"] = await bench_http(args)
    for kind in kinds:
        if kind == "mongo" and not args.mongo_url:
            sys.path.insert(0, ROOT)
            from conformance_tests.servers import mongo_wire_server

            with mongo_wire_server() as url:
                args.mongo_url = url
                results[kind] = await bench_store(kind, args)
            args.mongo_url = None
        else:
            results[kind] = await bench_store(kind, args)
    print(
        f"{args.entities:,} entities, {args.clients} clients, {args.requests} requests per "
        f"query, limit {args.limit}"
    )
    print(table(results, args))


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=["sqlite", "mongo", "both"], default="sqlite")
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--mongo-url", default=os.environ.get("MONGODB_URL"))
    parser.add_argument(
        "--http", action="store_true",
        help="serve the SQLite file with agora serve and query it over HTTP",
    )
    asyncio.run(main(parser.parse_args()))


if __name__ == "__main__":
    cli()
