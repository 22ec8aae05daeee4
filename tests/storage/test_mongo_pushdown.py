"""What the Mongo query compiler sends a real MongoDB, checked without one.

nx-27017 fails the capability probe (it compares wrongly through arrays and has no geo
operators), so the filters meant for a real MongoDB (value comparisons as `$elemMatch` on the
instances, the 2dsphere `$geoIntersects` box) never reach a server in CI. Here they are read
by `mongo_find`, a small interpreter of the operators the compiler emits, written from
MongoDB's documented query semantics: a field path steps through arrays; a comparison only
matches within its BSON type bracket (`true` is not `1`), and on an array field matches when
any element does; `$type` on an array matches the array itself for "array" and any element
otherwise; `$elemMatch` wants one element that meets every condition; `$geoIntersects` reads
the query polygon's edges as geodesics (great-circle arcs), as a 2dsphere index does.
The interpreter is first held to the probe's own table of MongoDB answers (the facts the
broker checks at start before it turns these filters on), then:

- every entity the reference evaluator matches passes the compiled filter (it only narrows
  the candidates), and the filter is the whole answer when the compiler says it is exact;
- the filters do narrow: a comparison leaves out the instances it rules out, a geo box the
  places far away.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from query_strategies import (
    EX,
    entity_lists,
    entity_queries,
    geo_queries,
    numbers,
    q_terms,
    scalars,
    type_exprs,
    values,
    worlds,
)
from shapely.geometry import shape

from broker.query.ast import (
    And,
    AttrPath,
    Comparison,
    EntityQuery,
    GeoQuery,
    Or,
    Range,
    Value,
    ValueList,
)
from broker.query.evaluate import matches
from broker.storage.mongo.documents import to_document
from broker.storage.mongo.query import (
    ARRAY_PROBES,
    PROBE_DOCUMENTS,
    QueryCapabilities,
    compile_filter,
)

NOW = "2026-01-01T00:00:00.000Z"
MONGODB = QueryCapabilities(array_comparisons=True, geo_operators=True)
EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MISSING = object()
queries = st.one_of(
    entity_queries(),
    # One member at a time, so that many entities match and a dropped match shows.
    q_terms.map(lambda q: EntityQuery(q=q)),
    geo_queries().map(lambda g: EntityQuery(geo=g)),
    type_exprs.map(lambda t: EntityQuery(types=t)),
)

# Entities that all hold `n`, and comparisons on `n` alone: most queries match something.
N = EX + "n"
n_instances = st.one_of(
    st.builds(lambda v: {"type": "Property", "value": v},
              st.one_of(scalars, scalars, st.lists(scalars, max_size=3))),
    st.just({"type": "Relationship", "object": "urn:ngsi-ld:T:1"}),
    st.builds(lambda v: {"type": "ListProperty", "valueList": v}, st.lists(numbers, max_size=2)),
)
n_entities = st.lists(
    st.lists(n_instances, min_size=1, max_size=2), min_size=1, max_size=12
).map(lambda rows: [
    {"id": f"urn:ngsi-ld:T:{i}", "type": [EX + "T"], "createdAt": NOW, "modifiedAt": NOW,
     "attrs": {N: [dict(inst, datasetId=f"urn:ngsi-ld:D:{k}") if k else inst
                   for k, inst in enumerate(row)]}}
    for i, row in enumerate(rows)
])
ranges = st.lists(st.integers(-5, 5), min_size=2, max_size=2).map(
    lambda p: Range(Value(min(p), "number"), Value(max(p), "number")))
n_comparisons = st.one_of(
    st.builds(lambda op, v: Comparison(AttrPath(N), op, v),
              st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), values),
    st.builds(lambda v: Comparison(AttrPath(N), "==", v), ranges),
    st.builds(lambda v: Comparison(AttrPath(N), "==", ValueList(tuple(v))),
              st.lists(values, min_size=1, max_size=3)),
)
n_terms = st.recursive(
    n_comparisons,
    lambda inner: st.one_of(st.lists(inner, min_size=1, max_size=3).map(lambda t: And(tuple(t))),
                            st.lists(inner, min_size=1, max_size=3).map(lambda t: Or(tuple(t)))),
    max_leaves=3,
)


# -- the interpreter ------------------------------------------------------------------------


def _bracket(value: Any) -> str:
    """MongoDB's `$type` alias of a BSON value (the comparison bracket it sorts in)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, list):
        return "array"
    return "object"


def _compare(op: str, value: Any, literal: Any) -> bool:
    if _bracket(value) != _bracket(literal) or _bracket(literal) in ("array", "object"):
        return False
    return bool({
        "$eq": lambda: value == literal,
        "$lt": lambda: value < literal,
        "$lte": lambda: value <= literal,
        "$gt": lambda: value > literal,
        "$gte": lambda: value >= literal,
    }[op]())


