"""Handlers for /ngsi-ld/v1/entityOperations/{create,upsert,update,delete,merge}.

Clauses 6.14-6.17 and 6.31 (HTTP binding) of the batch operations 5.6.7-5.6.10 and 5.6.20.
The body is a JSON array: of entities for create and upsert, of entity fragments with their
id for update and merge, of entity ids for delete. An application/json body takes its
@context from the Link header; an application/ld+json body carries one in each element (a
URL string, as FIWARE IoT Agents send it, an object or an array).

Answers: 201 with the array of created ids (create; upsert when it created any), 204 when
every element succeeded, 207 with a BatchOperationResult (clause 5.2.16) otherwise. What is
wrong with the request as a whole (not an array, empty, more than `batch_max_entities`
elements, a Link header with ld+json) is 400 and changes nothing; what is wrong with one
element fails that element alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
from aiohttp import web

from broker.api.http import (
    LD_JSON,
    json_response,
    link_context,
    options_of,
    read_body,
    tenant_of,
)
from broker.api.state import STATE, AppState
from broker.errors import BadRequestData, NgsiLdError
from broker.jsonld import TermMap
from broker.model import validate
from broker.model.expand import ExpandedFragment, entity_expander, fragment_expander
from broker.services.batch import BatchResult, BatchService, EntityError
from broker.services.entities import utc_now
from broker.types import ExpandedEntity

UPSERT_OPTIONS = frozenset({"replace", "update"})
UPDATE_OPTIONS = frozenset({"noOverwrite"})
NO_OPTIONS: frozenset[str] = frozenset()

T = TypeVar("T")


@dataclass(slots=True)
class _Batch:
    """A batch request, checked as a whole; its elements not yet."""

    state: AppState
    tenant: str
    options: set[str]
    items: list[Any]
    link: str | None
    ld_json: bool
    errors: list[EntityError] = field(default_factory=list)

    @property
    def service(self) -> BatchService:
        return self.state.batch

    async def parsed(self, parse: Callable[[dict[str, Any], TermMap], T]) -> list[T]:
        """Each element through `parse` with its own @context; the failures go to `errors`."""
        terms_by_key: dict[str | bytes, TermMap | NgsiLdError] = {}
        out: list[T] = []
        # application/json: every element has the Link header's context, resolved once.
        shared: TermMap | None = None
        for item in self.items:
            try:
                if not isinstance(item, dict):
                    raise BadRequestData("a batch element must be a JSON object", field="body")
                if shared is not None and "@context" not in item:
                    terms = shared
                else:
                    terms = await self._terms(item, terms_by_key)
                    if not self.ld_json:
                        shared = terms
                out.append(parse(item, terms))
            except NgsiLdError as exc:
                self.errors.append(EntityError(_id_for_report(item), exc))
        return out

    async def _terms(
        self, item: dict[str, Any], cache: dict[str | bytes, TermMap | NgsiLdError]
    ) -> TermMap:
        if self.ld_json:
            if "@context" not in item:
                raise BadRequestData(
                    "an application/ld+json batch element must carry an @context member",
                    field="@context",
                )
            context = item["@context"]
        else:
            if "@context" in item:
                raise BadRequestData(
                    "an application/json batch element must not carry @context; send it in "
                    "a Link header or use application/ld+json (clause 6.3.5)",
                    field="@context",
                )
            context = self.link
        key: str | bytes = (
            context if isinstance(context, str) else orjson.dumps(context, option=_SORTED)
        )
        found = cache.get(key)
        if found is None:
            try:
                found = await self.state.resolver.resolve(context)
            except NgsiLdError as exc:
                found = exc
            cache[key] = found
        if isinstance(found, NgsiLdError):
            raise found
        return found

    def respond(self, result: BatchResult, *, created_status: bool) -> web.Response:
        errors = self.errors + result.errors
        if errors:
            body = {
                "success": result.success,
                "errors": [
                    {"entityId": e.entity_id, "error": e.error.to_problem()} for e in errors
                ],
            }
            return json_response(body, status=207)
        if created_status and result.created:
            return json_response(result.created, status=201)
        return web.Response(status=204)


_SORTED = orjson.OPT_SORT_KEYS


async def _read_batch(request: web.Request, allowed: frozenset[str]) -> _Batch:
    state: AppState = request.app[STATE]
    tenant = tenant_of(request)
    options = options_of(request, allowed)
    # The body is an array, not one JSON-LD document: the per-element @context rules are
    # applied here, so read_body only checks the media type and size and parses the JSON.
    body, _ = await read_body(request, context_in_body=True)
    ld_json = request.content_type == LD_JSON
    link = link_context(request)
    if ld_json and link is not None:
        raise BadRequestData(
            "an application/ld+json request must not also carry a JSON-LD Link header "
            "(clause 6.3.5)",
            field="Link",
        )
    limit = state.settings.batch_max_entities
    if not isinstance(body, list):
        raise BadRequestData("a batch request body must be a JSON array", field="body")
    if not body:
        raise BadRequestData("a batch request body must not be an empty array", field="body")
    if len(body) > limit:
        raise BadRequestData(
            f"a batch may carry at most {limit} elements; this one has {len(body)}",
            field="body",
        )
    return _Batch(state, tenant, options, body, link, ld_json)


def _id_for_report(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        entity_id = item.get("id", item.get("@id"))
        if isinstance(entity_id, str):
            return entity_id
    return ""


def _per_context(
    make: Callable[[TermMap], Callable[[Any], T]],
) -> Callable[[dict[str, Any], TermMap], T]:
    """Each element through the expander `make` gives for its context: one expander per
    context of the batch (an ld+json element may bring its own), not one per element."""
    expanders: dict[TermMap, Callable[[Any], T]] = {}  # a TermMap hashes by identity

    def parse(item: dict[str, Any], terms: TermMap) -> T:
        expand = expanders.get(terms)
        if expand is None:
            expand = expanders[terms] = make(terms)
        return expand(item)

    return parse


def _entity(batch: _Batch, now: str) -> Callable[[dict[str, Any], TermMap], ExpandedEntity]:
    limit = batch.state.settings.max_attributes
    return _per_context(lambda terms: entity_expander(terms, now=now, max_attributes=limit))


def _fragment(
    batch: _Batch, now: str, *, allow_null: bool
) -> Callable[[dict[str, Any], TermMap], ExpandedFragment]:
    limit = batch.state.settings.max_attributes
    expand = _per_context(
        lambda terms: fragment_expander(
            terms, now=now, allow_null=allow_null, max_attributes=limit
        )
    )

    def parse(item: dict[str, Any], terms: TermMap) -> ExpandedFragment:
        fragment = expand(item, terms)
        if fragment.entity_id is None:
            raise BadRequestData("a batch element must carry the entity id", field="id")
        return fragment

    return parse


async def _run(
    request: web.Request,
    allowed: frozenset[str],
    operate: Callable[[_Batch], Awaitable[BatchResult]],
    *,
    created_status: bool,
) -> web.Response:
    batch = await _read_batch(request, allowed)
    return batch.respond(await operate(batch), created_status=created_status)


# -- the operations ---------------------------------------------------------------------


async def batch_create(request: web.Request) -> web.Response:
    """POST /entityOperations/create (6.14.3.1, 5.6.7)."""

    async def operate(batch: _Batch) -> BatchResult:
        entities = await batch.parsed(_entity(batch, utc_now()))
        return await batch.service.create(batch.tenant, entities)

    return await _run(request, NO_OPTIONS, operate, created_status=True)


async def batch_upsert(request: web.Request) -> web.Response:
    """POST /entityOperations/upsert (6.15.3.1, 5.6.8); options=replace (default) | update."""

    async def operate(batch: _Batch) -> BatchResult:
        if batch.options == UPSERT_OPTIONS:
            raise BadRequestData("options replace and update exclude each other", field="options")
        entities = await batch.parsed(_entity(batch, utc_now()))
        return await batch.service.upsert(
            batch.tenant, entities, replace="update" not in batch.options
        )

    return await _run(request, UPSERT_OPTIONS, operate, created_status=True)


async def batch_update(request: web.Request) -> web.Response:
    """POST /entityOperations/update (6.16.3.1, 5.6.9); options=noOverwrite."""

    async def operate(batch: _Batch) -> BatchResult:
        fragments = await batch.parsed(_fragment(batch, utc_now(), allow_null=False))
        return await batch.service.update(
            batch.tenant, fragments, overwrite="noOverwrite" not in batch.options
        )

    return await _run(request, UPDATE_OPTIONS, operate, created_status=False)


async def batch_merge(request: web.Request) -> web.Response:
    """POST /entityOperations/merge (6.31.3.1, 5.6.20): NGSI-LD Null deletes."""

    async def operate(batch: _Batch) -> BatchResult:
        fragments = await batch.parsed(_fragment(batch, utc_now(), allow_null=True))
        return await batch.service.merge(batch.tenant, fragments)

    return await _run(request, NO_OPTIONS, operate, created_status=False)


async def batch_delete(request: web.Request) -> web.Response:
    """POST /entityOperations/delete (6.17.3.1, 5.6.10): the body is an array of ids."""

    async def operate(batch: _Batch) -> BatchResult:
        ids: list[str] = []
        for item in batch.items:
            if isinstance(item, str) and validate.is_uri(item):
                ids.append(item)
            else:
                batch.errors.append(
                    EntityError(
                        _id_for_report(item),
                        BadRequestData(f"{item!r} is not an entity id (a URI)", field="id"),
                    )
                )
        return await batch.service.delete(batch.tenant, ids)

    return await _run(request, NO_OPTIONS, operate, created_status=False)
