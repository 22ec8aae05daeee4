"""An aiohttp server on 127.0.0.1 with its own event loop in a daemon thread, for the suite's
helpers (the @context server, the notification receiver): tests stay synchronous while the
broker talks to it."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Self

from aiohttp import web


class BackgroundServer:
    """Subclasses add their routes in `routes`; `start()` binds a free port, `stop()` ends it."""

    thread_name = "background-server"

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((self.host, 0))
            self.port = int(s.getsockname()[1])
        loop = asyncio.new_event_loop()
        self._loop = loop
        app = web.Application()
        self.routes(app)
        runner = web.AppRunner(app, access_log=None)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, self.host, self.port).start())
        self._runner = runner
        self._thread = threading.Thread(
            target=loop.run_forever, name=self.thread_name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        if self._runner is not None:
            loop.run_until_complete(self._runner.cleanup())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        self._loop = None
