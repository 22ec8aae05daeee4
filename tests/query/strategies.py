"""Hypothesis strategies for random stored entities and random entity queries, and the
brute-force reference filter the store back ends are compared with.

Entities are in the stored (expanded) form of broker/types.py: three types, with numeric
(multi-instance by datasetId, with observedAt and unitCode), string, boolean, DateTime,
Relationship (one object or a list) and GeoProperty (Point or Polygon) attributes, and
scopes. Values come from small pools so that random queries select some entities and not
others. Queries (`entity_queries`) are expanded EntityQuery ASTs over those attributes;
`q_texts_asts` gives unexpanded q ASTs over plain names for parser round trips.

Import from another test directory with
`sys.path.insert(0, str(Path(__file__).parents[1] / "query"))` then `import strategies`.
"""

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
    ScopeAnd,
    ScopeExpr,
    ScopeOr,
    ScopePattern,
    TypeAnd,
    TypeExpr,
    TypeName,
    TypeOr,
    Value,
    ValueList,
)
from broker.query.evaluate import matches
from broker.types import ExpandedEntity

NS = "https://uri.etsi.org/ngsi-ld/default-context/"
LOCATION = "https://uri.etsi.org/ngsi-ld/location"
TYPES = (NS + "Vehicle", NS + "Sensor", NS + "Parking")
SPEED = NS + "speed"
NAME = NS + "name"
ACTIVE = NS + "active"
SEEN = NS + "seen"
OWNER = NS + "owner"
AREA = NS + "area"
ACCURACY = NS + "accuracy"

ATTRIBUTE_KINDS: dict[str, str] = {
    SPEED: "number",
    NAME: "string",
    ACTIVE: "boolean",
    SEEN: "datetime",
    OWNER: "relationship",
    LOCATION: "geo",
    AREA: "geo",
}

WORDS = ("alpha", "beta", "gamma", "Alpha", "delta", "")
DATETIMES = (
    "2024-01-01T00:00:00Z",
    "2024-06-15T12:30:00Z",
    "2024-06-15T12:30:00.500Z",
    "2025-01-01T00:00:00Z",
)
OWNERS = tuple(f"urn:ngsi-ld:Person:{i}" for i in range(4))
SCOPES = ("/Madrid", "/Madrid/Centro", "/Madrid/Centro/Sol", "/Madrid/Norte", "/Paris")
DATASETS = ("urn:ngsi-ld:Dataset:b", "urn:ngsi-ld:Dataset:c")
# Geometry lives in a 1 x 1 degree box (about 111 km by 85-111 km).
BOX = (0.0, 0.0, 1.0, 1.0)
TIMESTAMP = "2024-01-01T00:00:00Z"

coordinates = st.floats(min_value=0.0, max_value=1.0, allow_nan=False).map(
    lambda x: round(x, 3)
)
numbers = st.one_of(st.integers(-5, 105), st.sampled_from([0.5, 20.25, 99.9, -1.5]))


