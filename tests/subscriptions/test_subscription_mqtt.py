"""End to end over MQTT (clause 7): the broker application publishing notifications to an
MQTT server started by the test (Mosquitto, or amqtt where the binary is missing), read back
by an MQTT subscriber: both protocol versions, QoS 0 and 1, credentials from the URI, every
format, one shared connection per server, reconnection after the server restarts, failures
counted. Under amqtt the MQTT 5.0 cases are skipped (it speaks 3.1.1 only) and the QoS a
message arrives with is not checked (amqtt forwards with the subscriber's QoS)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from conftest import USER_CONTEXT, BrokerFactory
from mqtt_support import (
    PASSWORD,
    USER,
    MqttServer,
    Subscriber,
    require_version,
    started_mqtt_server,
    subscriber,
)
from test_subscription_end_to_end import create, patch_attrs, subscribe, vehicle

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def mqtt() -> Iterator[MqttServer]:
    with started_mqtt_server() as server:
        yield server


@pytest.fixture
async def inbox(mqtt: MqttServer) -> AsyncIterator[Subscriber]:
    async with subscriber(mqtt) as found:
        yield found


def mqtt_subscription(
    uri: str, *, version: str, qos: str = "0", **members: Any
) -> dict[str, Any]:
    notification: dict[str, Any] = {
        "endpoint": {
            "uri": uri,
            "notifierInfo": [
                {"key": "MQTT-Version", "value": version},
                {"key": "MQTT-QoS", "value": qos},
            ],
        }
    }
    notification.update(members.pop("notification", {}))
    return {
        "type": "Subscription",
        "entities": [{"type": "Vehicle"}],
        "notification": notification,
        "@context": USER_CONTEXT,
        **members,
    }


async def subscription_state(broker: Client, location: str) -> dict[str, Any]:
    r = await broker.get(location, headers={"Accept": "application/json"})
    assert r.status == 200
    body: dict[str, Any] = await r.json()
    return body


async def settle_state(
    broker: Client, location: str, member: str, value: Any, within: float = 10.0
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        state = await subscription_state(broker, location)
        if state["notification"].get(member) == value:
            return state
        assert loop.time() < deadline, f"{member} is {state['notification'].get(member)!r}"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("version", ["mqtt3.1.1", "mqtt5.0"])
@pytest.mark.parametrize("qos", ["0", "1"])
@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("normalized", {"type": "Property", "value": 7}), ("concise", 7), ("keyValues", 7)],
)
async def test_notification_is_published_as_metadata_and_body(
    broker: Client,
    mqtt: MqttServer,
    inbox: Subscriber,
    version: str,
    qos: str,
    fmt: str,
    expected: Any,
) -> None:
    require_version(mqtt, version)
    topic = f"agora/{version}/{qos}/{fmt}"
    body = mqtt_subscription(
        f"{mqtt.url}/{topic}", version=version, qos=qos, notification={"format": fmt}
    )
    location = await subscribe(broker, body)
    await create(broker, vehicle(speed=7))
    [message] = await inbox.wait_for(topic)
    if mqtt.forwards_publish_qos:
        assert message.qos == int(qos)
    assert set(message.payload) == {"metadata", "body"}
    assert message.payload["metadata"]["Content-Type"] == "application/json"
    assert "/ngsi-ld/v1/jsonldContexts/" in message.payload["metadata"]["Link"]
    notification = message.payload["body"]
    assert notification["type"] == "Notification"
    assert notification["subscriptionId"] == location.rsplit("/", 1)[1]
    assert notification["data"][0]["id"] == "urn:ngsi-ld:Vehicle:1"
    assert notification["data"][0]["speed"] == expected
    state = await settle_state(broker, location, "timesSent", 1)
    assert state["notification"]["status"] == "ok"


async def test_ld_json_endpoint_gets_the_context_in_the_body(
    broker: Client, mqtt: MqttServer, inbox: Subscriber
) -> None:
    body = mqtt_subscription(f"{mqtt.url}/ld", version=mqtt.version)
    body["notification"]["endpoint"]["accept"] = "application/ld+json"
    body["notification"]["endpoint"]["receiverInfo"] = [{"key": "X-Site", "value": "north"}]
    await subscribe(broker, body)
    await create(broker, vehicle(speed=1))
    [message] = await inbox.wait_for("ld")
    assert message.payload["metadata"]["Content-Type"] == "application/ld+json"
    assert message.payload["metadata"]["X-Site"] == "north"
    assert "Link" not in message.payload["metadata"]
    assert message.payload["body"]["@context"] == USER_CONTEXT


@pytest.mark.parametrize("version", ["mqtt3.1.1", "mqtt5.0"])
async def test_credentials_in_the_uri_are_used(
    broker: Client, mqtt: MqttServer, inbox: Subscriber, version: str
) -> None:
    require_version(mqtt, version)
    if not mqtt.checks_passwords:
        pytest.skip("no mosquitto_passwd here: the server cannot check passwords")
    good = f"mqtt://{USER}:{PASSWORD}@127.0.0.1:{mqtt.port}/secure/good"
    bad = f"mqtt://{USER}:wrong@127.0.0.1:{mqtt.port}/secure/bad"
    await subscribe(broker, mqtt_subscription(good, version=version, qos="1"))
    refused = await subscribe(broker, mqtt_subscription(bad, version=version, qos="1"))
    await create(broker, vehicle(speed=1))
    [message] = await inbox.wait_for("secure/good")
    assert message.payload["body"]["data"][0]["speed"]["value"] == 1
    state = await settle_state(broker, refused, "timesFailed", 1)
    assert state["notification"]["status"] == "failed"
    assert inbox.on("secure/bad") == []


async def test_subscriptions_on_one_server_share_one_connection(
    open_broker: BrokerFactory, mqtt: MqttServer, inbox: Subscriber
) -> None:
    broker = await open_broker()
    topics = []
    for version in mqtt.versions:
        for n in range(3):
            topic = f"shared/{version}/{n}"
            topics.append(topic)
            await subscribe(broker, mqtt_subscription(f"{mqtt.url}/{topic}", version=version))
    await create(broker, vehicle(speed=1))
    for topic in topics:
        await inbox.wait_for(topic)
    metrics = await (await broker.get("/metrics")).text()
    # one connection per protocol version
    assert f"agora_mqtt_connections {float(len(mqtt.versions))}" in metrics
    assert f'agora_notifications_sent_total{{scheme="mqtt"}} {float(len(topics))}' in metrics


async def test_the_connection_is_reopened_after_the_server_restarts(
    open_broker: BrokerFactory, mqtt: MqttServer
) -> None:
    broker = await open_broker(notification_retries=4, notification_retry_backoff=0.2,
                               mqtt_reconnect_backoff=0.1)
    uri = f"{mqtt.url}/again"
    await subscribe(broker, mqtt_subscription(uri, version=mqtt.version, qos="1"))
    async with subscriber(mqtt) as inbox:
        await create(broker, vehicle(speed=1))
        await inbox.wait_for("again")
    mqtt.stop()
    mqtt.start()
    async with subscriber(mqtt) as inbox:
        await patch_attrs(
            broker, "urn:ngsi-ld:Vehicle:1", {"speed": {"type": "Property", "value": 2}}
        )
        [message] = await inbox.wait_for("again")
    assert message.payload["body"]["data"][0]["speed"]["value"] == 2


async def test_an_unreachable_server_counts_failures_and_the_metrics_show_them(
    open_broker: BrokerFactory, mqtt: MqttServer
) -> None:
    broker = await open_broker()
    mqtt.stop()
    body = mqtt_subscription(f"{mqtt.url}/nowhere", version=mqtt.version)
    location = await subscribe(broker, body)
    await create(broker, vehicle(speed=1))
    state = await settle_state(broker, location, "timesFailed", 1)
    assert state["notification"]["status"] == "failed"
    metrics = await (await broker.get("/metrics")).text()
    assert 'agora_notifications_failed_total{scheme="mqtt"} 1.0' in metrics
    assert "agora_mqtt_connect_failures_total 1.0" in metrics
