"""The /jsonldContexts operations on ContextResolver (clause 5.13) and their persistence."""

from __future__ import annotations

import re
from typing import Any

import pytest
from jsonld_support import Clock, ContextServer, FakePersistence, MakeResolver

from broker.errors import (
    BadRequestData,
    LdContextNotAvailable,
    OperationNotSupported,
    ResourceNotFound,
)
from broker.jsonld import CORE_CONTEXT_URL, CORE_CONTEXT_URLS, ContextRecord, ContextResolver
from broker.jsonld.records import CONTEXTS_PATH

EX = "https://example.org/ns/"


def _added_hosted(resolver: ContextResolver) -> list[ContextRecord]:
    """The Hosted records clients added (not the bundled Smart Data Models contexts)."""
    return [r for r in resolver.list_records("Hosted") if not (r.extra_info or {}).get("bundled")]


async def test_added_context_is_hosted_and_served(make_resolver: MakeResolver) -> None:
    resolver = await make_resolver()
    document = {"@context": {"speed": EX + "speed"}, "ignored": True}
    record = await resolver.add_hosted(document)
    assert record.kind == "Hosted"
    assert record.url == CONTEXTS_PATH + record.local_id
    assert resolver.serve(record.local_id) == {"@context": {"speed": EX + "speed"}}
    assert resolver.get_record(record.local_id) is record


@pytest.mark.parametrize(
    "document",
    [
        {"speed": EX + "speed"},
        ["not", "an", "object"],
        {"@context": {"speed": {"@id": EX + "speed", "@container": "@bogus"}}},
        {"@context": 42},
    ],
)
async def test_adding_an_invalid_context_is_a_400(
    make_resolver: MakeResolver, document: Any
) -> None:
    resolver = await make_resolver()
    with pytest.raises(BadRequestData):
        await resolver.add_hosted(document)
    assert _added_hosted(resolver) == []


async def test_added_context_is_usable_through_its_url_on_any_host(
    make_resolver: MakeResolver, no_fetch: None
) -> None:
    resolver = await make_resolver()
    record = await resolver.add_hosted({"@context": {"speed": EX + "speed"}})
    for url in (
        "http://broker.example:1026" + record.url,
        "https://other.example" + record.url,
        record.url,
    ):
        terms = await resolver.resolve(url)
        assert terms.expand_term("speed") == EX + "speed"
        assert terms.link_url == url
    assert record.number_of_hits == 3


