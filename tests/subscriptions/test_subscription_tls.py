"""`notification_ca_file`: the CA certificates an https:// or mqtts:// endpoint may chain to
besides the system trust store. Verification is always on; a CA file that cannot be used
stops the broker at start-up."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from conftest import USER_CONTEXT, BrokerFactory
from test_subscription_end_to_end import create, subscribe, vehicle
from test_subscription_mqtt import settle_state

from broker.app import create_app
from broker.settings import Settings
from broker.subscriptions.http_client import NotificationHttpClient
from broker.subscriptions.tls import NotificationCaError, notification_ssl_context
from conformance_tests.receiver import NotificationReceiver
from conformance_tests.tls import TestCa

Client = TestClient[web.Request, web.Application]


@pytest.fixture
def ca(tmp_path: Path) -> TestCa:
    return TestCa(tmp_path, "city-ca")


@pytest.fixture
def https_receiver(ca: TestCa) -> Iterator[NotificationReceiver]:
    with NotificationReceiver(ssl_context=ca.issue("receiver").server_context()) as server:
        yield server


def https_subscription(uri: str) -> dict[str, Any]:
    return {
        "type": "Subscription",
        "entities": [{"type": "Vehicle"}],
        "notification": {"endpoint": {"uri": uri}},
        "@context": USER_CONTEXT,
    }


async def test_a_receiver_of_the_ca_in_the_file_is_notified(
    open_broker: BrokerFactory, ca: TestCa, https_receiver: NotificationReceiver
) -> None:
    broker = await open_broker(notification_ca_file=str(ca.ca_file))
    uri = https_receiver.endpoint("localhost")
    location = await subscribe(broker, https_subscription(uri))
    await create(broker, vehicle(speed=3))
    [note] = await asyncio.to_thread(https_receiver.wait_for, uri)
    assert note.body["data"][0]["speed"]["value"] == 3
    state = await settle_state(broker, location, "status", "ok")
    assert state["notification"]["timesSent"] == 1


async def test_without_the_ca_file_the_same_receiver_is_a_failure(
    open_broker: BrokerFactory, https_receiver: NotificationReceiver
) -> None:
    broker = await open_broker()
    uri = https_receiver.endpoint()
    location = await subscribe(broker, https_subscription(uri))
    await create(broker, vehicle(speed=3))
    state = await settle_state(broker, location, "status", "failed")
    assert state["notification"]["timesFailed"] == 1
    assert "lastFailure" in state["notification"]
    assert https_receiver.received(uri) == []
    metrics = await (await broker.get("/metrics")).text()
    assert 'agora_notifications_failed_total{scheme="https"} 1.0' in metrics


async def test_the_client_verifies_the_certificate_and_the_host_name(
    ca: TestCa, tmp_path: Path
) -> None:
    misnamed = ca.issue("misnamed", hosts=("receiver.invalid",))
    with NotificationReceiver(ssl_context=misnamed.server_context()) as server:
        tls = notification_ssl_context(Settings(notification_ca_file=str(ca.ca_file)))
        client = NotificationHttpClient(allow_private=True, tls=tls)
        try:
            with pytest.raises(OSError, match="certificate verify failed"):
                await client.post(server.endpoint(), b"{}", {}, 5.0)
        finally:
            await client.close()


def test_the_system_trust_store_is_kept_beside_the_ca_file(ca: TestCa) -> None:
    alone = notification_ssl_context(Settings())
    with_file = notification_ssl_context(Settings(notification_ca_file=str(ca.ca_file)))
    assert with_file.cert_store_stats()["x509_ca"] == alone.cert_store_stats()["x509_ca"] + 1
    assert with_file.check_hostname
    assert with_file.verify_mode.name == "CERT_REQUIRED"


@pytest.mark.parametrize("content", [None, "not a certificate\n"])
def test_a_ca_file_that_cannot_be_used_stops_the_broker(
    tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "ca.pem"
    if content is not None:
        path.write_text(content)
    settings = Settings(store="sqlite://:memory:", notification_ca_file=str(path))
    with pytest.raises(NotificationCaError, match="notification_ca_file"):
        create_app(settings)
