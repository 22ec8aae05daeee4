"""netguard: only http(s) URLs whose every address is public may be fetched."""

from __future__ import annotations

import ipaddress
import re
import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from broker.netguard import (
    PublicOnlyResolver,
    UrlNotAllowed,
    address_refusal,
    check_public_url,
)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/ctx.jsonld",
        "http://127.1.2.3:8080/",
        "http://10.0.0.5/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://[::1]/",
        "http://[::]/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://[ff02::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[2002:7f00:1::]/",
        "http://localhost/",
        "http://2130706433/",
    ],
)
async def test_non_public_addresses_are_refused(url: str) -> None:
    with pytest.raises(UrlNotAllowed):
        await check_public_url(url, allow_private=False)


@pytest.mark.parametrize("url", ["http://93.184.215.14/", "https://[2606:4700::1111]/x"])
async def test_public_ip_literals_are_allowed(url: str) -> None:
    await check_public_url(url, allow_private=False)


@pytest.mark.parametrize(
    "url", ["ftp://example.org/ctx", "file:///etc/passwd", "gopher://x/", "http:///nohost", "x"]
)
async def test_other_schemes_and_hostless_urls_are_refused_even_when_private_is_allowed(
    url: str,
) -> None:
    with pytest.raises(UrlNotAllowed):
        await check_public_url(url, allow_private=True)


async def test_private_addresses_pass_when_allowed() -> None:
    await check_public_url("http://127.0.0.1:9/ctx.jsonld", allow_private=True)


async def test_refusal_names_the_reason() -> None:
    with pytest.raises(UrlNotAllowed, match="loopback"):
        await check_public_url("http://127.0.0.1/", allow_private=False)
    with pytest.raises(UrlNotAllowed, match="link-local"):
        await check_public_url("http://169.254.169.254/", allow_private=False)


async def test_names_resolving_to_private_addresses_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import asyncio

    loop = asyncio.get_running_loop()

    async def fake_getaddrinfo(host: str, port: int, **kwargs: object) -> list[tuple[object, ...]]:
        assert host == "rebind.example"
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port)),
        ]

    monkeypatch.setattr(loop, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(UrlNotAllowed, match=re.escape("10.1.2.3")):
        await check_public_url("https://rebind.example/ctx", allow_private=False)


class _FixedResolver(AbstractResolver):
    def __init__(self, address: str) -> None:
        self.address = address

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            {
                "hostname": host,
                "host": self.address,
                "port": port,
                "family": family,
                "proto": 0,
                "flags": 0,
            }
        ]

    async def close(self) -> None:
        pass


async def test_connect_time_resolver_refuses_a_rebound_private_answer() -> None:
    resolver = PublicOnlyResolver(_FixedResolver("127.0.0.1"))
    with pytest.raises(UrlNotAllowed, match="loopback"):
        await resolver.resolve("rebind.example", 80)


async def test_connect_time_resolver_passes_public_answers() -> None:
    resolver = PublicOnlyResolver(_FixedResolver("93.184.215.14"))
    results = await resolver.resolve("public.example", 80)
    assert results[0]["host"] == "93.184.215.14"


def test_public_unicast_addresses_have_no_refusal() -> None:
    assert address_refusal(ipaddress.ip_address("8.8.8.8")) is None
    assert address_refusal(ipaddress.ip_address("2001:4860:4860::8888")) is None
