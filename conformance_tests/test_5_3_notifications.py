"""Notifications (clause 5.3, behaviour of clause 5.8.6, HTTP binding): what a subscriber's
endpoint receives when a matching entity changes."""

from __future__ import annotations

import time
import uuid

from conformance_tests.client import JSONLD, attrs_path, entity_path
from conformance_tests.conftest import Target
from conformance_tests.receiver import NotificationReceiver
from conformance_tests.subscription_support import (
    Subscriptions,
    fresh_type,
    sensor,
    shown_notification,
    subscription_body,
)


def test_creating_a_matching_entity_sends_a_notification(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    kind, uri = fresh_type(), receiver.endpoint()
    path = subscriptions.create(c, subscription_body(kind, uri))
    entity = sensor(kind, speed=10)
    c.create(entity)
    [note] = receiver.wait_for(uri)
    assert note.body["type"] == "Notification"
    assert note.body["id"].startswith("urn:")
    assert note.body["subscriptionId"] == path.rsplit("/", 1)[1]
    assert "notifiedAt" in note.body
    assert note.body["data"] == [entity]
    assert (note.header("Content-Type") or "").startswith("application/json")
    assert note.header("Link") is not None


def test_an_update_notifies_with_the_new_value(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    kind, uri = fresh_type(), receiver.endpoint()
    subscriptions.create(c, subscription_body(kind, uri, notification={"format": "keyValues"}))
    entity = sensor(kind, speed=10)
    c.create(entity)
    r = c.patch(attrs_path(entity["id"]), json={"speed": {"type": "Property", "value": 11}})
    assert r.status == 204, r
    notes = receiver.wait_for(uri, 2)
    assert notes[1].body["data"][0]["speed"] == 11


def test_q_decides_which_changes_notify(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    kind, uri = fresh_type(), receiver.endpoint()
    subscriptions.create(c, subscription_body(kind, uri, q="speed>50"))
    c.create(sensor(kind, 1, speed=10))
    c.create(sensor(kind, 2, speed=90))
    [note] = receiver.wait_for(uri)
    assert note.body["data"][0]["id"] == sensor(kind, 2)["id"]
    time.sleep(0.2)
    assert len(receiver.received(uri)) == 1


def test_entity_deleted_trigger_notifies_the_deletion(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    kind, uri = fresh_type(), receiver.endpoint()
    subscriptions.create(c, subscription_body(kind, uri, notificationTrigger=["entityDeleted"]))
    entity = sensor(kind, speed=1)
    c.create(entity)
    assert c.delete(entity_path(entity["id"])).status == 204
    [note] = receiver.wait_for(uri)
    assert note.body["data"][0]["id"] == entity["id"]


def test_attribute_created_trigger_fires_for_an_append_of_a_new_attribute_only(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    kind, uri = fresh_type(), receiver.endpoint()
    entity = sensor(kind, speed=1)
    c.create(entity)
    subscriptions.create(
        c, subscription_body(kind, uri, notificationTrigger=["attributeCreated"])
    )
    speed = {"speed": {"type": "Property", "value": 2}}
    assert c.patch(attrs_path(entity["id"]), json=speed).status == 204
    assert c.post(attrs_path(entity["id"]), json=speed).status == 204  # overwrites speed
    brand = {"brand": {"type": "Property", "value": "Seat"}}
    assert c.post(attrs_path(entity["id"]), json=brand).status == 204
    [note] = receiver.wait_for(uri)
    assert note.body["data"][0]["id"] == entity["id"]
    assert note.body["data"][0]["brand"] == brand["brand"]
    time.sleep(0.3)
    assert len(receiver.received(uri)) == 1


def test_ld_json_endpoints_receive_the_context_in_the_body(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    kind, uri = fresh_type(), receiver.endpoint()
    subscriptions.create(
        c, subscription_body(kind, uri, notification={"endpoint": {"uri": uri, "accept": JSONLD}})
    )
    c.create(sensor(kind, speed=1))
    [note] = receiver.wait_for(uri)
    assert "@context" in note.body
    assert (note.header("Content-Type") or "").startswith(JSONLD)


def test_a_subscription_is_not_notified_of_another_tenants_entities(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    mine = target.client(f"t{uuid.uuid4().hex[:12]}")
    other = target.client(f"t{uuid.uuid4().hex[:12]}")
    kind, uri = fresh_type(), receiver.endpoint()
    subscriptions.create(mine, subscription_body(kind, uri))
    other.create(sensor(kind, 1, speed=1))
    mine.create(sensor(kind, 2, speed=1))
    [note] = receiver.wait_for(uri)
    assert note.body["data"][0]["id"] == sensor(kind, 2)["id"]
    time.sleep(0.2)
    assert len(receiver.received(uri)) == 1


def test_a_failing_endpoint_shows_status_failed_and_counts_the_failure(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    kind, uri = fresh_type(), receiver.endpoint()
    receiver.answer(uri, 500)
    path = subscriptions.create(c, subscription_body(kind, uri))
    c.create(sensor(kind, speed=1))
    receiver.wait_for(uri)
    shown = shown_notification(c, path, "failed")
    assert shown["status"] == "failed"
    assert shown["timesFailed"] >= 1
    assert "lastFailure" in shown


def test_a_successful_notification_is_counted(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    kind, uri = fresh_type(), receiver.endpoint()
    path = subscriptions.create(c, subscription_body(kind, uri))
    c.create(sensor(kind, speed=1))
    receiver.wait_for(uri)
    deadline = time.monotonic() + 5
    while True:
        shown = c.get(path).json()["notification"]
        if shown.get("timesSent") == 1 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert shown["timesSent"] == 1
    assert shown["status"] == "ok"
    assert "lastSuccess" in shown and "lastNotification" in shown



def test_a_periodic_subscription_notifies_the_current_state_every_time_interval(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    kind, uri = fresh_type(), receiver.endpoint()
    c.create(sensor(kind, 1, speed=1))
    c.create(sensor(kind, 2, speed=2))
    subscriptions.create(c, subscription_body(kind, uri, timeInterval=1))
    [first] = receiver.wait_for(uri, 1, within=5)
    assert sorted(e["id"] for e in first.body["data"]) == [
        sensor(kind, 1)["id"], sensor(kind, 2)["id"]
    ]
    assert c.patch(attrs_path(sensor(kind, 1)["id"]),
                   json={"speed": {"type": "Property", "value": 9}}).status == 204
    started = time.monotonic()
    notes = receiver.wait_for(uri, 3, within=5)
    assert time.monotonic() - started >= 1.0  # one per interval, not one per change
    latest = {e["id"]: e for e in notes[-1].body["data"]}
    assert latest[sensor(kind, 1)["id"]]["speed"]["value"] == 9


def test_throttling_holds_back_notifications_that_come_too_soon(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    kind, uri = fresh_type(), receiver.endpoint()
    subscriptions.create(c, subscription_body(kind, uri, throttling=2))
    entity = sensor(kind, speed=0)
    c.create(entity)
    receiver.wait_for(uri)
    for value in range(1, 4):
        assert c.patch(attrs_path(entity["id"]),
                       json={"speed": {"type": "Property", "value": value}}).status == 204
    time.sleep(0.5)
    assert len(receiver.received(uri)) == 1
    time.sleep(1.8)
    assert c.patch(attrs_path(entity["id"]),
                   json={"speed": {"type": "Property", "value": 10}}).status == 204
    notes = receiver.wait_for(uri, 2)
    assert notes[1].body["data"][0]["speed"]["value"] == 10


def test_an_expired_subscription_stops_notifying_and_shows_status_expired(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    kind, uri = fresh_type(), receiver.endpoint()
    expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
    path = subscriptions.create(c, subscription_body(kind, uri, expiresAt=expires))
    assert c.get(path).json()["status"] == "active"
    entity = sensor(kind, speed=0)
    c.create(entity)
    receiver.wait_for(uri)
    deadline = time.monotonic() + 6
    while c.get(path).json()["status"] != "expired":
        assert time.monotonic() < deadline, "the subscription never showed status expired"
        time.sleep(0.1)
    assert c.patch(attrs_path(entity["id"]),
                   json={"speed": {"type": "Property", "value": 1}}).status == 204
    time.sleep(0.5)
    assert len(receiver.received(uri)) == 1
