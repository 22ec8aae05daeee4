"""The runtime's own small HTTP endpoint: `/health` (JSON per adapter) and `/metrics`."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from adapters.runtime.runner import AdapterRuntime

RUNTIME = web.AppKey("runtime", AdapterRuntime)


async def health(request: web.Request) -> web.Response:
    healthy, report = request.app[RUNTIME].health()
    return web.json_response(report, status=200 if healthy else 503)


async def metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[RUNTIME].metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def add_routes(app: web.Application, runtime: AdapterRuntime, prefix: str = "") -> None:
    """Mount `{prefix}/health` and `{prefix}/metrics` on `app`."""
    app[RUNTIME] = runtime
    app.router.add_get(f"{prefix}/health", health)
    app.router.add_get(f"{prefix}/metrics", metrics)


def health_app(runtime: AdapterRuntime) -> web.Application:
    app = web.Application()
    add_routes(app, runtime)
    return app