@st.composite
def rectangles(draw: st.DrawFn) -> list[list[list[float]]]:
    x1, x2 = sorted(draw(st.tuples(coordinates, coordinates)))
    y1, y2 = sorted(draw(st.tuples(coordinates, coordinates)))
    if x2 - x1 < 0.01:
        x2 = min(1.0, x1 + 0.05) if x1 < 0.95 else x1 - 0.05
        x1, x2 = sorted((x1, x2))
    if y2 - y1 < 0.01:
        y2 = min(1.0, y1 + 0.05) if y1 < 0.95 else y1 - 0.05
        y1, y2 = sorted((y1, y2))
    return [[[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]]


points = st.tuples(coordinates, coordinates).map(lambda p: [p[0], p[1]])
point_geometries = points.map(lambda p: {"type": "Point", "coordinates": p})
polygon_geometries = rectangles().map(lambda r: {"type": "Polygon", "coordinates": r})


def _instance(kind: str, member: str, value: Any, **extra: Any) -> dict[str, Any]:
    inst = {"type": kind, member: value, "createdAt": TIMESTAMP, "modifiedAt": TIMESTAMP}
    inst.update(extra)
    return inst


@st.composite
def speed_attribute(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(1, 3))
    out = []
    for i in range(count):
        extra: dict[str, Any] = {}
        if i > 0:
            extra["datasetId"] = DATASETS[i - 1]
        if draw(st.booleans()):
            extra["observedAt"] = draw(st.sampled_from(DATETIMES))
        if draw(st.booleans()):
            extra["unitCode"] = draw(st.sampled_from(["KMH", "MTS"]))
        if draw(st.booleans()):
            extra["sub"] = {
                ACCURACY: [_instance("Property", "value", draw(st.sampled_from([0.1, 0.5, 1])))]
            }
        out.append(_instance("Property", "value", draw(numbers), **extra))
    return out


@st.composite
def entities(draw: st.DrawFn, index: int | None = None) -> ExpandedEntity:
    """One stored entity of one or two of the three types."""
    n = draw(st.integers(0, 10_000)) if index is None else index
    types = draw(st.lists(st.sampled_from(TYPES), min_size=1, max_size=2, unique=True))
    attrs: dict[str, list[dict[str, Any]]] = {}
    if draw(st.booleans()):
        attrs[SPEED] = draw(speed_attribute())
    if draw(st.booleans()):
        attrs[NAME] = [_instance("Property", "value", draw(st.sampled_from(WORDS)))]
    if draw(st.booleans()):
        attrs[ACTIVE] = [_instance("Property", "value", draw(st.booleans()))]
    if draw(st.booleans()):
        attrs[SEEN] = [_instance("Property", "value", draw(st.sampled_from(DATETIMES)))]
    if draw(st.booleans()):
        obj: Any = draw(
            st.one_of(
                st.sampled_from(OWNERS),
                st.lists(st.sampled_from(OWNERS), min_size=1, max_size=3, unique=True),
            )
        )
        attrs[OWNER] = [_instance("Relationship", "object", obj)]
    if draw(st.integers(0, 3)) > 0:
        geometry = draw(st.one_of(point_geometries, point_geometries, polygon_geometries))
        attrs[LOCATION] = [_instance("GeoProperty", "value", geometry)]
    if draw(st.booleans()):
        attrs[AREA] = [_instance("GeoProperty", "value", draw(polygon_geometries))]
    entity: ExpandedEntity = {
        "id": f"urn:ngsi-ld:{types[0].rsplit('/', 1)[-1]}:{n}",
        "type": types,
        "createdAt": TIMESTAMP,
        "modifiedAt": TIMESTAMP,
        "attrs": attrs,
    }
    if draw(st.booleans()):
        entity["scope"] = draw(st.lists(st.sampled_from(SCOPES), min_size=1, max_size=2,
                                        unique=True))
    return entity


@st.composite
def entity_sets(draw: st.DrawFn, max_size: int = 30) -> list[ExpandedEntity]:
    """Entities with distinct ids."""
    size = draw(st.integers(0, max_size))
    return [draw(entities(index=i)) for i in range(size)]


# -- queries over those entities ----------------------------------------------------------


def _value_for(kind: str) -> st.SearchStrategy[Value]:
    if kind == "number":
        return numbers.map(lambda n: Value(n, "number"))
    if kind == "string":
        return st.sampled_from(WORDS).map(lambda w: Value(w, "string"))
    if kind == "boolean":
        return st.booleans().map(lambda b: Value(b, "boolean"))
    if kind == "datetime":
        return st.sampled_from(DATETIMES).map(lambda d: Value(d, "datetime"))
    return st.sampled_from(OWNERS).map(lambda o: Value(o, "uri"))


ANY_VALUE = st.one_of(*(_value_for(k) for k in ("number", "string", "boolean", "datetime", "uri")))
PATTERNS = ("alpha", "a.*", ".*ta", "[A-Z].*", "", "urn:ngsi-ld:Person:[01]")


@st.composite
def comparisons(draw: st.DrawFn) -> Q:
    attr = draw(st.sampled_from([SPEED, NAME, ACTIVE, SEEN, OWNER, SPEED, NAME]))
    kind = ATTRIBUTE_KINDS[attr]
    path = AttrPath(attr)
    if attr == SPEED and draw(st.integers(0, 4)) == 0:
        member = draw(st.sampled_from(["observedAt", "unitCode", ACCURACY]))
        path = AttrPath(attr, (member,))
        kind = {"observedAt": "datetime", "unitCode": "string"}.get(member, "number")
        if member == "unitCode":
            return Comparison(path, draw(st.sampled_from(["==", "!="])),
                              Value(draw(st.sampled_from(["KMH", "MTS"])), "string"))
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return Exists(path, negated=draw(st.booleans()))
    op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "~=", "!~="]))
    if op in ("~=", "!~="):
        return Comparison(path, op, Value(draw(st.sampled_from(PATTERNS)), "string"))
    # a mismatched kind now and then
    value_kind = kind if kind != "relationship" else "uri"
    values = _value_for(value_kind) if draw(st.integers(0, 5)) else ANY_VALUE
    if op in ("==", "!=") and value_kind in ("number", "string", "datetime") and choice == 1:
        low, high = sorted(
            [draw(_value_for(value_kind)), draw(_value_for(value_kind))],
            key=lambda v: v.value,  # type: ignore[arg-type,return-value]
        )
        return Comparison(path, op, Range(low, high))
    if op in ("==", "!=") and choice == 2:
        items = draw(st.lists(values, min_size=2, max_size=3))
        return Comparison(path, op, ValueList(tuple(items)))
    value = draw(values)
    if op not in ("==", "!=") and value.kind in ("boolean", "uri"):
        op = "=="
    return Comparison(path, op, value)


