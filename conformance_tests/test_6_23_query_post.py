"""Clause 6.23.3.1: POST /entityOperations/query (Query Entities via POST, behaviour in 5.7.2)
with a Query body (clause 5.2.23: `entities` selectors, `attrs`, `q`, `geoQ`, `scopeQ`): the
same answers as the GET /entities equivalent. Also queries and tenants (clause 4.14): a
query sees only its tenant's entities, and an unknown tenant is 404 NonexistentTenant."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from conformance_tests.client import (
    API,
    GEOJSON,
    JSON,
    JSONLD,
    Client,
    Response,
    assert_problem,
    new_id,
)
from conformance_tests.conftest import Target

ENTITIES = f"{API}/entities"
QUERY = f"{API}/entityOperations/query"
RESULTS_COUNT = "NGSILD-Results-Count"

SOL = [-3.7038, 40.4168]
RETIRO = [-3.6823, 40.4153]
TOLEDO = [-4.0273, 39.8628]


def _type(prefix: str = "Station") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def _tenant() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


def _prop(value: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value}


def _station(t: str, no2: float, where: list[float], scope: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": new_id(t),
        "type": t,
        "NO2": _prop(no2),
        "name": _prop(f"station {no2}"),
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": where}},
        "scope": scope,
        **extra,
    }


@pytest.fixture
def stations(client: Client) -> tuple[str, dict[str, dict[str, Any]]]:
    """Three air-quality stations of a fresh type: (type, {name: entity})."""
    t = _type()
    made = {
        "sol": _station(t, 55.0, SOL, "/Madrid/Centre"),
        "retiro": _station(t, 30.0, RETIRO, "/Madrid/Retiro"),
        "toledo": _station(t, 45.0, TOLEDO, "/Toledo"),
    }
    for entity in made.values():
        client.create(entity)
    return t, made


def _post(client: Client, body: dict[str, Any], **kw: Any) -> Response:
    kw.setdefault("accept", JSON)
    return client.post(QUERY, json=body, **kw)


def _post_ok(client: Client, body: dict[str, Any], **kw: Any) -> list[dict[str, Any]]:
    r = _post(client, body, **kw)
    assert r.status == 200, f"POST query {body} failed: {r}"
    result = r.json()
    assert isinstance(result, list), result
    return result


def _get_ok(client: Client, **params: Any) -> list[dict[str, Any]]:
    r = client.get(ENTITIES, params=params, accept=JSON)
    assert r.status == 200, f"GET query {params} failed: {r}"
    result = r.json()
    assert isinstance(result, list), result
    return result


def _ids(entities: list[dict[str, Any]]) -> set[str]:
    return {e["id"] for e in entities}


def _sorted(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entities, key=lambda e: e["id"])


def _without_scope(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`scope` is an entity member, not an attribute: `attrs` need not drop it."""
    return [{k: v for k, v in e.items() if k != "scope"} for e in entities]


# -- the Query body ----------------------------------------------------------------------------


def test_post_query_by_type_returns_200_and_the_entities(client: Client, stations: Any) -> None:
    t, made = stations
    got = _post_ok(client, {"type": "Query", "entities": [{"type": t}]})
    assert _sorted(got) == _sorted(list(made.values()))


def test_post_query_by_id_selector(client: Client, stations: Any) -> None:
    t, made = stations
    body = {"type": "Query", "entities": [{"id": made["retiro"]["id"], "type": t}]}
    assert _ids(_post_ok(client, body)) == {made["retiro"]["id"]}


def test_post_query_by_several_id_selectors(client: Client, stations: Any) -> None:
    t, made = stations
    wanted = {made["sol"]["id"], made["toledo"]["id"]}
    body = {"type": "Query", "entities": [{"id": i, "type": t} for i in sorted(wanted)]}
    assert _ids(_post_ok(client, body)) == wanted


def test_post_query_by_id_pattern_selector(client: Client) -> None:
    t = _type()
    for suffix in ("north-1", "north-2", "south-1"):
        client.create({"id": f"urn:ngsi-ld:{t}:{suffix}", "type": t, "NO2": _prop(1)})
    body = {"type": "Query", "entities": [{"idPattern": ".*:north-[0-9]$", "type": t}]}
    got = _ids(_post_ok(client, body))
    assert got == {f"urn:ngsi-ld:{t}:north-1", f"urn:ngsi-ld:{t}:north-2"}


