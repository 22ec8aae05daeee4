"""Fixtures for the subscription tests: a user @context, a real HTTP receiver on a free
loopback port, and a broker application on an in-memory SQLite store."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from broker.app import create_app
from broker.jsonld import ContextResolver, TermMap
from broker.settings import Settings

EX = "https://example.org/"
USER_CONTEXT = {
    "ex": EX,
    "Vehicle": "ex:Vehicle",
    "Car": "ex:Car",
    "speed": "ex:speed",
    "name": "ex:name",
    "owner": "ex:owner",
    "brand": "ex:brand",
}


@pytest.fixture
async def terms() -> TermMap:
    return await ContextResolver(Settings()).resolve(USER_CONTEXT)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any
    at: float


@dataclass
class Receiver:
    """Records every POST; `status` and `delay` (seconds) shape its answers per path."""

    base: str = ""
    received: list[Received] = field(default_factory=list)
    status: dict[str, int] = field(default_factory=dict)
    delay: dict[str, float] = field(default_factory=dict)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str = "/notify") -> str:
        return self.base + path

    async def handle(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        self.received.append(
            Received(request.path, dict(request.headers), body, asyncio.get_running_loop().time())
        )
        self.arrived.set()
        delay = self.delay.get(request.path, 0.0)
        if delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.release.wait(), delay)
        return web.Response(status=self.status.get(request.path, 200))

    def at(self, path: str = "/notify") -> list[Received]:
        return [r for r in self.received if r.path == path]

    async def wait_for(
        self, count: int, path: str = "/notify", within: float = 5.0
    ) -> list[Received]:
        async def enough() -> None:
            while len(self.at(path)) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(enough(), within)
        return self.at(path)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", rec.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    rec.base = f"http://127.0.0.1:{server.port}"
    yield rec
    rec.release.set()
    await server.close()


BrokerFactory = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


@pytest.fixture
async def open_broker() -> AsyncIterator[BrokerFactory]:
    """Start a broker application (in-memory SQLite unless `store` says otherwise)."""
    clients: list[TestClient[web.Request, web.Application]] = []

    async def open_one(**overrides: Any) -> TestClient[web.Request, web.Application]:
        values: dict[str, Any] = {
            "store": "sqlite://:memory:",
            "allow_private_urls": True,
            "notification_retries": 0,
            "notification_retry_backoff": 0.01,
            "subscription_stats_flush_interval": 0.05,
        }
        values.update(overrides)
        client = TestClient(TestServer(create_app(Settings(**values))))
        await client.start_server()
        clients.append(client)
        return client

    yield open_one
    for client in clients:
        await client.close()


@pytest.fixture
async def broker(open_broker: BrokerFactory) -> TestClient[web.Request, web.Application]:
    return await open_broker()
