"""Clause 6.4.3.3 (ETSI GS CIM 009 v1.9): DELETE /entities, Purge Entities.

The selection is that of GET /entities (id, idPattern, type, attrs, q, scopeQ, geo-query),
and every entity it matches is deleted: 204 with no body, whether or not anything matched.
A request without a selection, or with a parameter that is not one of Purge Entities, is a
400 that deletes nothing.

Every test works in a tenant of its own, so a purge never reaches entities of other tests.
"""

from __future__ import annotations

import uuid
from typing import Any

from conformance_tests.client import API, JSON, Client, assert_problem, new_id
from conformance_tests.conftest import Target

ENTITIES = f"{API}/entities"
CREATE = f"{API}/entityOperations/create"


def _tenant() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


def _make(c: Client, etype: str | list[str], **attrs: Any) -> str:
    kind = etype if isinstance(etype, str) else etype[0]
    entity = {"id": new_id(kind), "type": etype, **attrs}
    c.create(entity)
    return str(entity["id"])


def _prop(value: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value}


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}}


def _purge(c: Client, **params: Any) -> None:
    r = c.delete(ENTITIES, params=params)
    assert r.status == 204, f"purge {params} failed: {r}"
    assert not r.body


def _ids(c: Client, **params: Any) -> set[str]:
    r = c.get(ENTITIES, params={"limit": 1000, **params}, accept=JSON)
    assert r.status == 200, r
    return {e["id"] for e in r.json()}


def _count(c: Client, **params: Any) -> int:
    r = c.get(ENTITIES, params={"limit": 0, "count": "true", **params}, accept=JSON)
    assert r.status == 200, r
    return int(r.header("NGSILD-Results-Count") or "-1")


def test_purge_by_type_deletes_exactly_that_type(target: Target) -> None:
    c = target.client(_tenant())
    cars = [_make(c, "Car") for _ in range(3)]
    bikes = [_make(c, "Bike") for _ in range(2)]
    _purge(c, type="Car")
    assert not any(c.exists(i) for i in cars)
    assert all(c.exists(i) for i in bikes)
    assert _ids(c, type="Car") == set()
    assert _ids(c, type="Bike") == set(bikes)


def test_purged_entities_are_404_and_absent_from_query_entities(target: Target) -> None:
    c = target.client(_tenant())
    gone = _make(c, "Car")
    _purge(c, type="Car")
    assert_problem(c.retrieve(gone), 404, "ResourceNotFound")
    assert _ids(c, idPattern=".*") == set()


def test_purge_by_type_and_q_deletes_only_entities_matching_both(target: Target) -> None:
    c = target.client(_tenant())
    fast = _make(c, "Car", speed=_prop(120))
    slow = _make(c, "Car", speed=_prop(30))
    fast_bike = _make(c, "Bike", speed=_prop(120))
    _purge(c, type="Car", q="speed>100")
    assert _ids(c, idPattern=".*") == {slow, fast_bike}
    assert not c.exists(fast)


def test_purge_by_q_alone(target: Target) -> None:
    c = target.client(_tenant())
    broken = _make(c, "Car", status=_prop("broken"))
    fine = _make(c, "Bike", status=_prop("ok"))
    _purge(c, q='status=="broken"')
    assert _ids(c, idPattern=".*") == {fine}
    assert not c.exists(broken)


def test_purge_by_id_pattern(target: Target) -> None:
    c = target.client(_tenant())
    a = f"urn:ngsi-ld:Car:zoneA-{uuid.uuid4().hex[:6]}"
    b = f"urn:ngsi-ld:Car:zoneB-{uuid.uuid4().hex[:6]}"
    for entity_id in (a, b):
        c.create({"id": entity_id, "type": "Car"})
    _purge(c, idPattern="^urn:ngsi-ld:Car:zoneA-.*")
    assert _ids(c, type="Car") == {b}


def test_purge_by_id_list(target: Target) -> None:
    c = target.client(_tenant())
    a, b, keep = (_make(c, "Car") for _ in range(3))
    _purge(c, id=[a, b])
    assert _ids(c, type="Car") == {keep}


def test_purge_by_id_list_and_type_needs_both(target: Target) -> None:
    c = target.client(_tenant())
    car, bike = _make(c, "Car"), _make(c, "Bike")
    _purge(c, id=[car, bike], type="Bike")
    assert _ids(c, idPattern=".*") == {car}


