"""`agora adapters list|run` and `agora serve --adapters`, as an operator runs them."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from pathlib import Path

import aiohttp

from adapters.sdk.testing import AgoraBroker, agora_command, free_port

WEATHER = "https://smartdatamodels.org/dataModel.Weather/WeatherObserved"


def test_list_shows_the_demo_and_its_manifest() -> None:
    text = subprocess.run([agora_command(), "adapters", "list"], capture_output=True,
                          text=True, check=True).stdout
    assert text.startswith("demo 0.1.0")
    assert "entity types: WeatherObserved, ParkingSpot" in text
    listed = json.loads(subprocess.run([agora_command(), "adapters", "list", "--json"],
                                       capture_output=True, text=True, check=True).stdout)
    demo = next(a for a in listed["adapters"] if a["name"] == "demo")
    assert demo["protocols"] == ["simulated"]
    assert "sensors" in demo["config_schema"]["properties"]


def test_run_with_an_unknown_adapter_or_bad_config_exits_2_with_the_reason(
    tmp_path: Path,
) -> None:
    unknown = subprocess.run([agora_command(), "adapters", "run", "nosuch"],
                             capture_output=True, text=True)
    assert unknown.returncode == 2 and "no adapter named 'nosuch'" in unknown.stderr
    (tmp_path / "bad.toml").write_text("[demo]\nsensors = 'many'\n")
    bad = subprocess.run([agora_command(), "adapters", "run", "demo", "--config",
                          str(tmp_path / "bad.toml")], capture_output=True, text=True)
    assert bad.returncode == 2 and "sensors: expected an integer" in bad.stderr


async def _get(url: str, within: float = 15.0) -> tuple[int, str]:
    deadline = time.monotonic() + within
    while True:
        try:
            async with aiohttp.ClientSession() as http, http.get(url) as answer:
                return answer.status, await answer.text()
        except aiohttp.ClientError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


def _run_demo(broker_url: str, config: Path, health_port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([
        agora_command(), "adapters", "run", "demo", "--broker", broker_url,
        "--config", str(config), "--health-port", str(health_port), "--log-level", "WARNING",
    ])


def _stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(15)


async def test_run_publishes_to_the_broker_and_reports_health_and_metrics(
    agora_broker: AgoraBroker, agora_tenant: str, tmp_path: Path
) -> None:
    config = tmp_path / "adapters.toml"
    config.write_text(
        f'[demo]\nsensors = 3\ninterval = 0.2\nsite = "cli"\ntenant = "{agora_tenant}"\n'
        "[publish]\nflush_interval = 0.1\n"
    )
    port = free_port()
    proc = _run_demo(agora_broker.url, config, port)
    try:
        found = await agora_broker.wait_for_entities(3, type=WEATHER, tenant=agora_tenant)
        assert {e["id"] for e in found} == {f"urn:ngsi-ld:WeatherObserved:cli-{n}"
                                            for n in (1, 2, 3)}
        status, body = await _get(f"http://127.0.0.1:{port}/health")
        health = json.loads(body)
        assert status == 200 and health["adapters"]["demo"]["state"] == "running"
        _, metrics = await _get(f"http://127.0.0.1:{port}/metrics")
        assert 'agora_adapter_messages_in_total{adapter="demo"}' in metrics
        out = next(line for line in metrics.splitlines()
                   if line.startswith('agora_adapter_entities_out_total{adapter="demo"}'))
        assert float(out.split()[-1]) >= 3
    finally:
        assert _stop(proc) == 0


async def test_serve_with_adapters_runs_them_in_the_broker_process(
    tmp_path: Path, agora_tenant: str
) -> None:
    config = tmp_path / "adapters.json"
    config.write_text(json.dumps({"demo": {"sensors": 2, "interval": 0.2, "site": "one",
                                           "tenant": agora_tenant},
                                  "publish": {"flush_interval": 0.1}}))
    broker = AgoraBroker(tmp_path, ("--adapters", "demo", "--adapters-config", str(config)))
    await asyncio.to_thread(broker.start)
    try:
        found = await broker.wait_for_entities(2, type=WEATHER, tenant=agora_tenant)
        assert {e["id"] for e in found} == {"urn:ngsi-ld:WeatherObserved:one-1",
                                            "urn:ngsi-ld:WeatherObserved:one-2"}
        status, body = await _get(broker.url + "/adapters/health")
        assert status == 200 and json.loads(body)["adapters"]["demo"]["state"] == "running"
        _, metrics = await _get(broker.url + "/adapters/metrics")
        assert 'agora_adapter_entities_out_total{adapter="demo"}' in metrics
    finally:
        assert broker.proc is not None
        assert _stop(broker.proc) == 0
        broker.proc = None


async def _wait_buffered(health_url: str, count: int, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while True:
        status, body = await _get(health_url)
        if status == 200 and json.loads(body)["adapters"]["demo"]["buffered"] >= count:
            return
        assert time.monotonic() < deadline, f"never {count} buffered: {body}"
        await asyncio.sleep(0.05)


async def test_run_stopped_by_sigterm_delivers_what_it_had_buffered(
    agora_broker: AgoraBroker, agora_tenant: str, tmp_path: Path
) -> None:
    config = tmp_path / "adapters.toml"
    config.write_text(
        f'[demo]\nsensors = 3\ninterval = 3600\nsite = "term"\ntenant = "{agora_tenant}"\n'
        "[publish]\nflush_interval = 3600\nbatch_size = 1000\n"
    )
    port = free_port()
    proc = _run_demo(agora_broker.url, config, port)
    try:
        await _wait_buffered(f"http://127.0.0.1:{port}/health", 3)
        assert await agora_broker.entities(type=WEATHER, tenant=agora_tenant) == []
    finally:
        assert _stop(proc) == 0
    assert len(await agora_broker.entities(type=WEATHER, tenant=agora_tenant)) == 3


async def test_serve_with_adapters_flushes_them_before_the_broker_stops_listening(
    tmp_path: Path, agora_tenant: str
) -> None:
    config = tmp_path / "adapters.json"
    config.write_text(json.dumps({
        "demo": {"sensors": 2, "interval": 3600, "site": "last", "tenant": agora_tenant},
        "publish": {"flush_interval": 3600, "batch_size": 1000},
    }))
    broker = AgoraBroker(tmp_path, ("--adapters", "demo", "--adapters-config", str(config)))
    await asyncio.to_thread(broker.start)
    assert broker.proc is not None
    try:
        await _wait_buffered(broker.url + "/adapters/health", 2)
    finally:
        assert _stop(broker.proc) == 0
        broker.proc = None
    broker.extra_args = ()  # the same store, without adapters: what did it keep?
    await asyncio.to_thread(broker.start)
    try:
        assert len(await broker.entities(type=WEATHER, tenant=agora_tenant)) == 2
    finally:
        broker.stop()
