"""Which change events fire a subscription (compiled.py), the type index (index.py) and the
listener that hands them on (matcher.py)."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import EX

from broker.events import ChangeEvent
from broker.jsonld import TermMap
from broker.settings import Settings
from broker.subscriptions.compiled import CompiledSubscription, compile_subscription
from broker.subscriptions.index import SubscriptionIndex
from broker.subscriptions.matcher import Matcher
from broker.subscriptions.notification import Pending
from broker.subscriptions.parse import new_record
from broker.types import ExpandedEntity

NOW = "2026-01-01T00:00:00.000Z"
LATER = "2026-01-01T00:00:01.000Z"
VEHICLE = EX + "Vehicle"


def prop(value: Any, at: str = NOW) -> list[dict[str, Any]]:
    return [{"type": "Property", "value": value, "createdAt": NOW, "modifiedAt": at}]


def entity(n: int = 1, types: tuple[str, ...] = (VEHICLE,), **attrs: Any) -> ExpandedEntity:
    return {
        "id": f"urn:ngsi-ld:Vehicle:{n}",
        "type": list(types),
        "createdAt": NOW,
        "modifiedAt": NOW,
        "attrs": {EX + k: v for k, v in attrs.items()},
    }


def created(e: ExpandedEntity, tenant: str = "") -> ChangeEvent:
    return ChangeEvent(tenant, "entityCreated", e["id"], None, e)


def updated(before: ExpandedEntity, after: ExpandedEntity) -> ChangeEvent:
    return ChangeEvent("", "entityUpdated", after["id"], before, after)


def deleted(e: ExpandedEntity) -> ChangeEvent:
    return ChangeEvent("", "entityDeleted", e["id"], e, None)


def subscription(terms: TermMap, tenant: str = "", **members: Any) -> CompiledSubscription:
    body: dict[str, Any] = {
        "type": "Subscription",
        "notification": {"endpoint": {"uri": "http://receiver.example/n"}},
    }
    if "watchedAttributes" not in members or "entities" in members:
        body["entities"] = members.pop("entities", [{"type": "Vehicle"}])
    body.update(members)
    return compile_subscription(
        tenant, new_record(body, terms, Settings(), context=None, now=NOW)
    )


def test_default_triggers_fire_on_creation_and_update_not_on_deletion(terms: TermMap) -> None:
    sub = subscription(terms)
    e = entity(speed=prop(1))
    assert sub.fired(created(e)) is not None
    assert sub.fired(updated(e, entity(speed=prop(2, LATER)))) is not None
    assert sub.fired(deleted(e)) is None


def test_entity_created_alone_fires_only_on_creation(terms: TermMap) -> None:
    sub = subscription(terms, notificationTrigger=["entityCreated"])
    e = entity(speed=prop(1))
    assert sub.fired(created(e)) is not None
    assert sub.fired(updated(e, entity(speed=prop(2, LATER)))) is None
    assert sub.fired(deleted(e)) is None


def test_entity_deleted_fires_on_deletion_matching_the_entity_before(terms: TermMap) -> None:
    sub = subscription(terms, notificationTrigger=["entityDeleted"], q="speed>5")
    assert sub.fired(deleted(entity(speed=prop(9)))) is not None
    assert sub.fired(deleted(entity(speed=prop(1)))) is None
    assert sub.fired(created(entity(speed=prop(9)))) is None


def test_entity_updated_covers_every_attribute_change(terms: TermMap) -> None:
    sub = subscription(terms, notificationTrigger=["entityUpdated"])
    e = entity(speed=prop(1), brand=prop("Seat"))
    assert sub.fired(updated(e, entity(speed=prop(1), brand=prop("Seat"), name=prop("n"))))
    assert sub.fired(updated(e, entity(speed=prop(2, LATER), brand=prop("Seat"))))
    assert sub.fired(updated(e, entity(speed=prop(1))))
    assert sub.fired(updated(e, entity(types=(VEHICLE, EX + "Car"), speed=prop(1),
                                       brand=prop("Seat"))))
    assert sub.fired(created(e)) is None


@pytest.mark.parametrize(
    ("trigger", "fires_on"),
    [
        ("attributeCreated", "created"),
        ("attributeUpdated", "updated"),
        ("attributeDeleted", "deleted"),
    ],
)
def test_each_attribute_trigger_fires_on_its_own_change(
    terms: TermMap, trigger: str, fires_on: str
) -> None:
    sub = subscription(terms, notificationTrigger=[trigger])
    before = entity(speed=prop(1), brand=prop("Seat"))
    changes = {
        "created": entity(speed=prop(1), brand=prop("Seat"), name=prop("n")),
        "updated": entity(speed=prop(2, LATER), brand=prop("Seat")),
        "deleted": entity(speed=prop(1)),
    }
    for kind, after in changes.items():
        assert (sub.fired(updated(before, after)) is not None) == (kind == fires_on), kind


def test_rewriting_the_same_value_is_an_update(terms: TermMap) -> None:
    sub = subscription(terms, notificationTrigger=["attributeUpdated"])
    assert sub.fired(updated(entity(speed=prop(1)), entity(speed=prop(1, LATER))))
    assert sub.fired(updated(entity(speed=prop(1)), entity(speed=prop(1)))) is None


def test_watched_attributes_limit_the_attribute_triggers(terms: TermMap) -> None:
    sub = subscription(terms, watchedAttributes=["speed"], entities=[{"type": "Vehicle"}])
    before = entity(speed=prop(1), brand=prop("Seat"))
    assert sub.fired(updated(before, entity(speed=prop(2, LATER), brand=prop("Seat"))))
    assert sub.fired(updated(before, entity(speed=prop(1), brand=prop("Cupra", LATER)))) is None
    assert sub.fired(created(entity(brand=prop("Seat")))) is None
    assert sub.fired(created(entity(speed=prop(3))))


def test_watched_attributes_alone_select_any_entity(terms: TermMap) -> None:
    sub = subscription(terms, watchedAttributes=["speed"])
    assert sub.type_keys is None
    assert sub.fired(created(entity(types=(EX + "Boat",), speed=prop(3))))


def test_entity_selectors_by_id_pattern_and_type_expression(terms: TermMap) -> None:
    sub = subscription(
        terms,
        entities=[
            {"type": "Vehicle;Car", "idPattern": ":1$"},
            {"type": "Vehicle", "id": "urn:ngsi-ld:Vehicle:7"},
        ],
    )
    both = (VEHICLE, EX + "Car")
    assert sub.fired(created(entity(1, both, speed=prop(1))))
    assert sub.fired(created(entity(1, speed=prop(1)))) is None
    assert sub.fired(created(entity(2, both, speed=prop(1)))) is None
    assert sub.fired(created(entity(7, speed=prop(1))))


def test_q_geoq_and_scopeq_filter_exactly_as_a_query(terms: TermMap) -> None:
    sub = subscription(
        terms,
        q="speed>10",
        scopeQ="/Madrid/#",
        geoQ={"georel": "near;maxDistance==1000", "geometry": "Point", "coordinates": [0, 0]},
    )
    here = [{"type": "GeoProperty", "value": {"type": "Point", "coordinates": [0, 0.001]}}]
    far = [{"type": "GeoProperty", "value": {"type": "Point", "coordinates": [5, 5]}}]
    loc = "https://uri.etsi.org/ngsi-ld/location"

    def e(speed: int, where: Any, scope: str) -> ExpandedEntity:
        out = entity(speed=prop(speed))
        out["attrs"][loc] = where
        out["scope"] = [scope]
        return out

    assert sub.fired(created(e(20, here, "/Madrid/Centro")))
    assert sub.fired(created(e(5, here, "/Madrid/Centro"))) is None
    assert sub.fired(created(e(20, far, "/Madrid/Centro"))) is None
    assert sub.fired(created(e(20, here, "/Sevilla"))) is None


def test_paused_expired_and_periodic_subscriptions_never_fire(terms: TermMap) -> None:
    e = created(entity(speed=prop(1)))
    assert subscription(terms, isActive=False).fired(e) is None
    expiring = subscription(terms, expiresAt="2099-01-01T00:00:00Z")
    assert expiring.fired(e) is not None
    assert expiring.fired(e, now=4_200_000_000.0) is None
    assert subscription(terms, timeInterval=60).fired(e) is None


def test_the_index_offers_only_candidates_of_the_entity_types(terms: TermMap) -> None:
    index = SubscriptionIndex()
    vehicles = subscription(terms)
    cars = subscription(terms, entities=[{"type": "Car"}])
    anything = subscription(terms, watchedAttributes=["speed"])
    other_tenant = subscription(terms, tenant="b")
    for sub in (vehicles, cars, anything, other_tenant):
        index.put(sub)
    assert {s.id for s in index.candidates("", [VEHICLE])} == {vehicles.id, anything.id}
    assert {s.id for s in index.candidates("", [EX + "Boat"])} == {anything.id}
    assert {s.id for s in index.candidates("b", [VEHICLE])} == {other_tenant.id}
    index.remove("", vehicles.id)
    assert {s.id for s in index.candidates("", [VEHICLE])} == {anything.id}
    assert len(index) == 3


def test_the_matcher_enqueues_each_fired_subscription_of_the_tenant(terms: TermMap) -> None:
    index = SubscriptionIndex()
    mine = subscription(terms, tenant="a")
    theirs = subscription(terms, tenant="b")
    index.put(mine)
    index.put(theirs)
    sent: list[Pending] = []
    matcher = Matcher(index, lambda p: sent.append(p) is None)
    matcher.on_change(created(entity(speed=prop(1)), tenant="a"))
    assert [p.sub.id for p in sent] == [mine.id]
    assert sent[0].fired.trigger == "entityCreated"


def test_a_pattern_too_costly_to_match_stops_only_its_own_subscription(
    terms: TermMap, caplog: pytest.LogCaptureFixture
) -> None:
    index = SubscriptionIndex()
    costly = subscription(terms, q="name~=(a|aa)+")
    plain = subscription(terms)
    index.put(costly)
    index.put(plain)
    sent: list[Pending] = []
    matcher = Matcher(index, lambda p: sent.append(p) is None)
    with caplog.at_level("WARNING", logger="broker.subscriptions.matcher"):
        matcher.on_change(created(entity(name=prop("a" * 40 + "!"))))
    assert [p.sub.id for p in sent] == [plain.id]
    assert "regex_timeout" in caplog.text


def test_throttling_skips_notifications_that_come_too_soon(terms: TermMap) -> None:
    index = SubscriptionIndex()
    index.put(subscription(terms, throttling=10))
    clock = [1000.0]
    sent: list[Pending] = []
    matcher = Matcher(index, lambda p: sent.append(p) is None, clock=lambda: clock[0])
    e = entity(speed=prop(1))
    matcher.on_change(created(e))
    clock[0] += 5
    matcher.on_change(updated(e, entity(speed=prop(2, LATER))))
    clock[0] += 6
    matcher.on_change(updated(e, entity(speed=prop(3, LATER))))
    assert len(sent) == 2
