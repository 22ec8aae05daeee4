"""Two `agora serve` processes on one store (a SQLite file; MongoDB through nx-27017, or
MONGODB_URL): subscriptions made, changed or deleted on one replica are matched (or no
longer) on the other within a second, each replica notifies for the writes it handled, and
a periodic notification is sent once per interval, not once per replica."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator

import pytest

from conformance_tests.client import Client
from conformance_tests.receiver import NotificationReceiver
from conformance_tests.servers import Broker, mongo_wire_server
from conformance_tests.subscription_support import (
    SUBSCRIPTIONS,
    fresh_type,
    sensor,
    subscription_body,
)

ENV = {
    "AGORA_ALLOW_PRIVATE_URLS": "true",
    "AGORA_LOG_LEVEL": "WARNING",
    "AGORA_NOTIFICATION_RETRIES": "0",
    "AGORA_SUBSCRIPTION_STATS_FLUSH_INTERVAL": "0.2",
}
SYNC_WITHIN = 1.0
"""Seconds allowed for a subscription created or deleted on one replica to be matched, or no
longer, on the other: "within a second" (subscription_sync_interval is 0.5 s)."""


@pytest.fixture(scope="module", params=["sqlite", "mongo"])
def replicas(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Client, Client]]:
    env = dict(ENV)
    with contextlib.ExitStack() as stack:
        if request.param == "mongo":
            store = stack.enter_context(mongo_wire_server())
            env["AGORA_MONGO_DB_PREFIX"] = f"agora-rep-{uuid.uuid4().hex[:8]}"
        else:
            store = f"sqlite:///{tmp_path_factory.mktemp('replicas') / 'agora.db'}"
        first, second = Broker(store, env=env), Broker(store, env=env)
        for broker in (first, second):
            broker.start()
            stack.callback(broker.stop)
        yield Client(first.url), Client(second.url)


@pytest.fixture(scope="module")
def receiver() -> Iterator[NotificationReceiver]:
    with NotificationReceiver() as server:
        yield server


def create_subscription(client: Client, body: dict[str, object]) -> str:
    r = client.post(SUBSCRIPTIONS, json=body)
    assert r.status == 201, str(r)
    location = r.header("location")
    assert location
    return location[location.index("/ngsi-ld"):] if "://" in location else location


def until_notified(
    writer: Client, receiver: NotificationReceiver, uri: str, entity_type: str
) -> int:
    """Write on `writer` until a notification arrives at `uri` (the subscription has reached
    that replica, within SYNC_WITHIN of the call); the number of writes it took."""
    started = time.monotonic()
    n = 0
    while not receiver.received(uri):
        elapsed = time.monotonic() - started
        assert elapsed < SYNC_WITHIN, f"the subscription was not matched on the other replica \
within {SYNC_WITHIN} s"
        n += 1
        r = writer.post("/ngsi-ld/v1/entities", json=sensor(entity_type, n, level=n))
        assert r.status == 201, str(r)
        with contextlib.suppress(AssertionError):
            receiver.wait_for(uri, 1, within=0.05)
    return n


def test_a_subscription_made_on_one_replica_fires_for_a_write_on_the_other(
    replicas: tuple[Client, Client], receiver: NotificationReceiver
) -> None:
    a, b = replicas
    kind, uri = fresh_type(), receiver.endpoint()
    create_subscription(a, subscription_body(kind, uri, notificationTrigger=["entityCreated"]))
    writes = until_notified(b, receiver, uri, kind)
    time.sleep(0.5)
    assert len(receiver.received(uri)) <= writes, "a write was notified by both replicas"


def test_a_subscription_deleted_on_one_replica_stops_on_the_other(
    replicas: tuple[Client, Client], receiver: NotificationReceiver
) -> None:
    a, b = replicas
    kind, uri = fresh_type(), receiver.endpoint()
    path = create_subscription(
        a, subscription_body(kind, uri, notificationTrigger=["entityCreated"])
    )
    until_notified(b, receiver, uri, kind)
    assert a.delete(path).status == 204
    time.sleep(SYNC_WITHIN)
    seen = len(receiver.received(uri))
    r = b.post("/ngsi-ld/v1/entities", json=sensor(kind, "after", level=0))
    assert r.status == 201
    time.sleep(0.5)
    assert len(receiver.received(uri)) == seen


def test_a_subscription_updated_on_one_replica_changes_on_the_other(
    replicas: tuple[Client, Client], receiver: NotificationReceiver
) -> None:
    a, b = replicas
    kind, uri = fresh_type(), receiver.endpoint()
    path = create_subscription(
        a, subscription_body(kind, uri, notificationTrigger=["entityCreated"])
    )
    until_notified(b, receiver, uri, kind)
    assert a.patch(path, json={"q": "level>=1000"}).status == 204
    time.sleep(SYNC_WITHIN)
    seen = len(receiver.received(uri))
    assert b.post("/ngsi-ld/v1/entities", json=sensor(kind, "low", level=1)).status == 201
    assert b.post("/ngsi-ld/v1/entities", json=sensor(kind, "high", level=1000)).status == 201
    notes = receiver.wait_for(uri, seen + 1)
    assert notes[-1].body["data"][0]["id"] == sensor(kind, "high")["id"]
    time.sleep(0.3)
    assert len(receiver.received(uri)) == seen + 1


def test_a_periodic_subscription_is_notified_once_per_interval(
    replicas: tuple[Client, Client], receiver: NotificationReceiver
) -> None:
    a, b = replicas
    kind, uri = fresh_type(), receiver.endpoint()
    assert b.post("/ngsi-ld/v1/entities", json=sensor(kind, 1, level=1)).status == 201
    create_subscription(a, subscription_body(kind, uri, timeInterval=1))
    receiver.wait_for(uri, 1, within=SYNC_WITHIN)
    time.sleep(SYNC_WITHIN)  # both replicas know it by now
    start = len(receiver.received(uri))
    time.sleep(4.2)
    sent = len(receiver.received(uri)) - start
    assert 3 <= sent <= 5, f"{sent} notifications in 4.2 s at one per second"


def test_delivery_counters_add_up_what_both_replicas_sent(
    replicas: tuple[Client, Client], receiver: NotificationReceiver
) -> None:
    a, b = replicas
    kind, uri = fresh_type(), receiver.endpoint()
    path = create_subscription(
        a, subscription_body(kind, uri, notificationTrigger=["entityCreated"])
    )
    until_notified(b, receiver, uri, kind)
    time.sleep(0.3)
    from_b = len(receiver.received(uri))
    for n in range(3):
        r = a.post("/ngsi-ld/v1/entities", json=sensor(kind, f"a{n}", level=n))
        assert r.status == 201
    receiver.wait_for(uri, from_b + 3)
    deadline = time.monotonic() + 5
    while True:
        shown = [c.get(path).json()["notification"]["timesSent"] for c in (a, b)]
        if shown == [from_b + 3] * 2:
            break
        assert time.monotonic() < deadline, f"timesSent {shown}, {from_b + 3} sent"
        time.sleep(0.1)


def test_throttling_holds_across_replicas(
    replicas: tuple[Client, Client], receiver: NotificationReceiver
) -> None:
    a, b = replicas
    kind, uri, probe = fresh_type(), receiver.endpoint(), receiver.endpoint()
    created = ["entityCreated"]
    create_subscription(
        a, subscription_body(kind, uri, notificationTrigger=created, throttling=5)
    )
    # made after it, the probe reaches B no sooner: once it fires there, both are known
    create_subscription(a, subscription_body(kind, probe, notificationTrigger=created))
    until_notified(b, receiver, probe, kind)
    receiver.wait_for(uri, 1)
    for n in range(3):
        for client in (a, b):
            entity = sensor(kind, f"t{n}-{client.port}", level=n)
            r = client.post("/ngsi-ld/v1/entities", json=entity)
            assert r.status == 201
    time.sleep(1.0)
    assert len(receiver.received(uri)) == 1
