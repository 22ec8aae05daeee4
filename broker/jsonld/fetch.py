"""Fetching remote @context documents: bounded in time and size, guarded against SSRF.

Every failure becomes LdContextNotAvailable (503) with a detail naming the URL and the
reason. Redirects are followed by hand (at most MAX_REDIRECTS) so each hop passes the
address guard; the session ignores proxy environment variables for the same reason.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urljoin

import aiohttp
import orjson

from broker.errors import LdContextNotAvailable
from broker.netguard import UrlNotAllowed, check_public_url, guarded_connector
from broker.settings import Settings

MAX_REDIRECTS = 3
ACCEPT = "application/ld+json, application/json;q=0.9, */*;q=0.1"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# JSON media types, plus the generic ones static servers use for JSON they do not know:
# raw.githubusercontent.com (home of many published contexts, Smart Data Models among them)
# serves text/plain, and common web servers have no mapping for `.jsonld`.
_JSON_TYPES = frozenset(
    {"application/ld+json", "application/json", "text/plain", "application/octet-stream"}
)


def unavailable(url: str, reason: str) -> LdContextNotAvailable:
    return LdContextNotAvailable(f"@context {url} could not be retrieved: {reason}")


class ContextFetcher:
    def __init__(self, settings: Settings) -> None:
        self._timeout = settings.context_fetch_timeout
        self._max_bytes = settings.context_max_bytes
        self._allow_private = settings.allow_private_urls
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=guarded_connector(allow_private=self._allow_private),
                trust_env=False,
                timeout=aiohttp.ClientTimeout(total=None),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(self, url: str) -> Any:
        """The parsed JSON at `url`; LdContextNotAvailable on any failure."""
        try:
            async with asyncio.timeout(self._timeout):
                body = await self._get(url)
        except TimeoutError:
            raise unavailable(url, f"no complete answer within {self._timeout:g} s") from None
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise unavailable(url, "the response is not JSON") from None

    async def _get(self, url: str) -> bytes:
        session = self._client()
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            try:
                await check_public_url(current, allow_private=self._allow_private)
                async with session.get(
                    current, allow_redirects=False, headers={"Accept": ACCEPT}
                ) as response:
                    if response.status in _REDIRECTS:
                        location = response.headers.get("Location")
                        if not location:
                            raise unavailable(url, f"HTTP {response.status} without a Location")
                        current = urljoin(current, location)
                        continue
                    if response.status != 200:
                        raise unavailable(url, f"HTTP status {response.status}")
                    media_type = response.content_type.lower()
                    if media_type not in _JSON_TYPES and not media_type.endswith("+json"):
                        raise unavailable(url, f"content type {media_type} is not JSON")
                    return await self._read(url, response)
            except UrlNotAllowed as exc:
                raise unavailable(url, str(exc)) from None
            except aiohttp.ClientError as exc:
                raise unavailable(url, f"{type(exc).__name__}: {exc}") from None
            except OSError as exc:  # DNS failure in check_public_url, refused connection
                raise unavailable(url, f"{type(exc).__name__}: {exc}") from None
        raise unavailable(url, f"more than {MAX_REDIRECTS} redirects")

    async def _read(self, url: str, response: aiohttp.ClientResponse) -> bytes:
        too_large = unavailable(url, f"the document is larger than {self._max_bytes} bytes")
        length = response.content_length
        if length is not None and length > self._max_bytes:
            raise too_large
        body = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            body += chunk
            if len(body) > self._max_bytes:
                raise too_large
        return bytes(body)
