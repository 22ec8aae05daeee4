"""Notification figures (issue 4): update-to-receipt latency, sustained notifications/s, and
the isolation of a healthy receiver from a dead and a slow one.

    .venv/bin/python -m bench.notify [--duration 20] [--rate 500] [--max-rate 1000]
                                     [--subscriptions 1000] [--cases one,ten,max,isolation]

`agora serve` (SQLite store in a temp dir) runs pinned to CPU 0; a receiver (an aiohttp
server in its own process) and this load driver share CPU 1. Every update is a
`PATCH /ngsi-ld/v1/entities/{id}/attrs` whose `speed` value is the driver's `time.time()`;
the receiver subtracts it from its own `time.time()` on receipt (same machine, same clock),
so the latency is update sent -> notification received, HTTP both ways included. Updates
are paced open-loop (sent on schedule whatever the answers), over 64 keep-alive
connections.

Cases:

- `one`: 1,000 subscriptions over 100 entity types, each selecting one entity by id (1,000
  entities): every update matches 1 subscription; `--rate` updates/s.
- `ten`: 1,000 subscriptions over 100 entities (10 per entity): every update matches 10;
  `--rate` updates/s, so 10 x rate notifications/s.
- `max`: as `ten` at `--max-rate` updates/s: the sustained notifications/s.
- `isolation`: one entity type with three subscriptions: a healthy receiver, a dead one
  (connection refused) and a slow one (answers after 5 s); the healthy receiver's p99 with
  and without the other two, at 200 updates/s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

API = "/ngsi-ld/v1"
TYPE_PREFIX = "https://example.org/T"
CONNECTIONS = 64


# -- the receiver process --------------------------------------------------------------------


def run_receiver(port: int) -> None:
    from aiohttp import web

    latencies: list[float] = []
    counts: dict[str, int] = {}

    async def notify(request: web.Request) -> web.Response:
        raw = await request.read()
        now = time.time()
        tag = request.match_info["tag"]
        if tag == "slow":
            await asyncio.sleep(5)
        counts[tag] = counts.get(tag, 0) + 1
        body = orjson.loads(raw)
        for entity in body["data"]:
            sent = entity["speed"]["value"]
            if tag == "healthy" or tag == "n":
                latencies.append(now - float(sent))
        return web.Response(status=204)

    async def stats(request: web.Request) -> web.Response:
        return web.Response(
            body=orjson.dumps({"latencies": latencies, "counts": counts}),
            content_type="application/json",
        )

    async def reset(request: web.Request) -> web.Response:
        latencies.clear()
        counts.clear()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/notify/{tag}", notify)
    app.router.add_get("/stats", stats)
    app.router.add_post("/reset", reset)
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


@contextlib.contextmanager
def receiver_process(port: int, cpu: str) -> Iterator[str]:
    from bench.run import pinned

    cmd = [*pinned(cpu), sys.executable, "-m", "bench.notify", "--receiver", str(port)]
    proc = subprocess.Popen(cmd)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(
                ("127.0.0.1", port), 0.2
            ):
                break
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the receiver did not start")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


# -- the driver ------------------------------------------------------------------------------


@dataclass
class Figures:
    case: str
    updates_per_s: float
    notifications: int
    notifications_per_s: float
    p50_ms: float
    p99_ms: float
    late_updates: int
    errors: int


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Driver:
    def __init__(self, broker: str, receiver: str) -> None:
        import aiohttp

        self.broker = broker
        self.receiver = receiver
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=CONNECTIONS)
        )

    async def close(self) -> None:
        await self.session.close()

    async def post(self, path: str, body: Any, expect: int = 201) -> None:
        async with self.session.post(
            self.broker + path, data=orjson.dumps(body),
            headers={"Content-Type": "application/json"},
        ) as r:
            text = await r.read()
            assert r.status == expect, (r.status, text[:300])

    async def setup(self, entities: list[tuple[str, str]], subs: list[dict[str, Any]]) -> None:
        batch = [
            {"id": eid, "type": etype, "speed": {"type": "Property", "value": 0.0}}
            for eid, etype in entities
        ]
        for i in range(0, len(batch), 500):
            await self.post(f"{API}/entityOperations/upsert", batch[i : i + 500], expect=201)
        await asyncio.gather(*(self.post(f"{API}/subscriptions", s) for s in subs))

    async def stats(self) -> dict[str, Any]:
        async with self.session.get(self.receiver + "/stats") as r:
            data: dict[str, Any] = orjson.loads(await r.read())
            return data

    async def reset(self) -> None:
        async with self.session.post(self.receiver + "/reset") as r:
            await r.read()

    async def drive(
        self, ids: list[str], rate: float, duration: float, expected_per_update: int
    ) -> tuple[int, int, int, float]:
        """Open-loop PATCHes; (updates sent, late starts, errors, seconds taken)."""
        errors = 0
        late = 0
        tasks: set[asyncio.Task[None]] = set()

        async def one(eid: str) -> None:
            nonlocal errors
            body = orjson.dumps({"speed": {"type": "Property", "value": time.time()}})
            try:
                async with self.session.patch(
                    f"{self.broker}{API}/entities/{eid}/attrs", data=body,
                    headers={"Content-Type": "application/json"},
                ) as r:
                    await r.read()
                    if r.status != 204:
                        errors += 1
            except Exception:
                errors += 1

        loop = asyncio.get_running_loop()
        start = loop.time()
        total = int(rate * duration)
        for n in range(total):
            at = start + n / rate
            delay = at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.005:
                late += 1
            task = asyncio.create_task(one(ids[n % len(ids)]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
        return total, late, errors, loop.time() - start


def subscription(uri: str, entity_type: str, entity_id: str | None = None) -> dict[str, Any]:
    selector: dict[str, str] = {"type": entity_type}
    if entity_id is not None:
        selector["id"] = entity_id
    return {
        "type": "Subscription",
        "entities": [selector],
        "watchedAttributes": ["speed"],
        "notification": {"endpoint": {"uri": uri}},
    }


async def settle(driver: Driver, want: int, within: float) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        stats = await driver.stats()
        got = len(stats["latencies"])
        if got >= want or time.monotonic() > deadline:
            return stats
        await asyncio.sleep(0.2)


async def run_case(
    driver: Driver, case: str, ids: list[str], rate: float, duration: float, per_update: int
) -> Figures:
    await driver.drive(ids, rate, 2.0, per_update)  # warm-up
    await asyncio.sleep(1.0)
    await driver.reset()
    sent, late, errors, seconds = await driver.drive(ids, rate, duration, per_update)
    received_at_end = time.monotonic()
    stats = await settle(driver, sent * per_update, 15)
    drain = time.monotonic() - received_at_end
    latencies = stats["latencies"]
    count = len(latencies)
    return Figures(
        case=case,
        updates_per_s=sent / seconds,
        notifications=count,
        notifications_per_s=count / (seconds + drain),
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        late_updates=late,
        errors=errors + max(0, sent * per_update - count),
    )


def dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def bench(args: argparse.Namespace, broker: str, receiver: str) -> list[Figures]:
    driver = Driver(broker, receiver)
    out: list[Figures] = []
    cases = set(args.cases.split(","))
    n = args.subscriptions
    try:
        if "one" in cases:
            ents = [(f"urn:ngsi-ld:One:{i}", f"{TYPE_PREFIX}{i % 100}") for i in range(n)]
            subs = [subscription(f"{receiver}/notify/n", t, e) for e, t in ents]
            await driver.setup(ents, subs)
            out.append(await run_case(
                driver, "1 match / update", [e for e, _ in ents], args.rate, args.duration, 1
            ))
            print(out[-1], file=sys.stderr)
        if "ten" in cases or "max" in cases:
            ents = [(f"urn:ngsi-ld:Ten:{i}", f"{TYPE_PREFIX}ten{i}") for i in range(n // 10)]
            subs = [
                subscription(f"{receiver}/notify/n", t, e) for e, t in ents for _ in range(10)
            ]
            await driver.setup(ents, subs)
            ids = [e for e, _ in ents]
            if "ten" in cases:
                out.append(await run_case(
                    driver, "10 matches / update", ids, args.rate, args.duration, 10
                ))
                print(out[-1], file=sys.stderr)
            if "max" in cases:
                out.append(await run_case(
                    driver, "10 matches / update, max rate", ids, args.max_rate,
                    args.duration, 10,
                ))
                print(out[-1], file=sys.stderr)
        if "isolation" in cases:
            kind = f"{TYPE_PREFIX}iso"
            ents = [(f"urn:ngsi-ld:Iso:{i}", kind) for i in range(10)]
            await driver.setup(ents, [subscription(f"{receiver}/notify/healthy", kind)])
            ids = [e for e, _ in ents]
            alone = await run_case(driver, "healthy alone", ids, 200, args.duration / 2, 1)
            await driver.setup([], [
                subscription(f"{receiver.replace('127.0.0.1', 'localhost')}/notify/slow", kind),
                subscription(f"http://127.0.0.1:{dead_port()}/notify/dead", kind),
            ])
            crowded = await run_case(
                driver, "healthy beside dead + slow", ids, 200, args.duration / 2, 1
            )
            out.extend([alone, crowded])
            print(alone, crowded, file=sys.stderr)
    finally:
        await driver.close()
    return out


def report(figures: list[Figures], args: argparse.Namespace) -> str:
    from bench.run import load_average, machine

    lines = [
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · {machine()} · "
        f"load average {load_average()} · {args.subscriptions} subscriptions · "
        f"{args.duration:.0f} s per case",
        "",
        "| Case | Updates/s | Notifications | Notifications/s | p50 ms | p99 ms "
        "| Late sends | Missing / errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in figures:
        lines.append(
            f"| {f.case} | {f.updates_per_s:,.0f} | {f.notifications:,} | "
            f"{f.notifications_per_s:,.0f} | {f.p50_ms:.2f} | {f.p99_ms:.2f} | "
            f"{f.late_updates} | {f.errors} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.notify", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--max-rate", type=float, default=1000.0)
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--cases", default="one,ten,max,isolation")
    parser.add_argument("--receiver", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--env", action="append", default=[],
                        help="extra AGORA_* settings for the broker, NAME=VALUE")
    args = parser.parse_args(argv)
    if args.receiver is not None:
        run_receiver(args.receiver)
        return 0

    from bench.run import LOADGEN_CPU, free_port, pinned, serve

    with tempfile.TemporaryDirectory(prefix="agora-notify-") as tmp:
        port = free_port()
        env = {
            "AGORA_ALLOW_PRIVATE_URLS": "true",
            "AGORA_LOG_LEVEL": "WARNING",
            "AGORA_NOTIFICATION_RETRIES": "0",
            "AGORA_NOTIFICATION_QUEUE_SIZE": "100000",
        }
        env.update(item.split("=", 1) for item in args.env)
        agora = str(Path(sys.executable).with_name("agora"))
        cmd = [agora, "serve", "--host", "127.0.0.1", "--port", str(port),
               "--store", f"sqlite:///{Path(tmp) / 'agora.db'}"]
        with receiver_process(free_port(), LOADGEN_CPU) as receiver, serve(
            "agora", cmd, port, env=env, log=Path(tmp) / "agora.log"
        ) as server:
            if pinned(LOADGEN_CPU):
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(0, {int(LOADGEN_CPU)})
            with contextlib.suppress(ImportError):
                import uvloop

                uvloop.install()
            figures = asyncio.run(bench(args, server.url, receiver))
    text = report(figures, args)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
