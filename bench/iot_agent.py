"""IoT Agent figures (issue 5): 14,000 devices reporting over MQTT to one `iot-agent` adapter
and one broker process.

    .venv/bin/python -m bench.iot_agent [--devices 14000] [--rate 5000] [--duration 20]
                                        [--burst 14000]

Processes, none pinned: Mosquitto on a free loopback port, `agora serve` (SQLite store in a
temp dir), `agora adapters run iot-agent` publishing to it, and this driver, which
provisions one group and `--devices` devices over the provisioning API and publishes JSON
measures to `/json/{apikey}/{device}/attrs` at QoS 1.

- sustained: `--rate` messages/s, paced open-loop over the devices in turn, for
  `--duration` s. Throughput is the adapter's `agora_adapter_entities_out` (entities the
  broker accepted) over the run. One message in 50 is a probe: its temperature is a
  unique number, and the driver polls the broker (`GET /entities?id=...`, every 50 ms) until
  the probe's value is queryable; publish-to-queryable latency is the time from publishing
  to the first answer showing it.
- burst: one message per device published as fast as the client can, then the time until
  all of them are queryable, and the adapter's drop and error counters.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import aiomqtt

from bench.run import free_port, serve

APIKEY = "bench-key"
TENANT = "province"
TYPE = "WeatherObserved"
CONTEXT = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Weather/master/context.jsonld"
)
PROBE_EVERY = 50
POLL_INTERVAL = 0.05


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def device_id(n: int) -> str:
    return f"station{n:05d}"


def entity_id(n: int) -> str:
    return f"urn:ngsi-ld:{TYPE}:{device_id(n)}"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def mosquitto(directory: Path) -> Iterator[tuple[int, int]]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        raise SystemExit("bench.iot_agent needs the mosquitto binary (apt-get install mosquitto)")
    port = free_port()
    conf = directory / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 0\nmax_inflight_messages 0\n"
    )
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                with contextlib.closing(__import__("socket").create_connection(
                    ("127.0.0.1", port), 0.2
                )):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("mosquitto did not start") from None
                time.sleep(0.05)
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


@dataclass
class Probes:
    """Probe values published and not yet seen queryable: entity id -> (value, sent at)."""

    pending: dict[str, tuple[float, float]] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    superseded: int = 0

    def sent(self, entity: str, value: float) -> None:
        if entity in self.pending:
            self.superseded += 1
        self.pending[entity] = (value, time.monotonic())


class Driver:
    def __init__(self, broker: str, provisioning: str, adapter: str, mqtt_port: int,
                 pids: dict[str, int], qos: int) -> None:
        self.broker, self.provisioning, self.adapter = broker, provisioning, adapter
        self.mqtt_port = mqtt_port
        self.pids = pids | {"driver": os.getpid()}
        self.qos = qos
        self.headers = {"NGSILD-Tenant": TENANT,
                        "Link": f'<{CONTEXT}>; rel="http://www.w3.org/ns/json-ld#context"; '
                                'type="application/ld+json"'}

    def cpu(self) -> dict[str, float]:
        return {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    async def provision(self, session: aiohttp.ClientSession, devices: int) -> float:
        scope = {"Fiware-Service": TENANT, "Fiware-ServicePath": "/"}
        group = {
            "apikey": APIKEY, "resource": "/iot/json", "entity_type": TYPE,
            "attributes": [
                {"object_id": "t", "name": "temperature", "type": "Number",
                 "metadata": {"unitCode": {"type": "Text", "value": "CEL"}}},
                {"object_id": "h", "name": "relativeHumidity", "type": "Number"},
            ],
        }
        deadline = time.monotonic() + 30
        while True:  # the adapter's own listeners start after the runtime's health endpoint
            try:
                async with session.get(self.provisioning + "/iot/about") as answer:
                    if answer.status == 200:
                        break
            except aiohttp.ClientConnectionError:
                if time.monotonic() > deadline:
                    raise SystemExit("the provisioning API did not start") from None
            await asyncio.sleep(0.1)
        started = time.perf_counter()
        async with session.post(self.provisioning + "/iot/groups", json={"groups": [group]},
                                headers=scope) as answer:
            assert answer.status == 201, await answer.text()
        for start in range(0, devices, 2000):
            chunk = [{"device_id": device_id(n), "apikey": APIKEY}
                     for n in range(start, min(devices, start + 2000))]
            async with session.post(self.provisioning + "/iot/devices",
                                    json={"devices": chunk}, headers=scope) as answer:
                assert answer.status == 201, await answer.text()
        return time.perf_counter() - started

    async def counters(self, session: aiohttp.ClientSession) -> dict[str, float]:
        async with session.get(self.adapter + "/metrics") as answer:
            text = await answer.text()
        found: dict[str, float] = {}
        for line in text.splitlines():
            if line.startswith("agora_adapter_") and 'adapter="iot-agent"' in line:
                name = line.split("{", 1)[0].removeprefix("agora_adapter_").removesuffix("_total")
                found[name] = float(line.rsplit(" ", 1)[1])
        return found

    async def poll(self, session: aiohttp.ClientSession, probes: Probes, stop: asyncio.Event
                   ) -> None:
        while not (stop.is_set() and not probes.pending):
            await asyncio.sleep(POLL_INTERVAL)
            ids = list(probes.pending)[:500]
            if not ids:
                continue
            params = {"type": TYPE, "id": ",".join(ids), "attrs": "temperature",
                      "options": "keyValues", "limit": "1000"}
            async with session.get(self.broker + "/ngsi-ld/v1/entities", params=params,
                                   headers=self.headers) as answer:
                if answer.status != 200:
                    continue
                found = await answer.json()
            now = time.monotonic()
            for entity in found:
                pending = probes.pending.get(entity["id"])
                if pending is not None and entity.get("temperature") == pending[0]:
                    probes.latencies.append(now - pending[1])
                    del probes.pending[entity["id"]]

    async def sustained(self, devices: int, rate: float, duration: float) -> dict[str, Any]:
        probes = Probes()
        stop = asyncio.Event()
        async with aiohttp.ClientSession() as session, aiomqtt.Client(
            "127.0.0.1", self.mqtt_port, identifier="bench-devices",
            max_inflight_messages=1000,
        ) as client:
            before = await self.counters(session)
            cpu_before = self.cpu()
            poller = asyncio.create_task(self.poll(session, probes, stop))
            loop = asyncio.get_running_loop()
            started = loop.time()
            total = int(rate * duration)
            sent = 0
            while sent < total:
                due = started + sent / rate
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                n = sent % devices
                value = 10.0 + (sent % 1000) / 100
                if sent % PROBE_EVERY == 0:
                    value = 1000.0 + sent
                    probes.sent(entity_id(n), value)
                payload = json.dumps({"t": value, "h": 0.5}).encode()
                await client.publish(f"/json/{APIKEY}/{device_id(n)}/attrs", payload,
                                     qos=self.qos)
                sent += 1
            publish_time = loop.time() - started
            at_end = await self.counters(session)
            stop.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(poller, 30)
            await asyncio.sleep(1.5)  # the adapter's counters catch up with its last batch
            after = await self.counters(session)
            cpu_after = self.cpu()
        delivered = after.get("entities_out", 0) - before.get("entities_out", 0)
        in_window = at_end.get("entities_out", 0) - before.get("entities_out", 0)
        return {
            "messages": total, "publish_s": publish_time,
            "offered_per_s": total / publish_time,
            "entities_out": delivered, "entities_per_s": in_window / publish_time,
            "probes": len(probes.latencies), "unseen_probes": len(probes.pending),
            "p50_ms": percentile(probes.latencies, 0.5) * 1000,
            "p99_ms": percentile(probes.latencies, 0.99) * 1000,
            "dropped": after.get("dropped", 0) - before.get("dropped", 0),
            "errors": after.get("errors", 0) - before.get("errors", 0),
            "cpu_us_per_message": {
                name: (cpu_after[name] - cpu_before[name]) / total * 1e6 for name in cpu_after
            },
        }

    async def burst(self, devices: int, count: int) -> dict[str, Any]:
        marker = 1_000_000.0
        async with aiohttp.ClientSession() as session, aiomqtt.Client(
            "127.0.0.1", self.mqtt_port, identifier="bench-burst", max_inflight_messages=1000,
        ) as client:
            before = await self.counters(session)
            started = time.monotonic()
            for k in range(count):
                payload = json.dumps({"t": marker + k, "h": 0.5}).encode()
                await client.publish(f"/json/{APIKEY}/{device_id(k % devices)}/attrs",
                                     payload, qos=1)
            published = time.monotonic() - started
            want = min(count, devices)
            seen = 0
            deadline = time.monotonic() + 120
            params = {"type": TYPE, "q": f"temperature>={marker}", "count": "true",
                      "limit": "1"}
            while time.monotonic() < deadline:
                async with session.get(self.broker + "/ngsi-ld/v1/entities", params=params,
                                       headers=self.headers) as answer:
                    seen = int(answer.headers.get("NGSILD-Results-Count", "0"))
                if seen >= want:
                    break
                await asyncio.sleep(0.1)
            absorbed = time.monotonic() - started
            await asyncio.sleep(1.5)  # the adapter's counters catch up with its last batch
            after = await self.counters(session)
        return {
            "messages": count, "publish_s": published, "absorbed_s": absorbed,
            "queryable": seen, "expected": want,
            "entities_out": after.get("entities_out", 0) - before.get("entities_out", 0),
            "dropped": after.get("dropped", 0) - before.get("dropped", 0),
            "errors": after.get("errors", 0) - before.get("errors", 0),
        }


def report(provision_s: float, sustained: dict[str, Any], burst: dict[str, Any],
           args: argparse.Namespace) -> str:
    met_rate = sustained["entities_per_s"] >= 5000 * 0.99 and args.rate >= 5000
    met_p99 = sustained["p99_ms"] <= 1000
    met_burst = burst["queryable"] >= burst["expected"] and burst["dropped"] == 0
    lines = [
        f"# iot-agent benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
        f"- {args.devices:,} devices provisioned in {provision_s:.1f} s (one POST "
        f"/iot/devices per 2,000); machine: {os.cpu_count()} CPUs, load average after the run "
        + " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "",
        "| Figure | Measured | Target |",
        "|---|---:|---:|",
        f"| Sustained: offered messages/s | {sustained['offered_per_s']:,.0f} | {args.rate:,.0f} |",
        f"| Sustained: entities/s accepted by the broker while publishing | "
        f"{sustained['entities_per_s']:,.0f} "
        f"| ≥ 5,000 ({'met' if met_rate else 'missed'}) |",
        f"| Publish-to-queryable p50 / p99 ({sustained['probes']} probes) | "
        f"{sustained['p50_ms']:.0f} / {sustained['p99_ms']:.0f} ms | "
        f"p99 ≤ 1,000 ms ({'met' if met_p99 else 'missed'}) |",
        f"| Sustained: delivered of published / dropped / errors / probes never seen | "
        f"{sustained['entities_out']:,.0f} of {sustained['messages']:,} / "
        f"{sustained['dropped']:.0f} / {sustained['errors']:.0f} / "
        f"{sustained['unseen_probes']} | all / 0 / 0 / 0 |",
        f"| Burst of {burst['messages']:,}: published in / all queryable after | "
        f"{burst['publish_s']:.1f} s / {burst['absorbed_s']:.1f} s | — |",
        f"| Burst: queryable / dropped / errors | {burst['queryable']:,} of "
        f"{burst['expected']:,} / {burst['dropped']:.0f} / {burst['errors']:.0f} | "
        f"no loss ({'met' if met_burst else 'missed'}) |",
        "",
        f"Sustained run at MQTT QoS {args.qos} (the burst at QoS 1); CPU per message, µs: "
        + ", ".join(f"{name} {us:.0f}" for name, us in sustained["cpu_us_per_message"].items()),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.iot_agent", description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=14_000)
    parser.add_argument("--rate", type=float, default=5000.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--burst", type=int, default=14_000)
    parser.add_argument("--qos", type=int, default=0, choices=(0, 1, 2),
                        help="QoS of the sustained run (the IoT Agents' default is 0)")
    args = parser.parse_args(argv)
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory(prefix="agora-iot-bench-") as tmp, mosquitto(
        Path(tmp)
    ) as (mqtt_port, mqtt_pid):
        directory = Path(tmp)
        broker_port, provisioning_port, health_port = free_port(), free_port(), free_port()
        config = directory / "adapters.json"
        config.write_text(json.dumps({
            "iot-agent": {
                "mqtt_url": f"mqtt://127.0.0.1:{mqtt_port}", "mqtt_qos": 1,
                "provisioning_host": "127.0.0.1", "provisioning_port": provisioning_port,
                "http_port": 0, "registry": str(directory / "iot-agent.db"),
            },
            "publish": {"batch_size": 100, "flush_interval": 0.2, "max_buffered": 20_000},
        }))
        env = {"AGORA_LOG_LEVEL": "WARNING"}
        broker_cmd = [str(bin_dir / "agora"), "serve", "--host", "127.0.0.1", "--port",
                      str(broker_port), "--store", f"sqlite:///{directory / 'agora.db'}"]
        adapter_cmd = [str(bin_dir / "agora"), "adapters", "run", "iot-agent", "--broker",
                       f"http://127.0.0.1:{broker_port}", "--config", str(config),
                       "--health-port", str(health_port), "--log-level", "WARNING"]
        with serve("agora", broker_cmd, broker_port, env=env, log=directory / "agora.log",
                   cpu=None) as broker, serve(
            "iot-agent", adapter_cmd, health_port, log=directory / "adapter.log", cpu=None
        ) as adapter:
            pids = {"broker": broker.proc.pid, "adapter": adapter.proc.pid,
                    "mosquitto": mqtt_pid}
            driver = Driver(broker.url, f"http://127.0.0.1:{provisioning_port}", adapter.url,
                            mqtt_port, pids, args.qos)

            async def run() -> tuple[float, dict[str, Any], dict[str, Any]]:
                async with aiohttp.ClientSession() as session:
                    provision_s = await driver.provision(session, args.devices)
                sustained = await driver.sustained(args.devices, args.rate, args.duration)
                burst = await driver.burst(args.devices, args.burst)
                return provision_s, sustained, burst

            provision_s, sustained, burst = asyncio.run(run())
        print(report(provision_s, sustained, burst, args))
        print("\nraw:", json.dumps({"sustained": sustained, "burst": burst}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
