"""Random stored entities and entity queries over a small vocabulary, so that random
queries hit random entities often enough to matter (the differential query tests)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from broker.query.ast import (
    And,
    AttrPath,
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
    TypeOr,
    Value,
    ValueList,
)

EX = "https://example.org/"
TYPES = [EX + "A", EX + "B", EX + "C"]
ATTRS = [EX + "n", EX + "s", EX + "r", EX + "loc", EX + "x.y"]
LOCATION = EX + "loc"
WORDS = ["a", "b", "free", "urn:ngsi-ld:T:1", "urn:ngsi-ld:T:2"]

numbers = st.one_of(st.integers(-5, 5), st.sampled_from([0.5, -1.5, 2.0, 3.25]))
scalars = st.one_of(numbers, st.sampled_from(WORDS), st.booleans(), st.none())
positions = st.tuples(st.integers(-4, 4), st.integers(-4, 4)).map(lambda p: [p[0], p[1]])


def _point(p: list[int]) -> dict[str, Any]:
    return {"type": "Point", "coordinates": p}


def _square(p: list[int]) -> dict[str, Any]:
    x, y = p
    return {"type": "Polygon",
            "coordinates": [[[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]]}


def _line(p: list[int]) -> dict[str, Any]:
    return {"type": "LineString", "coordinates": [p, [p[0] + 2, p[1] + 1]]}


geometries = st.builds(lambda f, p: f(p), st.sampled_from([_point, _square, _line]), positions)


@st.composite
def instances(draw: st.DrawFn, attr: str) -> dict[str, Any]:
    if attr == LOCATION:
        return {"type": "GeoProperty", "value": draw(geometries)}
    kind = draw(st.sampled_from(["Property", "Property", "Relationship", "LanguageProperty",
                                 "JsonProperty", "ListProperty"]))
    inst: dict[str, Any] = {"type": kind}
    if kind == "Property":
        inst["value"] = draw(st.one_of(scalars, st.lists(scalars, max_size=3)))
    elif kind == "Relationship":
        inst["object"] = draw(st.sampled_from(WORDS[3:]))
    elif kind == "LanguageProperty":
        inst["languageMap"] = {"en": draw(st.sampled_from(WORDS))}
    elif kind == "JsonProperty":
        inst["json"] = draw(scalars)
    else:
        inst["valueList"] = draw(st.lists(scalars, max_size=3))
    if draw(st.booleans()):
        inst["observedAt"] = "2026-01-01T00:00:00Z"
    return inst


@st.composite
def entities(draw: st.DrawFn, index: int) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for attr in draw(st.lists(st.sampled_from(ATTRS), unique=True, max_size=4)):
        first = draw(instances(attr))
        attrs[attr] = [first]
        if draw(st.integers(0, 4)) == 0:
            second = dict(draw(instances(attr)), datasetId="urn:ngsi-ld:Dataset:2")
            attrs[attr].append(second)
    entity: dict[str, Any] = {
        "id": f"urn:ngsi-ld:T:{index}",
        "type": draw(st.lists(st.sampled_from(TYPES), min_size=1, max_size=2, unique=True)),
        "createdAt": "2026-01-01T00:00:00.000Z",
        "modifiedAt": "2026-01-01T00:00:00.000Z",
        "attrs": attrs,
    }
    return entity


entity_lists = st.integers(0, 16).flatmap(
    lambda n: st.tuples(*(entities(i) for i in range(n))).map(list)
)

values = st.one_of(
    numbers.map(lambda v: Value(v, "number")),
    st.sampled_from(WORDS[:3]).map(lambda v: Value(v, "string")),
    st.sampled_from(WORDS[3:]).map(lambda v: Value(v, "uri")),
    st.booleans().map(lambda v: Value(v, "boolean")),
)
paths = st.one_of(
    st.sampled_from(ATTRS).map(AttrPath),
    st.sampled_from(ATTRS).map(lambda a: AttrPath(a, ("observedAt",))),
)


@st.composite
def comparisons(draw: st.DrawFn) -> Comparison:
    path = draw(paths)
    op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "~=", "!~="]))
    if op in ("~=", "!~="):
        return Comparison(path, op, Value(draw(st.sampled_from(["f.*", "a|b", "urn.*"])),
                                          "string"))
    if op in ("==", "!=") and draw(st.integers(0, 3)) == 0:
        if draw(st.booleans()):
            low, high = sorted(draw(st.lists(st.integers(-5, 5), min_size=2, max_size=2)))
            return Comparison(path, op, Range(Value(low, "number"), Value(high, "number")))
        return Comparison(path, op, ValueList(tuple(draw(st.lists(values, min_size=1,
                                                                   max_size=3)))))
    return Comparison(path, op, draw(values))


q_terms: st.SearchStrategy[Q] = st.recursive(
    st.one_of(comparisons(), st.builds(Exists, paths, st.booleans())),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda t: And(tuple(t))),
        st.lists(inner, min_size=1, max_size=3).map(lambda t: Or(tuple(t))),
    ),
    max_leaves=4,
)
type_exprs: st.SearchStrategy[TypeExpr] = st.recursive(
    st.sampled_from(TYPES).map(TypeName),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda t: TypeAnd(tuple(t))),
        st.lists(inner, min_size=1, max_size=3).map(lambda t: TypeOr(tuple(t))),
    ),
    max_leaves=3,
)


@st.composite
def geo_queries(draw: st.DrawFn) -> GeoQuery:
    georel = draw(st.sampled_from(["near", "within", "contains", "intersects", "disjoint",
                                   "equals", "overlaps"]))
    if georel == "near":
        p = draw(positions)
        distance = draw(st.sampled_from([1000.0, 150_000.0, 400_000.0]))
        if draw(st.booleans()):
            return GeoQuery("near", "Point", tuple(p), LOCATION, max_distance=distance)
        return GeoQuery("near", "Point", tuple(p), LOCATION, min_distance=distance)
    geometry = draw(geometries)

    def tuples(v: Any) -> Any:
        return tuple(tuples(i) for i in v) if isinstance(v, list) else v

    return GeoQuery(georel, geometry["type"], tuples(geometry["coordinates"]), LOCATION)


def _sometimes(strategy: st.SearchStrategy[Any], tenths: int) -> st.SearchStrategy[Any]:
    """`strategy` in `tenths` of the draws, else None: queries that set every member at once
    would almost never match anything."""
    return st.integers(0, 9).flatmap(lambda n: strategy if n < tenths else st.none())


@st.composite
def entity_queries(draw: st.DrawFn) -> EntityQuery:
    ids = st.lists(st.integers(0, 12).map(lambda i: f"urn:ngsi-ld:T:{i}"), max_size=4)
    return EntityQuery(
        ids=draw(_sometimes(ids.map(tuple), 2)),
        id_pattern=draw(_sometimes(st.sampled_from(["T:1", "^urn:ngsi-ld:T:[2-5]$", "9"]), 2)),
        types=draw(_sometimes(type_exprs, 3)),
        attrs=draw(_sometimes(st.frozensets(st.sampled_from(ATTRS), min_size=1, max_size=2), 2)),
        q=draw(_sometimes(q_terms, 7)),
        geo=draw(_sometimes(geo_queries(), 3)),
    )


NGSI_LOCATION = "https://uri.etsi.org/ngsi-ld/location"
NOW = "2026-01-01T00:00:00.000Z"
SCALES = st.sampled_from([1e-5, 1e-3, 0.1, 3.0, 40.0])
"""How far, in degrees, a world test's points and queries spread around its centre."""


