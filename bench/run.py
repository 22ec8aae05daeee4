"""Benchmark Agora against the bare aiohttp baseline, same load generator, same run.

    python -m bench.run [--duration 10] [--warmup 2] [--repeat 3] [--connections 32]
                        [--scenarios get,post,patch,batch,update] [--store sqlite|mongo]
                        [--loadgen auto|wrk|python] [--server-cpus 0]
                        [--output bench/results/latest.md]

Both servers run as subprocesses pinned to CPU 0 (taskset), the load generator on CPU 1.
`--server-cpus 0,1` gives the servers both CPUs of a two-CPU machine instead (the load
generator keeps CPU 1): the broker's SQLite writer process can then run beside its event
loop, as it does on any host with more than one CPU.
`wrk` (with the Lua scripts in bench/scenarios/) is used when installed, else bench/loadgen.py.
Prints a Markdown table (req/s, p50, p99, broker/baseline ratio per scenario) and writes it to
bench/results/latest.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/run.py` as well as `python -m bench.run`
    sys.path.insert(0, str(ROOT))

from bench.baseline import ENTITY  # noqa: E402
from conformance_tests.servers import free_port, mongo_wire_server, venv_bin  # noqa: E402

SCENARIOS = ("get", "post", "patch", "batch", "update")
TARGETS: dict[str, float | None] = {
    "get": 0.40, "post": 0.25, "patch": 0.25, "batch": None, "update": None,
}
BATCH_SIZE = 100
PER_ENTITY = ("batch", "update")
"""Scenarios reported in entities/s (requests/s x BATCH_SIZE) as well."""
ENTITY_TARGETS = {"batch": 30_000}
"""Scenarios whose target is entities/s, not a ratio."""
UPDATE_SET = 14_000
"""Entities the update scenario cycles through (a province's sensors)."""
BATCH_PATH = "/ngsi-ld/v1/entityOperations/upsert?options=update"
TITLES = {
    "get": "GET entity by id",
    "post": "POST entity",
    "patch": "PATCH /attrs",
    "batch": f"Batch upsert, {BATCH_SIZE} entities",
    "update": f"Batch upsert, {BATCH_SIZE} known entities",
}
EXPECTED_STATUS = {"get": 200, "post": 201, "patch": 204, "batch": 201, "update": 204}
BASELINE_STATUS = {"update": 201}
"""Where the baseline, which stores nothing, answers otherwise (it cannot know an id)."""


def expected_status(server: Server, scenario: str) -> int:
    if server.name == "baseline":
        return BASELINE_STATUS.get(scenario, EXPECTED_STATUS[scenario])
    return EXPECTED_STATUS[scenario]

SERVER_CPUS = "0"
LOADGEN_CPU = "1"
GET_ID = ENTITY["id"]


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    detail: str = ""  # what the errors were: unexpected statuses, socket errors


@dataclass
class Server:
    name: str
    url: str
    proc: subprocess.Popen[bytes]


def pinned(cpus: str) -> list[str]:
    """taskset for a CPU list ("0", "0,1"), when there is taskset and every CPU exists."""
    wanted = [int(c) for c in cpus.split(",")]
    if shutil.which("taskset") and (os.cpu_count() or 1) > max(wanted):
        return ["taskset", "-c", cpus]
    return []


@contextlib.contextmanager
def serve(name: str, cmd: list[str], port: int, env: dict[str, str] | None = None,
          log: Path | None = None, cpu: str | None = SERVER_CPUS) -> Iterator[Server]:
    """`cmd` started (pinned to `cpu`, None: not pinned) until its /health answers."""
    out = open(log, "wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(
        (pinned(cpu) if cpu is not None else []) + cmd, env={**os.environ, **(env or {})},
        stdout=out, stderr=out,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited with code {proc.returncode} (log: {log})")
            with contextlib.suppress(OSError), urllib.request.urlopen(url + "/health", timeout=1):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} did not become healthy")
            time.sleep(0.1)
        yield Server(name, url, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if log:
            out.close()  # type: ignore[union-attr]


def update_prefix(patch_prefix: str) -> str:
    return patch_prefix.replace(":patch-", ":update-")


def batch_body(run: str) -> list[dict[str, object]]:
    return [dict(ENTITY, id=f"urn:ngsi-ld:Vehicle:check-{run}-{i}") for i in range(BATCH_SIZE)]


def http(method: str, url: str, body: object | None = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    req.add_header("Accept", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def prepare(server: Server, patch_prefix: str, patch_count: int, update_count: int) -> None:
    """Create the GET entity, the PATCH set and the update set, and check each scenario
    answers as expected."""
    base = server.url + "/ngsi-ld/v1/entities"
    status = http("POST", base, ENTITY)
    if status not in (201, 409):
        raise SystemExit(f"{server.name}: creating the GET entity answered {status}")
    for i in range(patch_count):
        entity = dict(ENTITY, id=f"{patch_prefix}{i}")
        status = http("POST", base, entity)
        if status not in (201, 409):
            raise SystemExit(f"{server.name}: creating PATCH entity {i} answered {status}")
    for start in range(0, update_count, BATCH_SIZE):
        entities = [
            dict(ENTITY, id=f"{update_prefix(patch_prefix)}{i}")
            for i in range(start, min(start + BATCH_SIZE, update_count))
        ]
        status = http("POST", server.url + BATCH_PATH, entities)
        if status not in (201, 204):
            raise SystemExit(f"{server.name}: creating the update set answered {status}")
    checks = {
        "get": http("GET", f"{base}/{GET_ID}"),
        "post": http("POST", base, dict(ENTITY, id=f"urn:ngsi-ld:Vehicle:check-{uuid.uuid4()}")),
        "patch": http(
            "PATCH", f"{base}/{patch_prefix}0/attrs", {"speed": {"type": "Property", "value": 1}}
        ),
        "batch": http("POST", server.url + BATCH_PATH, batch_body(uuid.uuid4().hex)),
    }
    if update_count:
        known = [dict(ENTITY, id=f"{update_prefix(patch_prefix)}0")]
        checks["update"] = http("POST", server.url + BATCH_PATH, known)
    for scenario, got in checks.items():
        if got != expected_status(server, scenario):
            raise SystemExit(
                f"{server.name}: {scenario} answered {got}, "
                f"expected {expected_status(server, scenario)}"
            )


# -- load generators ---------------------------------------------------------------------------


def _wrk_time_ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        return float("nan")
    value, unit = float(m.group(1)), m.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(output: str, expected_status: int) -> Result:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    errors = 0
    details = []
    # "status <code> <count>" lines come from bench/scenarios/common.lua.
    for code, count in re.findall(r"^status (\d+) (\d+)$", output, re.M):
        if int(code) != expected_status:
            errors += int(count)
            details.append(f"{count} HTTP {code}")
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if sock:
        for kind, n in zip(("connect", "read", "write", "timeout"), sock.groups(), strict=True):
            if int(n):
                errors += int(n)
                details.append(f"{n} {kind}")
    return Result(
        rps=rps,
        p50_ms=_wrk_time_ms(p50.group(1)) if p50 else float("nan"),
        p99_ms=_wrk_time_ms(p99.group(1)) if p99 else float("nan"),
        requests=requests,
        errors=errors,
        detail=", ".join(details),
    )


def run_wrk(server: Server, scenario: str, args: argparse.Namespace, duration: float,
            patch_prefix: str, run_id: str) -> Result:
    script = ROOT / "bench" / "scenarios" / f"{scenario}.lua"
    url = server.url + (f"/ngsi-ld/v1/entities/{GET_ID}" if scenario == "get" else "")
    cmd = [
        *pinned(LOADGEN_CPU),
        "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{max(1, round(duration))}s",
        "--latency", "-s", str(script), url,
    ]
    if scenario == "post":
        cmd += ["--", run_id]
    elif scenario == "batch":
        cmd += ["--", run_id, str(BATCH_SIZE)]
    elif scenario == "patch":
        cmd += ["--", patch_prefix, str(args.patch_entities)]
    elif scenario == "update":
        cmd += ["--", update_prefix(patch_prefix), str(UPDATE_SET), str(BATCH_SIZE)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return parse_wrk(out, expected_status(server, scenario))


def run_python(server: Server, scenario: str, args: argparse.Namespace, duration: float,
               patch_prefix: str, run_id: str) -> Result:
    cmd = [
        *pinned(LOADGEN_CPU),
        sys.executable, "-m", "bench.loadgen", "--url", server.url, "--scenario", scenario,
        "--connections", str(args.connections), "--duration", str(duration),
        "--entity-id", GET_ID,
        "--prefix", update_prefix(patch_prefix) if scenario == "update" else patch_prefix,
        "--count", str(UPDATE_SET if scenario == "update" else args.patch_entities),
        "--run", run_id,
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    data = json.loads(out)
    return Result(data["rps"], data["p50_ms"], data["p99_ms"], data["requests"], data["errors"])


# -- report ------------------------------------------------------------------------------------


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}"


def wrk_version() -> str:
    try:
        out = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    except OSError:
        return "wrk"
    m = re.search(r"wrk (\S+)", out)
    return f"wrk {m.group(1)}" if m else "wrk"


def _errors(r: Result) -> str:
    return f"{r.errors} ({r.detail})" if r.errors else "0"


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "unknown"


def report(
    results: dict[str, dict[str, Result]], args: argparse.Namespace, loadgen: str, load: str
) -> str:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Agora benchmark, {when}",
        "",
        f"- machine: {machine()}",
        f"- load average (1/5/15 min) before / after the run: {load} / {load_average()}",
        f"- servers pinned to CPU {args.server_cpus}, load generator pinned to CPU {LOADGEN_CPU}"
        if pinned(LOADGEN_CPU) else "- taskset unavailable: processes not pinned",
        f"- load generator: {loadgen}, {args.connections} connections, "
        f"{args.duration:g} s per measurement, median of {args.repeat} alternating measurements "
        f"per server, after {args.warmup:g} s warm-up",
        f"- broker store: {'SQLite (temp dir)' if args.store == 'sqlite' else 'MongoDB wire'}",
        "- baseline: bench/baseline.py (aiohttp + uvloop + orjson, no storage)",
        "",
        "| Scenario | Baseline req/s | Agora req/s | Ratio | Target | "
        "Baseline p50 / p99 ms | Agora p50 / p99 ms | Errors (baseline / Agora) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario, pair in results.items():
        base, agora = pair["baseline"], pair["broker"]
        ratio = agora.rps / base.rps if base.rps else float("nan")
        target = TARGETS[scenario]
        if target is None:
            goal = "—"
        else:
            goal = f"≥ {target:.2f} ({'met' if ratio >= target else 'missed'})"
        lines.append(
            f"| {TITLES[scenario]} | {base.rps:,.0f} | {agora.rps:,.0f} | {ratio:.2f} | "
            f"{goal} | {base.p50_ms:.2f} / {base.p99_ms:.2f} | "
            f"{agora.p50_ms:.2f} / {agora.p99_ms:.2f} | {_errors(base)} / {_errors(agora)} |"
        )
    per_entity = [s for s in results if s in PER_ENTITY]
    if per_entity:
        lines += [
            "",
            "| Scenario | Baseline entities/s | Agora entities/s | Ratio | Target |",
            "|---|---:|---:|---:|---:|",
        ]
    for scenario in per_entity:
        base, agora = results[scenario]["baseline"], results[scenario]["broker"]
        wanted = ENTITY_TARGETS.get(scenario)
        ratio = agora.rps / base.rps if base.rps else float("nan")
        goal = "—"
        if wanted is not None:
            verdict = "met" if agora.rps * BATCH_SIZE >= wanted else "missed"
            goal = f"≥ {wanted:,} entities/s ({verdict})"
        lines.append(
            f"| {TITLES[scenario]} | {base.rps * BATCH_SIZE:,.0f} | "
            f"{agora.rps * BATCH_SIZE:,.0f} | {ratio:.2f} | {goal} |"
        )
    return "\n".join(lines) + "\n"


def median_run(runs: list[Result]) -> Result:
    """The run with the median throughput; errors are summed over all runs."""
    ordered = sorted(runs, key=lambda r: r.rps)
    mid = ordered[len(ordered) // 2]
    errors = sum(r.errors for r in runs)
    detail = "; ".join(r.detail for r in runs if r.detail)
    return Result(mid.rps, mid.p50_ms, mid.p99_ms, mid.requests, errors, detail)


def keep_log(src: Path, dst: Path) -> None:
    """The broker's log outlives the temp dir (bench/results/ is not tracked)."""
    with contextlib.suppress(OSError):
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)


# -- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Agora vs bare aiohttp baseline")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up per server")
    parser.add_argument(
        "--repeat", type=int, default=3, help="measurements per server and scenario (median kept)"
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--store", choices=("sqlite", "mongo"), default="sqlite")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--patch-entities", type=int, default=500)
    parser.add_argument("--server-cpus", default=SERVER_CPUS,
                        help="CPU list (taskset -c) for both servers")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "latest.md"))
    args = parser.parse_args(argv)
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    for s in scenarios:
        if s not in SCENARIOS:
            parser.error(f"unknown scenario {s!r} (choose from {', '.join(SCENARIOS)})")

    use_wrk = args.loadgen == "wrk" or (args.loadgen == "auto" and shutil.which("wrk"))
    if args.loadgen == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed")
    measure = run_wrk if use_wrk else run_python
    loadgen = (
        f"{wrk_version()} ({args.threads} thread, Lua scripts in bench/scenarios)"
        if use_wrk else "bench/loadgen.py (Python asyncio, keep-alive)"
    )
    print(f"load generator: {loadgen}", flush=True)

    load_before = load_average()
    patch_prefix = f"urn:ngsi-ld:Vehicle:patch-{uuid.uuid4().hex[:8]}-"
    results: dict[str, dict[str, Result]] = {}
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="agora-bench-")))
        stack.callback(keep_log, tmp / "agora.log", Path(args.output).parent / "agora.log")
        env = {"AGORA_LOG_LEVEL": "WARNING", "AGORA_ACCESS_LOG": "false"}
        if args.store == "sqlite":
            store = f"sqlite:///{tmp / 'bench.db'}"
        else:
            store = stack.enter_context(mongo_wire_server())
            env["AGORA_MONGO_DB_PREFIX"] = f"agora-bench-{uuid.uuid4().hex[:8]}"
        base_port, broker_port = free_port(), free_port()
        baseline = stack.enter_context(serve(
            "baseline",
            [sys.executable, str(ROOT / "bench" / "baseline.py"), "--port", str(base_port)],
            base_port, log=tmp / "baseline.log", cpu=args.server_cpus,
        ))
        broker = stack.enter_context(serve(
            "agora",
            [venv_bin("agora"), "serve", "--host", "127.0.0.1", "--port", str(broker_port),
             "--store", store],
            broker_port, env=env, log=tmp / "agora.log", cpu=args.server_cpus,
        ))
        for server in (baseline, broker):
            prepare(
                server,
                patch_prefix,
                args.patch_entities if "patch" in scenarios else 1,
                UPDATE_SET if "update" in scenarios else 0,
            )
        for scenario in scenarios:
            runs: dict[str, list[Result]] = {"baseline": [], "broker": []}
            # Baseline and broker alternate, so that a slow spell of the machine hits both.
            for repetition in range(args.repeat):
                for key, server in (("baseline", baseline), ("broker", broker)):
                    run_id = uuid.uuid4().hex[:8]
                    if args.warmup > 0 and repetition == 0:
                        measure(server, scenario, args, args.warmup, patch_prefix, "w" + run_id)
                    result = measure(server, scenario, args, args.duration, patch_prefix, run_id)
                    runs[key].append(result)
                    print(
                        f"{scenario:5} {key:8} {result.rps:10,.0f} req/s"
                        f"  p50 {result.p50_ms:.2f} ms  p99 {result.p99_ms:.2f} ms"
                        f"  errors {result.errors} {result.detail}",
                        flush=True,
                    )
            results[scenario] = {key: median_run(rs) for key, rs in runs.items()}
    table = report(results, args, loadgen, load_before)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table)
    print()
    print(table)
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
