"""End to end, in one process: the broker application (SQLite) notifying a real HTTP
receiver on a loopback port, for every trigger, format and accepted media type."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from conftest import EX, USER_CONTEXT, BrokerFactory, Receiver
from yarl import URL

Client = TestClient[web.Request, web.Application]
API = "/ngsi-ld/v1"
CORE = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
BRAND = {"type": "Property", "value": "Seat"}


def subscription(receiver: Receiver, path: str = "/notify", **members: Any) -> dict[str, Any]:
    notification = {"endpoint": {"uri": receiver.url(path)}}
    notification.update(members.pop("notification", {}))
    body: dict[str, Any] = {
        "type": "Subscription",
        "entities": [{"type": "Vehicle"}],
        "notification": notification,
        "@context": USER_CONTEXT,
    }
    body.update(members)
    return body


def vehicle(n: int = 1, **attrs: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"urn:ngsi-ld:Vehicle:{n}", "type": "Vehicle", "@context": USER_CONTEXT
    }
    for name, value in attrs.items():
        body[name] = {"type": "Property", "value": value}
    return body


async def post_ld(client: Client, path: str, body: Any, **kw: Any) -> Any:
    return await client.post(
        path, data=_dumps(body), headers={"Content-Type": "application/ld+json", **kw}
    )


def _dumps(body: Any) -> bytes:
    return orjson.dumps(body)


async def subscribe(client: Client, body: dict[str, Any], **headers: str) -> str:
    r = await post_ld(client, f"{API}/subscriptions", body, **headers)
    assert r.status == 201, await r.text()
    return str(r.headers["Location"])


async def create(client: Client, entity: dict[str, Any], **headers: str) -> None:
    r = await post_ld(client, f"{API}/entities", entity, **headers)
    assert r.status == 201, await r.text()


async def patch_attrs(client: Client, entity_id: str, attrs: dict[str, Any]) -> None:
    body = {"@context": USER_CONTEXT, **attrs}
    r = await client.patch(
        f"{API}/entities/{entity_id}/attrs",
        data=_dumps(body),
        headers={"Content-Type": "application/ld+json"},
    )
    assert r.status == 204, await r.text()


async def append_attrs(client: Client, entity_id: str, attrs: dict[str, Any]) -> None:
    body = {"@context": USER_CONTEXT, **attrs}
    r = await post_ld(client, f"{API}/entities/{entity_id}/attrs", body)
    assert r.status == 204, await r.text()


async def quiet(receiver: Receiver, path: str = "/notify", wait: float = 0.15) -> int:
    await asyncio.sleep(wait)
    return len(receiver.at(path))


async def test_creation_notifies_with_the_entity_in_the_subscription_context(
    broker: Client, receiver: Receiver
) -> None:
    location = await subscribe(broker, subscription(receiver))
    await create(broker, vehicle(speed=10))
    [got] = await receiver.wait_for(1)
    assert got.body["subscriptionId"] == location.rsplit("/", 1)[1]
    assert got.body["data"] == [
        {
            "id": "urn:ngsi-ld:Vehicle:1",
            "type": "Vehicle",
            "speed": {"type": "Property", "value": 10},
        }
    ]
    assert got.headers["Content-Type"] == "application/json"
    assert "/ngsi-ld/v1/jsonldContexts/" in got.headers["Link"]


async def test_attribute_triggers_fire_on_their_own_change(
    broker: Client, receiver: Receiver
) -> None:
    await subscribe(
        broker, subscription(receiver, "/created", notificationTrigger=["attributeCreated"])
    )
    await subscribe(
        broker, subscription(receiver, "/updated", notificationTrigger=["attributeUpdated"])
    )
    await subscribe(
        broker, subscription(receiver, "/deleted", notificationTrigger=["attributeDeleted"])
    )
    await create(broker, vehicle(speed=1))
    await receiver.wait_for(1, "/created")
    await patch_attrs(broker, "urn:ngsi-ld:Vehicle:1", {"speed": {"type": "Property", "value": 2}})
    [update] = await receiver.wait_for(1, "/updated")
    assert update.body["data"][0]["speed"]["value"] == 2
    speed = quote(EX + "speed", safe="")
    path = f"{API}/entities/urn:ngsi-ld:Vehicle:1/attrs/{speed}"
    r = await broker.delete(URL(path, encoded=True))
    assert r.status == 204
    [deletion] = await receiver.wait_for(1, "/deleted")
    assert deletion.body["data"][0]["speed"] == {"type": "Property", "value": "urn:ngsi-ld:null"}
    assert await quiet(receiver, "/created", 0) == 1
    assert await quiet(receiver, "/updated", 0) == 1


async def test_entity_triggers_fire_on_creation_update_and_deletion(
    broker: Client, receiver: Receiver
) -> None:
    await subscribe(broker, subscription(receiver, "/c", notificationTrigger=["entityCreated"]))
    await subscribe(broker, subscription(receiver, "/u", notificationTrigger=["entityUpdated"]))
    await subscribe(broker, subscription(receiver, "/d", notificationTrigger=["entityDeleted"]))
    await create(broker, vehicle(speed=1))
    await receiver.wait_for(1, "/c")
    await append_attrs(broker, "urn:ngsi-ld:Vehicle:1", {"brand": BRAND})
    await receiver.wait_for(1, "/u")
    assert (await broker.delete(f"{API}/entities/urn:ngsi-ld:Vehicle:1")).status == 204
    [gone] = await receiver.wait_for(1, "/d")
    assert gone.body["data"][0]["id"] == "urn:ngsi-ld:Vehicle:1"
    assert "deletedAt" in gone.body["data"][0]
    assert len(receiver.at("/c")) == 1 and len(receiver.at("/u")) == 1


async def test_batch_upserts_notify_once_per_entity(broker: Client, receiver: Receiver) -> None:
    await subscribe(broker, subscription(receiver))
    batch = [vehicle(n, speed=n) for n in range(3)]
    r = await post_ld(broker, f"{API}/entityOperations/upsert", batch)
    assert r.status == 201, await r.text()
    got = await receiver.wait_for(3)
    assert sorted(g.body["data"][0]["id"] for g in got) == [e["id"] for e in batch]


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("normalized", {"type": "Property", "value": 7}),
        ("concise", 7),
        ("keyValues", 7),
    ],
)
async def test_each_format(broker: Client, receiver: Receiver, fmt: str, expected: Any) -> None:
    await subscribe(broker, subscription(receiver, notification={"format": fmt}))
    await create(broker, vehicle(speed=7))
    [got] = await receiver.wait_for(1)
    assert got.body["data"][0]["speed"] == expected


async def test_ld_json_receivers_get_the_context_inline(broker: Client, receiver: Receiver) -> None:
    await subscribe(broker, subscription(receiver, notification={
        "endpoint": {"uri": receiver.url(), "accept": "application/ld+json"}}))
    await create(broker, vehicle(speed=7))
    [got] = await receiver.wait_for(1)
    assert got.headers["Content-Type"] == "application/ld+json"
    assert got.body["@context"] == USER_CONTEXT
    assert "Link" not in got.headers


async def test_json_ld_context_member_sets_the_notification_context(
    broker: Client, receiver: Receiver
) -> None:
    await subscribe(broker, subscription(receiver, jsonldContext=CORE))
    await create(broker, vehicle(speed=7))
    [got] = await receiver.wait_for(1)
    assert got.headers["Link"].startswith(f"<{CORE}>")
    assert got.body["data"][0]["type"] == EX + "Vehicle"


async def test_receiver_info_headers_are_sent(broker: Client, receiver: Receiver) -> None:
    await subscribe(broker, subscription(receiver, notification={"endpoint": {
        "uri": receiver.url(), "receiverInfo": [{"key": "X-Api-Key", "value": "k1"}]}}))
    await create(broker, vehicle(speed=7))
    [got] = await receiver.wait_for(1)
    assert got.headers["X-Api-Key"] == "k1"


async def test_q_and_watched_attributes_filter_notifications(
    broker: Client, receiver: Receiver
) -> None:
    await subscribe(broker, subscription(receiver, q="speed>50", watchedAttributes=["speed"]))
    await create(broker, vehicle(1, speed=10))
    await create(broker, vehicle(2, speed=90))
    [got] = await receiver.wait_for(1)
    assert got.body["data"][0]["id"] == "urn:ngsi-ld:Vehicle:2"
    await append_attrs(broker, "urn:ngsi-ld:Vehicle:2", {"brand": BRAND})
    assert await quiet(receiver) == 1


async def test_a_subscription_never_sees_another_tenants_entities(
    broker: Client, receiver: Receiver
) -> None:
    await subscribe(broker, subscription(receiver, "/a"), **{"NGSILD-Tenant": "a"})
    await create(broker, vehicle(1, speed=1), **{"NGSILD-Tenant": "b"})
    await create(broker, vehicle(2, speed=1))
    await create(broker, vehicle(3, speed=1), **{"NGSILD-Tenant": "a"})
    [got] = await receiver.wait_for(1, "/a")
    assert got.body["data"][0]["id"] == "urn:ngsi-ld:Vehicle:3"
    assert got.headers["NGSILD-Tenant"] == "a"
    assert await quiet(receiver, "/a") == 1


async def test_paused_and_deleted_subscriptions_stop_notifying(
    broker: Client, receiver: Receiver
) -> None:
    location = await subscribe(broker, subscription(receiver))
    r = await broker.patch(location, json={"isActive": False})
    assert r.status == 204, await r.text()
    await create(broker, vehicle(1, speed=1))
    assert await quiet(receiver) == 0
    r = await broker.patch(location, json={"isActive": True})
    await create(broker, vehicle(2, speed=1))
    await receiver.wait_for(1)
    assert (await broker.delete(location)).status == 204
    await create(broker, vehicle(3, speed=1))
    assert await quiet(receiver) == 1


async def test_counters_show_in_the_subscription_and_failure_sets_failed(
    broker: Client, receiver: Receiver
) -> None:
    receiver.status["/notify"] = 500
    location = await subscribe(broker, subscription(receiver))
    await create(broker, vehicle(1, speed=1))
    await receiver.wait_for(1)
    await asyncio.sleep(0.05)
    shown = await (await broker.get(location)).json()
    assert shown["notification"]["status"] == "failed"
    assert shown["notification"]["timesFailed"] == 1
    assert "lastFailure" in shown["notification"]
    receiver.status["/notify"] = 200
    await create(broker, vehicle(2, speed=1))
    await receiver.wait_for(2)
    await asyncio.sleep(0.05)
    shown = await (await broker.get(location)).json()
    assert shown["notification"]["status"] == "ok"
    assert shown["notification"]["timesSent"] == 2
    assert shown["notification"]["timesFailed"] == 1
    assert shown["status"] == "active"


async def test_private_endpoints_are_refused_unless_allowed(
    open_broker: BrokerFactory, receiver: Receiver
) -> None:
    guarded = await open_broker(allow_private_urls=False)
    r = await post_ld(guarded, f"{API}/subscriptions", subscription(receiver))
    assert r.status == 400
    assert (await r.json())["field"] == "notification.endpoint.uri"
    r = await guarded.get(f"{API}/subscriptions")
    assert await r.json() == []


async def test_subscriptions_and_counters_survive_a_restart(
    open_broker: BrokerFactory, receiver: Receiver, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'agora.db'}"
    first = await open_broker(store=store, subscription_stats_flush_interval=60.0)
    location = await subscribe(first, subscription(receiver))
    await create(first, vehicle(1, speed=1))
    await receiver.wait_for(1)
    await asyncio.sleep(0.05)
    await first.close()  # counters are written at shutdown
    again = await open_broker(store=store)
    shown = await (await again.get(location)).json()
    assert shown["notification"]["timesSent"] == 1
    await create(again, vehicle(2, speed=1))
    await receiver.wait_for(2)


async def test_metrics_show_notifications_by_scheme(
    open_broker: BrokerFactory, receiver: Receiver
) -> None:
    broker = await open_broker(notification_queue_size=1, notification_concurrency=1)
    receiver.delay["/slow"] = 5.0
    await subscribe(broker, subscription(receiver, "/ok"))
    slow = subscription(receiver, "/slow")
    slow["notification"]["endpoint"]["uri"] = receiver.url("/slow").replace(
        "127.0.0.1", "localhost"
    )
    await subscribe(broker, slow)
    await subscribe(broker, subscription(receiver, "/missing", notification={
        "endpoint": {"uri": "http://127.0.0.1:9/nothing-listens"}}))
    for n in range(3):
        await create(broker, vehicle(n, speed=n))
    await receiver.wait_for(3, "/ok")
    await receiver.wait_for(1, "/slow")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while True:
        text = await (await broker.get("/metrics")).text()
        if 'agora_notifications_failed_total{scheme="http"} 3.0' in text:
            break
        assert loop.time() < deadline, text
        await asyncio.sleep(0.02)
    assert 'agora_notifications_sent_total{scheme="http"} 3.0' in text
    # /slow holds its one worker: one waits in its queue of 1, the third was dropped
    assert 'agora_notifications_dropped_total{scheme="http"} 1.0' in text
    assert 'agora_notification_queue_depth{scheme="http"} 1.0' in text
    assert 'agora_notification_duration_seconds_count{scheme="http"} 6.0' in text
    receiver.release.set()
