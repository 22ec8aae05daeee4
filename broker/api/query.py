"""Handlers for entity queries: GET /entities and POST /entityOperations/query (clauses 5.7.2,
6.4.3.2, 6.23; pagination 5.5.9, counting 5.5.10), and DELETE /entities (Purge Entities,
clause 6.4.3.3 of v1.9), which deletes what the same selection matches."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from multidict import CIMultiDict

from broker.api.http import (
    GEO_JSON,
    JSON,
    JSON_OR_LD,
    LD_JSON,
    bool_param,
    json_response,
    link_context,
    link_header,
    negotiate,
    read_body,
    tenant_of,
)
from broker.api.paging import RESULTS_COUNT, add_page_links, page_params
from broker.api.representation import geometry_property, render_options, response_media
from broker.api.state import STATE, AppState
from broker.errors import BadRequestData, OperationNotSupported
from broker.jsonld import TermMap
from broker.model.render import RenderOptions, render_entity, render_feature
from broker.query.ast import EntityQuery
from broker.query.params import SELECTING, parse_entity_query

QUERY_MEDIA = (JSON, LD_JSON, GEO_JSON)


async def _answer(
    request: web.Request,
    state: AppState,
    tenant: str,
    query: EntityQuery,
    terms: TermMap,
    media: str,
    opts: RenderOptions,
) -> web.Response:
    count = bool_param(request, "count")
    limit, offset = page_params(request, state.settings, count=count)
    await state.entities.require_tenant(tenant)
    page = await state.store.query_entities(tenant, query, limit=limit, offset=offset, count=count)
    if media == GEO_JSON:
        geometry = geometry_property(request, terms)
        data: Any = {
            "type": "FeatureCollection",
            "features": [render_feature(e, terms, opts, geometry) for e in page.entities],
        }
    else:
        data = [render_entity(e, terms, opts) for e in page.entities]
        if media == LD_JSON:
            data = [{"@context": terms.context, **item} for item in data]
    headers: CIMultiDict[str] = CIMultiDict()
    if media != LD_JSON:
        headers.add("Link", link_header(request, terms))
    if count and page.total is not None:
        headers[RESULTS_COUNT] = str(page.total)
    add_page_links(
        request, headers, limit=limit, offset=offset, shown=len(page.entities), total=page.total
    )
    return web.Response(body=orjson.dumps(data), content_type=media, headers=headers)


async def query_entities(request: web.Request) -> web.Response:
    """GET /ngsi-ld/v1/entities (Query Entities, clause 6.4.3.2)."""
    state: AppState = request.app[STATE]
    tenant = tenant_of(request)
    media = response_media(request, negotiate(request, QUERY_MEDIA))
    terms = await state.resolver.resolve(link_context(request))
    query = parse_entity_query(request.query, terms, state.settings)
    opts = render_options(request, terms)
    return await _answer(request, state, tenant, query, terms, media, opts)


_QUERY_MEMBERS = {"attrs", "q", "scopeQ", "csf", "lang", "type", "@context", "entities", "geoQ"}


def _query_params(body: Any) -> dict[str, str]:
    """A Query data type (clause 5.2.23) as the parameters of GET /entities."""
    if not isinstance(body, dict):
        raise BadRequestData("the body must be a Query object", field="body")
    if body.get("type", "Query") != "Query":
        raise BadRequestData("the body's type must be 'Query'", field="type")
    unknown = sorted(set(body) - _QUERY_MEMBERS - {"temporalQ"})
    if unknown:
        raise BadRequestData(f"unknown Query member(s): {', '.join(unknown)}", field=unknown[0])
    if "temporalQ" in body:
        raise OperationNotSupported("temporalQ is not supported here", field="temporalQ")
    params: dict[str, str] = {}
    for member in ("q", "scopeQ", "csf", "lang"):
        if member in body:
            if not isinstance(body[member], str):
                raise BadRequestData(f"'{member}' must be a string", field=member)
            params[member] = body[member]
    if "attrs" in body:
        attrs = body["attrs"]
        if not isinstance(attrs, list) or not all(isinstance(a, str) for a in attrs):
            raise BadRequestData("'attrs' must be an array of names", field="attrs")
        params["attrs"] = ",".join(attrs)
    if "geoQ" in body:
        geo = body["geoQ"]
        if not isinstance(geo, dict):
            raise BadRequestData("'geoQ' must be an object", field="geoQ")
        for member in ("georel", "geometry", "geoproperty"):
            if member in geo:
                params[member] = str(geo[member])
        if "coordinates" in geo:
            coords = geo["coordinates"]
            params["coordinates"] = (
                coords if isinstance(coords, str) else orjson.dumps(coords).decode()
            )
    selectors = body.get("entities")
    if selectors is not None:
        params.update(_selector_params(selectors))
    return params


def _selector_params(selectors: Any) -> dict[str, str]:
    """EntitySelectors as id / idPattern / type parameters. Several selectors are an OR;
    here they can combine when each names only a type, or only ids of the same type."""
    if not isinstance(selectors, list) or not selectors:
        raise BadRequestData("'entities' must be a non-empty array", field="entities")
    for selector in selectors:
        if not isinstance(selector, dict):
            raise BadRequestData("each of 'entities' must be an object", field="entities")
    if len(selectors) == 1:
        only = selectors[0]
        return {k: str(only[k]) for k in ("id", "idPattern", "type") if k in only}
    if all(set(s) == {"type"} for s in selectors):
        return {"type": ",".join(str(s["type"]) for s in selectors)}
    types = {s.get("type") for s in selectors}
    if all(set(s) <= {"id", "type"} and "id" in s for s in selectors) and len(types) == 1:
        out = {"id": ",".join(str(s["id"]) for s in selectors)}
        if None not in types:
            out["type"] = str(types.pop())
        return out
    raise OperationNotSupported(
        "several entity selectors are supported when each names only a type, or only ids "
        "of one type",
        field="entities",
    )


async def query_entities_post(request: web.Request) -> web.Response:
    """POST /ngsi-ld/v1/entityOperations/query (Query Entities via POST, clause 6.23)."""
    state: AppState = request.app[STATE]
    tenant = tenant_of(request)
    media = response_media(request, negotiate(request, QUERY_MEDIA))
    body, context = await read_body(request, media=JSON_OR_LD)
    terms = await state.resolver.resolve(context)
    params = _query_params(body)
    query = parse_entity_query(params, terms, state.settings)
    opts = render_options(request, terms)
    if "attrs" in params and opts.attrs is None:
        opts = RenderOptions(
            form=opts.form,
            sys_attrs=opts.sys_attrs,
            lang=params.get("lang", opts.lang),
            attrs=query.attrs,
            pick=opts.pick,
            omit=opts.omit,
        )
    return await _answer(request, state, tenant, query, terms, media, opts)


PURGE_PARAMS = frozenset(
    {
        "id",
        "idPattern",
        "type",
        "attrs",
        "q",
        "scopeQ",
        "georel",
        "geometry",
        "coordinates",
        "geoproperty",
        "local",
    }
)
"""The query parameters DELETE /entities takes: the entity selection of GET /entities, and
`local` (this broker has no context sources, so every purge is local)."""

PURGE_UNSUPPORTED = ("keep", "drop")
"""Purge parameters that prune attributes instead of deleting entities: refused rather than
ignored, since ignoring them would delete whole entities."""


async def purge_entities(request: web.Request) -> web.Response:
    """DELETE /ngsi-ld/v1/entities (Purge Entities, clause 6.4.3.3 of v1.9): delete every
    entity the selection matches. 204 when all were deleted (none matching included); 207
    with a BatchOperationResult when the store refused some. Every parameter is checked
    before anything is deleted."""
    state: AppState = request.app[STATE]
    tenant = tenant_of(request)
    for name in request.query:
        if name in PURGE_UNSUPPORTED:
            raise OperationNotSupported(
                f"'{name}' (pruning attributes instead of deleting entities) is not supported",
                field=name,
            )
        if name not in PURGE_PARAMS:
            raise BadRequestData(
                f"'{name}' is not a parameter of Purge Entities; it takes "
                + ", ".join(sorted(PURGE_PARAMS, key=str.lower)),
                field=name,
            )
    bool_param(request, "local")
    if not any(name in request.query for name in (*SELECTING, "geometry", "coordinates")):
        raise BadRequestData(
            "Purge Entities needs a selection: at least one of id, idPattern, type, attrs, q "
            "or a geo-query (georel, geometry, coordinates); it never deletes everything"
        )
    terms = await state.resolver.resolve(link_context(request))
    query = parse_entity_query(request.query, terms, state.settings)
    result = await state.purge.purge(tenant, query)
    if result.errors:
        body = {
            "success": result.success,
            "errors": [
                {"entityId": e.entity_id, "error": e.error.to_problem()} for e in result.errors
            ],
        }
        return json_response(body, status=207)
    return web.Response(status=204)
