"""Operational endpoints: /health, /metrics, /version."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from broker import __version__
from broker.api.http import json_response
from broker.api.state import STATE


async def health(request: web.Request) -> web.Response:
    state = request.app[STATE]
    ok = await state.store.ping()
    body = {"status": "ok" if ok else "unavailable", "store": state.store_kind}
    return json_response(body, status=200 if ok else 503)


async def metrics(request: web.Request) -> web.Response:
    state = request.app[STATE]
    for tenant in await state.store.list_tenants():
        count = await state.store.count_entities(tenant)
        state.metrics.entities.labels(tenant or "default").set(count)
    body = generate_latest(state.metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def version(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return json_response({"agora": __version__, "store": state.store_kind})
