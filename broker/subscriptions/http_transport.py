"""Notifications over HTTP(S) (clause 6.3.x binding): a POST of the Notification, through one
client session shared by every endpoint.

The session has no overall connection limit, so a receiver that holds connections open
cannot starve the rest (the notifier bounds each endpoint's concurrency). Requests go
through the guarded connector (broker.netguard): unless `allow_private_urls`, an endpoint
host that resolves to a private, loopback or link-local address is refused at connection
time too, so DNS cannot be re-pointed after the check at subscription time.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from broker.netguard import guarded_connector
from broker.subscriptions.notification import Outbound

log = logging.getLogger(__name__)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


class HttpTransport:
    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._session: aiohttp.ClientSession | None = None

    def queue_key(self, endpoint: dict[str, Any]) -> str:
        return origin_of(endpoint["uri"])

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            connector=guarded_connector(allow_private=self._allow_private, limit=0),
            trust_env=False,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, outbound: Outbound, endpoint: dict[str, Any], seconds: float) -> bool:
        session = self._session
        if session is None:
            return False
        try:
            async with session.post(
                outbound.url,
                data=outbound.body,
                headers=outbound.headers,
                timeout=aiohttp.ClientTimeout(total=seconds),
                allow_redirects=False,
            ) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return True
                log.info("notification to %s answered %s", outbound.url, response.status)
                return False
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.info("notification to %s failed: %r", outbound.url, exc)
            return False
