"""Clause 5.13 (@context management) with its HTTP binding /ngsi-ld/v1/jsonldContexts:
Add (POST), List (GET, `details`), Serve (GET one, `details`), Delete and Reload (DELETE,
`reload`); and the core context served from the broker without network access."""

from __future__ import annotations

import urllib.parse
import uuid
from typing import Any

import pytest

from conformance_tests.client import (
    API,
    CORE_CONTEXT,
    CORE_CONTEXTS,
    JSON,
    JSONLD,
    Client,
    Response,
    assert_problem,
    quote,
)
from conformance_tests.conftest import Target
from conformance_tests.context_server import ContextServer
from conformance_tests.samples import EX, vehicle

CONTEXTS = f"{API}/jsonldContexts"


def _context_document() -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    return {"@context": {f"term{tag}": f"{EX}term{tag}", "colour": EX + "colour"}}


def _add(client: Client, document: dict[str, Any]) -> tuple[str, str]:
    """POST a context; returns (its URL as the broker gives it, its id path segment)."""
    r = client.post(CONTEXTS, json=document, content_type=JSONLD)
    assert r.status == 201, r
    location = r.header("location")
    assert location, "Add @context must answer a Location"
    path = urllib.parse.urlsplit(location).path
    assert path.startswith(CONTEXTS + "/"), location
    return location, path[len(CONTEXTS) + 1 :]


def _absolute(target: Target, url: str) -> str:
    return url if "://" in url else target.url + url


def _listed_urls(r: Response) -> list[str]:
    assert r.status == 200, r
    body = r.json()
    assert isinstance(body, list), body
    return [item if isinstance(item, str) else item.get("URL") for item in body]


def _details(client: Client, **params: Any) -> list[dict[str, Any]]:
    r = client.get(CONTEXTS, params={"details": "true", **params}, accept=JSON)
    assert r.status == 200, r
    body = r.json()
    assert isinstance(body, list) and all(isinstance(i, dict) for i in body), body
    return body


def test_add_context_answers_201_with_location(client: Client) -> None:
    _add(client, _context_document())


def test_served_context_is_the_document_that_was_added(client: Client) -> None:
    document = _context_document()
    _, local_id = _add(client, document)
    r = client.get(f"{CONTEXTS}/{local_id}", accept=JSONLD)
    assert r.status == 200, r
    assert r.json() == document


def test_added_context_is_listed(client: Client, target: Target) -> None:
    location, _ = _add(client, _context_document())
    urls = _listed_urls(client.get(CONTEXTS, accept=JSON))
    assert _absolute(target, location) in {_absolute(target, u) for u in urls if u}


def test_list_with_details_describes_hosted_contexts(client: Client, target: Target) -> None:
    location, local_id = _add(client, _context_document())
    mine = [
        d for d in _details(client)
        if d.get("localId") == local_id or _absolute(target, str(d.get("URL"))) == location
    ]
    assert len(mine) == 1, mine
    assert mine[0]["kind"] == "Hosted"
    assert mine[0]["localId"] == local_id
    assert isinstance(mine[0].get("URL"), str)


def test_list_filtered_by_kind_hosted_has_only_hosted_contexts(client: Client) -> None:
    _add(client, _context_document())
    hosted = _details(client, kind="Hosted")
    assert hosted
    assert all(d["kind"] == "Hosted" for d in hosted)


def test_serve_context_with_details_gives_its_metadata(client: Client) -> None:
    _, local_id = _add(client, _context_document())
    r = client.get(f"{CONTEXTS}/{local_id}", params={"details": "true"}, accept=JSON)
    assert r.status == 200, r
    info = r.json()
    assert info["localId"] == local_id
    assert info["kind"] == "Hosted"


def test_add_context_without_context_member_is_400(client: Client) -> None:
    r = client.post(CONTEXTS, json={"colour": EX + "colour"}, content_type=JSONLD)
    assert_problem(r, 400, ("BadRequestData", "InvalidRequest"))


def test_add_malformed_context_body_is_400_invalid_request(client: Client) -> None:
    r = client.post(CONTEXTS, body=b'{"@context": {', content_type=JSONLD)
    assert_problem(r, 400, "InvalidRequest")


def test_serve_unknown_context_is_404(client: Client) -> None:
    r = client.get(f"{CONTEXTS}/{uuid.uuid4().hex}", accept=JSONLD)
    assert_problem(r, 404, "ResourceNotFound")


