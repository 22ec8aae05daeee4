"""Clause 6.11 (/subscriptions/{subscriptionId}): Retrieve (5.8.3), Update (5.8.2) and
Delete (5.8.5) Subscription."""

from __future__ import annotations

from conformance_tests.client import JSONLD, assert_problem
from conformance_tests.conftest import Target
from conformance_tests.receiver import NotificationReceiver
from conformance_tests.samples import USER_TERMS
from conformance_tests.subscription_support import (
    Subscriptions,
    fresh_type,
    sensor,
    subscription_body,
    subscription_path,
)


def test_retrieve_subscription_gives_its_members_and_status_active(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    kind, uri = fresh_type(), receiver.endpoint()
    path = subscriptions.create(
        c,
        subscription_body(
            kind,
            uri,
            q="speed>10",
            watchedAttributes=["speed"],
            notificationTrigger=["entityCreated", "attributeUpdated"],
            notification={"format": "keyValues", "attributes": ["speed"]},
        ),
    )
    shown = c.get(path).json()
    assert shown["type"] == "Subscription"
    assert shown["entities"] == [{"type": kind}]
    assert shown["q"] == "speed>10"
    assert shown["watchedAttributes"] == ["speed"]
    assert shown["notificationTrigger"] == ["entityCreated", "attributeUpdated"]
    assert shown["notification"]["format"] == "keyValues"
    assert shown["notification"]["attributes"] == ["speed"]
    assert shown["notification"]["endpoint"]["uri"] == uri
    assert shown["status"] == "active"
    assert shown["isActive"] is True


def test_retrieve_subscription_compacts_with_the_request_context(
    target: Target,
    receiver: NotificationReceiver,
    subscriptions: Subscriptions,
    user_context_url: str,
) -> None:
    c = target.client()
    path = subscriptions.create(
        c, subscription_body(fresh_type(), receiver.endpoint(), watchedAttributes=["speed"]),
        context=user_context_url,
    )
    with_context = c.get(path, context=user_context_url).json()
    assert with_context["watchedAttributes"] == ["speed"]
    core_only = c.get(path).json()
    assert core_only["watchedAttributes"] == [USER_TERMS["speed"]]


def test_retrieve_subscription_as_ld_json_carries_the_context(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    path = subscriptions.create(c, subscription_body(fresh_type(), receiver.endpoint()))
    r = c.get(path, accept=JSONLD)
    assert r.status == 200 and r.content_type == JSONLD
    assert "@context" in r.json()


def test_retrieve_unknown_subscription_is_404_resource_not_found(target: Target) -> None:
    r = target.client().get(subscription_path("urn:ngsi-ld:Subscription:unknown"))
    assert_problem(r, 404, "ResourceNotFound")


def test_update_subscription_replaces_the_members_given(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    path = subscriptions.create(
        c, subscription_body(fresh_type(), receiver.endpoint(), q="speed>10",
                             notification={"format": "keyValues"})
    )
    r = c.patch(path, json={"q": "speed>20", "notification": {"attributes": ["speed"]}})
    assert r.status == 204, r
    shown = c.get(path).json()
    assert shown["q"] == "speed>20"
    assert shown["notification"]["attributes"] == ["speed"]
    assert shown["notification"]["format"] == "keyValues"


def test_update_subscription_with_the_ngsi_ld_null_removes_the_member(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    kind, uri = fresh_type(), receiver.endpoint()
    path = subscriptions.create(
        c, subscription_body(kind, uri, q="speed>10", notificationTrigger=["entityCreated"])
    )
    assert c.patch(path, json={"q": "urn:ngsi-ld:null"}).status == 204
    assert "q" not in c.get(path).json()
    # Without its q the subscription now fires for a slow vehicle too.
    assert c.post("/ngsi-ld/v1/entities", json=sensor(kind, "slow", speed=1)).status == 201
    (note,) = receiver.wait_for(uri, 1)
    assert [e["id"] for e in note.body["data"]] == [f"urn:ngsi-ld:{kind}:slow"]


def test_update_subscription_cannot_remove_its_notification(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    path = subscriptions.create(c, subscription_body(fresh_type(), receiver.endpoint()))
    before = c.get(path).json()
    problem = assert_problem(
        c.patch(path, json={"notification": "urn:ngsi-ld:null"}), 400, "BadRequestData"
    )
    assert "notification" in problem["detail"]
    assert c.get(path).json() == before


def test_update_subscription_is_active_false_pauses_it(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    path = subscriptions.create(c, subscription_body(fresh_type(), receiver.endpoint()))
    assert c.patch(path, json={"isActive": False}).status == 204
    assert c.get(path).json()["status"] == "paused"
    assert c.patch(path, json={"isActive": True}).status == 204
    assert c.get(path).json()["status"] == "active"


def test_update_subscription_with_a_bad_member_is_400_and_changes_nothing(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    path = subscriptions.create(c, subscription_body(fresh_type(), receiver.endpoint()))
    before = c.get(path).json()
    problem = assert_problem(
        c.patch(path, json={"throttling": -5, "q": "speed>1"}), 400, "BadRequestData"
    )
    assert "throttling" in problem["detail"]
    assert c.get(path).json() == before


def test_update_unknown_subscription_is_404(target: Target) -> None:
    r = target.client().patch(
        subscription_path("urn:ngsi-ld:Subscription:unknown"), json={"isActive": False}
    )
    assert_problem(r, 404, "ResourceNotFound")


def test_delete_subscription_removes_it(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    path = subscriptions.create(c, subscription_body(fresh_type(), receiver.endpoint()))
    assert c.delete(path).status == 204
    assert_problem(c.get(path), 404, "ResourceNotFound")
    assert_problem(c.delete(path), 404, "ResourceNotFound")


def test_subscription_id_that_is_not_a_uri_is_400(target: Target) -> None:
    r = target.client().get(subscription_path("not a uri"))
    assert_problem(r, 400, "BadRequestData")
