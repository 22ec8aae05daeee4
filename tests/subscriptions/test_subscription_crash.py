"""An `agora serve` process on either store (a SQLite file; MongoDB through nx-27017, or
MONGODB_URL) killed with SIGKILL (no graceful
shutdown: nothing drained, nothing flushed) while a periodic (timeInterval) and a throttled
subscription exist, then started again on the same store: the periodic notifications resume
on their schedule (the slot sent before the crash is not sent again at once, and none is
skipped), and throttling still holds back a change that comes too soon after the last
notification sent before the crash."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from test_subscription_replicas import ENV, create_subscription

from conformance_tests.client import Client, attrs_path
from conformance_tests.receiver import Notification, NotificationReceiver
from conformance_tests.servers import Broker, mongo_wire_server
from conformance_tests.subscription_support import fresh_type, sensor, subscription_body

INTERVAL = 3.0
THROTTLING = 5.0
SLACK = 0.15
"""Seconds a notification may come early or late on a busy machine (the scheduler looks at
what is due every 0.1 s)."""


@pytest.fixture(scope="module")
def mongo_store() -> Iterator[str]:
    with mongo_wire_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "mongo"])
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Broker]:
    env = dict(ENV)
    if request.param == "mongo":
        store = request.getfixturevalue("mongo_store")
        env["AGORA_MONGO_DB_PREFIX"] = f"agora-crash-{uuid.uuid4().hex[:8]}"
    else:
        store = f"sqlite:///{tmp_path / 'agora.db'}"
    started = Broker(store, env=env)
    started.start()
    yield started
    started.stop()


@pytest.fixture
def http_receiver() -> Iterator[NotificationReceiver]:
    with NotificationReceiver() as server:
        yield server


def notified_at(note: Notification) -> float:
    return datetime.fromisoformat(note.body["notifiedAt"]).timestamp()


def kill_and_restart(broker: Broker) -> None:
    assert broker.proc is not None
    broker.proc.kill()  # SIGKILL
    broker.proc.wait(10)
    broker.proc = None
    broker.start()


def set_speed(c: Client, entity_id: str, value: Any) -> None:
    r = c.patch(attrs_path(entity_id), json={"speed": {"type": "Property", "value": value}})
    assert r.status == 204, str(r)


def sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


def test_periodic_and_throttled_subscriptions_hold_their_schedule_across_a_sigkill(
    broker: Broker, http_receiver: NotificationReceiver
) -> None:
    c = Client(broker.url)
    kind = fresh_type()
    entity = sensor(kind, speed=0)
    assert c.post("/ngsi-ld/v1/entities", json=entity).status == 201
    periodic, throttled = http_receiver.endpoint(), http_receiver.endpoint()
    key_values = {"format": "keyValues"}
    create_subscription(
        c, subscription_body(kind, periodic, timeInterval=INTERVAL, notification=key_values)
    )
    create_subscription(
        c, subscription_body(kind, throttled, throttling=THROTTLING, notification=key_values)
    )
    set_speed(c, entity["id"], 1)
    [last_throttled] = http_receiver.wait_for(throttled)
    [last_periodic] = http_receiver.wait_for(periodic)

    kill_and_restart(broker)

    # up before the next slots: a periodic notification sent at once, or a throttled one let
    # through, would show
    throttle_ends = notified_at(last_throttled) + THROTTLING
    assert time.time() < notified_at(last_periodic) + INTERVAL - SLACK, "restart too slow"
    set_speed(c, entity["id"], 2)
    sleep_until(throttle_ends - 0.3)
    assert len(http_receiver.received(throttled)) == 1, "throttling forgot the crash"
    sleep_until(throttle_ends + SLACK)
    set_speed(c, entity["id"], 3)
    [_, again] = http_receiver.wait_for(throttled, 2)
    assert again.body["data"][0]["speed"] == 3
    assert notified_at(again) >= throttle_ends

    notes = http_receiver.wait_for(periodic, 3, within=2 * INTERVAL + 5)
    gaps = [notified_at(b) - notified_at(a) for a, b in itertools.pairwise(notes)]
    assert all(INTERVAL - SLACK <= gap <= INTERVAL + 1.0 for gap in gaps), gaps
    assert notes[2].body["data"][0]["speed"] == 3  # the state now, read after the restart
