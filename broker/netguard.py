"""Refuse outbound requests to addresses a user should not be able to reach through the broker.

The broker fetches URLs that requests name: remote @context documents and notification
endpoints. Without a guard, a client could make the broker read its own admin ports,
cloud metadata (169.254.169.254) or anything else on the private network (SSRF).

What is covered:

- `check_public_url` accepts only http/https URLs (or the schemes a caller names: the
  notifier also takes mqtt/mqtts) with a host, resolves the host with the
  event loop's `getaddrinfo` and refuses the URL if *any* address is not publicly routable:
  private, loopback, link-local, shared (100.64/10), reserved, multicast, unspecified, and
  IPv6 forms that embed such an IPv4 address (IPv4-mapped, 6to4, NAT64 64:ff9b::/96, Teredo).
  IP literals are checked without DNS; legacy numeric forms (``2130706433``, ``127.1``) go
  through `getaddrinfo`, which turns them into the address they mean.
- `PublicOnlyResolver` / `guarded_connector` close the DNS-rebinding window between the check
  and the connection: the connector resolves through the same rule, so the addresses the
  socket connects to are the checked ones, whatever the DNS answers the second time.
- `public_address` resolves a host by the same rule and gives the address to connect to, for
  clients that do not go through aiohttp (the MQTT notifier connects to that address, so the
  same holds for plain MQTT; over TLS it connects by name, for the certificate check).
- Redirects are not followed by the connector; a caller that follows them must check every
  hop with `check_public_url` (the context fetcher does).

What is not covered:

- HTTP proxies: a proxy resolves names itself. Sessions that use the guarded connector must
  be created with ``trust_env=False`` so proxy environment variables are ignored.
- Requests made by other code through other sessions or connectors.
- Internal services reachable at public addresses (hairpin NAT, public IPs of your own hosts):
  those need a network policy, not a library check.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from aiohttp import TCPConnector, ThreadedResolver
from aiohttp.abc import AbstractResolver, ResolveResult

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443, "mqtt": 1883, "mqtts": 8883}

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")


class UrlNotAllowed(ValueError):
    """The URL may not be fetched: wrong scheme, no host, or a non-public address."""


def address_refusal(address: IPAddress) -> str | None:
    """Why `address` must not be contacted, or None when it is a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            reason = address_refusal(embedded)
            return None if reason is None else f"{reason} (embedded in {address})"
    if address.is_unspecified:
        return f"{address} is unspecified"
    if address.is_loopback:
        return f"{address} is a loopback address"
    if address.is_link_local:
        return f"{address} is link-local"
    if address.is_multicast:
        return f"{address} is multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return f"{address} is in the shared address space"
    if address.is_private:
        return f"{address} is a private address"
    if address.is_reserved:
        return f"{address} is reserved"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return f"{address} is site-local"
    if not address.is_global:
        return f"{address} is not publicly routable"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _split(url: str, schemes: frozenset[str]) -> tuple[str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlNotAllowed(f"{url!r} is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        raise UrlNotAllowed(f"{url!r}: only {' and '.join(sorted(schemes))} URLs may be used")
    if not parts.hostname:
        raise UrlNotAllowed(f"{url!r} has no host")
    if port is None:
        port = DEFAULT_PORTS.get(scheme, 80)
    return parts.hostname, port


async def check_public_url(
    url: str, *, allow_private: bool, schemes: frozenset[str] = ALLOWED_SCHEMES
) -> None:
    """Raise `UrlNotAllowed` unless `url` has one of `schemes` (http, https) and every address
    of its host is public.

    With `allow_private` only the scheme and host are checked (no DNS lookup). A host that
    does not resolve raises `OSError` (`socket.gaierror`) from `getaddrinfo`, so callers can
    tell a policy refusal from a lookup failure.
    """
    host, port = _split(url, schemes)
    if allow_private:
        return
    await public_address(host, port)


async def public_address(host: str, port: int) -> str:
    """The address to connect to for `host`: raise `UrlNotAllowed` when any of its addresses
    is not public (`OSError` when it does not resolve)."""
    url = f"{host}:{port}"
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        reason = address_refusal(literal)
        if reason is not None:
            raise UrlNotAllowed(f"{url!r} is not allowed: {reason}")
        return host
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if not infos:
        raise UrlNotAllowed(f"{url!r}: {host} has no address")
    for info in infos:
        reason = address_refusal(ipaddress.ip_address(_strip_scope(str(info[4][0]))))
        if reason is not None:
            raise UrlNotAllowed(f"{url!r} is not allowed: {host} resolves to {reason}")
    return _strip_scope(str(infos[0][4][0]))


def _strip_scope(host: str) -> str:
    return host.split("%", 1)[0]


class PublicOnlyResolver(AbstractResolver):
    """An aiohttp resolver that refuses a host when any of its addresses is not public.

    Used by the connector so the addresses connected to are the addresses checked: a DNS
    answer that changes between `check_public_url` and the connection cannot slip through.
    """

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner if inner is not None else ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            reason = address_refusal(ipaddress.ip_address(_strip_scope(result["host"])))
            if reason is not None:
                raise UrlNotAllowed(f"{host} resolves to {reason}")
        return results

    async def close(self) -> None:
        await self._inner.close()


def guarded_connector(*, allow_private: bool, limit: int = 100) -> TCPConnector:
    """A connector for outbound requests to user-supplied URLs.

    IP literals bypass resolvers in aiohttp, so literals must still be checked with
    `check_public_url` before each request; names are re-checked here at connect time.
    """
    if allow_private:
        return TCPConnector(limit=limit)
    return TCPConnector(limit=limit, resolver=PublicOnlyResolver())