q_asts: st.SearchStrategy[Q] = st.recursive(
    comparisons(),
    lambda children: st.one_of(
        st.lists(children, min_size=2, max_size=3).map(lambda t: And(tuple(t))),
        st.lists(children, min_size=2, max_size=3).map(lambda t: Or(tuple(t))),
    ),
    max_leaves=5,
)

type_exprs: st.SearchStrategy[TypeExpr] = st.recursive(
    st.sampled_from(TYPES).map(TypeName),
    lambda children: st.one_of(
        st.lists(children, min_size=2, max_size=3).map(lambda t: TypeAnd(tuple(t))),
        st.lists(children, min_size=2, max_size=3).map(lambda t: TypeOr(tuple(t))),
    ),
    max_leaves=4,
)

scope_patterns = st.sampled_from(
    [
        ("Madrid",),
        ("Madrid", "Centro"),
        ("Madrid", "#"),
        ("Madrid", "+"),
        ("Madrid", "+", "Sol"),
        ("#",),
        ("Paris", "#"),
        ("+",),
    ]
).map(ScopePattern)
scope_exprs: st.SearchStrategy[ScopeExpr] = st.recursive(
    scope_patterns,
    lambda children: st.one_of(
        st.lists(children, min_size=2, max_size=3).map(lambda t: ScopeAnd(tuple(t))),
        st.lists(children, min_size=2, max_size=3).map(lambda t: ScopeOr(tuple(t))),
    ),
    max_leaves=3,
)


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


@st.composite
def geo_queries(draw: st.DrawFn) -> GeoQuery:
    georel = draw(
        st.sampled_from(
            ["near", "near", "within", "intersects", "disjoint", "contains", "overlaps", "equals"]
        )
    )
    prop = draw(st.sampled_from([LOCATION, LOCATION, AREA]))
    if georel == "near":
        distance = float(draw(st.sampled_from([1000, 10_000, 30_000, 80_000])))
        point = draw(points)
        maximum = draw(st.booleans())
        return GeoQuery(
            "near", "Point", _tuples(point), prop,
            max_distance=distance if maximum else None,
            min_distance=None if maximum else distance,
        )
    geometry = draw(st.one_of(polygon_geometries, point_geometries))
    return GeoQuery(georel, geometry["type"], _tuples(geometry["coordinates"]), prop)


@st.composite
def entity_queries(draw: st.DrawFn) -> EntityQuery:
    """An expanded EntityQuery; each member present or not."""
    def maybe(strategy: st.SearchStrategy[Any]) -> Any:
        return draw(strategy) if draw(st.integers(0, 2)) == 0 else None

    return EntityQuery(
        ids=maybe(
            st.lists(
                st.builds(
                    lambda t, n: f"urn:ngsi-ld:{t.rsplit('/', 1)[-1]}:{n}",
                    st.sampled_from(TYPES),
                    st.integers(0, 30),
                ),
                min_size=1,
                max_size=4,
            ).map(tuple)
        ),
        id_pattern=maybe(st.sampled_from(["Vehicle", "^urn:ngsi-ld:Sensor:1", ":[0-9]$"])),
        types=maybe(type_exprs),
        attrs=maybe(
            st.lists(st.sampled_from(list(ATTRIBUTE_KINDS)), min_size=1, max_size=2).map(
                frozenset
            )
        ),
        q=draw(q_asts) if draw(st.booleans()) else None,
        geo=maybe(geo_queries()),
        scope=maybe(scope_exprs),
    )


