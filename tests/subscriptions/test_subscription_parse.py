"""Subscription payloads -> stored form: defaults, expansion, and a 400 naming the member
for anything wrong (parse.py); and back to the wire in another context (render.py)."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest
from conftest import EX

from broker.errors import BadRequestData, NgsiLdError, OperationNotSupported
from broker.jsonld import ContextResolver, TermMap
from broker.settings import Settings
from broker.subscriptions.mqtt_endpoint import mqtt_endpoint
from broker.subscriptions.parse import check_endpoint, new_record, patched_record
from broker.subscriptions.render import render_subscription
from broker.subscriptions.stats import DeliveryStats

NOW = "2026-01-01T00:00:00.000Z"
SETTINGS = Settings()


def payload(**members: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "Subscription",
        "entities": [{"type": "Vehicle"}],
        "notification": {"endpoint": {"uri": "http://receiver.example/notify"}},
    }
    body.update(members)
    return body


def parse(body: Any, terms: TermMap) -> dict[str, Any]:
    return new_record(body, terms, SETTINGS, context=None, now=NOW)


def test_defaults_are_filled_in_and_an_id_is_generated(terms: TermMap) -> None:
    record = parse(payload(), terms)
    assert record["id"].startswith("urn:ngsi-ld:Subscription:")
    assert record["notificationTrigger"] == ["attributeCreated", "attributeUpdated"]
    assert record["isActive"] is True
    assert record["notification"] == {
        "endpoint": {"uri": "http://receiver.example/notify", "accept": "application/json"},
        "format": "normalized",
        "showChanges": False,
        "sysAttrs": False,
    }
    assert parse(payload(), terms)["id"] != record["id"]


def test_names_are_stored_expanded_with_the_request_context(terms: TermMap) -> None:
    record = parse(
        payload(
            entities=[{"type": "Vehicle,Car"}],
            watchedAttributes=["speed", "brand"],
            geoQ={"georel": "near;maxDistance==100", "geometry": "Point", "coordinates": [1, 2]},
            notification={
                "endpoint": {"uri": "http://receiver.example/n"},
                "attributes": ["name"],
            },
        ),
        terms,
    )
    assert record["entities"] == [{"type": f"{EX}Vehicle|{EX}Car"}]
    assert record["watchedAttributes"] == [EX + "speed", EX + "brand"]
    assert record["notification"]["attributes"] == [EX + "name"]
    assert record["geoQ"]["geoproperty"] == "https://uri.etsi.org/ngsi-ld/location"


def test_a_given_id_is_kept(terms: TermMap) -> None:
    assert parse(payload(id="urn:ngsi-ld:Subscription:mine"), terms)["id"] == (
        "urn:ngsi-ld:Subscription:mine"
    )


BAD_MEMBERS: list[tuple[dict[str, Any], str]] = [
    ({"id": "not a uri"}, "id"),
    ({"type": "Entity"}, "type"),
    ({"entities": []}, "entities"),
    ({"entities": [{"id": "urn:x:1"}]}, "entities[0].type"),
    ({"entities": [{"type": "Vehicle", "idPattern": "(["}]}, "entities[0].idPattern"),
    ({"entities": [{"type": "Vehicle", "id": "nope"}]}, "entities[0].id"),
    ({"entities": [{"type": "Vehicle,"}]}, "entities[0].type"),
    ({"entities": [{"type": "Vehicle", "colour": "red"}]}, "entities[0].colour"),
    ({"watchedAttributes": []}, "watchedAttributes"),
    ({"watchedAttributes": ["speed", "no spaces"]}, "watchedAttributes[1]"),
    ({"notificationTrigger": ["entityExploded"]}, "notificationTrigger[0]"),
    ({"q": "speed>"}, "q"),
    ({"q": ""}, "q"),
    ({"csf": "a=="}, "csf"),
    ({"scopeQ": "no-slash"}, "scopeQ"),
    ({"geoQ": {"georel": "near", "geometry": "Point", "coordinates": [1, 2]}}, "geoQ.georel"),
    ({"geoQ": {"georel": "within", "geometry": "Blob", "coordinates": [1]}}, "geoQ.geometry"),
    ({"geoQ": {"georel": "within", "geometry": "Point"}}, "geoQ.coordinates"),
    ({"geoQ": "near"}, "geoQ"),
    ({"lang": "not a tag!"}, "lang"),
    ({"isActive": "yes"}, "isActive"),
    ({"expiresAt": "tomorrow"}, "expiresAt"),
    ({"expiresAt": "2001-01-01T00:00:00Z"}, "expiresAt"),
    ({"throttling": 0}, "throttling"),
    ({"throttling": "5"}, "throttling"),
    ({"timeInterval": -1}, "timeInterval"),
    ({"timeInterval": 10, "watchedAttributes": ["speed"]}, "timeInterval"),
    ({"timeInterval": 10, "throttling": 5}, "timeInterval"),
    ({"jsonldContext": "relative/context.jsonld"}, "jsonldContext"),
    ({"colour": "red"}, "colour"),
    ({"notification": None}, "notification"),
    ({"notification": {"format": "keyValues"}}, "notification.endpoint"),
    ({"notification": {"endpoint": {}}}, "notification.endpoint.uri"),
    ({"notification": {"endpoint": {"uri": "not a uri"}}}, "notification.endpoint.uri"),
    ({"notification": {"endpoint": {"uri": "ftp://r.example/"}}}, "notification.endpoint.uri"),
    (
        {"notification": {"endpoint": {"uri": "http://r.example/", "accept": "text/plain"}}},
        "notification.endpoint.accept",
    ),
    (
        {"notification": {"endpoint": {"uri": "http://r.example/", "timeout": 0}}},
        "notification.endpoint.timeout",
    ),
    (
        {
            "notification": {
                "endpoint": {"uri": "http://r.example/", "receiverInfo": [{"key": "X-A"}]}
            }
        },
        "notification.endpoint.receiverInfo[0]",
    ),
    (
        {
            "notification": {
                "endpoint": {
                    "uri": "http://r.example/",
                    "receiverInfo": [{"key": "X-A", "value": "a\r\nInjected: 1"}],
                }
            }
        },
        "notification.endpoint.receiverInfo[0].value",
    ),
    (
        {
            "notification": {
                "endpoint": {
                    "uri": "http://r.example/",
                    "receiverInfo": [{"key": "Content-Type", "value": "text/plain"}],
                }
            }
        },
        "notification.endpoint.receiverInfo[0].key",
    ),
    (
        {"notification": {"endpoint": {"uri": "http://r.example/"}, "format": "fancy"}},
        "notification.format",
    ),
    (
        {
            "notification": {
                "endpoint": {"uri": "http://r.example/"},
                "format": "keyValues",
                "showChanges": True,
            }
        },
        "notification.showChanges",
    ),
    (
        {"notification": {"endpoint": {"uri": "http://r.example/"}, "attributes": ["a b"]}},
        "notification.attributes[0]",
    ),
    (
        {"notification": {"endpoint": {"uri": "http://r.example/"}, "sysAttrs": 1}},
        "notification.sysAttrs",
    ),
    (
        {"notification": {"endpoint": {"uri": "http://r.example/"}, "extra": 1}},
        "notification.extra",
    ),
]


@pytest.mark.parametrize(("members", "field"), BAD_MEMBERS, ids=[f for _, f in BAD_MEMBERS])
def test_a_bad_member_is_bad_request_data_naming_it(
    terms: TermMap, members: dict[str, Any], field: str
) -> None:
    with pytest.raises(BadRequestData) as caught:
        parse(payload(**members), terms)
    assert caught.value.field == field, caught.value.detail


def test_neither_entities_nor_watched_attributes_is_refused(terms: TermMap) -> None:
    body = payload()
    del body["entities"]
    with pytest.raises(BadRequestData) as caught:
        parse(body, terms)
    assert caught.value.field == "entities"
    body["watchedAttributes"] = ["speed"]
    assert parse(body, terms)["watchedAttributes"] == [EX + "speed"]


def test_missing_notification_is_refused(terms: TermMap) -> None:
    body = payload()
    del body["notification"]
    with pytest.raises(BadRequestData) as caught:
        parse(body, terms)
    assert caught.value.field == "notification"


def test_an_mqtt_endpoint_is_kept_with_its_notifier_info(terms: TermMap) -> None:
    endpoint = {
        "uri": "mqtts://user:secret@broker.example:8884/city/parking",
        "notifierInfo": [
            {"key": "MQTT-Version", "value": "mqtt3.1.1"},
            {"key": "MQTT-QoS", "value": "1"},
        ],
    }
    record = parse(payload(notification={"endpoint": endpoint}), terms)
    assert record["notification"]["endpoint"] == {**endpoint, "accept": "application/json"}
    target = mqtt_endpoint(record["notification"]["endpoint"])
    assert (target.broker.host, target.broker.port, target.broker.tls) == (
        "broker.example", 8884, True
    )
    assert (target.broker.username, target.broker.password) == ("user", "secret")
    assert (target.topic, target.qos, target.broker.version) == ("city/parking", 1, "mqtt3.1.1")
    assert "secret" not in target.broker.key


def test_an_mqtt_endpoint_defaults_to_mqtt5_qos0_on_port_1883(terms: TermMap) -> None:
    record = parse(payload(notification={"endpoint": {"uri": "mqtt://b.example/t"}}), terms)
    target = mqtt_endpoint(record["notification"]["endpoint"])
    assert (target.broker.port, target.qos, target.broker.version) == (1883, 0, "mqtt5.0")


@pytest.mark.parametrize(
    ("endpoint", "field"),
    [
        ({"uri": "mqtt://b.example"}, "notification.endpoint.uri"),
        ({"uri": "mqtt://b.example/a/#"}, "notification.endpoint.uri"),
        ({"uri": "mqtt://b.example/a/+/b"}, "notification.endpoint.uri"),
        ({"uri": "ftp://b.example/t"}, "notification.endpoint.uri"),
        (
            {"uri": "mqtt://b.example/t", "notifierInfo": [{"key": "MQTT-QoS", "value": "3"}]},
            "notification.endpoint.notifierInfo",
        ),
        (
            {
                "uri": "mqtt://b.example/t",
                "notifierInfo": [{"key": "MQTT-Version", "value": "mqtt3.1"}],
            },
            "notification.endpoint.notifierInfo",
        ),
    ],
)
def test_bad_mqtt_endpoints_are_refused_naming_the_field(
    terms: TermMap, endpoint: dict[str, Any], field: str
) -> None:
    with pytest.raises(BadRequestData) as caught:
        parse(payload(notification={"endpoint": endpoint}), terms)
    assert caught.value.field == field


async def test_a_private_mqtt_host_is_refused_unless_allowed(terms: TermMap) -> None:
    record = parse(payload(notification={"endpoint": {"uri": "mqtt://127.0.0.1/t"}}), terms)
    with pytest.raises(BadRequestData) as caught:
        await check_endpoint(record, allow_private=False)
    assert caught.value.field == "notification.endpoint.uri"
    await check_endpoint(record, allow_private=True)


def test_temporal_subscriptions_are_not_supported(terms: TermMap) -> None:
    with pytest.raises(OperationNotSupported):
        parse(payload(temporalQ={"timerel": "after"}), terms)


def test_read_only_members_sent_back_are_ignored(terms: TermMap) -> None:
    body = payload(status="active", createdAt=NOW)
    body["notification"] = {**body["notification"], "timesSent": 4, "status": "ok"}
    record = parse(body, terms)
    assert "status" not in record and "timesSent" not in record["notification"]


async def test_a_private_endpoint_is_refused_unless_allowed(terms: TermMap) -> None:
    record = parse(payload(notification={"endpoint": {"uri": "http://127.0.0.1:9/n"}}), terms)
    with pytest.raises(BadRequestData) as caught:
        await check_endpoint(record, allow_private=False)
    assert caught.value.field == "notification.endpoint.uri"
    await check_endpoint(record, allow_private=True)
    record = parse(payload(notification={"endpoint": {"uri": "http://10.1.2.3/n"}}), terms)
    with pytest.raises(BadRequestData):
        await check_endpoint(record, allow_private=False)


def test_the_stored_form_survives_json(terms: TermMap) -> None:
    record = parse(
        payload(q="speed>=10.5;(brand==\"Seat\"|brand==\"Cupra\")", csf="speed<3"), terms
    )
    assert orjson.loads(orjson.dumps(record)) == record


def test_rendering_in_the_same_context_gives_back_what_was_sent(terms: TermMap) -> None:
    sent = payload(
        id="urn:ngsi-ld:Subscription:1",
        subscriptionName="fast cars",
        description="d",
        entities=[{"type": "Vehicle", "idPattern": "^urn:ngsi-ld:Vehicle:"}],
        watchedAttributes=["speed"],
        notificationTrigger=["entityCreated", "attributeUpdated"],
        q="speed>50;brand==\"Seat\"",
        scopeQ="/Madrid/#",
        lang="es",
        isActive=True,
        throttling=5,
        jsonldContext="https://example.org/context.jsonld",
        notification={
            "attributes": ["speed", "owner"],
            "format": "concise",
            "showChanges": True,
            "sysAttrs": False,
            "endpoint": {
                "uri": "http://receiver.example/n",
                "accept": "application/ld+json",
                "receiverInfo": [{"key": "X-Token", "value": "t"}],
            },
        },
    )
    record = parse(copy.deepcopy(sent), terms)
    shown = render_subscription(record, DeliveryStats(), terms)
    assert shown.pop("status") == "active"
    notification = shown["notification"]
    assert notification.pop("timesSent") == 0 and notification.pop("timesFailed") == 0
    assert shown == sent


async def test_rendering_in_another_context_compacts_with_that_context(terms: TermMap) -> None:
    record = parse(payload(watchedAttributes=["speed"], q="speed>1"), terms)
    other = await ContextResolver(Settings()).resolve({"velocidad": EX + "speed"})
    shown = render_subscription(record, DeliveryStats(), other)
    assert shown["watchedAttributes"] == ["velocidad"]
    assert shown["q"] == "velocidad>1"
    assert shown["entities"] == [{"type": EX + "Vehicle"}]


def test_status_is_paused_when_inactive_and_expired_after_expires_at(terms: TermMap) -> None:
    paused = parse(payload(isActive=False), terms)
    assert render_subscription(paused, DeliveryStats(), terms)["status"] == "paused"
    expiring = parse(payload(expiresAt="2099-01-01T00:00:00Z"), terms)
    assert render_subscription(expiring, DeliveryStats(), terms)["status"] == "active"
    later = 4_200_000_000.0  # 2103
    assert render_subscription(expiring, DeliveryStats(), terms, now=later)["status"] == "expired"


def test_a_patch_replaces_members_and_merges_notification(terms: TermMap) -> None:
    stored = parse(payload(q="speed>1", notification={
        "endpoint": {"uri": "http://receiver.example/n"}, "format": "keyValues"}), terms)
    patched = patched_record(
        stored,
        {"q": "speed>2", "notification": {"attributes": ["speed"]}},
        terms,
        SETTINGS,
        context=None,
        now="2026-02-01T00:00:00.000Z",
    )
    assert render_subscription(patched, DeliveryStats(), terms)["q"] == "speed>2"
    assert patched["notification"]["format"] == "keyValues"
    assert patched["notification"]["attributes"] == [EX + "speed"]
    assert patched["notification"]["endpoint"] == stored["notification"]["endpoint"]
    assert patched["modifiedAt"] == "2026-02-01T00:00:00.000Z"
    assert patched["createdAt"] == stored["createdAt"]


def test_a_patch_with_the_ngsi_ld_null_removes_optional_members(terms: TermMap) -> None:
    stored = parse(payload(q="speed>1", throttling=5, description="fast cars"), terms)
    patched = patched_record(
        stored,
        {"q": "urn:ngsi-ld:null", "throttling": None},
        terms,
        SETTINGS,
        context=None,
        now="2026-02-01T00:00:00.000Z",
    )
    assert "q" not in patched and "throttling" not in patched
    assert patched["description"] == "fast cars"
    shown = render_subscription(patched, DeliveryStats(), terms)
    assert "q" not in shown and "throttling" not in shown


@pytest.mark.parametrize(
    ("fragment", "field"),
    [
        ({}, "body"),
        ({"id": "urn:ngsi-ld:Subscription:other"}, "id"),
        ({"timeInterval": 5, "watchedAttributes": ["speed"]}, "timeInterval"),
        (
            {"notification": {"format": "keyValues", "showChanges": True}},
            "notification.showChanges",
        ),
        ({"isActive": 1}, "isActive"),
        ({"notification": "urn:ngsi-ld:null"}, "notification"),
        ({"entities": None}, "entities"),
        ({"q": "urn:ngsi-ld:null", "isActive": 1}, "isActive"),
    ],
)
def test_a_bad_patch_names_the_member_and_leaves_the_record(
    terms: TermMap, fragment: dict[str, Any], field: str
) -> None:
    stored = parse(payload(id="urn:ngsi-ld:Subscription:1"), terms)
    before = copy.deepcopy(stored)
    with pytest.raises(NgsiLdError) as caught:
        patched_record(stored, fragment, terms, SETTINGS, context=None, now=NOW)
    assert caught.value.field == field
    assert stored == before