def test_purge_by_attrs_deletes_entities_having_one_of_them(target: Target) -> None:
    c = target.client(_tenant())
    tagged = _make(c, "Car", tag=_prop("x"))
    plain = _make(c, "Car", speed=_prop(1))
    _purge(c, attrs="tag")
    assert _ids(c, type="Car") == {plain}
    assert not c.exists(tagged)


def test_purge_by_type_and_scope(target: Target) -> None:
    c = target.client(_tenant())
    madrid = _make(c, "Car", scope="/Madrid/Centro")
    paris = _make(c, "Car", scope="/Paris")
    _purge(c, type="Car", scopeQ="/Madrid/#")
    assert _ids(c, type="Car") == {paris}
    assert not c.exists(madrid)


def test_purge_by_geo_query(target: Target) -> None:
    c = target.client(_tenant())
    near = _make(c, "Car", location=_point(-3.7038, 40.4168))
    far = _make(c, "Car", location=_point(2.3522, 48.8566))
    _purge(
        c,
        type="Car",
        georel="near;maxDistance==2000",
        geometry="Point",
        coordinates="[-3.7038,40.4168]",
    )
    assert _ids(c, type="Car") == {far}
    assert not c.exists(near)


def test_purge_deletes_a_multi_typed_entity_matched_by_any_of_its_types(target: Target) -> None:
    c = target.client(_tenant())
    both = _make(c, ["Car", "Taxi"])
    car = _make(c, "Car")
    _purge(c, type="Taxi")
    assert not c.exists(both)
    assert c.exists(car)


def test_purge_by_a_type_expression_with_and(target: Target) -> None:
    c = target.client(_tenant())
    both = _make(c, ["Car", "Taxi"])
    car = _make(c, "Car")
    taxi = _make(c, "Taxi")
    _purge(c, type="Car;Taxi")
    assert _ids(c, idPattern=".*") == {car, taxi}
    assert not c.exists(both)


def test_purge_expands_the_type_with_the_request_context(
    target: Target, user_context_url: str
) -> None:
    c = target.client(_tenant())
    r = c.post(
        ENTITIES,
        json={"id": new_id(), "type": "Vehicle", "@context": user_context_url},
        content_type="application/ld+json",
    )
    assert r.status == 201, r
    _purge(c, type="Vehicle")  # the default vocabulary's Vehicle: another type
    r = c.get(ENTITIES, params={"type": "Vehicle"}, accept=JSON, context=user_context_url)
    assert r.status == 200 and len(r.json()) == 1, r
    r = c.delete(ENTITIES, params={"type": "Vehicle"}, context=user_context_url)
    assert r.status == 204, r
    r = c.get(ENTITIES, params={"type": "Vehicle"}, accept=JSON, context=user_context_url)
    assert r.status == 200 and r.json() == [], r


def test_purge_with_nothing_matching_is_204(target: Target) -> None:
    c = target.client(_tenant())
    keep = _make(c, "Car")
    _purge(c, type="Boat")
    assert c.exists(keep)


def test_purge_deletes_more_than_one_page_of_matches(target: Target) -> None:
    c = target.client(_tenant())
    for start in (0, 700):
        batch = [
            {"id": f"urn:ngsi-ld:Car:{i:05}", "type": "Car"} for i in range(start, start + 700)
        ]
        assert c.post(CREATE, json=batch).status == 201
    _make(c, "Bike")
    assert _count(c, type="Car") == 1400
    _purge(c, type="Car")
    assert _count(c, type="Car") == 0
    assert _count(c, type="Bike") == 1


def test_purge_accepts_a_trailing_slash(target: Target) -> None:
    c = target.client(_tenant())
    car = _make(c, "Car")
    r = c.delete(ENTITIES + "/", params={"type": "Car"})
    assert r.status == 204, r
    assert not c.exists(car)


def test_purge_with_local_true_is_accepted(target: Target) -> None:
    c = target.client(_tenant())
    car = _make(c, "Car")
    _purge(c, type="Car", local="true")
    assert not c.exists(car)


# -- what a purge refuses: nothing is deleted -----------------------------------------------


def test_purge_without_a_selection_is_400_and_deletes_nothing(target: Target) -> None:
    c = target.client(_tenant())
    car = _make(c, "Car")
    assert_problem(c.delete(ENTITIES), 400, "BadRequestData")
    assert c.exists(car)