def reference_filter(
    entities: list[ExpandedEntity], query: EntityQuery
) -> list[str]:
    """The ids of the matching entities, sorted: what every store must return."""
    return sorted(e["id"] for e in entities if matches(e, query))


# -- unexpanded q ASTs over plain names, for parser round trips ----------------------------

_names = st.sampled_from(["speed", "name", "brandName", "a1", "ex:speed", "température"])
_keys = st.sampled_from(["city", "street", "x_1", "PM2-5", "0"])


@st.composite
def plain_paths(draw: st.DrawFn) -> AttrPath:
    attr = draw(_names)
    sub = tuple(draw(st.lists(st.sampled_from(["observedAt", "unitCode", "accuracy"]),
                              max_size=2)))
    shape = draw(st.integers(0, 3))
    if shape == 1:
        return AttrPath(attr, sub, tuple(draw(st.lists(_keys, min_size=1, max_size=3))))
    if shape == 2:
        return AttrPath(attr, sub, lang="*")
    return AttrPath(attr, sub)


_datetimes = st.datetimes(
    min_value=__import__("datetime").datetime(1900, 1, 1),
    max_value=__import__("datetime").datetime(2200, 1, 1),
).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S") + (f".{d.microsecond:06d}" if d.microsecond
                                                      else "") + "Z")
_comparable_values = st.one_of(
    st.integers(-(10**20), 10**20).map(lambda n: Value(n, "number")),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: Value(f, "number")),
    st.text(max_size=12).map(lambda s: Value(s, "string")),
    _datetimes.map(lambda d: Value(d, "datetime")),
    st.dates().map(lambda d: Value(d.isoformat(), "date")),
    st.times().map(lambda t: Value(t.strftime("%H:%M:%S") + "Z", "time")),
)
_other_values = st.one_of(
    st.booleans().map(lambda b: Value(b, "boolean")),
    st.from_regex(r"urn:ngsi-ld:[A-Za-z]{1,8}:[0-9]{1,4}", fullmatch=True).map(
        lambda u: Value(u, "uri")
    ),
)


@st.composite
def plain_terms(draw: st.DrawFn) -> Q:
    path = draw(plain_paths())
    form = draw(st.integers(0, 5))
    if form == 0:
        return Exists(path, negated=draw(st.booleans()))
    if form == 1:
        pattern = draw(st.sampled_from(["a.*", "^x(y|z)$", "[0-9]+", "a\\\\b", 'q"uote']))
        return Comparison(path, draw(st.sampled_from(["~=", "!~="])), Value(pattern, "string"))
    if form == 2:
        return Comparison(path, draw(st.sampled_from(["<", "<=", ">", ">="])),
                          draw(_comparable_values))
    if form == 3:
        low = draw(_comparable_values)
        high = draw(_comparable_values.filter(lambda v: v.kind == low.kind))
        return Comparison(path, draw(st.sampled_from(["==", "!="])), Range(low, high))
    if form == 4:
        items = draw(st.lists(st.one_of(_comparable_values, _other_values), min_size=2,
                              max_size=4))
        return Comparison(path, draw(st.sampled_from(["==", "!="])), ValueList(tuple(items)))
    return Comparison(path, draw(st.sampled_from(["==", "!="])),
                      draw(st.one_of(_comparable_values, _other_values)))


plain_q_asts: st.SearchStrategy[Q] = st.recursive(
    plain_terms(),
    lambda children: st.one_of(
        st.lists(children, min_size=2, max_size=3).map(lambda t: And(tuple(t))),
        st.lists(children, min_size=2, max_size=3).map(lambda t: Or(tuple(t))),
    ),
    max_leaves=8,
)
