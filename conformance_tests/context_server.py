"""A tiny @context server on 127.0.0.1, run by the suite in a background thread (aiohttp).

Tests publish JSON-LD documents under a path, hand the URL to the broker (Link header or inline
`@context`), and can change a document later or count how often the broker fetched it.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from aiohttp import web

from conformance_tests.background_server import BackgroundServer


class ContextServer(BackgroundServer):
    thread_name = "context-server"

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(host)
        self.documents: dict[str, tuple[int, bytes, str]] = {}
        self.hits: dict[str, int] = {}
        self._lock = threading.Lock()

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

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/{tail:.*}", self._handle)
