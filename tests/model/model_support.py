"""Constants and hypothesis strategies shared by the model tests.

The strategies build valid entities directly in the stored (expanded) form, with names in
the default vocabulary so that the fake TermMap of conftest.py compacts them to plain terms.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hypothesis import strategies as st

from broker.model.expand import RESERVED_NAMES
from broker.model.null import NGSI_LD_NULL

CORE = "https://uri.etsi.org/ngsi-ld/"
DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"
CORE_CONTEXT_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
CORE_TERMS = (
    "location",
    "observationSpace",
    "operationSpace",
    "scope",
    "observedAt",
    "unitCode",
    "datasetId",
    "createdAt",
    "modifiedAt",
    "objectType",
)
PREFIXES = {"ex": "https://example.org/"}

NOW = "2026-01-01T00:00:00.000Z"
LATER = "2026-01-02T00:00:00.000Z"
V = DEFAULT_VOCAB
LOCATION = CORE + "location"
POINT = {"type": "Point", "coordinates": [2.35, 48.85]}


def iri(term: str) -> str:
    return DEFAULT_VOCAB + term


# -- scalar pieces -------------------------------------------------------------------------

VOCABULARY = [
    term
    for term in (
        "speed brandName isParked owner street category config depths route accuracy "
        "providedBy temperature humidity área número 温度 x1 ex:colour ex:weight"
    ).split()
    if term not in RESERVED_NAMES and term not in CORE_TERMS
]
names = st.sampled_from(VOCABULARY).map(
    lambda t: PREFIXES["ex"] + t[3:] if t.startswith("ex:") else iri(t)
)
uris = st.builds(
    "urn:ngsi-ld:{}:{}".format, st.sampled_from(["Car", "Person", "Stop"]), st.integers(0, 999)
)
datetimes = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)).map(
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"
)
texts = st.text(max_size=8).filter(lambda s: s != NGSI_LD_NULL)
keys = st.text(alphabet="abcxyz_", min_size=1, max_size=3)

json_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
json_values = st.recursive(
    st.one_of(st.none(), json_scalars),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=4,
)
non_null_json = json_values.filter(lambda v: v is not None)

# -- GeoJSON -------------------------------------------------------------------------------

lons = st.floats(min_value=-180, max_value=180, allow_nan=False)
lats = st.floats(min_value=-90, max_value=90, allow_nan=False)
positions = st.tuples(lons, lats).map(list)


@st.composite
def rings(draw: st.DrawFn) -> list[list[float]]:
    body = draw(st.lists(positions, min_size=3, max_size=6))
    return [*body, list(body[0])]


points = positions.map(lambda p: {"type": "Point", "coordinates": p})
multi_points = st.lists(positions, min_size=1, max_size=4).map(
    lambda c: {"type": "MultiPoint", "coordinates": c}
)
line_strings = st.lists(positions, min_size=2, max_size=5).map(
    lambda c: {"type": "LineString", "coordinates": c}
)
multi_line_strings = st.lists(
    st.lists(positions, min_size=2, max_size=4), min_size=1, max_size=3
).map(lambda c: {"type": "MultiLineString", "coordinates": c})
polygons = st.lists(rings(), min_size=1, max_size=2).map(
    lambda c: {"type": "Polygon", "coordinates": c}
)
multi_polygons = st.lists(st.lists(rings(), min_size=1, max_size=2), min_size=1, max_size=2).map(
    lambda c: {"type": "MultiPolygon", "coordinates": c}
)
simple_geometries = st.one_of(
    points, multi_points, line_strings, multi_line_strings, polygons, multi_polygons
)
geometries = st.one_of(
    simple_geometries,
    st.lists(simple_geometries, min_size=1, max_size=3).map(
        lambda g: {"type": "GeometryCollection", "geometries": g}
    ),
)

# -- stored instances and entities ---------------------------------------------------------

language_maps = st.dictionaries(
    st.sampled_from(["en", "fr", "fr-CH", "nl", "es", "@none"]),
    st.one_of(texts, st.lists(texts, min_size=1, max_size=2)),
    min_size=1,
    max_size=3,
)
vocabs = st.one_of(names, st.lists(names, min_size=1, max_size=3))
objects = st.one_of(uris, st.lists(uris, min_size=1, max_size=3))

property_values = st.one_of(
    non_null_json,
    points,
    st.lists(st.dictionaries(keys, json_scalars, max_size=2), min_size=1, max_size=2),
)

_VALUE_STRATEGIES: dict[str, tuple[str, st.SearchStrategy[Any]]] = {
    "Property": ("value", property_values),
    "GeoProperty": ("value", geometries),
    "Relationship": ("object", objects),
    "LanguageProperty": ("languageMap", language_maps),
    "VocabProperty": ("vocab", vocabs),
    "JsonProperty": ("json", non_null_json),
    "ListProperty": ("valueList", st.lists(non_null_json, max_size=3)),
    "ListRelationship": ("objectList", st.lists(uris, max_size=3)),
}


@st.composite
def instances(draw: st.DrawFn, depth: int = 1, dataset_id: str | None = None) -> dict[str, Any]:
    kind = draw(st.sampled_from(sorted(_VALUE_STRATEGIES)))
    member, values = _VALUE_STRATEGIES[kind]
    inst: dict[str, Any] = {"type": kind, member: draw(values)}
    if dataset_id is not None:
        inst["datasetId"] = dataset_id
    if draw(st.booleans()):
        inst["observedAt"] = draw(datetimes)
    if kind in ("Property", "GeoProperty", "ListProperty") and draw(st.booleans()):
        inst["unitCode"] = draw(st.sampled_from(["CEL", "KMH", "MTR"]))
    if kind in ("Relationship", "ListRelationship") and draw(st.booleans()):
        inst["objectType"] = draw(names)
    inst["createdAt"] = NOW
    inst["modifiedAt"] = NOW
    if depth > 0:
        sub = draw(st.dictionaries(names, attributes(depth - 1), max_size=1))
        if sub:
            inst["sub"] = sub
    return inst


@st.composite
def attributes(draw: st.DrawFn, depth: int = 1) -> list[dict[str, Any]]:
    dataset_ids = draw(st.lists(uris, max_size=1))
    slots: list[str | None] = list(dataset_ids)
    if not slots or draw(st.booleans()):
        slots.insert(0, None)
    return [draw(instances(depth, ds)) for ds in slots]


@st.composite
def entities(draw: st.DrawFn) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "id": draw(uris),
        "type": draw(st.lists(names, min_size=1, max_size=3, unique=True)),
    }
    if draw(st.booleans()):
        entity["scope"] = draw(
            st.lists(st.sampled_from(["/Madrid", "/Madrid/Centro", "Sevilla", "/a_1/b/c"]),
                     min_size=1, max_size=2, unique=True)
        )
    entity["createdAt"] = NOW
    entity["modifiedAt"] = NOW
    entity["attrs"] = draw(st.dictionaries(names, attributes(), max_size=3))
    if draw(st.booleans()):
        entity["attrs"][LOCATION] = [
            {"type": "GeoProperty", "value": draw(geometries), "createdAt": NOW,
             "modifiedAt": NOW}
        ]
    return entity


@st.composite
def bare_property_entities(draw: st.DrawFn) -> dict[str, Any]:
    """Entities whose attributes are lone default Property instances without members: the
    ones concise writes as bare values."""
    values = draw(st.dictionaries(names, property_values, min_size=1, max_size=4))
    return {
        "id": "urn:ngsi-ld:T:1",
        "type": [iri("T")],
        "createdAt": NOW,
        "modifiedAt": NOW,
        "attrs": {
            name: [{"type": "Property", "value": value, "createdAt": NOW, "modifiedAt": NOW}]
            for name, value in values.items()
        },
    }
