"""Helpers for the jsonld tests: a local context server and a hand-moved clock."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from broker.jsonld import ContextResolver


@dataclass
class Route:
    body: bytes
    status: int = 200
    content_type: str = "application/ld+json"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


class ContextServer:
    """Serves whatever was published, counting hits per path."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.base = ""

    def publish(
        self,
        path: str,
        document: Any = None,
        *,
        body: bytes | None = None,
        status: int = 200,
        content_type: str = "application/ld+json",
        delay: float = 0.0,
        headers: dict[str, str] | None = None,
    ) -> str:
        raw = body if body is not None else orjson.dumps(document)
        self.routes[path] = Route(raw, status, content_type, delay, dict(headers or {}))
        return self.url(path)

    def url(self, path: str) -> str:
        return self.base + path

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.hits[request.path] += 1
        route = self.routes.get(request.path)
        if route is None:
            return web.Response(status=404)
        if route.delay:
            await asyncio.sleep(route.delay)
        return web.Response(
            body=route.body,
            status=route.status,
            headers={"Content-Type": route.content_type, **route.headers},
        )


class FakePersistence:
    """A ContextPersistence in a dict (`saved`: id -> record)."""

    def __init__(self) -> None:
        self.saved: dict[str, dict[str, Any]] = {}

    async def save_context(self, record: dict[str, Any]) -> None:
        self.saved[record["id"]] = record

    async def load_contexts(self) -> list[dict[str, Any]]:
        return list(self.saved.values())

    async def delete_context(self, id: str) -> bool:
        return self.saved.pop(id, None) is not None


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


MakeResolver = Callable[..., Awaitable[ContextResolver]]
