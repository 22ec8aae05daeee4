"""Purge figure: one DELETE /ngsi-ld/v1/entities?type=T request that deletes 10,000 entities of
one type out of 30,000 (three types), over HTTP, SQLite store.

    .venv/bin/python -m bench.purge [--per-type 10000] [--repeat 3] [--store sqlite|mongo]

`agora serve` runs as a subprocess pinned to CPU 0 (as in `bench.run`), with its defaults.
The 30,000 entities (6 attributes each, the POST scenario's Vehicle) are loaded with batch
creates of 1,000. Each repetition purges one type, checks that exactly that type is gone and
the other 20,000 are still there, then loads the purged type again for the next repetition.
The time is the client's wall clock around the one DELETE request.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.baseline import ENTITY  # noqa: E402
from bench.run import load_average, machine, serve  # noqa: E402
from conformance_tests.servers import free_port, mongo_wire_server, venv_bin  # noqa: E402

TYPES = ("Vehicle", "ParkingSpot", "Streetlight")
BATCH = 1000


def call(
    method: str, url: str, body: object | None = None, timeout: float = 600
) -> tuple[int, dict[str, str], bytes]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    req.add_header("Accept", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return int(r.status), dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return int(e.code), dict(e.headers), e.read()


def load(base: str, etype: str, count: int) -> None:
    for start in range(0, count, BATCH):
        body = [
            dict(ENTITY, id=f"urn:ngsi-ld:{etype}:{i:06}", type=etype)
            for i in range(start, min(start + BATCH, count))
        ]
        status, _, text = call("POST", f"{base}/entityOperations/create", body)
        if status != 201:
            raise SystemExit(f"loading {etype} answered {status}: {text[:300]!r}")


def count(base: str, etype: str) -> int:
    status, headers, text = call("GET", f"{base}/entities?type={etype}&limit=0&count=true")
    if status != 200:
        raise SystemExit(f"counting {etype} answered {status}: {text[:300]!r}")
    return int(headers["NGSILD-Results-Count"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-type", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--store", choices=("sqlite", "mongo"), default="sqlite")
    args = parser.parse_args(argv)

    times: list[float] = []
    load_before = load_average()
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="agora-purge-")))
        env = {"AGORA_LOG_LEVEL": "WARNING", "AGORA_ACCESS_LOG": "false"}
        if args.store == "sqlite":
            store = f"sqlite:///{tmp / 'bench.db'}"
        else:
            store = stack.enter_context(mongo_wire_server())
            env["AGORA_MONGO_DB_PREFIX"] = f"agora-purge-{uuid.uuid4().hex[:8]}"
        port = free_port()
        broker = stack.enter_context(serve(
            "agora",
            [venv_bin("agora"), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--store", store],
            port, env=env, log=tmp / "agora.log",
        ))
        base = broker.url + "/ngsi-ld/v1"
        started = time.perf_counter()
        for etype in TYPES:
            load(base, etype, args.per_type)
        print(f"loaded {len(TYPES) * args.per_type:,} entities in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
        victim = TYPES[0]
        for run in range(args.repeat):
            if run:
                load(base, victim, args.per_type)
            before = [count(base, t) for t in TYPES]
            if before != [args.per_type] * len(TYPES):
                raise SystemExit(f"before the purge: {before}")
            t0 = time.perf_counter()
            status, _, text = call("DELETE", f"{base}/entities?type={victim}")
            elapsed = time.perf_counter() - t0
            if status != 204:
                raise SystemExit(f"purge answered {status}: {text[:300]!r}")
            after = [count(base, t) for t in TYPES]
            if after != [0] + [args.per_type] * (len(TYPES) - 1):
                raise SystemExit(f"after the purge: {after}")
            times.append(elapsed)
            print(f"run {run + 1}: purged {args.per_type:,} of {len(TYPES) * args.per_type:,} "
                  f"in {elapsed:.2f} s ({args.per_type / elapsed:,.0f} entities/s)", flush=True)
    median = statistics.median(times)
    print(f"\n{machine()}; store {args.store}; load average {load_before} before, "
          f"{load_average()} after")
    print(f"median {median:.2f} s ({args.per_type / median:,.0f} entities/s); "
          f"runs: {', '.join(f'{t:.2f}' for t in times)} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
