"""A small NGSI-LD HTTP client: the batch upsert an adapter needs, and nothing of the broker.

It works against any NGSI-LD broker (Agora, Orion-LD, Scorpio, Stellio).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

UPSERT_PATH = "/ngsi-ld/v1/entityOperations/upsert"
LD_JSON = "application/ld+json"
JSON = "application/json"
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


class BrokerUnavailable(Exception):
    """The broker could not take the request now (unreachable, 5xx, 429): try again later."""


@dataclass(frozen=True, slots=True)
class EntityFailure:
    entity_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class UpsertOutcome:
    """How many entities the broker took and which it refused (and why)."""

    accepted: int
    failures: list[EntityFailure] = field(default_factory=list)


class NgsiLdClient:
    """Batch upsert over one `aiohttp.ClientSession` (created on first use)."""

    def __init__(self, broker_url: str, *, timeout: float = 10.0) -> None:
        self.broker_url = broker_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def upsert(
        self,
        entities: Sequence[Mapping[str, Any]],
        *,
        tenant: str | None = None,
        link_context: str | None = None,
    ) -> UpsertOutcome:
        """`POST /entityOperations/upsert?options=update`: with `link_context`, an
        application/json body and the context in a Link header; otherwise an
        application/ld+json body when the entities carry `@context`, else plain JSON
        (the core context). Raises `BrokerUnavailable` when the broker should be retried."""
        headers = {"Accept": JSON}
        if link_context is not None:
            headers["Content-Type"] = JSON
            headers["Link"] = (
                f'<{link_context}>; rel="http://www.w3.org/ns/json-ld#context"; '
                'type="application/ld+json"'
            )
        elif any("@context" in e for e in entities):
            headers["Content-Type"] = LD_JSON
        else:
            headers["Content-Type"] = JSON
        if tenant:
            headers["NGSILD-Tenant"] = tenant
        url = f"{self.broker_url}{UPSERT_PATH}?options=update"
        try:
            async with self._http().post(url, data=orjson.dumps(entities), headers=headers) as r:
                body = await r.read()
                status = r.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise BrokerUnavailable(f"{url}: {type(exc).__name__}: {exc}") from exc
        if status in RETRYABLE_STATUSES:
            raise BrokerUnavailable(f"{url} answered {status}")
        if status in (200, 201, 204):
            return UpsertOutcome(accepted=len(entities))
        if status == 207:
            return _batch_result(body, len(entities))
        reason = f"the broker refused the batch with {status}: {_detail(body)}"
        return UpsertOutcome(
            accepted=0,
            failures=[EntityFailure(str(e.get("id", "?")), reason) for e in entities],
        )


def _batch_result(body: bytes, sent: int) -> UpsertOutcome:
    """A 207 BatchOperationResult (clause 5.2.16): `success` ids and `errors`, each with
    `entityId` and a ProblemDetails `error`."""
    try:
        result = orjson.loads(body)
    except orjson.JSONDecodeError:
        result = {}
    failures = []
    for item in result.get("errors", []) if isinstance(result, dict) else []:
        error = item.get("error", {}) if isinstance(item, dict) else {}
        reason = error.get("detail") or error.get("title") or error.get("type") or "rejected"
        failures.append(EntityFailure(str(item.get("entityId", "?")), str(reason)))
    return UpsertOutcome(accepted=max(sent - len(failures), 0), failures=failures)


def _detail(body: bytes) -> str:
    try:
        problem = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body[:200].decode("utf-8", "replace")
    if isinstance(problem, dict):
        return str(problem.get("detail") or problem.get("title") or problem)
    return str(problem)[:200]