def _clamped(lon: float, lat: float) -> list[float]:
    return [min(max(lon, -180.0), 180.0), min(max(lat, -90.0), 90.0)]


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[dict[str, Any]], EntityQuery]:
    """Points (and some squares) around a centre anywhere on Earth, poles and antimeridian
    included, and a geo-query near that centre at the same scale."""
    lon, lat = draw(st.floats(-180, 180)), draw(st.floats(-90, 90))
    scale = draw(SCALES)
    offsets = st.floats(-1, 1).map(lambda f: f * scale)
    entities = []
    for i in range(draw(st.integers(0, 12))):
        x, y = _clamped(lon + draw(offsets), lat + draw(offsets))
        value: dict[str, Any] = {"type": "Point", "coordinates": [x, y]}
        if draw(st.integers(0, 4)) == 0:
            x2, y2 = _clamped(x + scale / 4, y + scale / 4)
            if x2 > x and y2 > y:
                ring = [[x, y], [x2, y], [x2, y2], [x, y2], [x, y]]
                value = {"type": "Polygon", "coordinates": [ring]}
        entities.append({
            "id": f"urn:ngsi-ld:P:{i:02d}", "type": ["https://example.org/P"],
            "createdAt": NOW, "modifiedAt": NOW,
            "attrs": {NGSI_LOCATION: [{"type": "GeoProperty", "value": value}]},
        })
    qx, qy = _clamped(lon + draw(offsets), lat + draw(offsets))
    if draw(st.booleans()):
        distance = scale * 111_000.0 * draw(st.sampled_from([0.1, 0.5, 1.0, 2.0]))
        geo = GeoQuery("near", "Point", (qx, qy), NGSI_LOCATION, max_distance=distance)
    else:
        x2, y2 = _clamped(qx + scale, qy + scale)
        if x2 <= qx or y2 <= qy:
            x2, y2 = qx, qy
            qx, qy = _clamped(qx - scale, qy - scale)
        ring = ((qx, qy), (x2, qy), (x2, y2), (qx, y2), (qx, qy))
        georel = draw(st.sampled_from(["within", "intersects"]))
        geo = GeoQuery(georel, "Polygon", (ring,), NGSI_LOCATION)
    return entities, EntityQuery(geo=geo)
