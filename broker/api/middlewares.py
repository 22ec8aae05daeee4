"""The one middleware: ProblemDetails for every failure, request metrics, tenant echo."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from broker.errors import (
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    NgsiLdError,
    RequestEntityTooLarge,
    ResourceNotFound,
)
from broker.metrics import Metrics

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def problem_response(error: NgsiLdError) -> web.Response:
    return web.Response(
        body=orjson.dumps(error.to_problem()), status=error.status, content_type="application/json"
    )


def _from_http_exception(exc: web.HTTPException, request: web.Request) -> NgsiLdError:
    if isinstance(exc, web.HTTPNotFound):
        return ResourceNotFound(f"no resource at {request.path}", field="path")
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return MethodNotAllowed(
            f"{request.method} is not allowed on {request.path}; allowed: "
            + ", ".join(sorted(exc.allowed_methods)),
            field="method",
        )
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return RequestEntityTooLarge("request body too large", field="body")
    return InvalidRequest(exc.reason or "invalid request", field="request")


def make_middleware(metrics: Metrics) -> Any:
    children: dict[tuple[str, str, int], Any] = {}
    latencies: dict[tuple[str, str], Any] = {}

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        try:
            response: web.StreamResponse = await handler(request)
        except NgsiLdError as error:
            response = problem_response(error)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            response = problem_response(_from_http_exception(exc, request))
            if isinstance(exc, web.HTTPMethodNotAllowed):
                response.headers["Allow"] = ", ".join(sorted(exc.allowed_methods))
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.path)
            response = problem_response(InternalError("internal error; see the broker log"))
        tenant = request.headers.get("NGSILD-Tenant")
        if tenant is not None:
            response.headers["NGSILD-Tenant"] = tenant
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        key = (route, request.method, response.status)
        counter = children.get(key)
        if counter is None:
            counter = children[key] = metrics.requests.labels(*key)
        counter.inc()
        lkey = (route, request.method)
        histogram = latencies.get(lkey)
        if histogram is None:
            histogram = latencies[lkey] = metrics.request_latency.labels(*lkey)
        histogram.observe(time.perf_counter() - started)
        return response

    return middleware
