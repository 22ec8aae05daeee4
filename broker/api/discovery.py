"""Handlers for discovery: /types, /types/{type}, /attributes, /attributes/{attrId}
(clauses 6.25-6.28; operations 5.7.5-5.7.10; data types 5.2.24-5.2.28).

Type and attribute names are compacted with the request's @context, as in every other
response; `id` members of EntityType, EntityTypeInfo and Attribute are always the full IRI.
The path variables {type} and {attrId} may be a short name of that @context or a full IRI.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from broker.api.http import JSON_OR_LD, bool_param, link_context, negotiate, respond, tenant_of
from broker.api.state import STATE, AppState
from broker.errors import BadRequestData
from broker.jsonld import TermMap
from broker.model import validate
from broker.storage.base import AttributeDetails, TypeDetails


def _flags(request: web.Request) -> bool:
    """`details` (and `local`, which changes nothing without federation), checked."""
    bool_param(request, "local")
    return bool_param(request, "details")


def _name(request: web.Request, variable: str, terms: TermMap) -> str:
    raw = request.match_info[variable]
    if not validate.is_valid_name(raw):
        raise BadRequestData(
            f"'{raw}' is not a valid {'entity type' if variable == 'type' else 'attribute'} name",
            field=variable,
        )
    return terms.expand_term(raw)


async def _context(request: web.Request) -> tuple[AppState, str, str, TermMap]:
    state: AppState = request.app[STATE]
    tenant = tenant_of(request)
    media = negotiate(request, JSON_OR_LD)
    terms = await state.resolver.resolve(link_context(request))
    return state, tenant, media, terms


def _names(names: Any, terms: TermMap) -> list[str]:
    return sorted(terms.compact_iri(n) for n in names)


def _entity_type(details: TypeDetails, terms: TermMap) -> dict[str, Any]:
    """EntityType (clause 5.2.25)."""
    return {
        "id": details.type,
        "type": "EntityType",
        "typeName": terms.compact_iri(details.type),
        "attributeNames": _names(details.attributes, terms),
    }


def _entity_type_info(details: TypeDetails, terms: TermMap) -> dict[str, Any]:
    """EntityTypeInfo (clause 5.2.26) with its attributeDetails (clause 5.2.28)."""
    attributes: list[dict[str, Any]] = [
        {
            "id": name,
            "type": "Attribute",
            "attributeName": terms.compact_iri(name),
            "attributeTypes": sorted(kinds),
        }
        for name, kinds in details.attributes.items()
    ]
    attributes.sort(key=lambda a: str(a["attributeName"]))
    return {
        "id": details.type,
        "type": "EntityTypeInfo",
        "typeName": terms.compact_iri(details.type),
        "entityCount": details.entity_count,
        "attributeDetails": attributes,
    }


def _attribute(details: AttributeDetails, terms: TermMap) -> dict[str, Any]:
    """Attribute (clause 5.2.28) with every optional member."""
    return {
        "id": details.name,
        "type": "Attribute",
        "attributeName": terms.compact_iri(details.name),
        "attributeCount": details.entity_count,
        "attributeTypes": sorted(details.kinds),
        "typeNames": _names(details.types, terms),
    }


async def retrieve_types(request: web.Request) -> web.Response:
    """GET /ngsi-ld/v1/types: EntityTypeList (5.7.5), or with details=true an array of
    EntityType (5.7.6)."""
    details = _flags(request)
    state, tenant, media, terms = await _context(request)
    if details:
        found = await state.discovery.types(tenant)
        listed = sorted((_entity_type(t, terms) for t in found), key=lambda t: t["typeName"])
        return respond(request, listed, terms, media)
    names = await state.discovery.type_names(tenant)
    body = {
        "id": f"urn:ngsi-ld:EntityTypeList:{uuid.uuid4()}",
        "type": "EntityTypeList",
        "typeList": _names(names, terms),
    }
    return respond(request, body, terms, media)


async def retrieve_type(request: web.Request) -> web.Response:
    """GET /ngsi-ld/v1/types/{type}: EntityTypeInfo (5.7.7)."""
    _flags(request)
    state, tenant, media, terms = await _context(request)
    entity_type = _name(request, "type", terms)
    found = await state.discovery.type_info(tenant, entity_type, request.match_info["type"])
    return respond(request, _entity_type_info(found, terms), terms, media)


async def retrieve_attributes(request: web.Request) -> web.Response:
    """GET /ngsi-ld/v1/attributes: AttributeList (5.7.8), or with details=true an array of
    Attribute (5.7.9)."""
    details = _flags(request)
    state, tenant, media, terms = await _context(request)
    if details:
        found = await state.discovery.attributes(tenant)
        listed = sorted((_attribute(a, terms) for a in found), key=lambda a: a["attributeName"])
        return respond(request, listed, terms, media)
    body = {
        "id": f"urn:ngsi-ld:AttributeList:{uuid.uuid4()}",
        "type": "AttributeList",
        "attributeList": _names(await state.discovery.attribute_names(tenant), terms),
    }
    return respond(request, body, terms, media)


async def retrieve_attribute(request: web.Request) -> web.Response:
    """GET /ngsi-ld/v1/attributes/{attrId}: Attribute (5.7.10)."""
    _flags(request)
    state, tenant, media, terms = await _context(request)
    name = _name(request, "attrId", terms)
    found = await state.discovery.attribute_info(tenant, name, request.match_info["attrId"])
    return respond(request, _attribute(found, terms), terms, media)
