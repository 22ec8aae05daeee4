"""What checking writes against the bundled Smart Data Models costs.

    python -m bench.validation [--duration 10] [--warmup 2] [--repeat 3] [--connections 32]

Starts the bare aiohttp baseline and two brokers on the embedded store, one with
`AGORA_VALIDATION=off` and one with `enforce`, all pinned to CPU 0 (one at a time is loaded),
and drives each with wrk (bench/scenarios/parking.lua, pinned to CPU 1): ParkingSpot entities
that fit the model, with the Parking subject @context in a Link header, one per POST and 100
per batch upsert (`options=update`, fresh ids: every entity is created and checked whole).
Reports requests/s and entities/s, the ratio to the baseline and the broker's throughput with
validation as a fraction of without, from the median of alternating measurements. A check
before measuring makes sure the enforcing broker refuses a ParkingSpot with a bad `status`.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402
    LOADGEN_CPU,
    Result,
    http,
    load_average,
    machine,
    median_run,
    parse_wrk,
    pinned,
    serve,
    wrk_version,
)
from conformance_tests.servers import free_port, venv_bin  # noqa: E402

BATCH_SIZE = 100
MODES = {"post": (1, 201), "batch": (BATCH_SIZE, 201)}
TITLES = {"post": "POST one ParkingSpot", "batch": f"Batch upsert, {BATCH_SIZE} ParkingSpots"}


def measure(url: str, mode: str, args: argparse.Namespace, duration: float) -> Result:
    size, status = MODES[mode]
    cmd = [
        *pinned(LOADGEN_CPU), "wrk", "-t1", f"-c{args.connections}",
        f"-d{max(1, round(duration))}s", "--latency",
        "-s", str(ROOT / "bench" / "scenarios" / "parking.lua"), url,
        "--", uuid.uuid4().hex[:10], mode, str(size),
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return parse_wrk(out, status)


def check_refusal(url: str) -> None:
    bad = {
        "id": f"urn:ngsi-ld:ParkingSpot:bad-{uuid.uuid4().hex}", "type": "ParkingSpot",
        "status": {"type": "Property", "value": "parked"},
    }
    got = http("POST", url + "/ngsi-ld/v1/entities", bad)
    if got != 400:
        raise SystemExit(f"the enforcing broker answered {got} to an invalid ParkingSpot")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="cost of AGORA_VALIDATION=enforce")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--output", default=str(ROOT / "bench" / "results" / "validation.md")
    )
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        print("wrk is not installed: the validation benchmark needs it", file=sys.stderr)
        return 1
    load_before = load_average()
    results: dict[str, dict[str, Result]] = {}
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="agora-bench-val-")))
        servers: dict[str, str] = {}
        port = free_port()
        servers["baseline"] = stack.enter_context(serve(
            "baseline", [sys.executable, str(ROOT / "bench" / "baseline.py"), "--port",
                         str(port)], port, log=tmp / "baseline.log",
        )).url
        for mode in ("off", "enforce"):
            port = free_port()
            env = {"AGORA_LOG_LEVEL": "WARNING", "AGORA_VALIDATION": mode}
            servers[mode] = stack.enter_context(serve(
                f"agora-{mode}",
                [venv_bin("agora"), "serve", "--host", "127.0.0.1", "--port", str(port),
                 "--store", f"sqlite:///{tmp / f'{mode}.db'}"],
                port, env=env, log=tmp / f"agora-{mode}.log",
            )).url
        check_refusal(servers["enforce"])
        for scenario in MODES:
            runs: dict[str, list[Result]] = {name: [] for name in servers}
            for repetition in range(args.repeat):
                for name, url in servers.items():
                    if repetition == 0 and args.warmup > 0:
                        measure(url, scenario, args, args.warmup)
                    result = measure(url, scenario, args, args.duration)
                    runs[name].append(result)
                    print(f"{scenario:5} {name:8} {result.rps:10,.0f} req/s  p50 "
                          f"{result.p50_ms:.2f} ms  p99 {result.p99_ms:.2f} ms  errors "
                          f"{result.errors} {result.detail}", flush=True)
            results[scenario] = {name: median_run(rs) for name, rs in runs.items()}
    table = report(results, args, load_before)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table)
    print()
    print(table)
    return 0


def report(results: dict[str, dict[str, Result]], args: argparse.Namespace, load: str) -> str:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Validation cost, {when}",
        "",
        f"- machine: {machine()}; load average before / after: {load} / {load_average()}",
        f"- {wrk_version()}, {args.connections} connections, {args.duration:g} s per "
        f"measurement, median of {args.repeat}",
        "",
        "| Scenario | Baseline entities/s | Agora, off | Agora, enforce | Ratio off / enforce "
        "to baseline | enforce / off | p99 ms off / enforce | Errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario, by in results.items():
        size = MODES[scenario][0]
        base, off, on = by["baseline"], by["off"], by["enforce"]
        errors = sum(r.errors for r in by.values())
        lines.append(
            f"| {TITLES[scenario]} | {base.rps * size:,.0f} | {off.rps * size:,.0f} | "
            f"{on.rps * size:,.0f} | {off.rps / base.rps:.2f} / {on.rps / base.rps:.2f} | "
            f"{on.rps / off.rps:.2f} | {off.p99_ms:.1f} / {on.p99_ms:.1f} | {errors} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
