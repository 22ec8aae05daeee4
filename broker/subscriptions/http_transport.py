"""Notifications over HTTP(S) (clause 6.3.x binding): a POST of the Notification through the
notification client (http_client.py), whose keep-alive connections are pooled per origin.

The client has no overall connection limit, so a receiver that holds connections open
cannot starve the rest (the notifier bounds each endpoint's concurrency). Unless
`allow_private_urls`, an endpoint host that resolves to a private, loopback or link-local
address is refused at connection time too, so DNS cannot be re-pointed after the check at
subscription time.
"""

from __future__ import annotations

import logging
import ssl
from typing import Any
from urllib.parse import urlsplit

from broker.netguard import UrlNotAllowed
from broker.subscriptions.http_client import HttpClientError, NotificationHttpClient
from broker.subscriptions.notification import Outbound

log = logging.getLogger(__name__)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


class HttpTransport:
    def __init__(self, *, allow_private: bool, tls: ssl.SSLContext | None = None) -> None:
        self._allow_private = allow_private
        self._tls = tls
        self._client: NotificationHttpClient | None = None

    def queue_key(self, endpoint: dict[str, Any]) -> str:
        return origin_of(endpoint["uri"])

    async def start(self) -> None:
        self._client = NotificationHttpClient(allow_private=self._allow_private, tls=self._tls)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def send(self, outbound: Outbound, endpoint: dict[str, Any], seconds: float) -> bool:
        client = self._client
        if client is None:
            return False
        try:
            status = await client.post(outbound.url, outbound.body, outbound.headers, seconds)
        except (HttpClientError, OSError, TimeoutError, UrlNotAllowed) as exc:
            log.info("notification to %s failed: %r", outbound.url, exc)
            return False
        if 200 <= status < 300:
            return True
        log.info("notification to %s answered %s", outbound.url, status)
        return False
