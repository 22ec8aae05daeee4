"""Clause 6.10 (/subscriptions): Create Subscription (5.8.1) and Query Subscriptions (5.8.4)."""

from __future__ import annotations

import uuid

from conformance_tests.client import JSONLD, assert_problem, parse_link
from conformance_tests.conftest import Target
from conformance_tests.receiver import NotificationReceiver
from conformance_tests.samples import USER_CONTEXT
from conformance_tests.subscription_support import (
    SUBSCRIPTIONS,
    Subscriptions,
    fresh_type,
    subscription_body,
)


def _tenant() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


def test_create_subscription_answers_201_with_the_location_of_the_new_subscription(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    path = subscriptions.create(c, subscription_body(fresh_type(), receiver.endpoint()))
    assert path.startswith(SUBSCRIPTIONS + "/urn:ngsi-ld:Subscription:")
    r = c.get(path)
    assert r.status == 200, r
    assert r.json()["id"] == path.rsplit("/", 1)[1]


def test_create_subscription_keeps_a_given_id(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    sid = f"urn:ngsi-ld:Subscription:{uuid.uuid4().hex}"
    body = subscription_body(fresh_type(), receiver.endpoint(), id=sid)
    path = subscriptions.create(target.client(), body)
    assert path.endswith(sid)


def test_create_subscription_with_an_existing_id_is_409_already_exists(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    sid = f"urn:ngsi-ld:Subscription:{uuid.uuid4().hex}"
    subscriptions.create(c, subscription_body(fresh_type(), receiver.endpoint(), id=sid))
    r = c.post(SUBSCRIPTIONS, json=subscription_body(fresh_type(), receiver.endpoint(), id=sid))
    assert_problem(r, 409, "AlreadyExists")


def test_create_subscription_with_an_id_that_is_not_a_uri_is_400(
    target: Target, receiver: NotificationReceiver
) -> None:
    body = subscription_body(fresh_type(), receiver.endpoint(), id="not a uri")
    assert_problem(target.client().post(SUBSCRIPTIONS, json=body), 400, "BadRequestData")


def test_create_subscription_without_notification_is_400_naming_it(target: Target) -> None:
    body = {"type": "Subscription", "entities": [{"type": fresh_type()}]}
    problem = assert_problem(
        target.client().post(SUBSCRIPTIONS, json=body), 400, "BadRequestData"
    )
    assert "notification" in problem["detail"]


def test_create_subscription_without_entities_or_watched_attributes_is_400(
    target: Target, receiver: NotificationReceiver
) -> None:
    body = subscription_body(fresh_type(), receiver.endpoint())
    del body["entities"]
    assert_problem(target.client().post(SUBSCRIPTIONS, json=body), 400, "BadRequestData")


def test_create_subscription_with_an_unknown_trigger_is_400_and_creates_nothing(
    target: Target, receiver: NotificationReceiver
) -> None:
    c = target.client(_tenant())
    body = subscription_body(
        fresh_type(), receiver.endpoint(), notificationTrigger=["entityExploded"]
    )
    problem = assert_problem(c.post(SUBSCRIPTIONS, json=body), 400, "BadRequestData")
    assert "notificationTrigger" in problem["detail"]


def test_create_subscription_with_an_unknown_format_is_400(
    target: Target, receiver: NotificationReceiver
) -> None:
    body = subscription_body(fresh_type(), receiver.endpoint(), notification={"format": "xml"})
    problem = assert_problem(target.client().post(SUBSCRIPTIONS, json=body), 400, "BadRequestData")
    assert "format" in problem["detail"]


def test_create_subscription_with_an_invalid_q_is_400(
    target: Target, receiver: NotificationReceiver
) -> None:
    body = subscription_body(fresh_type(), receiver.endpoint(), q="speed>")
    assert_problem(target.client().post(SUBSCRIPTIONS, json=body), 400, "BadRequestData")


def test_create_subscription_with_expires_at_in_the_past_is_400(
    target: Target, receiver: NotificationReceiver
) -> None:
    body = subscription_body(fresh_type(), receiver.endpoint(), expiresAt="2001-01-01T00:00:00Z")
    assert_problem(target.client().post(SUBSCRIPTIONS, json=body), 400, "BadRequestData")


def test_create_subscription_with_an_ld_json_body_uses_its_context(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    body = {**subscription_body(fresh_type(), receiver.endpoint(), watchedAttributes=["speed"]),
            **USER_CONTEXT}
    path = subscriptions.create(c, body, content_type=JSONLD)
    shown = c.get(path).json()
    assert shown["watchedAttributes"] == ["https://example.org/agora/speed"]


def test_query_subscriptions_pages_by_limit_and_offset_with_count_and_links(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client(_tenant())
    ids = sorted(
        f"urn:ngsi-ld:Subscription:{n}-{uuid.uuid4().hex[:6]}" for n in range(5)
    )
    for sid in ids:
        subscriptions.create(c, subscription_body(fresh_type(), receiver.endpoint(), id=sid))
    r = c.get(SUBSCRIPTIONS, params={"limit": 2, "offset": 2, "count": "true"})
    assert r.status == 200, r
    assert [s["id"] for s in r.json()] == ids[2:4]
    assert r.header("NGSILD-Results-Count") == "5"
    links = r.header("link") or ""
    assert 'rel="next"' in links and 'rel="prev"' in links
    last = c.get(SUBSCRIPTIONS, params={"limit": 2, "offset": 4})
    assert [s["id"] for s in last.json()] == ids[4:]
    assert 'rel="next"' not in (last.header("link") or "")
    assert parse_link(last.header("link")) is not None


def test_query_subscriptions_shows_only_the_tenants_own(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    a, b = target.client(_tenant()), target.client(_tenant())
    mine = subscriptions.create(a, subscription_body(fresh_type(), receiver.endpoint()))
    subscriptions.create(b, subscription_body(fresh_type(), receiver.endpoint()))
    listed = a.get(SUBSCRIPTIONS).json()
    assert [s["id"] for s in listed] == [mine.rsplit("/", 1)[1]]
    assert_problem(b.get(mine), 404, "ResourceNotFound")


def test_query_subscriptions_above_the_page_limit_is_refused(target: Target) -> None:
    r = target.client().get(SUBSCRIPTIONS, params={"limit": 100000})
    assert_problem(r, 403, "TooManyResults")
