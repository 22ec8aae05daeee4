"""The Notification request built for a fired subscription (notification.py)."""

from __future__ import annotations

from typing import Any

import orjson
from conftest import EX, USER_CONTEXT

from broker.events import ChangeEvent
from broker.jsonld import TermMap
from broker.settings import Settings
from broker.subscriptions.compiled import compile_subscription
from broker.subscriptions.notification import Pending, RenderedData, notification_request
from broker.subscriptions.parse import new_record
from broker.types import ExpandedEntity

NOW = "2026-01-01T00:00:00.000Z"
LATER = "2026-01-01T00:00:09.000Z"
LINK = "https://example.org/ctx.jsonld"


def vehicle(**attrs: Any) -> ExpandedEntity:
    return {
        "id": "urn:ngsi-ld:Vehicle:1",
        "type": [EX + "Vehicle"],
        "createdAt": NOW,
        "modifiedAt": NOW,
        "attrs": {EX + k: v for k, v in attrs.items()},
    }


def prop(value: Any, at: str = NOW) -> list[dict[str, Any]]:
    return [{"type": "Property", "value": value, "createdAt": NOW, "modifiedAt": at}]


def pending(
    terms: TermMap, event: ChangeEvent, tenant: str = "", **members: Any
) -> Pending:
    notification = {"endpoint": {"uri": "http://receiver.example/n"}}
    notification.update(members.pop("notification", {}))
    body = {"type": "Subscription", "entities": [{"type": "Vehicle"}], "notification": notification}
    body.update(members)
    sub = compile_subscription(
        tenant, new_record(body, terms, Settings(), context=USER_CONTEXT, now=NOW)
    )
    fired = sub.fired(event)
    assert fired is not None
    return Pending(sub, event, fired, LATER)


def created(e: ExpandedEntity) -> ChangeEvent:
    return ChangeEvent("", "entityCreated", e["id"], None, e)


def test_a_notification_has_its_members_and_a_link_header(terms: TermMap) -> None:
    p = pending(terms, created(vehicle(speed=prop(3))))
    out = notification_request(p, terms, LINK)
    body = orjson.loads(out.body)
    assert body["type"] == "Notification"
    assert body["id"].startswith("urn:ngsi-ld:Notification:")
    assert body["subscriptionId"] == p.sub.id
    assert body["notifiedAt"] == LATER
    assert body["data"] == [
        {"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle",
         "speed": {"type": "Property", "value": 3}}
    ]
    assert "@context" not in body
    assert out.headers["Content-Type"] == "application/json"
    assert out.headers["Link"].startswith(f"<{LINK}>; rel=\"http://www.w3.org/ns/json-ld#context\"")
    assert out.url == "http://receiver.example/n"


def test_ld_json_puts_the_context_in_the_body(terms: TermMap) -> None:
    p = pending(
        terms,
        created(vehicle(speed=prop(3))),
        notification={"endpoint": {"uri": "http://r.example/n", "accept": "application/ld+json"}},
    )
    out = notification_request(p, terms, LINK)
    body = orjson.loads(out.body)
    assert body["@context"] == terms.context
    assert "Link" not in out.headers
    assert out.headers["Content-Type"] == "application/ld+json"


def test_formats_attributes_and_sys_attrs_shape_the_entities(terms: TermMap) -> None:
    e = created(vehicle(speed=prop(3), brand=prop("Seat")))
    kv = pending(terms, e, notification={"format": "keyValues", "attributes": ["speed"]})
    data = orjson.loads(notification_request(kv, terms, LINK).body)["data"]
    assert data == [{"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "speed": 3}]
    concise = pending(terms, e, notification={"format": "concise"})
    data = orjson.loads(notification_request(concise, terms, LINK).body)["data"]
    assert data[0]["speed"] == 3 and data[0]["brand"] == "Seat"
    sys = pending(terms, e, notification={"sysAttrs": True})
    data = orjson.loads(notification_request(sys, terms, LINK).body)["data"]
    assert data[0]["createdAt"] == NOW and data[0]["speed"]["modifiedAt"] == NOW


def test_geo_json_gives_a_feature_collection(terms: TermMap) -> None:
    e = vehicle(speed=prop(3))
    e["attrs"]["https://uri.etsi.org/ngsi-ld/location"] = [
        {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1, 2]},
         "createdAt": NOW, "modifiedAt": NOW}
    ]
    p = pending(terms, created(e), notification={
        "endpoint": {"uri": "http://r.example/n", "accept": "application/geo+json"}})
    out = notification_request(p, terms, LINK)
    data = orjson.loads(out.body)["data"]
    assert data["type"] == "FeatureCollection"
    assert data["features"][0]["geometry"] == {"type": "Point", "coordinates": [1, 2]}
    assert out.headers["Content-Type"] == "application/geo+json"


