"""Every notificationTrigger in every format over every endpoint kind (http, https, mqtt,
mqtts), end to end: the broker application (in-memory SQLite) notifying a real HTTP(S)
receiver and a real MQTT server with a plain and a TLS listener (Mosquitto, or amqtt where
the binary is missing), whose certificates come from a throwaway CA the broker is told to
trust; then the notification metrics by endpoint scheme.

One entity goes through the same five writes in each case (create, update, append, delete
an attribute, delete the entity); each trigger must notify exactly the writes it stands for,
with the entity in the subscription's format. The receivers and the MQTT server are shared
by the module; each test has its own broker, with one notification worker per endpoint so
that an endpoint receives its notifications in the order of the writes: a last notification
of a sentinel subscription to the same endpoint then proves that nothing else is on its way.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from conftest import EX, USER_CONTEXT, BrokerFactory
from mqtt_support import MqttServer, started_mqtt_server
from prometheus_client.parser import text_string_to_metric_families
from test_subscription_end_to_end import (
    API,
    append_attrs,
    create,
    patch_attrs,
    subscribe,
    vehicle,
)
from yarl import URL

from broker.subscriptions import record
from conformance_tests.mqtt_inbox import MqttInbox
from conformance_tests.receiver import NotificationReceiver
from conformance_tests.servers import free_port
from conformance_tests.tls import TestCa

Client = TestClient[web.Request, web.Application]
KINDS = ("http", "https", "mqtt", "mqtts")
FORMATS = ("normalized", "concise", "keyValues")
ENTITY = "urn:ngsi-ld:Vehicle:1"
SENTINEL = "urn:ngsi-ld:Car:sentinel"
NULL = "urn:ngsi-ld:null"

# The writes of every case, in order, and which of them each trigger notifies.
WRITES = ("create", "update", "append", "delete attribute", "delete entity")
NOTIFIED_BY = {
    "entityCreated": ("create",),
    "entityUpdated": ("update", "append", "delete attribute"),
    "entityDeleted": ("delete entity",),
    "attributeCreated": ("create", "append"),
    "attributeUpdated": ("update",),
    "attributeDeleted": ("delete attribute",),
}


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> TestCa:
    """The CA the brokers of this module trust."""
    return TestCa(tmp_path_factory.mktemp("endpoints-ca"), "endpoints-ca")


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> TestCa:
    """A CA they do not trust."""
    return TestCa(tmp_path_factory.mktemp("endpoints-stranger"), "stranger-ca")


@pytest.fixture(scope="module")
def http_receiver() -> Iterator[NotificationReceiver]:
    with NotificationReceiver() as server:
        yield server


@pytest.fixture(scope="module")
def https_receiver(ca: TestCa) -> Iterator[NotificationReceiver]:
    with NotificationReceiver(ssl_context=ca.issue("receiver").server_context()) as server:
        yield server


@pytest.fixture(scope="module")
def untrusted_receiver(stranger: TestCa) -> Iterator[NotificationReceiver]:
    with NotificationReceiver(ssl_context=stranger.issue("receiver").server_context()) as server:
        yield server


@pytest.fixture(scope="module")
def mqtt(ca: TestCa) -> Iterator[MqttServer]:
    """A plain listener and a TLS one with a certificate of the trusted CA."""
    with started_mqtt_server([ca.issue("mqtt")]) as server:
        yield server


@pytest.fixture(scope="module")
def inbox(mqtt: MqttServer) -> Iterator[MqttInbox]:
    found = MqttInbox(mqtt.port)
    yield found
    found.close()


@dataclass
class Endpoints:
    """Fresh endpoint URIs of each kind, and the Notifications that reached them."""

    http: NotificationReceiver
    https: NotificationReceiver
    mqtt: MqttServer
    inbox: MqttInbox

    def uri(self, kind: str) -> str:
        if kind == "http":
            return self.http.endpoint()
        if kind == "https":
            return self.https.endpoint()
        topic = f"endpoints/{uuid.uuid4().hex}"
        return f"{self.mqtt.url if kind == 'mqtt' else self.mqtt.tls_url(0)}/{topic}"

    async def wait_for(self, uri: str, count: int) -> list[dict[str, Any]]:
        """The Notifications at `uri` once `count` have arrived, in arrival order."""
        if uri.startswith("http"):
            receiver = self.https if uri.startswith("https") else self.http
            notes = await asyncio.to_thread(receiver.wait_for, uri, count)
            return [n.body for n in notes]
        topic = URL(uri).path.lstrip("/")
        messages = await asyncio.to_thread(self.inbox.wait_for, topic, count)
        return [payload["body"] for _, payload in messages]

    def endpoint(self, kind: str, uri: str) -> dict[str, Any]:
        endpoint: dict[str, Any] = {"uri": uri}
        if kind.startswith("mqtt"):
            endpoint["notifierInfo"] = [
                {"key": "MQTT-Version", "value": self.mqtt.version},
                {"key": "MQTT-QoS", "value": "1"},
            ]
        return endpoint


@pytest.fixture
def endpoints(
    http_receiver: NotificationReceiver,
    https_receiver: NotificationReceiver,
    mqtt: MqttServer,
    inbox: MqttInbox,
) -> Endpoints:
    return Endpoints(http_receiver, https_receiver, mqtt, inbox)


@pytest.fixture
async def broker(open_broker: BrokerFactory, ca: TestCa) -> Client:
    return await open_broker(notification_ca_file=str(ca.ca_file), notification_concurrency=1)


def endpoint_subscription(
    endpoints: Endpoints, kind: str, uri: str, **members: Any
) -> dict[str, Any]:
    notification = {**members.pop("notification", {}), "endpoint": endpoints.endpoint(kind, uri)}
    return {
        "type": "Subscription",
        "entities": [{"type": "Vehicle"}],
        "notification": notification,
        "@context": USER_CONTEXT,
        **members,
    }


async def run_writes(broker: Client) -> None:
    await create(broker, vehicle(speed=7))
    await patch_attrs(broker, ENTITY, {"speed": {"type": "Property", "value": 8}})
    await append_attrs(broker, ENTITY, {"brand": {"type": "Property", "value": "Seat"}})
    brand = quote(EX + "brand", safe="")
    r = await broker.delete(URL(f"{API}/entities/{ENTITY}/attrs/{brand}", encoded=True))
    assert r.status == 204, await r.text()
    r = await broker.delete(f"{API}/entities/{ENTITY}")
    assert r.status == 204, await r.text()


def shown(fmt: str, value: Any) -> Any:
    """A Property without other members as the format shows it."""
    return {"type": "Property", "value": value} if fmt == "normalized" else value


def check_shows(write: str, fmt: str, entity: dict[str, Any]) -> None:
    """The entity of the notification for `write` shows what that write did."""
    assert entity["id"] == ENTITY
    assert entity["type"] == "Vehicle"
    if write == "delete entity":
        assert set(entity) == {"id", "type", "deletedAt"}, entity
        return
    expected_speed = 7 if write == "create" else 8
    assert entity["speed"] == shown(fmt, expected_speed), entity
    if write == "create" or write == "update":
        assert "brand" not in entity, entity
    elif write == "append":
        assert entity["brand"] == shown(fmt, "Seat"), entity
    else:  # the deleted attribute, as the NGSI-LD Null
        assert entity["brand"] == shown(fmt, NULL), entity


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("trigger", list(NOTIFIED_BY))
@pytest.mark.parametrize("kind", KINDS)
async def test_each_trigger_notifies_exactly_its_writes_in_the_format(
    broker: Client, endpoints: Endpoints, kind: str, trigger: str, fmt: str
) -> None:
    uri = endpoints.uri(kind)
    location = await subscribe(broker, endpoint_subscription(
        endpoints, kind, uri, notificationTrigger=[trigger], notification={"format": fmt}
    ))
    sentinel = await subscribe(broker, endpoint_subscription(
        endpoints, kind, uri, entities=[{"type": "Car"}], notificationTrigger=["entityCreated"]
    ))
    await run_writes(broker)
    await create(broker, {**vehicle(), "id": SENTINEL, "type": "Car"})
    expected = NOTIFIED_BY[trigger]
    notes = await endpoints.wait_for(uri, len(expected) + 1)
    assert notes[-1]["subscriptionId"] == sentinel.rsplit("/", 1)[1]
    mine = notes[:-1]
    assert all(n["subscriptionId"] == location.rsplit("/", 1)[1] for n in mine)
    assert all(n["type"] == "Notification" for n in mine)
    assert len(mine) == len(expected), [n["data"] for n in mine]
    for write, note in zip(expected, mine, strict=True):
        [entity] = note["data"]
        check_shows(write, fmt, entity)


def metric_samples(text: str) -> dict[tuple[str, str], float]:
    """(sample name, scheme label) -> value, of the notification metrics on /metrics."""
    found: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("agora_notification") and "scheme" in sample.labels:
                found[(sample.name, sample.labels["scheme"])] = sample.value
    return found


async def metrics_until(
    broker: Client, done: Callable[[dict[tuple[str, str], float]], bool]
) -> dict[tuple[str, str], float]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        r = await broker.get("/metrics")
        assert r.status == 200
        assert r.content_type.startswith("text/plain")
        samples = metric_samples(await r.text())
        if done(samples):
            return samples
        assert loop.time() < deadline, samples
        await asyncio.sleep(0.05)


async def test_metrics_count_notifications_sent_and_failed_by_endpoint_scheme(
    broker: Client,
    endpoints: Endpoints,
    untrusted_receiver: NotificationReceiver,
) -> None:
    closed = free_port()  # nothing listens there
    failing = {
        "http": f"http://127.0.0.1:{closed}/gone",
        "https": untrusted_receiver.endpoint(),
        "mqtt": f"mqtt://127.0.0.1:{closed}/gone",
        # not an untrusted TLS listener: paho-mqtt leaves the socket of a failed handshake
        # to the garbage collector (a ResourceWarning, an error here)
        "mqtts": f"mqtts://127.0.0.1:{closed}/gone",
    }
    sent = {"http": 1, "https": 2, "mqtt": 3, "mqtts": 1}
    good: dict[str, list[str]] = {}
    for kind in KINDS:
        good[kind] = [endpoints.uri(kind) for _ in range(sent[kind])]
        for uri in good[kind]:
            await subscribe(broker, endpoint_subscription(endpoints, kind, uri))
        await subscribe(broker, endpoint_subscription(endpoints, kind, failing[kind]))
    await create(broker, vehicle(speed=1))
    for uris in good.values():
        for uri in uris:
            await endpoints.wait_for(uri, 1)

    def counted(samples: dict[tuple[str, str], float]) -> bool:
        return all(
            samples.get(("agora_notifications_failed_total", kind)) == 1.0
            and samples.get(("agora_notifications_sent_total", kind)) == sent[kind]
            for kind in KINDS
        )

    samples = await metrics_until(broker, counted)
    for kind in KINDS:
        assert samples[("agora_notification_duration_seconds_count", kind)] == sent[kind] + 1
        assert samples[("agora_notifications_dropped_total", kind)] == 0.0
    assert untrusted_receiver.received(failing["https"]) == []


def test_the_matrix_covers_every_trigger_and_write() -> None:
    """Every trigger, format and endpoint scheme a subscription may name is in the matrix,
    and each write of the scenario is notified by some trigger (a check of its own tables)."""
    assert set(NOTIFIED_BY) == set(record.TRIGGERS)
    assert set(FORMATS) == set(record.FORMATS)
    assert set(KINDS) == set(record.HTTP_SCHEMES + record.MQTT_SCHEMES)
    assert {w for writes in NOTIFIED_BY.values() for w in writes} == set(WRITES)
