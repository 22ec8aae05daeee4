"""Notifications over TLS (clause 5.3 over the HTTPS binding, clause 7 over `mqtts://`): a
receiver or MQTT server whose certificate the broker trusts is notified; one whose
certificate it does not trust, or whose certificate names another host, is a failed
notification (`timesFailed`, `lastFailure`, `notification.status` failed), never a silent
success, and the other subscriptions go on being notified.

The certificates come from throwaway CAs made for the run (conformance_tests/tls.py). The
brokers the suite starts trust its `suite_ca` (AGORA_NOTIFICATION_CA_FILE); with AGORA_URL the
module is skipped, since that broker does not. The MQTT server is Mosquitto, or amqtt where
the binary is missing (MQTT 3.1.1 only there).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from conformance_tests.conftest import Target
from conformance_tests.mqtt_inbox import MqttInbox
from conformance_tests.mqtt_server import MqttServer, NoMqttServer, mqtt_server, mqtt_server_kind
from conformance_tests.receiver import NotificationReceiver
from conformance_tests.subscription_support import (
    Subscriptions,
    fresh_type,
    sensor,
    shown_notification,
    subscription_body,
)
from conformance_tests.tls import ServerCert, TestCa


@pytest.fixture(scope="module")
def own_broker(target: Target) -> Target:
    if target.broker is None:
        pytest.skip("the broker under test does not trust this suite's CA (AGORA_URL is set)")
    return target


@pytest.fixture(scope="module")
def stranger_ca(tmp_path_factory: pytest.TempPathFactory) -> TestCa:
    """A CA no broker of the suite trusts."""
    return TestCa(tmp_path_factory.mktemp("agora-stranger"), "stranger-ca")


def _receiver(cert: ServerCert) -> Iterator[NotificationReceiver]:
    with NotificationReceiver(ssl_context=cert.server_context()) as server:
        yield server


@pytest.fixture(scope="module")
def trusted_receiver(own_broker: Target, suite_ca: TestCa) -> Iterator[NotificationReceiver]:
    yield from _receiver(suite_ca.issue("receiver"))


@pytest.fixture(scope="module")
def untrusted_receiver(own_broker: Target, stranger_ca: TestCa) -> Iterator[NotificationReceiver]:
    yield from _receiver(stranger_ca.issue("receiver"))


@pytest.fixture(scope="module")
def misnamed_receiver(own_broker: Target, suite_ca: TestCa) -> Iterator[NotificationReceiver]:
    """Trusted CA, but a certificate for another host than 127.0.0.1."""
    yield from _receiver(suite_ca.issue("misnamed", hosts=("receiver.invalid",)))


@pytest.fixture(scope="module")
def mqtts(own_broker: Target, suite_ca: TestCa, stranger_ca: TestCa) -> Iterator[MqttServer]:
    """TLS listener 0: a certificate of the suite's CA; listener 1: one of the stranger's."""
    try:
        kind = mqtt_server_kind()
    except NoMqttServer as exc:
        pytest.skip(str(exc))
    with mqtt_server([suite_ca.issue("mqtt"), stranger_ca.issue("mqtt")], kind=kind) as server:
        yield server


@pytest.fixture(scope="module")
def inbox(mqtts: MqttServer) -> Iterator[MqttInbox]:
    found = MqttInbox(mqtts.port)
    yield found
    found.close()


def assert_failed(shown: dict[str, Any]) -> None:
    assert shown.get("status") == "failed", shown
    assert shown["timesFailed"] >= 1
    assert "lastFailure" in shown
    assert "lastSuccess" not in shown
    assert shown.get("timesSent", 0) == shown["timesFailed"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_an_https_receiver_with_a_trusted_certificate_is_notified(
    own_broker: Target,
    trusted_receiver: NotificationReceiver,
    subscriptions: Subscriptions,
    host: str,
) -> None:
    c = own_broker.client()
    kind, uri = fresh_type(), trusted_receiver.endpoint(host)
    assert uri.startswith("https://")
    path = subscriptions.create(c, subscription_body(kind, uri))
    entity = sensor(kind, speed=4)
    c.create(entity)
    [note] = trusted_receiver.wait_for(uri)
    assert note.body["subscriptionId"] == path.rsplit("/", 1)[1]
    assert note.body["data"] == [entity]
    shown = shown_notification(c, path, "ok")
    assert shown["status"] == "ok"
    assert shown["timesSent"] == 1


def test_an_https_receiver_whose_certificate_is_not_trusted_fails_and_others_are_notified(
    own_broker: Target,
    trusted_receiver: NotificationReceiver,
    untrusted_receiver: NotificationReceiver,
    subscriptions: Subscriptions,
) -> None:
    c = own_broker.client()
    kind = fresh_type()
    bad_uri, good_uri = untrusted_receiver.endpoint(), trusted_receiver.endpoint()
    bad = subscriptions.create(c, subscription_body(kind, bad_uri))
    subscriptions.create(c, subscription_body(kind, good_uri))
    c.create(sensor(kind, speed=1))
    trusted_receiver.wait_for(good_uri)
    assert_failed(shown_notification(c, bad, "failed"))
    assert untrusted_receiver.received(bad_uri) == []
    assert c.get("/health").status == 200


def test_an_https_receiver_whose_certificate_names_another_host_fails(
    own_broker: Target, misnamed_receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = own_broker.client()
    kind, uri = fresh_type(), misnamed_receiver.endpoint()
    path = subscriptions.create(c, subscription_body(kind, uri))
    c.create(sensor(kind, speed=1))
    assert_failed(shown_notification(c, path, "failed"))
    assert misnamed_receiver.received(uri) == []


def mqtts_body(kind: str, uri: str, version: str) -> dict[str, Any]:
    body = subscription_body(kind, uri)
    body["notification"]["endpoint"]["notifierInfo"] = [
        {"key": "MQTT-Version", "value": version},
        {"key": "MQTT-QoS", "value": "1"},
    ]
    return body


@pytest.mark.parametrize("version", ["mqtt3.1.1", "mqtt5.0"])
def test_an_mqtts_endpoint_with_a_trusted_certificate_is_notified(
    own_broker: Target,
    mqtts: MqttServer,
    inbox: MqttInbox,
    subscriptions: Subscriptions,
    version: str,
) -> None:
    if version not in mqtts.versions:
        pytest.skip(f"{mqtts.kind} does not speak {version}")
    c = own_broker.client()
    kind = fresh_type()
    topic = f"tls/{kind}"
    path = subscriptions.create(c, mqtts_body(kind, f"{mqtts.tls_url(0)}/{topic}", version))
    entity = sensor(kind, speed=2)
    c.create(entity)
    [(_, message)] = inbox.wait_for(topic)
    assert message["body"]["subscriptionId"] == path.rsplit("/", 1)[1]
    assert message["body"]["data"] == [entity]
    assert shown_notification(c, path, "ok")["status"] == "ok"


def test_an_mqtts_server_whose_certificate_is_not_trusted_fails(
    own_broker: Target, mqtts: MqttServer, inbox: MqttInbox, subscriptions: Subscriptions
) -> None:
    c = own_broker.client()
    kind = fresh_type()
    topic = f"tls-untrusted/{kind}"
    uri = f"{mqtts.tls_url(1)}/{topic}"
    path = subscriptions.create(c, mqtts_body(kind, uri, mqtts.version))
    c.create(sensor(kind, speed=1))
    assert_failed(shown_notification(c, path, "failed"))
    time.sleep(0.2)
    with pytest.raises(AssertionError):
        inbox.wait_for(topic, within=0.1)
