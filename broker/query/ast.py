"""The query AST (ETSI GS CIM 009 clauses 4.9 q, 4.10 geoQ, 4.19 scopeQ, 4.17 type expressions).

Every node is a frozen, hashable dataclass, so queries can be cached and compared. Names in
an AST from a parser are terms as the client wrote them; after `expand` they are IRIs, except
the members of an attribute instance that NGSI-LD fixes (observedAt, unitCode, datasetId,
createdAt, modifiedAt, ...) and the keys of a compound-value path, which are never expanded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal as Lit
from typing import TypeAlias

# -- q: the NGSI-LD query language (clause 4.9) ------------------------------------------------

INSTANCE_MEMBERS = frozenset(
    {"observedAt", "unitCode", "datasetId", "createdAt", "modifiedAt", "objectType"}
)
"""Members of an attribute instance a q path may name last (`speed.observedAt`): they are
members of the stored instance, not sub-attributes, and are never expanded as terms."""


@dataclass(frozen=True, slots=True)
class AttrPath:
    """What a q term tests: `attr`, `attr.sub.sub2`, `attr[key.key2]`, `attr.sub[key]`.

    `attr` is the attribute; `sub` the path through sub-attributes, where the last element
    may also name a member of the instance (e.g. `observedAt`, `unitCode`, `datasetId`);
    `compound` the path of keys inside a compound (JSON object) value; `lang` a language tag
    for a LanguageProperty (`name[en]`-style filters, where the spec allows them).
    """

    attr: str
    sub: tuple[str, ...] = ()
    compound: tuple[str, ...] = ()
    lang: str | None = None

    def language(self) -> str | None:
        """The language a LanguageProperty target is filtered on, or None for none.

        The q grammar cannot tell `name[en]` (a language filter) from `address[city]` (a
        compound-value key): both parse to `compound=("en",)`. Which one it is depends on
        the target attribute, so consumers ask this when the target is a LanguageProperty:
        `"*"` (any language, `name[*]`) or the one-element compound path.
        """
        if self.lang is not None:
            return self.lang
        if len(self.compound) == 1:
            return self.compound[0]
        return None


ValueKind = Lit["number", "string", "boolean", "datetime", "date", "time", "uri", "null"]


@dataclass(frozen=True, slots=True)
class Value:
    """One literal of a q term: `12`, `"text"`, `true`, `2026-01-01T00:00:00Z`, a URI."""

    value: str | int | float | bool | None
    kind: ValueKind
    iri: str | None = None
    """For "string" and "uri" values that are valid terms: the value expanded with the
    request's @context, which is what a VocabProperty target is compared with (clause 4.9:
    "the target value shall be expanded according to the @context"). Set by `expand`."""


@dataclass(frozen=True, slots=True)
class Range:
    """`low..high`, both ends included."""

    low: Value
    high: Value


@dataclass(frozen=True, slots=True)
class ValueList:
    """`a,b,c`: equal to any (==) or to none (!=)."""

    items: tuple[Value, ...]


Operator = Lit["==", "!=", "<", "<=", ">", ">=", "~=", "!~="]


@dataclass(frozen=True, slots=True)
class Comparison:
    path: AttrPath
    op: Operator
    value: Value | Range | ValueList


@dataclass(frozen=True, slots=True)
class Exists:
    """A bare attribute path: true when the entity has it. `negated` for `!attr`."""

    path: AttrPath
    negated: bool = False


@dataclass(frozen=True, slots=True)
class And:
    terms: tuple[Q, ...]


@dataclass(frozen=True, slots=True)
class Or:
    terms: tuple[Q, ...]


Q: TypeAlias = Comparison | Exists | And | Or

# -- entity type selection (clause 4.17) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TypeName:
    name: str


@dataclass(frozen=True, slots=True)
class TypeAnd:
    """`A;B`: the entity has all of these types."""

    items: tuple[TypeExpr, ...]


@dataclass(frozen=True, slots=True)
class TypeOr:
    """`A,B` or `A|B`: the entity has at least one of these types."""

    items: tuple[TypeExpr, ...]


TypeExpr: TypeAlias = TypeName | TypeAnd | TypeOr

# -- scopeQ (clause 4.19) ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScopePattern:
    """`/a/b`, `/a/+/c` (`+` one level), `/a/#` (`#` this level and all below)."""

    levels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScopeAnd:
    items: tuple[ScopeExpr, ...]


@dataclass(frozen=True, slots=True)
class ScopeOr:
    items: tuple[ScopeExpr, ...]


ScopeExpr: TypeAlias = ScopePattern | ScopeAnd | ScopeOr

# -- geoQ (clause 4.10) ------------------------------------------------------------------------

GeoRel = Lit["near", "within", "contains", "intersects", "disjoint", "equals", "overlaps"]
GeometryType = Lit[
    "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"
]


@dataclass(frozen=True, slots=True)
class GeoQuery:
    """`georel` + `geometry` + `coordinates` (+ `geoproperty`, default `location`).

    `geometry` is the GeoJSON geometry object built from `geometry` and `coordinates`
    (kept as nested tuples so the node stays hashable; `geometry_dict()` gives GeoJSON).
    Distances are metres on the WGS84 sphere, as clause 4.10 says for `near`.
    """

    georel: GeoRel
    geometry_type: GeometryType
    coordinates: tuple[object, ...]
    geoproperty: str = "location"
    max_distance: float | None = None
    min_distance: float | None = None

    def geometry_dict(self) -> dict[str, object]:
        return {"type": self.geometry_type, "coordinates": _lists(self.coordinates)}


def _lists(value: object) -> object:
    if isinstance(value, tuple):
        return [_lists(v) for v in value]
    return value


# -- one whole query (GET /entities, POST /entityOperations/query, subscriptions) --------------


@dataclass(frozen=True, slots=True)
class EntityQuery:
    """The entity selection of a query: every member that is not None must match.

    `attrs` also selects: an entity matches only if it has at least one of them (clause
    5.7.2); projection (which attributes are returned) is the renderer's job.
    """

    ids: tuple[str, ...] | None = None
    id_pattern: str | None = None
    types: TypeExpr | None = None
    attrs: frozenset[str] | None = None
    q: Q | None = None
    geo: GeoQuery | None = None
    scope: ScopeExpr | None = None
    csf: Q | None = None
