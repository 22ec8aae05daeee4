"""ContextResolver.resolve: core offline, remote contexts fetched once, cached, bounded."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest
from jsonld_support import Clock, ContextServer, MakeResolver

from broker.errors import BadRequestData, LdContextNotAvailable
from broker.jsonld import CORE_CONTEXT_URL, CORE_CONTEXT_URLS
from broker.jsonld.records import CONTEXTS_PATH

NGSI = "https://uri.etsi.org/ngsi-ld/"
DEFAULT = NGSI + "default-context/"
EX = "https://example.org/ns/"


async def test_no_context_resolves_to_the_core_context(make_resolver: MakeResolver) -> None:
    resolver = await make_resolver()
    terms = await resolver.resolve(None)
    assert terms is resolver.core
    assert terms.expand_term("location") == NGSI + "location"
    assert terms.link_url == CORE_CONTEXT_URL


@pytest.mark.parametrize("url", CORE_CONTEXT_URLS)
async def test_core_urls_resolve_with_the_network_unreachable(
    make_resolver: MakeResolver, no_network: None, url: str
) -> None:
    resolver = await make_resolver(allow_private_urls=False)
    terms = await resolver.resolve(url)
    assert terms.expand_term("Property") == NGSI + "Property"
    assert terms.expand_term("speed") == DEFAULT + "speed"
    assert terms.link_url == url
    listed = await resolver.resolve([url])
    assert listed.expand_term("observedAt") == NGSI + "observedAt"


async def test_inline_object_with_core_url_resolves_offline(
    make_resolver: MakeResolver, no_network: None
) -> None:
    resolver = await make_resolver()
    terms = await resolver.resolve([{"speed": EX + "speed"}, CORE_CONTEXT_URL])
    assert terms.expand_term("speed") == EX + "speed"


async def test_remote_context_is_fetched_and_expands_terms(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    url = context_server.publish("/ctx.jsonld", {"@context": {"speed": EX + "speed"}})
    resolver = await make_resolver()
    terms = await resolver.resolve(url)
    assert terms.expand_term("speed") == EX + "speed"
    assert terms.compact_iri(EX + "speed") == "speed"
    assert terms.context == url
    assert terms.link_url == url


async def test_second_resolve_is_a_cache_hit_without_fetching(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    url = context_server.publish("/ctx.jsonld", {"@context": {"speed": EX + "speed"}})
    resolver = await make_resolver()
    first = await resolver.resolve(url)
    second = await resolver.resolve(url)
    assert second is first
    assert context_server.hits["/ctx.jsonld"] == 1


async def test_the_same_document_is_fetched_once_for_different_contexts(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    url = context_server.publish("/ctx.jsonld", {"@context": {"speed": EX + "speed"}})
    resolver = await make_resolver()
    await resolver.resolve(url)
    terms = await resolver.resolve([url, {"colour": EX + "colour"}])
    assert terms.expand_term("colour") == EX + "colour"
    assert context_server.hits["/ctx.jsonld"] == 1


async def test_concurrent_first_resolves_fetch_once(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    url = context_server.publish("/slow.jsonld", {"@context": {"a": EX + "a"}}, delay=0.1)
    resolver = await make_resolver()
    results = await asyncio.gather(*(resolver.resolve(url) for _ in range(5)))
    assert all(r.expand_term("a") == EX + "a" for r in results)
    assert context_server.hits["/slow.jsonld"] == 1


async def test_context_is_fetched_again_after_the_ttl(
    make_resolver: MakeResolver, context_server: ContextServer, clock: Clock
) -> None:
    url = context_server.publish("/ctx.jsonld", {"@context": {"speed": EX + "speed"}})
    resolver = await make_resolver(context_cache_ttl=60.0)
    await resolver.resolve(url)
    clock.advance(59.0)
    await resolver.resolve(url)
    assert context_server.hits["/ctx.jsonld"] == 1
    context_server.publish("/ctx.jsonld", {"@context": {"speed": EX + "velocity"}})
    clock.advance(2.0)
    terms = await resolver.resolve(url)
    assert context_server.hits["/ctx.jsonld"] == 2
    assert terms.expand_term("speed") == EX + "velocity"


async def test_document_cache_keeps_at_most_the_configured_number(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    urls = [
        context_server.publish(f"/c{i}.jsonld", {"@context": {f"t{i}": f"{EX}t{i}"}})
        for i in range(3)
    ]
    resolver = await make_resolver(context_cache_size=2)
    for url in urls:
        await resolver.resolve([url, {"x": EX + "x"}])
    cached = [r.url for r in resolver.list_records("Cached") if r.url in urls]
    assert cached == urls[1:]
    await resolver.resolve([urls[0], {"y": EX + "y"}])
    assert context_server.hits["/c0.jsonld"] == 2


async def test_nested_remote_contexts_are_followed_with_relative_urls(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    context_server.publish("/lib/inner.jsonld", {"@context": {"colour": EX + "colour"}})
    outer = context_server.publish(
        "/lib/outer.jsonld", {"@context": ["inner.jsonld", {"speed": EX + "speed"}]}
    )
    resolver = await make_resolver()
    terms = await resolver.resolve(outer)
    assert terms.expand_term("colour") == EX + "colour"
    assert terms.expand_term("speed") == EX + "speed"


async def test_import_is_followed(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    base = context_server.publish("/base.jsonld", {"@context": {"colour": EX + "colour"}})
    resolver = await make_resolver()
    terms = await resolver.resolve({"@import": base, "speed": EX + "speed"})
    assert terms.expand_term("colour") == EX + "colour"
    assert terms.expand_term("speed") == EX + "speed"


async def test_slow_server_is_a_503_naming_the_url(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    url = context_server.publish("/slow.jsonld", {"@context": {}}, delay=1.0)
    resolver = await make_resolver(context_fetch_timeout=0.2)
    started = time.monotonic()
    with pytest.raises(LdContextNotAvailable, match=re.escape("slow.jsonld")) as caught:
        await resolver.resolve(url)
    assert time.monotonic() - started < 0.9
    assert caught.value.status == 503


async def test_oversize_document_is_refused(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    big = {"@context": {f"t{i}": f"{EX}t{i}" for i in range(200)}}
    url = context_server.publish("/big.jsonld", big)
    resolver = await make_resolver(context_max_bytes=1000)
    with pytest.raises(LdContextNotAvailable, match="larger than 1000 bytes"):
        await resolver.resolve(url)


async def test_oversize_chunked_document_without_length_is_refused(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    from aiohttp import web

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/ld+json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b'{"@context": {"a": "')
        for _ in range(100):
            await response.write(b"x" * 1000)
        return response

    from aiohttp.test_utils import TestServer

    app = web.Application()
    app.router.add_get("/endless", endless)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        resolver = await make_resolver(context_max_bytes=5000)
        with pytest.raises(LdContextNotAvailable, match="larger than"):
            await resolver.resolve(str(server.make_url("/endless")))
    finally:
        await server.close()


async def test_non_json_document_is_a_503(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    url = context_server.publish("/bad.jsonld", body=b"{not json", content_type="application/json")
    resolver = await make_resolver()
    with pytest.raises(LdContextNotAvailable, match="not JSON"):
        await resolver.resolve(url)


async def test_html_page_is_a_503(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    url = context_server.publish("/page", body=b"<html></html>", content_type="text/html")
    resolver = await make_resolver()
    with pytest.raises(LdContextNotAvailable, match="text/html"):
        await resolver.resolve(url)


async def test_http_error_is_a_503_naming_the_status(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    resolver = await make_resolver()
    with pytest.raises(LdContextNotAvailable, match="404"):
        await resolver.resolve(context_server.url("/missing.jsonld"))


async def test_unresolvable_host_is_a_503(make_resolver: MakeResolver) -> None:
    resolver = await make_resolver(allow_private_urls=False)
    with pytest.raises(LdContextNotAvailable, match=re.escape("no-such-host.invalid")):
        await resolver.resolve("http://no-such-host.invalid/ctx.jsonld")


async def test_json_that_is_not_a_context_document_is_a_400(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    url = context_server.publish("/list.jsonld", [1, 2, 3])
    resolver = await make_resolver()
    with pytest.raises(BadRequestData, match=re.escape("list.jsonld")):
        await resolver.resolve(url)


async def test_invalid_json_ld_in_a_remote_document_is_a_400_naming_it(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    inner = context_server.publish(
        "/inner.jsonld", {"@context": {"speed": {"@id": EX + "speed", "@container": "@bogus"}}}
    )
    outer = context_server.publish("/outer.jsonld", {"@context": [inner]})
    resolver = await make_resolver()
    with pytest.raises(BadRequestData, match=re.escape("inner.jsonld")):
        await resolver.resolve(outer)


async def test_scoped_contexts_in_user_contexts_are_refused(make_resolver: MakeResolver) -> None:
    resolver = await make_resolver()
    with pytest.raises(BadRequestData, match="scoped"):
        await resolver.resolve({"address": {"@id": EX + "address", "@context": {"a": EX + "a"}}})


async def test_relative_url_at_top_level_is_a_400(make_resolver: MakeResolver) -> None:
    resolver = await make_resolver()
    with pytest.raises(BadRequestData, match="absolute"):
        await resolver.resolve("ctx.jsonld")


async def test_redirects_are_followed(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    target = context_server.publish("/real.jsonld", {"@context": {"a": EX + "a"}})
    url = context_server.publish("/moved", body=b"", status=302, headers={"Location": target})
    resolver = await make_resolver()
    terms = await resolver.resolve(url)
    assert terms.expand_term("a") == EX + "a"


async def test_redirect_loops_stop(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    url = context_server.publish("/loop", body=b"", status=302, headers={"Location": "/loop"})
    resolver = await make_resolver()
    with pytest.raises(LdContextNotAvailable, match="redirects"):
        await resolver.resolve(url)
    assert context_server.hits["/loop"] <= 4


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/ctx.jsonld",
        "http://10.0.0.1/ctx.jsonld",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/ctx.jsonld",
    ],
)
async def test_private_addresses_are_refused_when_not_allowed(
    make_resolver: MakeResolver, url: str
) -> None:
    resolver = await make_resolver(allow_private_urls=False)
    with pytest.raises(LdContextNotAvailable, match="not allowed"):
        await resolver.resolve(url)


async def test_redirect_to_a_private_address_is_refused(
    make_resolver: MakeResolver, monkeypatch: pytest.MonkeyPatch, context_server: ContextServer
) -> None:
    from broker.jsonld import fetch

    checked: list[str] = []

    async def check(url: str, *, allow_private: bool) -> None:
        checked.append(url)
        if "169.254" in url:
            raise fetch.UrlNotAllowed(f"{url} is link-local")

    monkeypatch.setattr(fetch, "check_public_url", check)
    url = context_server.publish(
        "/hop", body=b"", status=302, headers={"Location": "http://169.254.169.254/x"}
    )
    resolver = await make_resolver()
    with pytest.raises(LdContextNotAvailable, match="link-local"):
        await resolver.resolve(url)
    assert checked == [url, "http://169.254.169.254/x"]


async def test_inline_context_link_is_an_implicitly_created_record(
    make_resolver: MakeResolver,
) -> None:
    resolver = await make_resolver()
    context = [{"speed": EX + "speed"}, CORE_CONTEXT_URL]
    terms = await resolver.resolve(context)
    assert resolver.list_records("ImplicitlyCreated") == []
    link = terms.link_url
    assert link.startswith(CONTEXTS_PATH)
    (record,) = resolver.list_records("ImplicitlyCreated")
    assert link == record.url
    assert resolver.serve(record.local_id) == {"@context": context}
    again = await resolver.resolve(link)
    assert again.expand_term("speed") == EX + "speed"


async def test_the_same_inline_context_gets_the_same_link(make_resolver: MakeResolver) -> None:
    first = await make_resolver()
    second = await make_resolver()
    context = {"speed": EX + "speed", "colour": EX + "colour"}
    reordered = {"colour": EX + "colour", "speed": EX + "speed"}
    assert (await first.resolve(context)).link_url == (await second.resolve(reordered)).link_url


async def test_one_user_url_with_the_core_links_to_the_user_url(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    url = context_server.publish("/ctx.jsonld", {"@context": {"speed": EX + "speed"}})
    resolver = await make_resolver()
    terms = await resolver.resolve([url, CORE_CONTEXT_URL])
    assert terms.link_url == url
    assert terms.context == [url, CORE_CONTEXT_URL]


async def test_cache_hit_neither_fetches_nor_processes_again(
    make_resolver: MakeResolver, context_server: ContextServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from broker.jsonld import resolver as resolver_module

    url = context_server.publish("/ctx.jsonld", {"@context": {"speed": EX + "speed"}})
    resolver = await make_resolver()
    inline = [{"colour": EX + "colour"}, url]
    first = (await resolver.resolve(url), await resolver.resolve(inline))

    def refuse(*args: Any) -> Any:
        raise AssertionError("a cache hit must not process the context")

    monkeypatch.setattr(resolver_module, "process_user_context", refuse)
    again = (await resolver.resolve(url), await resolver.resolve(list(inline)))
    assert again[0] is first[0] and again[1] is first[1]
    assert context_server.hits["/ctx.jsonld"] == 1


async def test_cached_term_map_keeps_its_own_copy_of_an_inline_context(
    make_resolver: MakeResolver,
) -> None:
    resolver = await make_resolver()
    context = [{"speed": EX + "speed"}, CORE_CONTEXT_URL]
    terms = await resolver.resolve(context)
    context[0]["speed"] = EX + "changed"
    assert terms.context == [{"speed": EX + "speed"}, CORE_CONTEXT_URL]
    link = terms.link_url
    assert resolver.serve(link.rsplit("/", 1)[1])["@context"][0] == {"speed": EX + "speed"}
