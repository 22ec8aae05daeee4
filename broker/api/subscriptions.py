"""Handlers for /ngsi-ld/v1/subscriptions (clauses 6.10 and 6.11 of the operations of 5.8).

One operation, one handler, named after the operation. Bodies are application/json (the
@context from the Link header) or application/ld+json (the @context in the body); answers
are compacted with the request's @context.
"""

from __future__ import annotations

from urllib.parse import quote

import orjson
from aiohttp import web
from multidict import CIMultiDict

from broker.api.http import (
    JSON_OR_LD,
    LD_JSON,
    bool_param,
    link_context,
    link_header,
    negotiate,
    options_of,
    read_body,
    respond,
    tenant_of,
)
from broker.api.paging import RESULTS_COUNT, add_page_links, page_params
from broker.api.state import STATE, AppState
from broker.errors import BadRequestData
from broker.model import validate
from broker.subscriptions.render import render_subscription

SUBSCRIPTIONS = "/ngsi-ld/v1/subscriptions"
READ_OPTIONS = frozenset({"sysAttrs"})


def subscription_location(subscription_id: str) -> str:
    return f"{SUBSCRIPTIONS}/{quote(subscription_id, safe=':')}"


def _subscription_id(request: web.Request) -> str:
    subscription_id = request.match_info["subscriptionId"]
    if not validate.is_uri(subscription_id):
        raise BadRequestData(
            f"subscription id '{subscription_id}' is not a URI", field="subscriptionId"
        )
    return subscription_id


async def create_subscription(request: web.Request) -> web.Response:
    """POST /ngsi-ld/v1/subscriptions (Create Subscription, clause 6.10.3.1)."""
    state: AppState = request.app[STATE]
    tenant = tenant_of(request)
    body, context = await read_body(request, media=JSON_OR_LD)
    terms = await state.resolver.resolve(context)
    subscription_id = await state.subscriptions.create(tenant, body, terms, context)
    return web.Response(
        status=201, headers={"Location": subscription_location(subscription_id)}
    )


async def query_subscriptions(request: web.Request) -> web.Response:
    """GET /ngsi-ld/v1/subscriptions (Query Subscriptions, clause 6.10.3.2)."""
    state: AppState = request.app[STATE]
    tenant = tenant_of(request)
    media = negotiate(request, JSON_OR_LD)
    terms = await state.resolver.resolve(link_context(request))
    sys_attrs = "sysAttrs" in options_of(request, READ_OPTIONS)
    count = bool_param(request, "count")
    limit, offset = page_params(request, state.settings, count=count)
    items, total = await state.subscriptions.list(tenant, limit=limit, offset=offset)
    data = [render_subscription(r, s, terms, sys_attrs=sys_attrs) for r, s in items]
    headers: CIMultiDict[str] = CIMultiDict()
    if media == LD_JSON:
        data = [{"@context": terms.context, **item} for item in data]
    else:
        headers.add("Link", link_header(request, terms))
    if count:
        headers[RESULTS_COUNT] = str(total)
    add_page_links(request, headers, limit=limit, offset=offset, shown=len(data), total=total)
    return web.Response(body=orjson.dumps(data), content_type=media, headers=headers)


async def retrieve_subscription(request: web.Request) -> web.Response:
    """GET /ngsi-ld/v1/subscriptions/{subscriptionId} (Retrieve Subscription, 6.11.3.1)."""
    state: AppState = request.app[STATE]
    tenant = tenant_of(request)
    subscription_id = _subscription_id(request)
    media = negotiate(request, JSON_OR_LD)
    terms = await state.resolver.resolve(link_context(request))
    sys_attrs = "sysAttrs" in options_of(request, READ_OPTIONS)
    record, stats = await state.subscriptions.get(tenant, subscription_id)
    data = render_subscription(record, stats, terms, sys_attrs=sys_attrs)
    return respond(request, data, terms, media)


async def update_subscription(request: web.Request) -> web.Response:
    """PATCH /ngsi-ld/v1/subscriptions/{subscriptionId} (Update Subscription, 6.11.3.2)."""
    state: AppState = request.app[STATE]
    tenant = tenant_of(request)
    subscription_id = _subscription_id(request)
    body, context = await read_body(request, media=JSON_OR_LD)
    terms = await state.resolver.resolve(context)
    await state.subscriptions.update(tenant, subscription_id, body, terms, context)
    return web.Response(status=204)


async def delete_subscription(request: web.Request) -> web.Response:
    """DELETE /ngsi-ld/v1/subscriptions/{subscriptionId} (Delete Subscription, 6.11.3.3)."""
    state: AppState = request.app[STATE]
    tenant = tenant_of(request)
    subscription_id = _subscription_id(request)
    await state.subscriptions.delete(tenant, subscription_id)
    return web.Response(status=204)

