"""Entity queries on MongoDB: the AST compiled to a candidate filter, the rest done exactly.

`compile_filter` builds a filter on encoded field paths that keeps every entity the query
matches. What it pushes down depends on what the server really does (`QueryCapabilities`,
probed once per store):

- always: `ids` (`_id $in`), `types` (`type $in` / `$and` / `$or`; `$in` rather than plain
  equality, which nx-27017 gets wrong on indexed arrays), `attrs` and every positive q term
  as `attrs.<enc> $exists`, and geoQ (except `disjoint`) as the geoproperty's `$exists`;
- with `array_comparisons` (a MongoDB that compares through arrays of instances as MongoDB
  does): a q comparison on a top-level value as `$elemMatch` on the attribute's instances —
  an instance whose `value` compares true, or whose value is of another BSON type (which
  only the exact evaluation can judge);
- with `geo_operators` (a MongoDB with 2dsphere): `$geoIntersects` with a box around the
  query geometry (or around the `near` circle), widened so that geodesic edges cannot cut
  off a match; regions too large or too near a pole for that are not narrowed.

Unless the filter alone is exact (ids and types only), every candidate is checked with
`broker.query.evaluate.matches` in id order, and a page without `count` stops once full.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from broker.query import evaluate
from broker.query.ast import (
    And,
    Comparison,
    EntityQuery,
    Exists,
    GeoQuery,
    Or,
    Q,
    Range,
    TypeAnd,
    TypeExpr,
    TypeName,
    Value,
    ValueList,
)
from broker.storage.base import QueryPage, StoreError
from broker.storage.geobox import geo_box
from broker.storage.mongo.documents import from_document
from broker.storage.mongo.keys import encode_key
from broker.types import DEFAULT_TENANT, ExpandedEntity

if TYPE_CHECKING:  # the store imports this module to wire it in
    from broker.storage.mongo.store import MongoStore

Filter = dict[str, Any]
_OPS = {"==": "$eq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}
_BSON_TYPE = {"number": "number", "string": "string", "uri": "string", "boolean": "bool"}
# Largest box side (degrees) and latitude at which a box's geodesic edges are known to stay
# inside the margin added around it.
_GEO_MAX_SPAN = 20.0
_GEO_MAX_LAT = 80.0


@dataclass(frozen=True)
class QueryCapabilities:
    array_comparisons: bool
    """Range and equality filters on `attrs.<a>.value` follow MongoDB's array semantics
    (type bracketing, element matching, `$elemMatch` with `$or`/`$not`/`$type`)."""
    geo_operators: bool
    """`$geoIntersects` works on a 2dsphere index."""


CONSERVATIVE = QueryCapabilities(array_comparisons=False, geo_operators=False)


PROBE_DOCUMENTS: list[dict[str, Any]] = [
    {"_id": 1, "a": [{"v": 5}, {"v": "x"}]},
    {"_id": 2, "a": [{"v": [1, 60]}]},
    {"_id": 3, "a": [{"v": 50}]},
    {"_id": 4, "a": [{"v": True}]},
]
ARRAY_PROBES: list[tuple[Filter, set[int]]] = [
    ({"a.v": {"$gt": 10}}, {2, 3}),
    ({"a.v": 1}, {2}),
    ({"a.v": {"$lt": "y"}}, {1}),
    ({"a": {"$elemMatch": {"v": {"$in": [5, 7]}}}}, {1}),
    ({"a": {"$elemMatch": {"v": {"$not": {"$type": "number"}}}}}, {1, 4}),
    ({"a": {"$elemMatch": {"v": {"$type": "array"}}}}, {2}),
    ({"a": {"$elemMatch": {"$or": [{"v": {"$gte": 50}}, {"v": "x"}]}}}, {1, 2, 3}),
]
"""Filters over `PROBE_DOCUMENTS` and the ids MongoDB answers: comparisons through arrays of
instances, type bracketing (`true` is not `1`), `$elemMatch` with `$or`, `$not` and `$type`."""


async def probe_query_capabilities(db: AsyncDatabase[dict[str, Any]]) -> QueryCapabilities:
    """Try the operators the compiler would use in a scratch collection, and compare the
    answers with what MongoDB gives (`ARRAY_PROBES`)."""
    scratch = db[f"probe_{uuid.uuid4().hex}"]
    try:
        await scratch.insert_many([dict(doc) for doc in PROBE_DOCUMENTS])
        array_ok = True
        for query, ids in ARRAY_PROBES:
            found = {doc["_id"] async for doc in scratch.find(query, {"_id": 1})}
            if found != ids:
                array_ok = False
                break
        geo_ok = await _probe_geo(db)
        return QueryCapabilities(array_comparisons=array_ok, geo_operators=geo_ok)
    except PyMongoError:
        return CONSERVATIVE
    finally:
        await scratch.drop()


async def _probe_geo(db: AsyncDatabase[dict[str, Any]]) -> bool:
    scratch = db[f"probe_{uuid.uuid4().hex}"]
    try:
        await scratch.create_index([("g", "2dsphere")])
        await scratch.insert_one({"_id": 1, "g": {"type": "Point", "coordinates": [1.0, 1.0]}})
        box = _box_polygon((0.0, 0.0, 2.0, 2.0))
        found = await scratch.find_one({"g": {"$geoIntersects": {"$geometry": box}}})
        return found is not None
    except PyMongoError:
        return False
    finally:
        await scratch.drop()


# -- compiling -------------------------------------------------------------------------------


def compile_filter(query: EntityQuery, caps: QueryCapabilities) -> tuple[Filter, bool]:
    """(filter, exact): a filter every match passes; exact when nothing else is needed."""
    parts: list[Filter] = []
    exact = True
    if query.ids is not None:
        parts.append({"_id": {"$in": list(query.ids)}})
    if query.types is not None:
        typed = _types(query.types)
        if typed is None:
            exact = False
        else:
            parts.append(typed)
    if query.attrs is not None:
        exact = False
        parts.append({"$or": [_has(a) for a in sorted(query.attrs)]} if query.attrs
                     else {"_id": {"$in": []}})
    if query.q is not None:
        exact = False
        q_filter = _q(query.q, caps)
        if q_filter is not None:
            parts.append(q_filter)
    if query.geo is not None:
        exact = False
        geo_filter = _geo(query.geo, caps)
        if geo_filter is not None:
            parts.append(geo_filter)
    if query.id_pattern is not None or query.scope is not None or query.csf is not None:
        exact = False
    if not parts:
        return {}, exact
    return (parts[0] if len(parts) == 1 else {"$and": parts}), exact


def _types(expr: TypeExpr) -> Filter | None:
    if isinstance(expr, TypeName):
        return {"type": {"$in": [expr.name]}}
    items = [_types(item) for item in expr.items]
    if not items or any(item is None for item in items):
        return None
    key = "$and" if isinstance(expr, TypeAnd) else "$or"
    return {key: items}


def _attr_path(attr: str) -> str:
    return "attrs." + encode_key(attr)


def _has(attr: str) -> Filter:
    return {_attr_path(attr): {"$exists": True}}


def _q(q: Q, caps: QueryCapabilities) -> Filter | None:
    if isinstance(q, And | Or):
        terms = [_q(term, caps) for term in q.terms]
        if isinstance(q, Or):
            if not terms or any(t is None for t in terms):
                return None
            return {"$or": terms}
        kept = [t for t in terms if t is not None]
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else {"$and": kept}
    if isinstance(q, Exists):
        return None if q.negated else _has(q.path.attr)
    return _comparison(q, caps)


def _comparison(term: Comparison, caps: QueryCapabilities) -> Filter | None:
    if term.op in ("!=", "!~="):
        return None
    path = term.path
    if not caps.array_comparisons or path.sub or path.compound or path.lang is not None:
        return _has(path.attr)
    typed = _value_condition(term)
    if typed is None:
        return _has(path.attr)
    condition, bson_type = typed
    return {
        _attr_path(path.attr): {
            "$elemMatch": {
                "$or": [
                    {"value": condition},
                    {"value": {"$not": {"$type": bson_type}}},
                    {"value": {"$type": "array"}},
                ]
            }
        }
    }


def _literal(value: Value) -> Any:
    """The BSON literal for a q value the server compares as the reference does, else None."""
    if value.kind == "number" and isinstance(value.value, int | float):
        if isinstance(value.value, bool) or abs(value.value) > 2**63 - 1:
            return None
        return value.value
    if value.kind in ("string", "uri") and isinstance(value.value, str):
        return value.value if value.iri is None or value.iri == value.value else None
    if value.kind == "boolean" and isinstance(value.value, bool):
        return value.value
    return None


def _value_condition(term: Comparison) -> tuple[Filter, str] | None:
    """(condition on an instance's `value`, the BSON type that condition is about)."""
    operand = term.value
    if term.op == "~=":
        return None  # PCRE and Python regexes differ: left to the exact evaluation
    if isinstance(operand, Value):
        literal = _literal(operand)
        if literal is None:
            return None
        return {_OPS[term.op]: literal}, _BSON_TYPE[operand.kind]
    if term.op != "==":
        return None
    items = [operand.low, operand.high] if isinstance(operand, Range) else list(operand.items)
    literals = [_literal(item) for item in items]
    kinds = {_BSON_TYPE.get(item.kind) for item in items}
    if not literals or any(lit is None for lit in literals) or len(kinds) != 1:
        return None
    bson_type = kinds.pop()
    assert bson_type is not None
    if isinstance(operand, Range):
        return {"$gte": literals[0], "$lte": literals[1]}, bson_type
    assert isinstance(operand, ValueList)
    return {"$in": literals}, bson_type


def _geo(geo: GeoQuery, caps: QueryCapabilities) -> Filter | None:
    if geo.georel == "disjoint":
        return None
    if caps.geo_operators:
        box = geo_box(geo)
        safe = None if box is None else _geodesic_safe(box)
        if safe is not None:
            return {
                _attr_path(geo.geoproperty) + ".value": {
                    "$geoIntersects": {"$geometry": _box_polygon(safe)}
                }
            }
    return _has(geo.geoproperty)


def _geodesic_safe(box: tuple[float, float, float, float]) -> tuple[float, ...] | None:
    """`box` widened so that its edges, read as geodesics by 2dsphere, still enclose the
    lon/lat box; None when the box is too large or too close to a pole for that margin."""
    min_lon, min_lat, max_lon, max_lat = box
    if max_lon - min_lon > _GEO_MAX_SPAN or max_lat - min_lat > _GEO_MAX_SPAN:
        return None
    margin = max(0.01, 0.1 * max(max_lon - min_lon, max_lat - min_lat))
    widened = (min_lon - margin, min_lat - margin, max_lon + margin, max_lat + margin)
    if widened[0] < -180 or widened[2] > 180 or abs(widened[1]) > _GEO_MAX_LAT \
            or abs(widened[3]) > _GEO_MAX_LAT:
        return None
    return widened


def _box_polygon(box: tuple[float, ...]) -> dict[str, Any]:
    min_lon, min_lat, max_lon, max_lat = box
    ring = [[min_lon, min_lat], [max_lon, min_lat], [max_lon, max_lat], [min_lon, max_lat],
            [min_lon, min_lat]]
    return {"type": "Polygon", "coordinates": [ring]}


# -- running ---------------------------------------------------------------------------------


async def query_capabilities(store: MongoStore) -> QueryCapabilities:
    """The store's probed query capabilities (probed on first use when start() did not)."""
    caps = getattr(store, "query_capabilities", None)
    if isinstance(caps, QueryCapabilities):
        return caps
    caps = await probe_query_capabilities(store._database(DEFAULT_TENANT))
    store.query_capabilities = caps
    return caps


async def query_entities(
    store: MongoStore,
    tenant: str,
    query: EntityQuery,
    *,
    limit: int,
    offset: int = 0,
    count: bool = False,
) -> QueryPage:
    """`EntityStore.query_entities` for `MongoStore`."""
    caps = await query_capabilities(store)
    filter_, exact = compile_filter(query, caps)
    collection = store._entities(tenant)
    offset, limit = max(offset, 0), max(limit, 0)
    try:
        if exact:
            total = await collection.count_documents(filter_) if count else None
            entities: list[ExpandedEntity] = []
            if limit > 0:
                cursor = collection.find(filter_).sort("_id", 1).skip(offset).limit(limit)
                entities = [from_document(doc) async for doc in cursor]
            return QueryPage(entities, total)
        page: list[ExpandedEntity] = []
        if limit == 0 and not count:
            return QueryPage(page, None)
        matches = evaluate.matches
        seen = 0
        cursor = collection.find(filter_).sort("_id", 1).batch_size(max(100, limit))
        async for doc in cursor:
            entity = from_document(doc)
            if not matches(entity, query):
                continue
            if offset <= seen < offset + limit:
                page.append(entity)
            seen += 1
            if not count and len(page) >= limit:
                break
        await cursor.close()
        return QueryPage(page, seen if count else None)
    except PyMongoError as exc:
        raise StoreError(f"MongoDB: {exc}") from exc
