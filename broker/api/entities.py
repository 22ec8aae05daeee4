"""Handlers for /ngsi-ld/v1/entities/{entityId} and its attributes (clauses 6.5-6.7).

One operation, one handler, named after the operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from broker.api.http import (
    GEO_JSON,
    JSON,
    JSON_OR_LD,
    LD_JSON,
    MERGE_PATCH,
    bool_param,
    entity_location,
    link_context,
    list_param,
    negotiate,
    options_of,
    read_body,
    respond,
    tenant_of,
)
from broker.api.representation import (
    geometry_property,
    render_options,
    response_media,
)
from broker.api.state import STATE, AppState
from broker.errors import BadRequestData, ResourceNotFound
from broker.jsonld import TermMap
from broker.model import validate
from broker.model.expand import (
    ExpandedFragment,
    expand_attribute,
    expand_attribute_name,
    expand_entity,
    expand_fragment,
)
from broker.model.operations import UpdateResult
from broker.model.render import render_attribute, render_entity, render_feature
from broker.services.entities import utc_now
from broker.types import Instance

RETRIEVE_MEDIA = (JSON, LD_JSON, GEO_JSON)
WRITE_OPTIONS = frozenset({"keyValues", "simplified", "concise", "normalized"})
APPEND_OPTIONS = WRITE_OPTIONS | {"noOverwrite"}


def _entity_id(request: web.Request) -> str:
    entity_id = request.match_info["entityId"]
    if not validate.is_uri(entity_id):
        raise BadRequestData(f"entity id '{entity_id}' is not a URI", field="entityId")
    return entity_id


def _attr_name(request: web.Request, terms: TermMap, *, allow_scope: bool = False) -> str:
    return expand_attribute_name(request.match_info["attrId"], terms, allow_scope=allow_scope)


def _key_values_input(options: set[str]) -> bool:
    return bool(options & {"keyValues", "simplified"})


def _update_result(result: UpdateResult, terms: TermMap) -> dict[str, Any]:
    return {
        "updated": [terms.compact_iri(name) for name in result.updated],
        "notUpdated": [
            {"attributeName": terms.compact_iri(name), "reason": reason}
            for name, reason in result.not_updated
        ],
    }


def _result_response(request: web.Request, result: UpdateResult, terms: TermMap) -> web.Response:
    if not result.not_updated:
        return web.Response(status=204)
    return respond(request, _update_result(result, terms), terms, JSON, status=207)


@dataclass(frozen=True, slots=True)
class _WriteRequest:
    """What every write to /entities/{entityId}... carries, parsed and checked once."""

    request: web.Request
    state: AppState
    tenant: str
    entity_id: str
    options: set[str]
    body: Any
    terms: TermMap

    def fragment(self, *, allow_null: bool) -> ExpandedFragment:
        """The body as an Entity Fragment (clause 5.4); its id, if any, must be the URL's."""
        body = self.body
        if isinstance(body, dict):
            body = {k: v for k, v in body.items() if k != "@context"}
            if body.get("id", self.entity_id) != self.entity_id:
                raise BadRequestData(
                    f"the body's id '{body['id']}' differs from the entity id in the URL",
                    field="id",
                )
        return expand_fragment(
            body,
            self.terms,
            now=utc_now(),
            key_values=_key_values_input(self.options),
            allow_null=allow_null,
            max_attributes=self.state.settings.max_attributes,
        )

    def attribute(self, *, allow_null: bool) -> tuple[str, list[Instance]]:
        """The attribute named in the URL, and the body as its instances."""
        name = _attr_name(self.request, self.terms)
        body = self.body
        if isinstance(body, dict):
            body = {k: v for k, v in body.items() if k != "@context"}
        instances = expand_attribute(
            name,
            body,
            self.terms,
            now=utc_now(),
            allow_null=allow_null,
            key_values=_key_values_input(self.options),
        )
        return name, instances


async def _write_request(
    request: web.Request,
    *,
    allowed: frozenset[str] = WRITE_OPTIONS,
    media: tuple[str, ...] = JSON_OR_LD,
) -> _WriteRequest:
    state: AppState = request.app[STATE]
    tenant = tenant_of(request)
    entity_id = _entity_id(request)
    options = options_of(request, allowed)
    body, context = await read_body(request, media=media)
    terms = await state.resolver.resolve(context)
    return _WriteRequest(request, state, tenant, entity_id, options, body, terms)


# -- entities -------------------------------------------------------------------------


async def create_entity(request: web.Request) -> web.Response:
    state: AppState = request.app[STATE]
    tenant = tenant_of(request)
    options = options_of(request, WRITE_OPTIONS)
    body, context = await read_body(request)
    terms = await state.resolver.resolve(context)
    entity = expand_entity(
        body,
        terms,
        now=utc_now(),
        key_values=_key_values_input(options),
        max_attributes=state.settings.max_attributes,
    )
    await state.entities.create(tenant, entity)
    return web.Response(status=201, headers={"Location": entity_location(entity["id"])})