def test_purge_with_only_local_is_400_and_deletes_nothing(target: Target) -> None:
    c = target.client(_tenant())
    car = _make(c, "Car")
    assert_problem(c.delete(ENTITIES, params={"local": "true"}), 400, "BadRequestData")
    assert c.exists(car)


def test_purge_with_an_invalid_q_is_400_naming_q(target: Target) -> None:
    c = target.client(_tenant())
    car = _make(c, "Car", speed=_prop(1))
    problem = assert_problem(
        c.delete(ENTITIES, params={"type": "Car", "q": "speed>>1"}), 400, "BadRequestData"
    )
    assert "q" in problem["detail"]
    assert c.exists(car)


def test_purge_with_an_invalid_id_is_400_naming_id(target: Target) -> None:
    c = target.client(_tenant())
    car = _make(c, "Car")
    problem = assert_problem(
        c.delete(ENTITIES, params={"id": f"{car},not a uri"}), 400, "BadRequestData"
    )
    assert "id" in problem["detail"]
    assert c.exists(car)


def test_purge_with_an_invalid_id_pattern_is_400_naming_it(target: Target) -> None:
    c = target.client(_tenant())
    car = _make(c, "Car")
    problem = assert_problem(
        c.delete(ENTITIES, params={"idPattern": "(unclosed"}), 400, "BadRequestData"
    )
    assert "idPattern" in problem["detail"]
    assert c.exists(car)


def test_purge_with_an_empty_type_is_400(target: Target) -> None:
    c = target.client(_tenant())
    car = _make(c, "Car")
    assert_problem(c.delete(ENTITIES, params={"type": ""}), 400, "BadRequestData")
    assert c.exists(car)


def test_purge_with_an_incomplete_geo_query_is_400(target: Target) -> None:
    c = target.client(_tenant())
    car = _make(c, "Car")
    r = c.delete(ENTITIES, params={"type": "Car", "georel": "near;maxDistance==10"})
    assert_problem(r, 400, "BadRequestData")
    assert c.exists(car)


def test_purge_with_a_parameter_it_does_not_take_is_400_naming_it(target: Target) -> None:
    c = target.client(_tenant())
    car = _make(c, "Car")
    for name, value in (("limit", "1"), ("offset", "1"), ("count", "true"), ("color", "red")):
        r = c.delete(ENTITIES, params={"type": "Car", name: value})
        problem = assert_problem(r, 400, "BadRequestData")
        assert name in problem["detail"], problem
    assert c.exists(car)


def test_purge_with_local_not_a_boolean_is_400(target: Target) -> None:
    c = target.client(_tenant())
    car = _make(c, "Car")
    r = c.delete(ENTITIES, params={"type": "Car", "local": "yes"})
    assert "local" in assert_problem(r, 400, "BadRequestData")["detail"]
    assert c.exists(car)


def test_purge_with_keep_or_drop_is_refused_and_deletes_nothing(target: Target) -> None:
    c = target.client(_tenant())
    car = _make(c, "Car", speed=_prop(1))
    for name in ("keep", "drop"):
        r = c.delete(ENTITIES, params={"type": "Car", name: "speed"})
        assert name in assert_problem(r, 422, "OperationNotSupported")["detail"]
    assert c.entity(car)["speed"]["value"] == 1


# -- tenants ----------------------------------------------------------------------------------


def test_purge_of_an_unknown_tenant_is_404_nonexistent_tenant(target: Target) -> None:
    c = target.client(_tenant())
    assert_problem(c.delete(ENTITIES, params={"type": "Car"}), 404, "NonexistentTenant")
    assert_problem(c.delete(ENTITIES, params={"type": "Car"}), 404, "NonexistentTenant")


def test_purge_in_a_tenant_leaves_other_tenants_alone(target: Target) -> None:
    a, b = target.client(_tenant()), target.client(_tenant())
    entity = {"id": new_id("Car"), "type": "Car"}
    a.create(entity)
    b.create(entity)
    _purge(a, type="Car")
    assert not a.exists(entity["id"])
    assert b.exists(entity["id"])


def test_purge_in_a_tenant_leaves_the_default_tenant_alone(target: Target) -> None:
    default, tenant = target.client(), target.client(_tenant())
    etype = f"Car{uuid.uuid4().hex[:8]}"
    entity = {"id": new_id("Car"), "type": etype}
    default.create(entity)
    tenant.create(entity)
    _purge(tenant, type=etype)
    assert not tenant.exists(entity["id"])
    assert default.exists(entity["id"])
    _purge(default, type=etype)
    assert not default.exists(entity["id"])
