"""A notification receiver on 127.0.0.1, run by the suite in a background thread (aiohttp).

Each test takes its own path (`receiver.endpoint()`), hands the URL to the broker as a
subscription endpoint, and waits for what arrives there. `answer(path, status)` makes the
path answer with an error status. Given an `ssl_context` it is an HTTPS receiver.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from conformance_tests.background_server import BackgroundServer


@dataclass(frozen=True)
class Notification:
    headers: dict[str, str]
    body: Any

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


class NotificationReceiver(BackgroundServer):
    thread_name = "receiver"

    def __init__(self, host: str = "127.0.0.1", ssl_context: ssl.SSLContext | None = None) -> None:
        super().__init__(host, ssl_context)
        self._received: dict[str, list[Notification]] = {}
        self._status: dict[str, int] = {}
        self._cond = threading.Condition()

    def endpoint(self, host: str | None = None) -> str:
        """The URL of a fresh path, so that tests never see each other's notifications
        (`host`: another name of this server's address, e.g. localhost)."""
        return f"{self.scheme}://{host or self.host}:{self.port}/notify/{uuid.uuid4().hex}"

    def answer(self, url: str, status: int) -> None:
        with self._cond:
            self._status[_path(url)] = status

    def received(self, url: str) -> list[Notification]:
        with self._cond:
            return list(self._received.get(_path(url), []))

    def wait_for(self, url: str, count: int = 1, within: float = 10.0) -> list[Notification]:
        """The first `count` notifications at `url`; fails when fewer arrive in time."""
        path = _path(url)
        deadline = time.monotonic() + within
        with self._cond:
            while len(self._received.get(path, [])) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    got = len(self._received.get(path, []))
                    raise AssertionError(f"{got} of {count} notifications arrived at {url}")
                self._cond.wait(left)
            return list(self._received[path])

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        note = Notification(dict(request.headers), json.loads(raw) if raw else None)
        with self._cond:
            self._received.setdefault(request.path, []).append(note)
            status = self._status.get(request.path, 200)
            self._cond.notify_all()
        return web.Response(status=status)

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/{tail:.*}", self._handle)


def _path(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return "/" + rest.split("/", 1)[1] if "/" in rest else "/"