def test_post_query_selectors_of_several_types_are_alternatives(client: Client) -> None:
    a, b, c = _type("A"), _type("B"), _type("C")
    ids = {}
    for t in (a, b, c):
        entity = {"id": new_id(t), "type": t, "NO2": _prop(1)}
        client.create(entity)
        ids[t] = entity["id"]
    body = {"type": "Query", "entities": [{"type": a}, {"type": b}]}
    assert _ids(_post_ok(client, body)) == {ids[a], ids[b]}


def test_post_query_with_q(client: Client, stations: Any) -> None:
    t, made = stations
    body = {"type": "Query", "entities": [{"type": t}], "q": "NO2>40"}
    assert _ids(_post_ok(client, body)) == {made["sol"]["id"], made["toledo"]["id"]}


def test_post_query_with_attrs_projects_the_entities(client: Client, stations: Any) -> None:
    t, made = stations
    body = {"type": "Query", "entities": [{"type": t}], "attrs": ["NO2"]}
    got = _sorted(_without_scope(_post_ok(client, body)))
    expected = _sorted([{"id": e["id"], "type": t, "NO2": e["NO2"]} for e in made.values()])
    assert got == expected


def test_post_query_with_geo_q(client: Client, stations: Any) -> None:
    t, made = stations
    body = {
        "type": "Query",
        "entities": [{"type": t}],
        "geoQ": {"georel": "near;maxDistance==2000", "geometry": "Point", "coordinates": SOL},
    }
    assert _ids(_post_ok(client, body)) == {made["sol"]["id"], made["retiro"]["id"]}


def test_post_query_with_geo_q_on_another_geoproperty(client: Client) -> None:
    t = _type()
    entity = _station(t, 1.0, SOL, "/Madrid", origin={
        "type": "GeoProperty", "value": {"type": "Point", "coordinates": TOLEDO}
    })
    client.create(entity)
    geo = {"georel": "near;maxDistance==1000", "geometry": "Point", "coordinates": TOLEDO}
    body = {"type": "Query", "entities": [{"type": t}], "geoQ": {**geo, "geoproperty": "origin"}}
    assert _ids(_post_ok(client, body)) == {entity["id"]}
    body = {"type": "Query", "entities": [{"type": t}], "geoQ": geo}
    assert _post_ok(client, body) == []


def test_post_query_with_scope_q(client: Client, stations: Any) -> None:
    t, made = stations
    body = {"type": "Query", "entities": [{"type": t}], "scopeQ": "/Madrid/#"}
    assert _ids(_post_ok(client, body)) == {made["sol"]["id"], made["retiro"]["id"]}


def test_post_query_combines_q_geo_q_and_scope_q(client: Client, stations: Any) -> None:
    t, made = stations
    body = {
        "type": "Query",
        "entities": [{"type": t}],
        "q": "NO2>40",
        "scopeQ": "/Madrid/#",
        "geoQ": {"georel": "within", "geometry": "Polygon", "coordinates": [[
            [-3.72, 40.40], [-3.67, 40.40], [-3.67, 40.43], [-3.72, 40.43], [-3.72, 40.40]
        ]]},
    }
    assert _ids(_post_ok(client, body)) == {made["sol"]["id"]}


def test_post_query_honours_options_key_values(client: Client, stations: Any) -> None:
    t, made = stations
    body = {"type": "Query", "entities": [{"id": made["sol"]["id"], "type": t}], "attrs": ["NO2"]}
    got = _without_scope(_post_ok(client, body, params={"options": "keyValues"}))
    assert got == [{"id": made["sol"]["id"], "type": t, "NO2": 55.0}]


def test_post_query_honours_limit_offset_and_count(client: Client, stations: Any) -> None:
    t, made = stations
    body = {"type": "Query", "entities": [{"type": t}]}
    r = _post(client, body, params={"limit": 2, "count": "true"})
    assert r.status == 200, r
    first = r.json()
    assert len(first) == 2
    assert r.header(RESULTS_COUNT) == "3"
    rest = _post_ok(client, body, params={"limit": 2, "offset": 2})
    assert len(rest) == 1
    assert _ids(first) | _ids(rest) == {e["id"] for e in made.values()}