async def test_list_includes_every_kind_and_filters_by_kind(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    url = context_server.publish("/ctx.jsonld", {"@context": {"a": EX + "a"}})
    resolver = await make_resolver()
    hosted = await resolver.add_hosted({"@context": {"b": EX + "b"}})
    await resolver.resolve(url)
    implicit = await resolver.resolve({"c": EX + "c"})
    implicit_url = implicit.link_url
    kinds = {r.kind for r in resolver.list_records()}
    assert kinds == {"Hosted", "Cached", "ImplicitlyCreated"}
    assert [r.local_id for r in _added_hosted(resolver)] == [hosted.local_id]
    assert url in [r.url for r in resolver.list_records("Cached")]
    assert [r.url for r in resolver.list_records("ImplicitlyCreated")] == [implicit_url]


async def test_unknown_kind_is_a_400(make_resolver: MakeResolver) -> None:
    resolver = await make_resolver()
    with pytest.raises(BadRequestData):
        resolver.list_records("Borrowed")


async def test_details_carry_the_clause_5_13_3_5_fields(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    url = context_server.publish("/ctx.jsonld", {"@context": {"a": EX + "a"}})
    resolver = await make_resolver()
    await resolver.resolve(url)
    await resolver.resolve(url)
    record = resolver.get_record(url)
    details = record.details()
    assert details["URL"] == url
    assert details["localId"] == record.local_id
    assert details["kind"] == "Cached"
    assert details["createdAt"].endswith("Z")
    assert details["expiresAt"].endswith("Z")
    assert details["lastUsage"].endswith("Z")
    assert details["numberOfHits"] == 2


async def test_unknown_id_is_404(make_resolver: MakeResolver) -> None:
    resolver = await make_resolver()
    with pytest.raises(ResourceNotFound):
        resolver.get_record("urn:ngsi-ld:JsonLdContext:nope")
    with pytest.raises(ResourceNotFound):
        await resolver.delete("urn:ngsi-ld:JsonLdContext:nope", reload=False)


async def test_cached_context_is_not_served(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    url = context_server.publish("/ctx.jsonld", {"@context": {"a": EX + "a"}})
    resolver = await make_resolver()
    await resolver.resolve(url)
    with pytest.raises(OperationNotSupported):
        resolver.serve(resolver.get_record(url).local_id)


@pytest.mark.parametrize("url", CORE_CONTEXT_URLS)
async def test_core_context_is_served_by_any_of_its_urls(
    make_resolver: MakeResolver, url: str
) -> None:
    resolver = await make_resolver()
    document = resolver.serve(url)
    for term in ("Property", "Relationship", "GeoProperty", "observedAt", "unitCode"):
        assert term in document["@context"]
    assert resolver.get_record(url).url == CORE_CONTEXT_URL


async def test_core_context_is_listed(make_resolver: MakeResolver) -> None:
    resolver = await make_resolver()
    assert CORE_CONTEXT_URL in [r.url for r in resolver.list_records()]


@pytest.mark.parametrize("reload", [False, True])
async def test_core_context_cannot_be_deleted_or_reloaded(
    make_resolver: MakeResolver, reload: bool
) -> None:
    resolver = await make_resolver()
    core_id = resolver.get_record(CORE_CONTEXT_URL).local_id
    with pytest.raises(BadRequestData, match="core"):
        await resolver.delete(core_id, reload=reload)
    assert resolver.serve(core_id)["@context"]["Property"]


async def test_deleted_hosted_context_is_gone_and_no_longer_resolves(
    make_resolver: MakeResolver,
) -> None:
    resolver = await make_resolver()
    record = await resolver.add_hosted({"@context": {"speed": EX + "speed"}})
    await resolver.resolve(record.url)
    await resolver.delete(record.local_id, reload=False)
    with pytest.raises(ResourceNotFound):
        resolver.get_record(record.local_id)
    with pytest.raises(LdContextNotAvailable):
        await resolver.resolve(record.url)


async def test_reload_of_a_hosted_context_is_a_400_and_keeps_it(
    make_resolver: MakeResolver,
) -> None:
    resolver = await make_resolver()
    record = await resolver.add_hosted({"@context": {"speed": EX + "speed"}})
    with pytest.raises(BadRequestData):
        await resolver.delete(record.local_id, reload=True)
    assert resolver.get_record(record.local_id) is record


async def test_reload_fetches_the_cached_context_again(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    url = context_server.publish("/ctx.jsonld", {"@context": {"speed": EX + "speed"}})
    resolver = await make_resolver()
    assert (await resolver.resolve(url)).expand_term("speed") == EX + "speed"
    local_id = resolver.get_record(url).local_id
    context_server.publish("/ctx.jsonld", {"@context": {"speed": EX + "velocity"}})
    await resolver.delete(local_id, reload=True)
    assert context_server.hits["/ctx.jsonld"] == 2
    assert resolver.get_record(url).local_id == local_id
    assert (await resolver.resolve(url)).expand_term("speed") == EX + "velocity"
    assert context_server.hits["/ctx.jsonld"] == 2


async def test_failed_reload_is_a_503_and_keeps_the_old_copy(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    url = context_server.publish("/ctx.jsonld", {"@context": {"speed": EX + "speed"}})
    resolver = await make_resolver()
    await resolver.resolve(url)
    context_server.publish("/ctx.jsonld", body=b"gone", status=500)
    with pytest.raises(LdContextNotAvailable):
        await resolver.delete(url, reload=True)
    assert resolver.get_record(url).body == {"speed": EX + "speed"}


async def test_reload_of_an_invalid_document_is_a_503(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    url = context_server.publish("/ctx.jsonld", {"@context": {"speed": EX + "speed"}})
    resolver = await make_resolver()
    await resolver.resolve(url)
    context_server.publish("/ctx.jsonld", {"no": "context"})
    with pytest.raises(LdContextNotAvailable, match=re.escape("ctx.jsonld")):
        await resolver.delete(url, reload=True)


async def test_deleted_cached_context_is_fetched_again_on_next_use(
    make_resolver: MakeResolver, context_server: ContextServer
) -> None:
    url = context_server.publish("/ctx.jsonld", {"@context": {"speed": EX + "speed"}})
    resolver = await make_resolver()
    await resolver.resolve(url)
    await resolver.delete(resolver.get_record(url).local_id, reload=False)
    await resolver.resolve(url)
    assert context_server.hits["/ctx.jsonld"] == 2


async def test_hosted_contexts_survive_a_restart_through_the_persistence(
    make_resolver: MakeResolver, clock: Clock
) -> None:
    persistence = FakePersistence()
    first = await make_resolver(persistence)
    record = await first.add_hosted({"@context": {"speed": EX + "speed"}})
    assert set(persistence.saved) == {record.local_id}
    saved = persistence.saved[record.local_id]
    assert saved["kind"] == "Hosted" and saved["context"] == {"speed": EX + "speed"}

    second = await make_resolver(persistence)
    restored = second.get_record(record.local_id)
    assert restored.body == record.body
    assert restored.details()["createdAt"] == record.details()["createdAt"]
    assert (await second.resolve(record.url)).expand_term("speed") == EX + "speed"

    await second.delete(record.local_id, reload=False)
    assert persistence.saved == {}
    third = await make_resolver(persistence)
    assert _added_hosted(third) == []


async def test_unreadable_persisted_records_are_skipped(make_resolver: MakeResolver) -> None:
    persistence = FakePersistence()
    persistence.saved["broken"] = {"id": "broken"}
    resolver = await make_resolver(persistence)
    assert _added_hosted(resolver) == []
