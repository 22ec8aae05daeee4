"""Pagination of collection answers (clauses 5.5.9, 5.5.10): `limit`, `offset`, `count`
(`NGSILD-Results-Count`) and the `Link` rel=next/prev headers."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web
from multidict import CIMultiDict

from broker.errors import BadRequestData, TooManyResults
from broker.settings import Settings

RESULTS_COUNT = "NGSILD-Results-Count"


def int_param(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequestData(f"'{name}' must be a whole number, not '{raw}'", field=name) from None
    if value < 0:
        raise BadRequestData(f"'{name}' must not be negative", field=name)
    return value


def page_params(request: web.Request, settings: Settings, *, count: bool) -> tuple[int, int]:
    """(limit, offset) of the request, checked against the page size settings."""
    limit = int_param(request, "limit", settings.page_size_default)
    offset = int_param(request, "offset", 0)
    if limit > settings.page_size_max:
        raise TooManyResults(
            f"limit {limit} is above the maximum page size {settings.page_size_max}",
            field="limit",
        )
    if limit == 0 and not count:
        raise BadRequestData("limit=0 is only allowed together with count=true", field="limit")
    return limit, offset


def page_link(request: web.Request, offset: int, limit: int, rel: str) -> str:
    params = [(k, v) for k, v in request.query.items() if k not in ("offset", "limit")]
    params += [("limit", str(limit)), ("offset", str(offset))]
    return f'<{request.path}?{urlencode(params)}>; rel="{rel}"; type="application/json"'


def add_page_links(
    request: web.Request,
    headers: CIMultiDict[str],
    *,
    limit: int,
    offset: int,
    shown: int,
    total: int | None,
) -> None:
    """rel=next when more follow, rel=prev when this page is not the first."""
    if not limit:
        return
    more = offset + shown < total if total is not None else shown == limit
    if more:
        headers.add("Link", page_link(request, offset + limit, limit, "next"))
    if offset > 0:
        headers.add("Link", page_link(request, max(offset - limit, 0), limit, "prev"))
