"""A recording NGSI-LD endpoint: what the SDK sent, and answers chosen by the test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.sdk import AdapterContext, AdapterMetrics, PublishSettings


@dataclass
class Request:
    content_type: str
    link: str | None
    tenant: str | None
    query: str
    body: list[dict[str, Any]]

    @property
    def ids(self) -> list[str]:
        return [e["id"] for e in self.body]


@dataclass
class RecordingBroker:
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    answers: list[web.Response] = field(default_factory=list)
    """Answers for the next requests, in order; then 204."""

    @property
    def ids(self) -> list[str]:
        return [i for r in self.requests for i in r.ids]

    async def wait_for_requests(self, count: int, within: float = 5.0) -> list[Request]:
        deadline = time.monotonic() + within
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.requests)} requests arrived, expected {count}")
            await asyncio.sleep(0.01)
        return self.requests


BROKER = web.AppKey("broker", RecordingBroker)


async def _upsert(request: web.Request) -> web.StreamResponse:
    broker: RecordingBroker = request.app[BROKER]
    broker.requests.append(
        Request(
            content_type=request.content_type,
            link=request.headers.get("Link"),
            tenant=request.headers.get("NGSILD-Tenant"),
            query=request.query_string,
            body=orjson.loads(await request.read()),
        )
    )
    if broker.answers:
        return broker.answers.pop(0)
    return web.Response(status=204)


@pytest.fixture
async def recording_broker(
    aiohttp_server: Callable[[web.Application], Awaitable[TestServer]],
) -> RecordingBroker:
    app = web.Application()
    app.router.add_post("/ngsi-ld/v1/entityOperations/upsert", _upsert)
    broker = RecordingBroker()
    app[BROKER] = broker
    server = await aiohttp_server(app)
    broker.url = str(server.make_url("")).rstrip("/")
    return broker


@pytest.fixture
def make_context() -> Callable[..., AdapterContext]:
    def make(url: str, **settings: Any) -> AdapterContext:
        values: dict[str, Any] = {"retry_initial": 0.02, "retry_max": 0.1, "close_timeout": 2.0}
        return AdapterContext(
            "test", url, settings=PublishSettings(**(values | settings)), metrics=AdapterMetrics()
        )

    return make


def entity(n: int, **attrs: Any) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:Thing:{n}",
        "type": "Thing",
        **{k: {"type": "Property", "value": v} for k, v in attrs.items()},
    }


def problem(status: int) -> web.Response:
    return web.json_response({"type": "x", "title": "down", "status": status}, status=status)
