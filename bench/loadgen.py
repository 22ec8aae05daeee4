"""A Python load generator, used when `wrk` is not installed: N keep-alive connections, each
sending its next request as soon as the previous answer arrives, for a fixed duration.

    python -m bench.loadgen --url http://127.0.0.1:1026 --scenario get --connections 32 \
        --duration 10 [--entity-id ID] [--prefix P --count N] [--run R]

Prints one JSON object: requests, errors, duration, rps, p50_ms, p99_ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import urllib.parse
from collections.abc import Callable

POST_TEMPLATE = (
    '{{"id":"urn:ngsi-ld:Vehicle:{run}-{conn}-{n}","type":"Vehicle",'
    '"brandName":{{"type":"Property","value":"Mercedes"}},'
    '"speed":{{"type":"Property","value":80,"unitCode":"KMH"}},'
    '"isParked":{{"type":"Relationship","object":"urn:ngsi-ld:OffStreetParking:Downtown1"}},'
    '"location":{{"type":"GeoProperty","value":{{"type":"Point","coordinates":[-3.7,40.4]}}}}}}'
)

UPDATE_TEMPLATE = POST_TEMPLATE.replace("urn:ngsi-ld:Vehicle:{run}-{conn}-{n}", "{id}").replace(
    '"value":80,', '"value":{n},'
)

BATCH_SIZE = 100
BATCH_PATH = "/ngsi-ld/v1/entityOperations/upsert?options=update"


def request_factory(args: argparse.Namespace, host: str, conn: int) -> Callable[[int], bytes]:
    head = f"Host: {host}\r\nConnection: keep-alive\r\n"
    if args.scenario == "get":
        raw = (
            f"GET /ngsi-ld/v1/entities/{args.entity_id} HTTP/1.1\r\n{head}"
            "Accept: application/json\r\n\r\n"
        ).encode()
        return lambda n: raw
    if args.scenario == "post":

        def post(n: int) -> bytes:
            body = POST_TEMPLATE.format(run=args.run, conn=conn, n=n).encode()
            return (
                f"POST /ngsi-ld/v1/entities HTTP/1.1\r\n{head}"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode() + body

        return post

    if args.scenario == "batch":

        def batch(n: int) -> bytes:
            run = f"{args.run}-{conn}-{n}"
            entities = ",".join(
                POST_TEMPLATE.format(run=run, conn="b", n=i) for i in range(BATCH_SIZE)
            )
            body = f"[{entities}]".encode()
            return (
                f"POST {BATCH_PATH} HTTP/1.1\r\n{head}"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode() + body

        return batch

    if args.scenario == "update":

        def update(n: int) -> bytes:
            start = (conn * 7919 + n) * BATCH_SIZE
            entities = ",".join(
                UPDATE_TEMPLATE.format(id=f"{args.prefix}{(start + i) % args.count}", n=n % 200)
                for i in range(BATCH_SIZE)
            )
            body = f"[{entities}]".encode()
            return (
                f"POST {BATCH_PATH} HTTP/1.1\r\n{head}"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode() + body

        return update

    def patch(n: int) -> bytes:
        k = (conn * 7919 + n) % args.count
        body = b'{"speed":{"type":"Property","value":' + str(n).encode() + b',"unitCode":"KMH"}}'
        return (
            f"PATCH /ngsi-ld/v1/entities/{args.prefix}{k}/attrs HTTP/1.1\r\n{head}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    return patch


async def read_response(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def worker(
    args: argparse.Namespace, conn: int, deadline: float, latencies: list[float], errors: list[int]
) -> None:
    url = urllib.parse.urlsplit(args.url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    make = request_factory(args, f"{host}:{port}", conn)
    reader, writer = await asyncio.open_connection(host, port)
    n = 0
    try:
        while True:
            start = time.perf_counter()
            if start >= deadline:
                break
            n += 1
            writer.write(make(n))
            status = await read_response(reader)
            latencies.append(time.perf_counter() - start)
            if status >= 400:
                errors.append(status)
    finally:
        writer.close()


async def run(args: argparse.Namespace) -> dict[str, float]:
    latencies: list[float] = []
    errors: list[int] = []
    started = time.perf_counter()
    deadline = started + args.duration
    await asyncio.gather(
        *(worker(args, i, deadline, latencies, errors) for i in range(args.connections))
    )
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "requests": len(latencies),
        "errors": len(errors),
        "duration": elapsed,
        "rps": len(latencies) / elapsed,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument(
        "--scenario", choices=("get", "post", "patch", "batch", "update"), required=True
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--entity-id", default="urn:ngsi-ld:Vehicle:bench")
    parser.add_argument("--prefix", default="urn:ngsi-ld:Vehicle:patch-")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--run", default="run")
    args = parser.parse_args()
    try:
        import uvloop

        result = uvloop.run(run(args))
    except ImportError:
        result = asyncio.run(run(args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