def test_post_query_accepting_geo_json_gives_a_feature_collection(
    client: Client, stations: Any
) -> None:
    t, made = stations
    body = {"type": "Query", "entities": [{"type": t}], "q": "NO2>50"}
    r = client.post(QUERY, json=body, accept=GEOJSON)
    assert r.status == 200, r
    assert r.content_type == GEOJSON
    collection = r.json()
    assert collection["type"] == "FeatureCollection"
    (feature,) = collection["features"]
    assert feature["id"] == made["sol"]["id"]
    assert feature["geometry"] == {"type": "Point", "coordinates": SOL}


def test_post_query_expands_names_with_the_body_context(
    client: Client, user_context_url: str
) -> None:
    entity = {"id": new_id(), "type": "Vehicle", "speed": _prop(80)}
    r = client.post(ENTITIES, json=entity, context=user_context_url)
    assert r.status == 201, r
    body = {
        "type": "Query",
        "entities": [{"id": entity["id"], "type": "Vehicle"}],
        "q": "speed==80",
        "@context": user_context_url,
    }
    got = _post_ok(client, body, content_type=JSONLD)
    assert [e["id"] for e in got] == [entity["id"]]
    # the same names without that context are other names
    no_context = {k: v for k, v in body.items() if k != "@context"}
    assert _post_ok(client, no_context) == []
    assert [e["id"] for e in _post_ok(client, no_context, context=user_context_url)] == [
        entity["id"]
    ]


# -- the same answers as GET /entities ---------------------------------------------------------