async def retrieve_entity(request: web.Request) -> web.Response:
    state: AppState = request.app[STATE]
    tenant = tenant_of(request)
    media = response_media(request, negotiate(request, RETRIEVE_MEDIA))
    terms = await state.resolver.resolve(link_context(request))
    entity_id = _entity_id(request)
    opts = render_options(request, terms)
    entity = await state.entities.get(tenant, entity_id)
    wanted_types = list_param(request, "type")
    if wanted_types is not None:
        expanded = {terms.expand_term(t) for t in wanted_types}
        if not expanded.intersection(entity["type"]):
            raise ResourceNotFound(
                f"entity '{entity_id}' has none of the types {', '.join(wanted_types)}",
                field="type",
            )
    if media == GEO_JSON:
        feature = render_feature(entity, terms, opts, geometry_property(request, terms))
        return respond(request, feature, terms, GEO_JSON)
    return respond(request, render_entity(entity, terms, opts), terms, media)


async def replace_entity(request: web.Request) -> web.Response:
    state: AppState = request.app[STATE]
    tenant = tenant_of(request)
    entity_id = _entity_id(request)
    options = options_of(request, WRITE_OPTIONS)
    body, context = await read_body(request)
    if not isinstance(body, dict):
        raise BadRequestData("the request body must be a JSON object", field="body")
    if body.get("id", entity_id) != entity_id:
        raise BadRequestData(
            f"the body's id '{body['id']}' differs from the entity id in the URL", field="id"
        )
    terms = await state.resolver.resolve(context)
    new = expand_entity(
        {**body, "id": entity_id},
        terms,
        now=utc_now(),
        key_values=_key_values_input(options),
        max_attributes=state.settings.max_attributes,
    )
    await state.entities.replace(tenant, new)
    return web.Response(status=204)


async def merge_entity(request: web.Request) -> web.Response:
    w = await _write_request(request, media=(*JSON_OR_LD, MERGE_PATCH))
    await w.state.entities.merge(w.tenant, w.entity_id, w.fragment(allow_null=True))
    return web.Response(status=204)


async def delete_entity(request: web.Request) -> web.Response:
    state: AppState = request.app[STATE]
    tenant = tenant_of(request)
    await state.entities.delete(tenant, _entity_id(request))
    return web.Response(status=204)


# -- attributes -----------------------------------------------------------------------


async def append_attributes(request: web.Request) -> web.Response:
    w = await _write_request(request, allowed=APPEND_OPTIONS)
    result = await w.state.entities.append_attrs(
        w.tenant,
        w.entity_id,
        w.fragment(allow_null=False),
        overwrite="noOverwrite" not in w.options,
    )
    return _result_response(request, result, w.terms)


async def update_attributes(request: web.Request) -> web.Response:
    w = await _write_request(request)
    result = await w.state.entities.update_attrs(w.tenant, w.entity_id, w.fragment(allow_null=True))
    return _result_response(request, result, w.terms)


async def retrieve_attribute(request: web.Request) -> web.Response:
    state: AppState = request.app[STATE]
    tenant = tenant_of(request)
    media = negotiate(request, JSON_OR_LD)
    terms = await state.resolver.resolve(link_context(request))
    entity_id = _entity_id(request)
    name = _attr_name(request, terms)
    opts = render_options(request, terms)
    entity = await state.entities.get(tenant, entity_id)
    instances = entity["attrs"].get(name)
    if not instances:
        raise ResourceNotFound(
            f"entity '{entity_id}' has no attribute '{request.match_info['attrId']}'",
            field="attrId",
        )
    data = render_attribute(instances, terms, opts)
    if media == LD_JSON and not isinstance(data, dict):
        data = {"value": data} if not isinstance(data, list) else data
    return respond(request, data, terms, media)


async def partial_update_attribute(request: web.Request) -> web.Response:
    w = await _write_request(request)
    name, instances = w.attribute(allow_null=True)
    await w.state.entities.partial_update_attr(w.tenant, w.entity_id, name, instances)
    return web.Response(status=204)


async def replace_attribute(request: web.Request) -> web.Response:
    w = await _write_request(request)
    name, instances = w.attribute(allow_null=False)
    await w.state.entities.replace_attr(w.tenant, w.entity_id, name, instances)
    return web.Response(status=204)


async def delete_attribute(request: web.Request) -> web.Response:
    state: AppState = request.app[STATE]
    tenant = tenant_of(request)
    entity_id = _entity_id(request)
    terms = await state.resolver.resolve(link_context(request))
    name = _attr_name(request, terms, allow_scope=True)
    dataset_id = request.query.get("datasetId")
    if dataset_id is not None and not validate.is_uri(dataset_id):
        raise BadRequestData(f"datasetId '{dataset_id}' is not a URI", field="datasetId")
    await state.entities.delete_attr(
        tenant,
        entity_id,
        name,
        dataset_id=dataset_id,
        delete_all=bool_param(request, "deleteAll"),
    )
    return web.Response(status=204)
