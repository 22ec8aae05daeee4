"""An aiohttp server on 127.0.0.1 with its own event loop in a daemon thread, for the suite's
helpers (the @context server, the notification receiver): tests stay synchronous while the
broker talks to it."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from typing import Self

from aiohttp import web


class BackgroundServer:
    """Subclasses add their routes in `routes`; `start()` binds a free port, `stop()` ends it.
    With an `ssl_context` it serves HTTPS."""

    thread_name = "background-server"

    def __init__(self, host: str = "127.0.0.1", ssl_context: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.ssl_context = ssl_context
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def scheme(self) -> str:
        return "http" if self.ssl_context is None else "https"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

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
        self._runner = web.AppRunner(app, access_log=None)
        self._thread = threading.Thread(
            target=loop.run_forever, name=self.thread_name, daemon=True
        )
        self._thread.start()
        # set up on the server's own thread: the caller may be running an event loop
        asyncio.run_coroutine_threadsafe(self._serve(self._runner), loop).result(10)

    async def _serve(self, runner: web.AppRunner) -> None:
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, ssl_context=self.ssl_context)
        await site.start()

    async def _shut(self, runner: web.AppRunner) -> None:
        server = runner.server
        open_transports = [h.transport for h in server.connections] if server else []
        await runner.cleanup()
        # A TLS connection's close waits for the peer's close_notify, which this loop
        # would not live to see: end what is left, and let the sockets close.
        for transport in open_transports:
            if transport is not None:
                transport.abort()
        await asyncio.sleep(0)
        await asyncio.get_running_loop().shutdown_asyncgens()

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._shut(self._runner), loop).result(30)
            self._runner = None
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        loop.close()
        self._loop = None