def _equivalents(t: str, made: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    near = {"georel": "near;maxDistance==5000", "geometry": "Point", "coordinates": SOL}
    return [
        ({"entities": [{"type": t}]}, {"type": t}),
        ({"entities": [{"type": t}], "q": "NO2<50"}, {"type": t, "q": "NO2<50"}),
        (
            {"entities": [{"type": t}], "attrs": ["name", "location"]},
            {"type": t, "attrs": "name,location"},
        ),
        (
            {"entities": [{"id": made["toledo"]["id"], "type": t}]},
            {"id": made["toledo"]["id"], "type": t},
        ),
        ({"entities": [{"idPattern": ".*", "type": t}]}, {"idPattern": ".*", "type": t}),
        (
            {"entities": [{"type": t}], "geoQ": near},
            {"type": t, **{k: json.dumps(v) if k == "coordinates" else v for k, v in near.items()}},
        ),
        ({"entities": [{"type": t}], "scopeQ": "/Toledo"}, {"type": t, "scopeQ": "/Toledo"}),
        (
            {"entities": [{"type": t}], "q": "NO2>=30;NO2<=50", "scopeQ": "/Madrid/#"},
            {"type": t, "q": "NO2>=30;NO2<=50", "scopeQ": "/Madrid/#"},
        ),
    ]


@pytest.mark.parametrize(
    "case",
    range(8),
    ids=["type", "q", "attrs", "id", "idPattern", "geoQ", "scopeQ", "q_and_scopeQ"],
)
def test_post_query_answers_the_same_as_the_get_equivalent(
    client: Client, stations: Any, case: int
) -> None:
    t, made = stations
    body, params = _equivalents(t, made)[case]
    posted = _post_ok(client, {"type": "Query", **body})
    got = _get_ok(client, **params)
    assert _sorted(posted) == _sorted(got)
    assert posted, "the case selects nothing, so it would prove little"


# -- errors ------------------------------------------------------------------------------------


def test_post_query_without_any_selection_is_400_bad_request_data(client: Client) -> None:
    assert_problem(_post(client, {"type": "Query"}), 400, "BadRequestData")


def test_post_query_with_malformed_q_is_400_bad_request_data(client: Client) -> None:
    body = {"type": "Query", "entities": [{"type": _type()}], "q": "NO2>>"}
    assert_problem(_post(client, body), 400, "BadRequestData")


def test_post_query_with_malformed_geo_q_is_400_bad_request_data(client: Client) -> None:
    body = {
        "type": "Query",
        "entities": [{"type": _type()}],
        "geoQ": {"georel": "near;maxDistance==10", "geometry": "Point", "coordinates": [1]},
    }
    assert_problem(_post(client, body), 400, "BadRequestData")


def test_post_query_whose_type_is_not_query_is_400(client: Client) -> None:
    body = {"type": "Subscription", "entities": [{"type": _type()}]}
    assert_problem(_post(client, body), 400, "BadRequestData")


def test_post_query_with_a_body_that_is_not_json_is_400(client: Client) -> None:
    r = client.post(QUERY, body=b'{"type": "Query", ', content_type=JSON, accept=JSON)
    assert_problem(r, 400, ("InvalidRequest", "BadRequestData"))


def test_post_query_with_a_body_that_is_not_an_object_is_400(client: Client) -> None:
    r = client.post(QUERY, json=[{"type": "Query"}], accept=JSON)
    assert_problem(r, 400, ("InvalidRequest", "BadRequestData"))


# -- tenants -----------------------------------------------------------------------------------


@pytest.fixture
def tenant_entity(target: Target) -> tuple[str, str, dict[str, Any]]:
    """An entity of a fresh type created in a fresh tenant: (tenant, type, entity)."""
    tenant, t = _tenant(), _type()
    entity = _station(t, 10.0, SOL, "/Madrid")
    target.client(tenant).create(entity)
    return tenant, t, entity


def test_get_query_in_a_tenant_finds_that_tenants_entities(
    target: Target, tenant_entity: Any
) -> None:
    tenant, t, entity = tenant_entity
    assert _get_ok(target.client(tenant), type=t) == [entity]


def test_post_query_in_a_tenant_finds_that_tenants_entities(
    target: Target, tenant_entity: Any
) -> None:
    tenant, t, entity = tenant_entity
    body = {"type": "Query", "entities": [{"type": t}]}
    assert _post_ok(target.client(tenant), body) == [entity]


def test_query_in_the_default_tenant_does_not_see_a_tenants_entities(
    target: Target, tenant_entity: Any
) -> None:
    _, t, _ = tenant_entity
    assert _get_ok(target.client(), type=t) == []
    assert _post_ok(target.client(), {"type": "Query", "entities": [{"type": t}]}) == []


def test_query_in_another_tenant_does_not_see_a_tenants_entities(
    target: Target, tenant_entity: Any
) -> None:
    _, t, _ = tenant_entity
    other = target.client(_tenant())
    other.create(_station(_type(), 1.0, SOL, "/Madrid"))  # the other tenant exists
    assert _get_ok(other, type=t) == []
    assert _post_ok(other, {"type": "Query", "entities": [{"type": t}]}) == []


def test_query_in_a_tenant_does_not_see_the_default_tenants_entities(target: Target) -> None:
    t = _type()
    target.client().create(_station(t, 1.0, SOL, "/Madrid"))
    tenant = target.client(_tenant())
    tenant.create(_station(_type(), 1.0, SOL, "/Madrid"))
    assert _get_ok(tenant, type=t) == []


def test_get_query_in_an_unknown_tenant_is_404_nonexistent_tenant(target: Target) -> None:
    r = target.client(_tenant()).get(ENTITIES, params={"type": _type()}, accept=JSON)
    assert_problem(r, 404, "NonexistentTenant")


def test_post_query_in_an_unknown_tenant_is_404_nonexistent_tenant(target: Target) -> None:
    body = {"type": "Query", "entities": [{"type": _type()}]}
    r = target.client(_tenant()).post(QUERY, json=body, accept=JSON)
    assert_problem(r, 404, "NonexistentTenant")


def test_count_in_a_tenant_counts_only_that_tenants_entities(target: Target) -> None:
    t = _type()
    a, b = target.client(_tenant()), target.client(_tenant())
    for _ in range(3):
        a.create(_station(t, 1.0, SOL, "/Madrid"))
    b.create(_station(t, 1.0, SOL, "/Madrid"))
    r = a.get(ENTITIES, params={"type": t, "count": "true"}, accept=JSON)
    assert r.status == 200, r
    assert r.header(RESULTS_COUNT) == "3"
    r = b.post(QUERY, json={"type": "Query", "entities": [{"type": t}]},
               params={"count": "true"}, accept=JSON)
    assert r.status == 200, r
    assert r.header(RESULTS_COUNT) == "1"
