"""The adapter test kit: a pytest plugin (entry point `pytest11`, loaded wherever Agora is
installed).

Fixtures:
- `agora_broker`: an Agora broker (`agora serve` on a free loopback port, a temporary SQLite
  store) for the test session; `agora_broker_factory()` gives a fresh, not yet started one
  (start it late to test retries).
- `agora_tenant`: a tenant name of the test's own, so tests sharing a broker do not see
  each other's entities.

Helpers: `run_adapter(plugin, config, broker_url)` runs an adapter the way the runtime does;
`replay(adapter, path)` feeds recorded protocol messages into an adapter's `handle_message`;
`AgoraBroker.entities / entity / wait_for_entities` read back what arrived.

Only subprocesses and HTTP: nothing here imports the broker's code.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.sdk.context import AdapterContext, JsonLdContext
from adapters.sdk.contract import Adapter, AdapterPlugin, MessageHandler
from adapters.sdk.metrics import AdapterMetrics
from adapters.sdk.publisher import PublishSettings

ENTITIES_PATH = "/ngsi-ld/v1/entities"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def agora_command() -> str:
    candidate = Path(sys.executable).with_name("agora")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("agora")
    if not found:
        raise RuntimeError("the `agora` command is not installed")
    return found


class AgoraBroker:
    """`agora serve` on a free loopback port with a temporary SQLite store."""

    def __init__(self, directory: Path, extra_args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.store = f"sqlite:///{directory / f'agora-{self.port}.db'}"
        self.extra_args = extra_args
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> None:
        cmd = [agora_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--store", self.store, "--log-level", "WARNING", *self.extra_args]
        self.proc = subprocess.Popen(cmd)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"agora serve exited early with code {self.proc.returncode}")
            with contextlib.suppress(OSError), urllib.request.urlopen(
                self.url + "/health", timeout=1
            ) as answer:
                if answer.status == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"agora serve did not become healthy within {timeout}s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    async def entities(
        self, *, type: str, tenant: str | None = None, context: str | None = None
    ) -> list[dict[str, Any]]:
        """Every entity of `type` (an expanded IRI, or a term of `context`, a URL); none
        while the tenant does not exist yet."""
        params = {"type": type, "limit": "1000"}
        try:
            return list(await self._get(ENTITIES_PATH, params, tenant, context))
        except LookupError:
            return []

    async def entity(
        self, entity_id: str, *, tenant: str | None = None, context: str | None = None
    ) -> dict[str, Any] | None:
        from urllib.parse import quote

        try:
            found: dict[str, Any] = await self._get(
                f"{ENTITIES_PATH}/{quote(entity_id, safe='')}", {}, tenant, context
            )
        except LookupError:
            return None
        return found

    async def wait_for_entities(
        self,
        count: int,
        *,
        type: str,
        tenant: str | None = None,
        context: str | None = None,
        within: float = 10.0,
    ) -> list[dict[str, Any]]:
        """Poll until at least `count` entities of `type` exist; fail after `within` s."""
        deadline = time.monotonic() + within
        found: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            found = await self.entities(type=type, tenant=tenant, context=context)
            if len(found) >= count:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"{len(found)} entities of {type} arrived, expected {count}")

    async def _get(
        self, path: str, params: Mapping[str, str], tenant: str | None, context: str | None
    ) -> Any:
        headers = {"Accept": "application/json"}
        if tenant:
            headers["NGSILD-Tenant"] = tenant
        if context:
            headers["Link"] = f'<{context}>; rel="http://www.w3.org/ns/json-ld#context"'
        async with aiohttp.ClientSession() as http, http.get(
            self.url + path, params=params, headers=headers
        ) as answer:
            if answer.status == 404:
                raise LookupError(path)
            answer.raise_for_status()
            return await answer.json()


@contextlib.asynccontextmanager
async def run_adapter(
    plugin: AdapterPlugin[Any],
    config: Mapping[str, Any] | None,
    broker_url: str,
    *,
    settings: PublishSettings | None = None,
    default_context: JsonLdContext | None = None,
    metrics: AdapterMetrics | None = None,
) -> AsyncIterator[tuple[Adapter, AdapterContext]]:
    """Run one adapter against `broker_url` as the runtime does: validate the configuration,
    start the context and the adapter; on exit stop the adapter and flush."""
    adapter = plugin.create(config)
    ctx = AdapterContext(
        plugin.name, broker_url, settings=settings, default_context=default_context,
        metrics=metrics,
    )
    ctx.start()
    try:
        await adapter.start(ctx)
        try:
            yield adapter, ctx
        finally:
            await adapter.stop()
    finally:
        await ctx.close()


def recorded_payloads(path: str | Path) -> list[bytes]:
    """The messages in a recording: one per line of a `.jsonl` file, else the whole file."""
    path = Path(path)
    data = path.read_bytes()
    if path.suffix == ".jsonl":
        return [line for line in data.splitlines() if line.strip()]
    return [data]


async def replay(adapter: Adapter, path: str | Path, topic: str | None = None) -> int:
    """Feed a recording into the adapter's `handle_message`; returns the message count."""
    if not isinstance(adapter, MessageHandler):
        raise TypeError(f"{type(adapter).__name__} has no handle_message(payload, topic)")
    payloads = recorded_payloads(path)
    for payload in payloads:
        await adapter.handle_message(payload, topic)
    return len(payloads)


@pytest.fixture(scope="session")
def agora_broker() -> Iterator[AgoraBroker]:
    with tempfile.TemporaryDirectory(prefix="agora-kit-") as tmp:
        broker = AgoraBroker(Path(tmp))
        broker.start()
        try:
            yield broker
        finally:
            broker.stop()


@pytest.fixture
def agora_broker_factory(tmp_path: Path) -> Iterator[Callable[[], AgoraBroker]]:
    made: list[AgoraBroker] = []

    def make() -> AgoraBroker:
        broker = AgoraBroker(tmp_path)
        made.append(broker)
        return broker

    yield make
    for broker in made:
        broker.stop()


@pytest.fixture
def agora_tenant() -> str:
    return f"t{uuid.uuid4().hex[:12]}"
