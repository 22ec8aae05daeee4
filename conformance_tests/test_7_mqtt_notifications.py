"""The MQTT notification binding (clause 7): a subscription whose endpoint is
`mqtt://[user:password@]host:port/topic` is notified by an MQTT publish on that topic, of a
JSON object with the HTTP headers as `metadata` and the Notification as `body`, with the
`MQTT-Version` and `MQTT-QoS` of `notifierInfo`.

The suite starts its own Mosquitto server on 127.0.0.1 (skipped without the binary, and
when the broker under test is not one the suite started, which may not reach it)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import pytest

from conformance_tests import servers
from conformance_tests.conftest import Target
from conformance_tests.receiver import NotificationReceiver
from conformance_tests.subscription_support import Subscriptions, fresh_type, sensor


class MqttInbox:
    """Every message published on the server, by topic (a QoS 2 subscription to #)."""

    def __init__(self, port: int) -> None:
        self._cond = threading.Condition()
        self._messages: dict[str, list[tuple[int, Any]]] = {}
        subscribed = threading.Event()
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        client.on_message = self._on_message
        client.on_subscribe = lambda *args: subscribed.set()
        client.connect("127.0.0.1", port)
        client.subscribe("#", qos=2)
        client.loop_start()
        if not subscribed.wait(10):
            raise RuntimeError("the MQTT subscription was not acknowledged")
        self._client = client

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        with self._cond:
            self._messages.setdefault(message.topic, []).append(
                (message.qos, orjson.loads(message.payload))
            )
            self._cond.notify_all()

    def wait_for(self, topic: str, count: int = 1, within: float = 10) -> list[tuple[int, Any]]:
        deadline = time.monotonic() + within
        with self._cond:
            while len(self._messages.get(topic, [])) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no MQTT notification on {topic}")
                self._cond.wait(left)
            return list(self._messages[topic])

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


@pytest.fixture(scope="module")
def mosquitto(target: Target) -> Iterator[servers.Mosquitto]:
    if target.broker is None:
        pytest.skip("the broker under test may not reach this machine's MQTT server")
    if servers.mosquitto_binary() is None:
        pytest.skip("no mosquitto binary")
    with servers.mosquitto_server() as server:
        yield server


@pytest.fixture(scope="module")
def inbox(mosquitto: servers.Mosquitto) -> Iterator[MqttInbox]:
    found = MqttInbox(mosquitto.port)
    yield found
    found.close()


def mqtt_body(kind: str, uri: str, version: str, qos: str) -> dict[str, Any]:
    return {
        "type": "Subscription",
        "entities": [{"type": kind}],
        "notification": {
            "endpoint": {
                "uri": uri,
                "notifierInfo": [
                    {"key": "MQTT-Version", "value": version},
                    {"key": "MQTT-QoS", "value": qos},
                ],
            }
        },
    }


@pytest.mark.parametrize(("version", "qos"), [("mqtt3.1.1", "0"), ("mqtt5.0", "1")])
def test_an_mqtt_endpoint_receives_metadata_and_body_on_its_topic(
    target: Target,
    mosquitto: servers.Mosquitto,
    inbox: MqttInbox,
    subscriptions: Subscriptions,
    version: str,
    qos: str,
) -> None:
    c = target.client()
    kind = fresh_type()
    topic = f"conformance/{kind}"
    path = subscriptions.create(c, mqtt_body(kind, f"{mosquitto.url}/{topic}", version, qos))
    entity = sensor(kind, speed=3)
    c.create(entity)
    [(got_qos, message)] = inbox.wait_for(topic)
    assert got_qos == int(qos)
    assert set(message) == {"metadata", "body"}
    assert message["metadata"]["Content-Type"].startswith("application/json")
    assert message["body"]["type"] == "Notification"
    assert message["body"]["subscriptionId"] == path.rsplit("/", 1)[1]
    assert message["body"]["data"] == [entity]


def test_mqtt_credentials_are_taken_from_the_uri(
    target: Target, mosquitto: servers.Mosquitto, inbox: MqttInbox,
    subscriptions: Subscriptions,
) -> None:
    c = target.client()
    kind = fresh_type()
    user, password = servers.MQTT_USER, servers.MQTT_PASSWORD
    uri = f"mqtt://{user}:{password}@127.0.0.1:{mosquitto.port}/secure/{kind}"
    subscriptions.create(c, mqtt_body(kind, uri, "mqtt5.0", "1"))
    c.create(sensor(kind, speed=1))
    [(_, message)] = inbox.wait_for(f"secure/{kind}")
    assert message["body"]["data"][0]["id"] == sensor(kind)["id"]


def test_an_mqtt_endpoint_with_a_bad_qos_is_400_naming_notifier_info(
    target: Target, mosquitto: servers.Mosquitto, receiver: NotificationReceiver
) -> None:
    c = target.client()
    body = mqtt_body(fresh_type(), f"{mosquitto.url}/t", "mqtt5.0", "7")
    r = c.post("/ngsi-ld/v1/subscriptions", json=body)
    assert r.status == 400
    assert "notifierInfo" in r.json()["detail"]