def test_delete_hosted_context_answers_204_and_it_is_gone(client: Client) -> None:
    _, local_id = _add(client, _context_document())
    r = client.delete(f"{CONTEXTS}/{local_id}")
    assert r.status == 204, r
    assert_problem(client.get(f"{CONTEXTS}/{local_id}", accept=JSONLD), 404, "ResourceNotFound")


def test_delete_unknown_context_is_404(client: Client) -> None:
    assert_problem(client.delete(f"{CONTEXTS}/{uuid.uuid4().hex}"), 404, "ResourceNotFound")


def test_reload_of_a_hosted_context_is_400_bad_request_data(client: Client) -> None:
    document = _context_document()
    _, local_id = _add(client, document)
    r = client.delete(f"{CONTEXTS}/{local_id}", params={"reload": "true"})
    assert_problem(r, 400, "BadRequestData")
    assert client.get(f"{CONTEXTS}/{local_id}", accept=JSONLD).json() == document


def test_hosted_context_url_is_usable_in_a_link_header(client: Client, target: Target) -> None:
    document = _context_document()
    location, _ = _add(client, document)
    url = _absolute(target, location)
    entity = {"id": vehicle()["id"], "type": "Thing", "colour": {"type": "Property", "value": 1}}
    client.create(entity, context=url)
    assert client.entity(entity["id"])[EX + "colour"] == entity["colour"]
    assert client.entity(entity["id"], context=url) == entity


def test_remote_context_used_in_a_request_is_listed_as_cached(
    client: Client, context_server: ContextServer
) -> None:
    url = context_server.publish(f"/contexts/{uuid.uuid4().hex}.jsonld", _context_document())
    client.create(vehicle(), context=url)
    cached = [d for d in _details(client) if d.get("URL") == url]
    assert len(cached) == 1, cached
    assert cached[0]["kind"] == "Cached"


def test_reload_of_a_cached_context_fetches_it_again(
    client: Client, context_server: ContextServer
) -> None:
    path = f"/contexts/{uuid.uuid4().hex}.jsonld"
    url = context_server.publish(path, {"@context": {"colour": EX + "colour"}})
    entity = {"id": vehicle()["id"], "type": "Thing", "colour": {"type": "Property", "value": 1}}
    client.create(entity, context=url)
    assert context_server.hit_count(path) == 1
    context_server.publish(path, {"@context": {"colour": EX + "colour-v2"}})
    cached = [d for d in _details(client) if d.get("URL") == url]
    assert cached, "the fetched context should be listed"
    r = client.delete(f"{CONTEXTS}/{quote(cached[0]['localId'])}", params={"reload": "true"})
    assert r.status == 204, r
    assert context_server.hit_count(path) == 2
    got = client.entity(entity["id"], context=url)
    assert got[EX + "colour"] == entity["colour"], "terms now follow the reloaded context"


def test_delete_cached_context_forgets_it_and_it_is_fetched_again(
    client: Client, context_server: ContextServer
) -> None:
    path = f"/contexts/{uuid.uuid4().hex}.jsonld"
    url = context_server.publish(path, _context_document())
    client.create(vehicle(), context=url)
    cached = [d for d in _details(client) if d.get("URL") == url]
    assert cached
    assert client.delete(f"{CONTEXTS}/{quote(cached[0]['localId'])}").status == 204
    client.create(vehicle(), context=url)
    assert context_server.hit_count(path) == 2


@pytest.mark.parametrize("core", CORE_CONTEXTS, ids=lambda u: u.rsplit("/", 1)[-1])
def test_core_context_is_served_for_its_official_url(client: Client, core: str) -> None:
    r = client.get(f"{CONTEXTS}/{quote(core)}", accept=JSONLD)
    assert r.status == 200, r
    document = r.json()
    terms = document["@context"]
    if isinstance(terms, list):
        merged: dict[str, Any] = {}
        for part in terms:
            if isinstance(part, dict):
                merged.update(part)
        terms = merged
    for term in ("Property", "Relationship", "GeoProperty", "observedAt", "unitCode", "location"):
        assert term in terms, f"core context lacks {term!r}"


def test_core_context_cannot_be_deleted(client: Client) -> None:
    r = client.delete(f"{CONTEXTS}/{quote(CORE_CONTEXT)}")
    assert_problem(r, 400, ("BadRequestData", "OperationNotSupported"))
    assert client.get(f"{CONTEXTS}/{quote(CORE_CONTEXT)}", accept=JSONLD).status == 200