def _unit(lon: float, lat: float) -> tuple[float, float, float]:
    lo, la = math.radians(lon), math.radians(lat)
    return (math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la))


def _inside_geodesic(ring: list[list[float]], lon: float, lat: float) -> bool:
    """A point in a small convex counter-clockwise polygon whose edges are great-circle arcs:
    on the inner side of every edge's plane."""
    p = _unit(lon, lat)
    for a, b in itertools.pairwise(ring):
        u, v = _unit(*a), _unit(*b)
        normal = (u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0])
        if sum(n * c for n, c in zip(normal, p, strict=True)) < -1e-12:
            return False
    return True


def _vertices(coords: Any) -> list[list[float]]:
    if coords and isinstance(coords[0], int | float):
        return [coords]
    return [v for part in coords for v in _vertices(part)]


def _geo_intersects(value: Any, query: dict[str, Any]) -> bool:
    """`$geoIntersects` of a stored GeoJSON value with a query Polygon, edges geodesic.
    Points exactly; other shapes when a vertex lies inside, or when their outlines meet in
    the plane (more than MongoDB would keep, never less, for the small shapes tested)."""
    if not isinstance(value, dict) or "coordinates" not in value:
        return False
    ring = query["coordinates"][0]
    if any(_inside_geodesic(ring, v[0], v[1]) for v in _vertices(value["coordinates"])):
        return True
    if value["type"] == "Point":
        return False
    return bool(shapely.intersects(shape(value), shape(query)))


def _operator(value: Any, op: str, arg: Any) -> bool:
    if op == "$exists":
        return (value is not MISSING) == bool(arg)
    if op == "$not":
        return not _condition(value, arg)
    if value is MISSING:
        return False
    if op == "$type":
        if isinstance(value, list):
            return arg == "array" or any(_bracket(item) == arg for item in value)
        return _bracket(value) == arg
    if op in ("$eq", "$lt", "$lte", "$gt", "$gte"):
        if isinstance(value, list):
            return any(_compare(op, item, arg) for item in value)
        return _compare(op, value, arg)
    if op == "$in":
        return any(_operator(value, "$eq", item) for item in arg)
    if op == "$elemMatch":
        return isinstance(value, list) and any(
            isinstance(item, dict) and mongo_matches(item, arg) for item in value
        )
    if op == "$geoIntersects":
        return _geo_intersects(value, arg["$geometry"])
    raise AssertionError(f"the interpreter does not know {op} (the compiler emits it)")


def _condition(value: Any, condition: Any) -> bool:
    if not (isinstance(condition, dict) and all(k.startswith("$") for k in condition)):
        condition = {"$eq": condition}
    return all(_operator(value, op, arg) for op, arg in condition.items())


def _values(node: Any, steps: list[str]) -> list[Any]:
    """What a dotted path reaches, stepping through arrays of documents."""
    if not steps:
        return [node]
    if isinstance(node, dict):
        return _values(node[steps[0]], steps[1:]) if steps[0] in node else [MISSING]
    if isinstance(node, list):
        found = [v for item in node if isinstance(item, dict)
                 for v in _values(item, steps) if v is not MISSING]
        return found or [MISSING]
    return [MISSING]


def mongo_matches(doc: dict[str, Any], filter_: dict[str, Any]) -> bool:
    for key, condition in filter_.items():
        if key == "$and":
            ok = all(mongo_matches(doc, f) for f in condition)
        elif key == "$or":
            ok = any(mongo_matches(doc, f) for f in condition)
        else:
            reached = _values(doc, key.split("."))
            if len(reached) > 1:
                assert not (isinstance(condition, dict) and "$not" in condition)
            ok = any(_condition(v, condition) for v in reached)
        if not ok:
            return False
    return True


def mongo_find(docs: list[dict[str, Any]], filter_: dict[str, Any]) -> set[Any]:
    return {doc["_id"] for doc in docs if mongo_matches(doc, filter_)}


# -- the interpreter against MongoDB's answers ----------------------------------------------


@pytest.mark.parametrize("probe", ARRAY_PROBES, ids=lambda p: str(p[0]))
def test_the_interpreter_answers_the_probes_as_mongodb_does(
    probe: tuple[dict[str, Any], set[int]]
) -> None:
    filter_, ids = probe
    assert mongo_find(PROBE_DOCUMENTS, filter_) == ids


def test_the_interpreter_reads_box_edges_as_geodesics() -> None:
    """At 60° N a box's southern edge, read as a great-circle arc, bows north: a point just
    inside the box in longitude/latitude, near the middle of that edge, is outside it."""
    ring = [[0.0, 60.0], [10.0, 60.0], [10.0, 65.0], [0.0, 65.0], [0.0, 60.0]]
    box = {"type": "Polygon", "coordinates": [ring]}
    assert not _geo_intersects({"type": "Point", "coordinates": [5.0, 60.05]}, box)
    assert _geo_intersects({"type": "Point", "coordinates": [5.0, 62.5]}, box)
    assert _geo_intersects({"type": "Point", "coordinates": [0.0, 60.0]}, box)


