"""The MQTT notification binding (clause 7): a subscription whose endpoint is
`mqtt://[user:password@]host:port/topic` is notified by an MQTT publish on that topic, of a
JSON object with the HTTP headers as `metadata` and the Notification as `body`, with the
`MQTT-Version` and `MQTT-QoS` of `notifierInfo`.

The suite starts its own MQTT server on 127.0.0.1: Mosquitto, or amqtt where the binary is
missing (conformance_tests/mqtt_server.py; skipped when the broker under test is not one the
suite started, which may not reach it). amqtt speaks MQTT 3.1.1 only, so the 5.0 case is
skipped under it, and it forwards with the subscriber's QoS, so the QoS is not checked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conformance_tests.conftest import Target
from conformance_tests.mqtt_inbox import MqttInbox
from conformance_tests.mqtt_server import (
    MQTT_PASSWORD,
    MQTT_USER,
    MqttServer,
    NoMqttServer,
    mqtt_server,
    mqtt_server_kind,
)
from conformance_tests.receiver import NotificationReceiver
from conformance_tests.subscription_support import Subscriptions, fresh_type, sensor


@pytest.fixture(scope="module")
def mqtt(target: Target) -> Iterator[MqttServer]:
    if target.broker is None:
        pytest.skip("the broker under test may not reach this machine's MQTT server")
    try:
        kind = mqtt_server_kind()
    except NoMqttServer as exc:
        pytest.skip(str(exc))
    with mqtt_server(kind=kind) as server:
        yield server


@pytest.fixture(scope="module")
def inbox(mqtt: MqttServer) -> Iterator[MqttInbox]:
    found = MqttInbox(mqtt.port)
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
    mqtt: MqttServer,
    inbox: MqttInbox,
    subscriptions: Subscriptions,
    version: str,
    qos: str,
) -> None:
    if version not in mqtt.versions:
        pytest.skip(f"{mqtt.kind} does not speak {version}")
    c = target.client()
    kind = fresh_type()
    topic = f"conformance/{kind}"
    path = subscriptions.create(c, mqtt_body(kind, f"{mqtt.url}/{topic}", version, qos))
    entity = sensor(kind, speed=3)
    c.create(entity)
    [(got_qos, message)] = inbox.wait_for(topic)
    if mqtt.forwards_publish_qos:
        assert got_qos == int(qos)
    assert set(message) == {"metadata", "body"}
    assert message["metadata"]["Content-Type"].startswith("application/json")
    assert message["body"]["type"] == "Notification"
    assert message["body"]["subscriptionId"] == path.rsplit("/", 1)[1]
    assert message["body"]["data"] == [entity]


def test_mqtt_credentials_are_taken_from_the_uri(
    target: Target, mqtt: MqttServer, inbox: MqttInbox, subscriptions: Subscriptions
) -> None:
    c = target.client()
    kind = fresh_type()
    uri = f"mqtt://{MQTT_USER}:{MQTT_PASSWORD}@127.0.0.1:{mqtt.port}/secure/{kind}"
    subscriptions.create(c, mqtt_body(kind, uri, mqtt.version, "1"))
    c.create(sensor(kind, speed=1))
    [(_, message)] = inbox.wait_for(f"secure/{kind}")
    assert message["body"]["data"][0]["id"] == sensor(kind)["id"]


def test_an_mqtt_endpoint_with_a_bad_qos_is_400_naming_notifier_info(
    target: Target, mqtt: MqttServer, receiver: NotificationReceiver
) -> None:
    c = target.client()
    body = mqtt_body(fresh_type(), f"{mqtt.url}/t", "mqtt5.0", "7")
    r = c.post("/ngsi-ld/v1/subscriptions", json=body)
    assert r.status == 400
    assert "notifierInfo" in r.json()["detail"]
