"""The Subscription members that shape what is notified, end to end over HTTP: what a
notification shows (clause 5.2.14 NotificationParams: `attributes`, `showChanges`,
`sysAttrs`; clause 5.2.12: `lang`, the Language Filter of clause 4.15) and which changes
notify at all (clause 5.2.12 `geoQ` and `scopeQ`, evaluated as a query would)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from conformance_tests.client import attrs_path
from conformance_tests.conftest import Target
from conformance_tests.receiver import NotificationReceiver
from conformance_tests.samples import POINT
from conformance_tests.subscription_support import (
    Subscriptions,
    fresh_type,
    sensor,
    subscription_body,
)

BARCELONA = {"type": "Point", "coordinates": [2.1734, 41.3851]}
NEAR_MADRID = {
    "georel": "near;maxDistance==2000",
    "geometry": "Point",
    "coordinates": POINT["coordinates"],
}
NAME = {"type": "LanguageProperty", "languageMap": {"en": "Town hall", "es": "Ayuntamiento"}}


def located(entity_type: str, n: int, geometry: dict[str, Any]) -> dict[str, Any]:
    entity = sensor(entity_type, n, speed=n)
    entity["location"] = {"type": "GeoProperty", "value": geometry}
    return entity


def scoped(entity_type: str, n: int, scope: str | None) -> dict[str, Any]:
    entity = sensor(entity_type, n, speed=n)
    if scope is not None:
        entity["scope"] = scope
    return entity


def quiet(receiver: NotificationReceiver, uri: str) -> int:
    """The notifications at `uri` once nothing more has come for a moment."""
    time.sleep(0.3)
    return len(receiver.received(uri))


def test_notification_attributes_limit_the_attributes_sent(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    kind, uri = fresh_type(), receiver.endpoint()
    subscriptions.create(c, subscription_body(kind, uri, notification={"attributes": ["speed"]}))
    entity = sensor(kind, speed=5, brand="Seat")
    c.create(entity)
    [note] = receiver.wait_for(uri)
    assert note.body["data"] == [
        {"id": entity["id"], "type": kind, "speed": {"type": "Property", "value": 5}}
    ]


def test_lang_shows_a_language_property_in_the_chosen_language(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    kind, spanish, every = fresh_type(), receiver.endpoint(), receiver.endpoint()
    subscriptions.create(c, subscription_body(kind, spanish, lang="es"))
    subscriptions.create(c, subscription_body(kind, every))
    c.create({**sensor(kind), "name": NAME})
    [note] = receiver.wait_for(spanish)
    assert note.body["data"][0]["name"] == {
        "type": "Property", "value": "Ayuntamiento", "lang": "es"
    }
    [note] = receiver.wait_for(every)
    assert note.body["data"][0]["name"] == NAME


def test_show_changes_adds_the_previous_value_of_an_updated_attribute(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    kind, uri = fresh_type(), receiver.endpoint()
    subscriptions.create(c, subscription_body(kind, uri, notification={"showChanges": True}))
    entity = sensor(kind, speed=10)
    c.create(entity)
    [created] = receiver.wait_for(uri)
    assert created.body["data"][0]["speed"] == {"type": "Property", "value": 10}
    r = c.patch(attrs_path(entity["id"]), json={"speed": {"type": "Property", "value": 11}})
    assert r.status == 204, r
    updated = receiver.wait_for(uri, 2)[1]
    assert updated.body["data"][0]["speed"] == {
        "type": "Property", "value": 11, "previousValue": 10
    }


def test_sys_attrs_adds_created_at_and_modified_at(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    kind, uri = fresh_type(), receiver.endpoint()
    subscriptions.create(c, subscription_body(kind, uri, notification={"sysAttrs": True}))
    entity = sensor(kind, speed=1)
    c.create(entity)
    receiver.wait_for(uri)
    r = c.patch(attrs_path(entity["id"]), json={"speed": {"type": "Property", "value": 2}})
    assert r.status == 204, r
    [created, updated] = [n.body["data"][0] for n in receiver.wait_for(uri, 2)]
    for shown in (created, updated, created["speed"], updated["speed"]):
        assert datetime.fromisoformat(shown["createdAt"]) <= datetime.fromisoformat(
            shown["modifiedAt"]
        )
    assert updated["createdAt"] == created["createdAt"]
    assert updated["speed"]["modifiedAt"] > created["speed"]["modifiedAt"]


def test_geo_q_notifies_only_for_entities_inside_the_area(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    kind, uri = fresh_type(), receiver.endpoint()
    subscriptions.create(c, subscription_body(kind, uri, geoQ=NEAR_MADRID))
    outside, inside = located(kind, 1, BARCELONA), located(kind, 2, POINT)
    c.create(outside)
    c.create(inside)
    [note] = receiver.wait_for(uri)
    assert note.body["data"][0]["id"] == inside["id"]
    r = c.patch(attrs_path(outside["id"]), json={"speed": {"type": "Property", "value": 9}})
    assert r.status == 204, r
    assert quiet(receiver, uri) == 1
    moved = {"location": {"type": "GeoProperty", "value": POINT}}
    assert c.patch(attrs_path(outside["id"]), json=moved).status == 204  # enters the area
    entered = receiver.wait_for(uri, 2)[1]
    assert entered.body["data"][0]["id"] == outside["id"]
    assert entered.body["data"][0]["location"]["value"] == POINT


def test_scope_q_notifies_only_for_entities_in_the_scope(
    target: Target, receiver: NotificationReceiver, subscriptions: Subscriptions
) -> None:
    c = target.client()
    kind, uri = fresh_type(), receiver.endpoint()
    subscriptions.create(c, subscription_body(kind, uri, scopeQ="/Madrid/#"))
    c.create(scoped(kind, 1, "/Barcelona/Gardens"))
    c.create(scoped(kind, 2, None))
    gardens = scoped(kind, 3, "/Madrid/Gardens")
    c.create(gardens)
    [note] = receiver.wait_for(uri)
    assert note.body["data"][0]["id"] == gardens["id"]
    assert note.body["data"][0]["scope"] == "/Madrid/Gardens"
    assert quiet(receiver, uri) == 1
