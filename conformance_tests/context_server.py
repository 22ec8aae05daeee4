"""A tiny @context server on 127.0.0.1, run by the suite in a background thread (aiohttp).

Tests publish JSON-LD documents under a path, hand the URL to the broker (Link header or inline
`@context`), and can change a document later or count how often the broker fetched it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from typing import Any

from aiohttp import web


class ContextServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self.documents: dict[str, tuple[int, bytes, str]] = {}
        self.hits: dict[str, int] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def publish(
        self,
        path: str,
        document: Any,
        *,
        status: int = 200,
        content_type: str = "application/ld+json",
    ) -> str:
        """Serve `document` (JSON-serialised unless bytes) at `path`; returns its URL."""
        if not path.startswith("/"):
            path = "/" + path
        raw = document if isinstance(document, bytes) else json.dumps(document).encode()
        with self._lock:
            self.documents[path] = (status, raw, content_type)
        return self.base_url + path

    def hit_count(self, path: str) -> int:
        if not path.startswith("/"):
            path = "/" + path
        with self._lock:
            return self.hits.get(path, 0)

    async def _handle(self, request: web.Request) -> web.Response:
        with self._lock:
            self.hits[request.path] = self.hits.get(request.path, 0) + 1
            found = self.documents.get(request.path)
        if found is None:
            return web.Response(status=404, text="no such context")
        status, raw, content_type = found
        return web.Response(status=status, body=raw, content_type=content_type)

    def start(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((self.host, 0))
            self.port = int(s.getsockname()[1])
        loop = asyncio.new_event_loop()
        self._loop = loop
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, self.host, self.port)
        loop.run_until_complete(site.start())
        self._runner = runner
        self._thread = threading.Thread(target=loop.run_forever, name="context-server", daemon=True)
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
