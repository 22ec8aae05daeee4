"""`agora adapters list` and `agora adapters run NAME... --broker URL [--config FILE]`."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TextIO

from aiohttp import web

from adapters.runtime.http import health_app
from adapters.runtime.runner import AdapterRuntime
from adapters.sdk.config import ConfigError, read_config_file
from adapters.sdk.registry import BrokenAdapter, UnknownAdapter, discover

log = logging.getLogger("agora.adapters.runtime")


def list_command(as_json: bool = False, out: TextIO | None = None) -> int:
    """The installed adapters and their manifests; broken ones with the reason (exit 1)."""
    out = out or sys.stdout
    found = discover()
    if as_json:
        out.write(json.dumps({
            "adapters": [p.manifest.to_json() for _, p in sorted(found.plugins.items())],
            "broken": found.broken,
        }, indent=2) + "\n")
    else:
        for name, plugin in sorted(found.plugins.items()):
            m = plugin.manifest
            out.write(f"{name} {m.version}  {m.description}\n")
            out.write(f"  protocols: {', '.join(m.protocols) or '-'}\n")
            out.write(f"  entity types: {', '.join(m.entity_types) or '-'}\n")
            out.write(f"  owners: {', '.join(m.owners) or '-'}\n")
            options = ", ".join(m.config_schema.get("properties", {}))
            out.write(f"  config: {options or '-'}\n")
        for name, reason in sorted(found.broken.items()):
            out.write(f"{name} BROKEN: {reason}\n")
    return 1 if found.broken else 0


def configure_runtime(
    names: list[str], broker_url: str, config_path: str | None
) -> AdapterRuntime:
    """Raises UnknownAdapter, BrokenAdapter or ConfigError (each says what is wrong)."""
    config: dict[str, Any] = read_config_file(config_path) if config_path else {}
    for name in names:
        if name in config and not isinstance(config[name], dict):
            raise ConfigError(name, "the configuration of an adapter must be a table/object")
    return AdapterRuntime.configure(discover(), names, broker_url, config)


@asynccontextmanager
async def running(runtime: AdapterRuntime) -> AsyncIterator[AdapterRuntime]:
    """Adapters started on entry; on exit stopped and flushed."""
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


def run_command(
    names: list[str],
    broker_url: str,
    config_path: str | None = None,
    host: str = "127.0.0.1",
    port: int = 9464,
) -> int:
    try:
        runtime = configure_runtime(names, broker_url, config_path)
    except (UnknownAdapter, BrokenAdapter, ConfigError) as exc:
        print(f"agora: {exc}", file=sys.stderr)
        return 2
    asyncio.run(_run(runtime, host, port))
    return 0


async def _run(runtime: AdapterRuntime, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    endpoint = web.AppRunner(health_app(runtime), access_log=None)
    await endpoint.setup()
    await web.TCPSite(endpoint, host, port).start()
    log.info("adapters health and metrics on http://%s:%s/health, /metrics", host, port)
    try:
        async with running(runtime):
            await stop.wait()
            log.info("stopping adapters")
    finally:
        await endpoint.cleanup()
