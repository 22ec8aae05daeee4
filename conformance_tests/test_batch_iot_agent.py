"""What FIWARE IoT Agents (iotagent-node-lib, NGSI-LD mode) send to a broker.

POST /entityOperations/upsert/?options=update, application/ld+json, each entity with an
inline string @context, both `NGSILD-Tenant` and `Fiware-Service` headers, often several
elements of one device in one batch; they expect 201 or 204.
"""

from __future__ import annotations

import uuid
from typing import Any

from conformance_tests.client import API, JSONLD, Client, new_id
from conformance_tests.conftest import Target

UPSERT_AS_AGENTS_DO = f"{API}/entityOperations/upsert/"


def _headers(tenant: str) -> dict[str, str]:
    return {"NGSILD-Tenant": tenant, "Fiware-Service": tenant}


def _measure(entity_id: str, context: str, **attrs: Any) -> dict[str, Any]:
    entity: dict[str, Any] = {"id": entity_id, "type": "Device", "@context": context}
    for name, value in attrs.items():
        entity[name] = {
            "type": "Property",
            "value": value,
            "observedAt": "2026-01-01T00:00:00.000Z",
        }
    return entity


def test_iot_agent_upsert_creates_then_updates_in_its_tenant(
    target: Target, user_context_url: str
) -> None:
    tenant = f"iot{uuid.uuid4().hex[:10]}"
    raw = target.client()
    device = new_id("Device")
    first = raw.post(
        UPSERT_AS_AGENTS_DO,
        json=[
            _measure(device, user_context_url, temperature=20),
            _measure(device, user_context_url, speed=3),
        ],
        params={"options": "update"},
        content_type=JSONLD,
        headers=_headers(tenant),
    )
    assert first.status == 201, first
    assert first.json() == [device]
    second = raw.post(
        UPSERT_AS_AGENTS_DO,
        json=[_measure(device, user_context_url, temperature=21)],
        params={"options": "update"},
        content_type=JSONLD,
        headers=_headers(tenant),
    )
    assert second.status == 204, second
    got = Client(target.url, tenant=tenant).entity(device, context=user_context_url)
    assert got["temperature"]["value"] == 21
    assert got["speed"]["value"] == 3
    assert not target.client().exists(device)


def test_iot_agent_fiware_service_header_alone_names_the_tenant(
    target: Target, user_context_url: str
) -> None:
    tenant = f"iot{uuid.uuid4().hex[:10]}"
    device = new_id("Device")
    r = target.client().post(
        UPSERT_AS_AGENTS_DO,
        json=[_measure(device, user_context_url, temperature=1)],
        params={"options": "update"},
        content_type=JSONLD,
        headers={"Fiware-Service": tenant},
    )
    assert r.status == 201, r
    assert Client(target.url, tenant=tenant).exists(device)
