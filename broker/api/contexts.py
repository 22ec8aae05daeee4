"""Handlers for /ngsi-ld/v1/jsonldContexts (clause 5.13: @context management)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from broker.api.http import JSON_OR_LD, bool_param, json_response, negotiate, read_body
from broker.api.state import STATE
from broker.jsonld import ContextRecord


def _absolute(request: web.Request, url: str) -> str:
    return f"{request.scheme}://{request.host}{url}" if url.startswith("/") else url


def _details(request: web.Request, record: ContextRecord) -> dict[str, Any]:
    info = record.details()
    info["URL"] = _absolute(request, info["URL"])
    return info


async def add_context(request: web.Request) -> web.Response:
    resolver = request.app[STATE].resolver
    body, _ = await read_body(request, media=JSON_OR_LD, context_in_body=True)
    record = await resolver.add_hosted(body)
    return web.Response(status=201, headers={"Location": record.url})


async def list_contexts(request: web.Request) -> web.Response:
    negotiate(request, JSON_OR_LD)
    resolver = request.app[STATE].resolver
    records = resolver.list_records(request.query.get("kind"))
    if bool_param(request, "details"):
        return json_response([_details(request, r) for r in records])
    return json_response([_absolute(request, r.url) for r in records])


async def serve_context(request: web.Request) -> web.Response:
    media = negotiate(request, JSON_OR_LD)
    resolver = request.app[STATE].resolver
    local_id = request.match_info["contextId"]
    if bool_param(request, "details"):
        return json_response(_details(request, resolver.get_record(local_id)))
    return json_response(resolver.serve(local_id), content_type=media)


async def delete_context(request: web.Request) -> web.Response:
    resolver = request.app[STATE].resolver
    await resolver.delete(request.match_info["contextId"], reload=bool_param(request, "reload"))
    return web.Response(status=204)
