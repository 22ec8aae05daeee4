"""`AdapterRuntime`: start a set of adapters against one broker, report their health, stop
them gracefully (stop the adapter, then flush what it published)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from adapters.sdk.config import load_config
from adapters.sdk.context import AdapterContext
from adapters.sdk.contract import Adapter, AdapterPlugin
from adapters.sdk.metrics import AdapterMetrics
from adapters.sdk.publisher import PublishSettings
from adapters.sdk.registry import Discovery

STOP_TIMEOUT = 10.0
log = logging.getLogger("agora.adapters.runtime")

State = Literal["configured", "running", "failed", "stopped"]


@dataclass(slots=True)
class RunningAdapter:
    plugin: AdapterPlugin[Any]
    adapter: Adapter
    ctx: AdapterContext
    state: State = "configured"
    error: str | None = None

    def health(self) -> dict[str, Any]:
        report: dict[str, Any] = {"state": self.state, "version": self.plugin.manifest.version}
        if self.error:
            report["error"] = self.error
        return report | self.ctx.counters.snapshot()


@dataclass(slots=True)
class AdapterRuntime:
    broker_url: str
    metrics: AdapterMetrics = field(default_factory=AdapterMetrics)
    adapters: dict[str, RunningAdapter] = field(default_factory=dict)

    @classmethod
    def configure(
        cls,
        discovery: Discovery,
        names: list[str],
        broker_url: str,
        config: Mapping[str, Any] | None = None,
        metrics: AdapterMetrics | None = None,
    ) -> AdapterRuntime:
        """Look the adapters up and validate their configuration before anything starts
        (raises UnknownAdapter, BrokenAdapter or ConfigError). `config` maps adapter names
        to their configuration; its `publish` member holds `PublishSettings` for all."""
        config = config or {}
        settings = load_config(PublishSettings, config.get("publish"))
        runtime = cls(broker_url, metrics or AdapterMetrics())
        for name in names:
            plugin = discovery.get(name)
            adapter = plugin.create(config.get(name))
            ctx = AdapterContext(name, broker_url, settings=settings, metrics=runtime.metrics)
            runtime.adapters[name] = RunningAdapter(plugin, adapter, ctx)
        return runtime

    async def start(self) -> None:
        """Start each adapter; one that fails to start is reported, the others run."""
        for name, running in self.adapters.items():
            running.ctx.start()
            try:
                await running.adapter.start(running.ctx)
            except Exception as exc:
                running.state, running.error = "failed", f"{type(exc).__name__}: {exc}"
                running.ctx.counters.errors.inc()
                log.exception("adapter '%s' failed to start", name)
                continue
            running.state = "running"
            log.info("adapter '%s' publishing to %s", name, self.broker_url)

    async def stop(self) -> None:
        await asyncio.gather(*(self._stop_one(n, r) for n, r in self.adapters.items()))

    async def _stop_one(self, name: str, running: RunningAdapter) -> None:
        if running.state == "running":
            try:
                await asyncio.wait_for(running.adapter.stop(), STOP_TIMEOUT)
            except Exception:
                log.exception("adapter '%s' did not stop cleanly", name)
            running.state = "stopped"
        await running.ctx.close()

    def health(self) -> tuple[bool, dict[str, Any]]:
        healthy = all(r.state in ("running", "configured") for r in self.adapters.values())
        return healthy, {
            "status": "ok" if healthy else "failing",
            "broker": self.broker_url,
            "adapters": {name: r.health() for name, r in self.adapters.items()},
        }
