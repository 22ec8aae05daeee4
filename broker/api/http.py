"""Request parsing and response building shared by the handlers (clause 6.3).

Content negotiation: request bodies are application/json (context from the `Link` header),
application/ld+json (context in the body) or, for merge, application/merge-patch+json;
responses are application/json (context in a `Link` header), application/ld+json (context
in the body) or application/geo+json where a handler allows it.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import orjson
from aiohttp import web

from broker.api.state import STATE
from broker.errors import (
    BadRequestData,
    InvalidRequest,
    NotAcceptable,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)
from broker.jsonld import TermMap
from broker.types import DEFAULT_TENANT

JSON = "application/json"
LD_JSON = "application/ld+json"
GEO_JSON = "application/geo+json"
MERGE_PATCH = "application/merge-patch+json"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"

JSON_OR_LD = (JSON, LD_JSON)
TENANT_HEADERS = ("NGSILD-Tenant", "Fiware-Service")
_TENANT_RE = re.compile(r"^[A-Za-z0-9_\-]{1,50}$")
_LINK_RE = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")


def tenant_of(request: web.Request) -> str:
    """The tenant named by `NGSILD-Tenant` (or its alias `Fiware-Service`); "" when none."""
    for header in TENANT_HEADERS:
        value = request.headers.get(header)
        if value is not None:
            if not _TENANT_RE.match(value):
                raise BadRequestData(
                    f"tenant name '{value}' is invalid: use 1-50 letters, digits, '_' or '-'",
                    field=header,
                )
            return value
    return DEFAULT_TENANT


def link_context(request: web.Request) -> str | None:
    """The @context URL of a JSON-LD `Link` header (rel=http://www.w3.org/ns/json-ld#context)."""
    header = request.headers.get("Link")
    if not header:
        return None
    found: list[str] = []
    for match in _LINK_RE.finditer(header):
        params = match.group(2).replace(" ", "")
        if f'rel="{CONTEXT_REL}"' in params or f"rel={CONTEXT_REL}" in params:
            found.append(match.group(1).strip())
    if not found:
        return None
    if len(found) > 1:
        raise BadRequestData("more than one JSON-LD context Link header", field="Link")
    return found[0]


def negotiate(request: web.Request, offered: tuple[str, ...]) -> str:
    """The response media type: the first of `offered` the Accept header allows, by q."""
    header = request.headers.get("Accept")
    if not header:
        return offered[0]
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        media, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            ranked.append((-q, position, media.strip().lower()))
    ranked.sort()
    for _, _, media in ranked:
        if media in offered:
            return media
        if media in ("*/*", "application/*"):
            return offered[0]
    raise NotAcceptable(
        f"none of the media types in Accept is offered here; offered: {', '.join(offered)}",
        field="Accept",
    )


async def read_body(
    request: web.Request, *, media: tuple[str, ...] = JSON_OR_LD, context_in_body: bool = False
) -> tuple[Any, Any]:
    """The parsed JSON body and the @context that applies to it (None = core context only).

    `context_in_body`: the body is itself an @context document (POST /jsonldContexts), so an
    @context member is expected whatever the Content-Type.
    """
    if "Content-Type" not in request.headers:
        raise UnsupportedMediaType("Content-Type is missing", field="Content-Type")
    ctype = request.content_type
    if ctype not in media:
        raise UnsupportedMediaType(
            f"Content-Type '{ctype}' is not accepted here; use {' or '.join(media)}",
            field="Content-Type",
        )
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise RequestEntityTooLarge(
            f"request body larger than {request.app[STATE].settings.max_body_bytes} bytes",
            field="body",
        ) from None
    if not raw:
        raise InvalidRequest("request body is empty", field="body")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"request body is not valid JSON: {exc}", field="body") from None
    if context_in_body:
        return body, None
    if ctype == LD_JSON:
        if not isinstance(body, dict) or "@context" not in body:
            raise BadRequestData(
                "an application/ld+json body must carry an @context member", field="@context"
            )
        if link_context(request) is not None:
            raise BadRequestData(
                "an application/ld+json request must not also carry a JSON-LD Link header "
                "(clause 6.3.5)",
                field="Link",
            )
        return body, body["@context"]
    if isinstance(body, dict) and "@context" in body:
        raise BadRequestData(
            "an application/json body must not carry @context; send it in a Link header "
            "or use application/ld+json",
            field="@context",
        )
    return body, link_context(request)


def link_header(request: web.Request, terms: TermMap) -> str:
    url = terms.link_url
    if url.startswith("/"):
        url = f"{request.scheme}://{request.host}{url}"
    return f'<{url}>; rel="{CONTEXT_REL}"; type="application/ld+json"'


def respond(
    request: web.Request,
    data: Any,
    terms: TermMap,
    media: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """A JSON(-LD) response: @context in the body for ld+json, in a Link header otherwise."""
    out_headers = dict(headers or {})
    if media == LD_JSON:
        if isinstance(data, dict):
            data = {"@context": terms.context, **data}
        elif isinstance(data, list):
            data = [{"@context": terms.context, **item} for item in data]
    else:
        out_headers["Link"] = link_header(request, terms)
    return web.Response(
        body=orjson.dumps(data), status=status, content_type=media, headers=out_headers
    )


def json_response(data: Any, *, status: int = 200, content_type: str = JSON) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type=content_type)


def entity_location(entity_id: str) -> str:
    return "/ngsi-ld/v1/entities/" + quote(entity_id, safe=":")


def options_of(request: web.Request, allowed: frozenset[str]) -> set[str]:
    """The comma-separated values of every `options` parameter, each checked."""
    found: set[str] = set()
    for raw in request.query.getall("options", []):
        for option in raw.split(","):
            option = option.strip()
            if not option:
                continue
            if option not in allowed:
                raise BadRequestData(
                    f"unknown option '{option}'; allowed here: {', '.join(sorted(allowed))}",
                    field="options",
                )
            found.add(option)
    return found


def list_param(request: web.Request, name: str) -> list[str] | None:
    """A comma-separated query parameter as a list (None when absent)."""
    raw = request.query.getall(name, None)
    if raw is None:
        return None
    items = [item.strip() for value in raw for item in value.split(",")]
    if any(not item for item in items):
        raise BadRequestData(f"'{name}' has an empty item", field=name)
    return items


def bool_param(request: web.Request, name: str) -> bool:
    value = request.query.get(name)
    if value is None:
        return False
    if value in ("true", "false"):
        return value == "true"
    raise BadRequestData(f"'{name}' must be true or false", field=name)