# -- the compiled filters -------------------------------------------------------------------


def _check(entities: list[dict[str, Any]], query: EntityQuery) -> None:
    filter_, exact = compile_filter(query, MONGODB)
    kept = mongo_find([to_document(e) for e in entities], filter_)
    matched = {e["id"] for e in entities if matches(e, query)}
    assert matched <= kept, f"the filter drops matches {sorted(matched - kept)}: {filter_}"
    if exact:
        assert kept == matched


@EXAMPLES
@given(entity_lists, queries)
def test_the_filter_for_mongodb_keeps_every_match(
    entities: list[dict[str, Any]], query: EntityQuery
) -> None:
    _check(entities, query)


@EXAMPLES
@given(n_entities, n_terms)
def test_the_value_filter_for_mongodb_keeps_every_match(
    entities: list[dict[str, Any]], q: Any
) -> None:
    _check(entities, EntityQuery(q=q))


@EXAMPLES
@given(worlds())
def test_the_geo_box_for_mongodb_keeps_every_match_anywhere_on_earth(
    world: tuple[list[dict[str, Any]], EntityQuery]
) -> None:
    """Boxes widened for geodesic edges, from metres to the largest box narrowed, at the
    poles and the antimeridian."""
    _check(*world)




def _entity(n: int, attrs: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"urn:ngsi-ld:T:{n}", "type": [EX + "T"], "createdAt": NOW,
            "modifiedAt": NOW, "attrs": attrs}


def test_a_comparison_leaves_out_the_instances_it_rules_out() -> None:
    """`q=n>3`: 1 and an entity without `n` are left on the server; 5, an array with 7, a
    second instance with 9, values of another type (`true`, a string: only the exact
    evaluation may judge them) and a Relationship (compared by its object) go to the broker."""
    n = EX + "n"
    entities = [
        _entity(1, {n: [{"type": "Property", "value": 1}]}),
        _entity(2, {n: [{"type": "Property", "value": True}]}),
        _entity(3, {n: [{"type": "Property", "value": 5}]}),
        _entity(4, {n: [{"type": "Property", "value": [0, 7]}]}),
        _entity(5, {n: [{"type": "Property", "value": "x"}]}),
        _entity(6, {n: [{"type": "Relationship", "object": "urn:ngsi-ld:T:1"}]}),
        _entity(7, {n: [{"type": "Property", "value": 2},
                        {"type": "Property", "value": 9, "datasetId": "urn:ngsi-ld:D:2"}]}),
        _entity(8, {}),
    ]
    query = EntityQuery(q=Comparison(AttrPath(n), ">", Value(3, "number")))
    filter_, _ = compile_filter(query, MONGODB)
    kept = mongo_find([to_document(e) for e in entities], filter_)
    assert kept == {f"urn:ngsi-ld:T:{i}" for i in (2, 3, 4, 5, 6, 7)}
    _check(entities, query)


def test_a_geo_box_leaves_out_the_places_far_away() -> None:
    loc = "https://uri.etsi.org/ngsi-ld/location"
    entities = [
        _entity(i, {loc: [{"type": "GeoProperty",
                           "value": {"type": "Point", "coordinates": [lon, 41.0]}}]})
        for i, lon in enumerate([2.0, 2.001, 2.5, 30.0])
    ]
    query = EntityQuery(geo=GeoQuery("near", "Point", (2.0, 41.0), loc, max_distance=500.0))
    filter_, _ = compile_filter(query, MONGODB)
    assert "$geoIntersects" in str(filter_)
    kept = mongo_find([to_document(e) for e in entities], filter_)
    assert kept == {"urn:ngsi-ld:T:0", "urn:ngsi-ld:T:1"}
    _check(entities, query)


def test_a_box_far_north_is_widened_for_its_geodesic_edges() -> None:
    """At 70° N the edge along the box's southern side bows north as a geodesic: a place just
    inside the box in longitude/latitude must still be sent for the exact check."""
    loc = "https://uri.etsi.org/ngsi-ld/location"
    ring = ((0.0, 70.0), (10.0, 70.0), (10.0, 75.0), (0.0, 75.0), (0.0, 70.0))
    entities = [_entity(0, {loc: [{"type": "GeoProperty",
                                   "value": {"type": "Point", "coordinates": [5.0, 70.05]}}]})]
    query = EntityQuery(geo=GeoQuery("within", "Polygon", (ring,), loc))
    assert matches(entities[0], query)
    _check(entities, query)
