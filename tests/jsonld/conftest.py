"""Fixtures for the jsonld tests: a context server on 127.0.0.1 and resolvers that reach it."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from jsonld_support import Clock, ContextServer, MakeResolver

from broker.jsonld import ContextResolver
from broker.jsonld.fetch import ContextFetcher
from broker.settings import Settings


@pytest.fixture
async def context_server() -> AsyncIterator[ContextServer]:
    server = ContextServer()
    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", server.handle)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    server.base = str(test_server.make_url("")).rstrip("/")
    yield server
    await test_server.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def make_resolver(clock: Clock) -> AsyncIterator[MakeResolver]:
    """Resolvers that may reach 127.0.0.1 (`allow_private_urls=True` unless overridden)."""
    made: list[ContextResolver] = []

    async def make(persistence: Any = None, **overrides: Any) -> ContextResolver:
        options: dict[str, Any] = {"allow_private_urls": True, "context_fetch_timeout": 2.0}
        options.update(overrides)
        resolver = ContextResolver(Settings(**options), persistence, clock=clock)
        await resolver.start()
        made.append(resolver)
        return resolver

    yield make
    for resolver in made:
        await resolver.close()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a socket or resolve a name fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


@pytest.fixture
def no_fetch(monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(self: ContextFetcher, url: str) -> Any:
        raise AssertionError(f"{url} was fetched; it must be answered without a fetch")

    monkeypatch.setattr(ContextFetcher, "fetch", refuse)