def test_receiver_info_becomes_headers_and_the_tenant_is_named(terms: TermMap) -> None:
    p = pending(
        terms,
        created(vehicle(speed=prop(3))),
        tenant="city",
        notification={"endpoint": {"uri": "http://r.example/n",
                                   "receiverInfo": [{"key": "X-Auth", "value": "s3cret"}]}},
    )
    headers = notification_request(p, terms, LINK).headers
    assert headers["X-Auth"] == "s3cret"
    assert headers["NGSILD-Tenant"] == "city"


def test_a_deleted_attribute_is_shown_as_ngsi_ld_null(terms: TermMap) -> None:
    before, after = vehicle(speed=prop(3), brand=prop("Seat")), vehicle(speed=prop(3))
    event = ChangeEvent("", "entityUpdated", before["id"], before, after)
    p = pending(terms, event, notificationTrigger=["attributeDeleted"])
    data = orjson.loads(notification_request(p, terms, LINK).body)["data"]
    assert data[0]["brand"] == {"type": "Property", "value": "urn:ngsi-ld:null"}


def test_a_deleted_entity_is_its_id_type_and_deletion_time(terms: TermMap) -> None:
    e = vehicle(speed=prop(3))
    event = ChangeEvent("", "entityDeleted", e["id"], e, None)
    p = pending(terms, event, notificationTrigger=["entityDeleted"])
    data = orjson.loads(notification_request(p, terms, LINK).body)["data"]
    assert data == [{"id": e["id"], "type": "Vehicle", "deletedAt": LATER}]


def test_show_changes_adds_the_previous_value(terms: TermMap) -> None:
    before, after = vehicle(speed=prop(3)), vehicle(speed=prop(5, LATER))
    event = ChangeEvent("", "entityUpdated", before["id"], before, after)
    p = pending(terms, event, notification={"showChanges": True})
    data = orjson.loads(notification_request(p, terms, LINK).body)["data"]
    assert data[0]["speed"] == {"type": "Property", "value": 5, "previousValue": 3}
    concise = pending(terms, event, notification={"showChanges": True, "format": "concise"})
    data = orjson.loads(notification_request(concise, terms, LINK).body)["data"]
    assert data[0]["speed"] == {"value": 5, "previousValue": 3}


def test_subscriptions_showing_one_change_alike_share_its_rendering_and_no_other(
    terms: TermMap,
) -> None:
    event = created(vehicle(speed=prop(3)))
    rendered = RenderedData()
    normalized = [pending(terms, event) for _ in range(2)]
    key_values = pending(terms, event, notification={"format": "keyValues"})
    bodies = [
        orjson.loads(notification_request(p, terms, LINK, rendered).body)
        for p in [*normalized, key_values]
    ]
    assert bodies[0]["data"] == bodies[1]["data"]
    assert bodies[0]["data"][0]["speed"] == {"type": "Property", "value": 3}
    assert bodies[2]["data"][0]["speed"] == 3
    assert bodies[0]["id"] != bodies[1]["id"]
    assert bodies[0]["subscriptionId"] != bodies[1]["subscriptionId"]
    later = created(vehicle(speed=prop(4)))
    again = orjson.loads(notification_request(pending(terms, later), terms, LINK, rendered).body)
    assert again["data"][0]["speed"]["value"] == 4
