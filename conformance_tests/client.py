"""A small synchronous NGSI-LD HTTP client for the conformance suite (stdlib http.client only).

Nothing here knows the broker's internals: it speaks HTTP to a base URL, like any user would.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

API = "/ngsi-ld/v1"
ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
JSONLD_CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"

CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
CORE_CONTEXTS = (
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.7.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld",
)
DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"

JSON = "application/json"
JSONLD = "application/ld+json"
GEOJSON = "application/geo+json"
MERGE_PATCH = "application/merge-patch+json"

_UNSET: Any = object()


def new_id(kind: str = "Vehicle") -> str:
    """A fresh entity id, so that tests never collide on a shared broker."""
    return f"urn:ngsi-ld:{kind}:{uuid.uuid4().hex}"


def link_header(url: str) -> str:
    return f'<{url}>; rel="{JSONLD_CONTEXT_REL}"; type="{JSONLD}"'


def parse_link(value: str | None) -> str | None:
    """The @context URL of a `Link` header value, or None when it carries none."""
    if not value:
        return None
    for part in value.split(","):
        part = part.strip()
        if not part.startswith("<") or ">" not in part:
            continue
        url, _, params = part[1:].partition(">")
        if JSONLD_CONTEXT_REL in params:
            return url
    return None


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    _json: Any = field(default=_UNSET, repr=False)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def content_type(self) -> str:
        """The media type, without parameters (charset …)."""
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    @property
    def link_context(self) -> str | None:
        return parse_link(self.header("link"))

    def json(self) -> Any:
        if self._json is _UNSET:
            try:
                self._json = json.loads(self.body)
            except ValueError as exc:
                raise AssertionError(
                    f"response body is not JSON (status {self.status}): {self.body[:300]!r}"
                ) from exc
        return self._json

    def __str__(self) -> str:
        return f"HTTP {self.status} {self.headers.get('content-type', '')} {self.body[:500]!r}"


class Client:
    """One broker (and optionally one tenant): `get`, `post`, `put`, `patch`, `delete`.

    `json=` bodies are serialised as JSON with Content-Type application/json unless
    `content_type` says otherwise; `body=` sends raw bytes as they are.
    """

    def __init__(
        self, base_url: str, *, tenant: str | None = None, timeout: float = 30.0
    ) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80
        self.prefix = parsed.path.rstrip("/")
        self.tenant = tenant
        self.timeout = timeout

    def with_tenant(self, tenant: str | None) -> Client:
        return Client(self.base_url, tenant=tenant, timeout=self.timeout)

    # -- the one primitive ------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = _UNSET,
        body: bytes | None = None,
        params: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
        accept: str | None = None,
        context: str | None = None,
    ) -> Response:
        """`context` adds a JSON-LD Link header with that URL."""
        hdrs: dict[str, str] = {}
        if self.tenant is not None:
            hdrs["NGSILD-Tenant"] = self.tenant
        if accept is not None:
            hdrs["Accept"] = accept
        if context is not None:
            hdrs["Link"] = link_header(context)
        if json is not _UNSET:
            body = _dumps(json)
            hdrs["Content-Type"] = content_type or JSON
        elif content_type is not None:
            hdrs["Content-Type"] = content_type
        hdrs.update(headers or {})
        url = self.prefix + path
        if params:
            items = params.items() if isinstance(params, Mapping) else params
            url += "?" + urllib.parse.urlencode([(k, _param(v)) for k, v in items])
        return self._send(method, url, body, hdrs)

    def _send(self, method: str, url: str, body: bytes | None, hdrs: dict[str, str]) -> Response:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            try:
                conn.request(method, url, body=body, headers=hdrs)
            except (BrokenPipeError, ConnectionResetError):
                # The server may answer (413 …) and close before reading a large body.
                pass
            raw = conn.getresponse()
            data = raw.read()
            headers = {k.lower(): v for k, v in raw.getheaders()}
            # Several Link headers are joined, as HTTP allows.
            links = raw.headers.get_all("Link") or []
            if len(links) > 1:
                headers["link"] = ", ".join(links)
            return Response(raw.status, headers, data)
        finally:
            conn.close()

    # -- verbs ------------------------------------------------------------------------------

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Response:
        return self.request("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> Response:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Response:
        return self.request("DELETE", path, **kw)

    # -- NGSI-LD shortcuts ------------------------------------------------------------------

    def create(self, entity: Mapping[str, Any], **kw: Any) -> Response:
        """POST /entities; asserts 201 so that a test's set-up fails loudly."""
        r = self.post(f"{API}/entities", json=entity, **kw)
        assert r.status == 201, f"creating {entity.get('id')} failed: {r}"
        return r

    def retrieve(self, entity_id: str, **kw: Any) -> Response:
        return self.get(entity_path(entity_id), **kw)

    def entity(self, entity_id: str, **kw: Any) -> dict[str, Any]:
        """GET /entities/{id} as application/json; asserts 200 and returns the body."""
        kw.setdefault("accept", JSON)
        r = self.retrieve(entity_id, **kw)
        assert r.status == 200, f"retrieving {entity_id} failed: {r}"
        body = r.json()
        assert isinstance(body, dict), body
        return body

    def exists(self, entity_id: str) -> bool:
        r = self.retrieve(entity_id, accept=JSON)
        assert r.status in (200, 404), r
        return r.status == 200


def entity_path(entity_id: str) -> str:
    return f"{API}/entities/{quote(entity_id)}"


def attrs_path(entity_id: str, attr: str | None = None) -> str:
    path = f"{API}/entities/{quote(entity_id)}/attrs"
    return path if attr is None else f"{path}/{quote(attr)}"


def quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(v) for v in value)
    return str(value)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


# -- assertions -------------------------------------------------------------------------------


def assert_problem(r: Response, status: int, error_type: str | tuple[str, ...]) -> dict[str, Any]:
    """The response is an NGSI-LD ProblemDetails (clause 5.5.2) of the given status and type.

    `error_type` is the short name (`BadRequestData`) or a tuple of acceptable short names.
    """
    assert r.status == status, f"expected HTTP {status}, got {r}"
    assert r.content_type in (JSON, "application/problem+json"), (
        f"an error answers application/json, got {r.content_type!r}"
    )
    problem = r.json()
    assert isinstance(problem, dict), problem
    names = (error_type,) if isinstance(error_type, str) else error_type
    assert problem.get("type") in {ERRORS + n for n in names}, (
        f"expected type {[ERRORS + n for n in names]}, got {problem.get('type')!r}"
    )
    assert isinstance(problem.get("title"), str) and problem["title"].strip(), problem
    assert isinstance(problem.get("detail"), str) and problem["detail"].strip(), problem
    return problem


def without_context(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "@context"}


def context_list(ctx: Any) -> list[Any]:
    if ctx is None:
        return []
    return list(ctx) if isinstance(ctx, list) else [ctx]


def canonical(value: Any) -> Any:
    """A comparable form: lists of attribute instances sorted by datasetId, types sorted."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [canonical(v) for v in value]
        if items and all(isinstance(i, dict) and "type" in i for i in items):
            return sorted(items, key=lambda i: str(i.get("datasetId", "")))
        return items
    return value
