"""The reference semantics of an entity query over one stored (expanded) entity.

What subscriptions evaluate on every change and what the SQLite and MongoDB back ends are
checked against. Every rule cites ETSI GS CIM 009 (v1.8/v1.9 clause numbers).

q (clause 4.9)
  - The target element is the attribute, a sub-attribute along `.` (every instance at every
    level is followed), or an instance member (`observedAt`, `unitCode`, `datasetId`,
    `createdAt`, `modifiedAt`, `objectType`) named last. `[a.b]` then walks into a compound
    value (JSON objects only); an undefined member means the target does not exist.
  - Multi-attributes (datasetId): "the target value shall be any Value of such instances":
    a term matches when it matches for at least one instance. This holds for `!=` too.
  - The target value of one instance: `value` (Property, GeoProperty), `json`, `object`
    (Relationship), `objectList`, `vocab`, `valueList`, and for a LanguageProperty the
    strings of its languageMap (of one language for `name[en]`, of all for `name` or
    `name[*]`). An array target holds its elements.
  - Every operator needs the target to exist; a missing attribute never matches, not even
    `!=` ("A matching entity shall contain the target element").
  - `==`: some element equals the value / any value of a list / lies in the range.
    `!=`: no element does (a kind mismatch is "unequal", so it matches).
    `<`, `<=`, `>`, `>=`: some element of the same kind is ordered so.
    `~=`: some string element is in L(R) (whole-string match); `!~=`: some string element
    is not. Non-strings match neither (clause 4.9).
  - Relationships and ListRelationships match only `==` and `!=`, comparing object URIs.
  - VocabProperty targets compare with the query value expanded by the @context
    (`Value.iri`).
  - `attr` alone: the target exists; `!attr`: it does not.
Types (clause 4.17): a TypeName matches when it is one of the entity's types.
Scopes (clause 4.19): a pattern matches when one of the entity's scopes does.
geoQ (clause 4.10): see geometry.py; entities without the GeoProperty never match.
ids / idPattern (clause 5.7.2, EntitySelector 5.2.33): idPattern is ignored when ids are
given; idPattern matches anywhere in the id (POSIX regexec).
attrs (clause 5.7.2): the entity has at least one of them.
csf filters context source registrations, not entities: it is not evaluated here.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from broker.query import geometry
from broker.query.ast import (
    INSTANCE_MEMBERS,
    And,
    AttrPath,
    Comparison,
    EntityQuery,
    Exists,
    GeoQuery,
    Or,
    Q,
    ScopeAnd,
    ScopeExpr,
    ScopeOr,
    ScopePattern,
    TypeAnd,
    TypeExpr,
    TypeName,
    Value,
)
from broker.query.patterns import full_match, search
from broker.query.values import equals_operand, ordered
from broker.types import ExpandedEntity, Instance

RELATIONSHIP_KINDS = frozenset({"Relationship", "ListRelationship"})
_MEMBER = "member"
_MISSING = object()
_VALUE_MEMBER = {
    "Property": "value",
    "GeoProperty": "value",
    "JsonProperty": "json",
    "Relationship": "object",
    "ListRelationship": "objectList",
    "VocabProperty": "vocab",
    "ListProperty": "valueList",
}


def matches(entity: ExpandedEntity, query: EntityQuery) -> bool:
    """True when the entity is selected by every member of the query that is set."""
    if query.ids is not None:
        if entity["id"] not in query.ids:
            return False
    elif query.id_pattern is not None and not search(query.id_pattern, entity["id"]):
        return False
    if query.types is not None and not match_types(entity, query.types):
        return False
    if query.attrs is not None:
        attrs = entity.get("attrs") or {}
        if not any(name in attrs for name in query.attrs):
            return False
    if query.scope is not None and not match_scope(entity, query.scope):
        return False
    if query.q is not None and not match_q(entity, query.q):
        return False
    return query.geo is None or match_geo(entity, query.geo)


# -- types and scopes --------------------------------------------------------------------


def match_types(entity: ExpandedEntity, expr: TypeExpr) -> bool:
    types = entity.get("type") or ()
    if isinstance(expr, TypeName):
        return expr.name in types
    if isinstance(expr, TypeAnd):
        return all(match_types(entity, item) for item in expr.items)
    return any(match_types(entity, item) for item in expr.items)


@lru_cache(maxsize=4096)
def scope_levels(scope: str) -> tuple[str, ...]:
    return tuple(scope.strip("/").split("/"))


def scope_matches(levels: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    """One scope (as levels) against one pattern: `+` is one level; a trailing `#` is the
    scope itself and everything below (and `/#` any scope at all)."""
    if pattern and pattern[-1] == "#":
        prefix = pattern[:-1]
        if len(levels) < len(prefix):
            return False
    else:
        prefix = pattern
        if len(levels) != len(prefix):
            return False
    return all(p == "+" or p == s for p, s in zip(prefix, levels, strict=False))


def match_scope(entity: ExpandedEntity, expr: ScopeExpr) -> bool:
    scopes = entity.get("scope")
    if not scopes:
        return False
    if isinstance(scopes, str):
        scopes = [scopes]
    return _match_scope(tuple(scope_levels(s) for s in scopes), expr)


def _match_scope(scopes: tuple[tuple[str, ...], ...], expr: ScopeExpr) -> bool:
    if isinstance(expr, ScopePattern):
        return any(scope_matches(s, expr.levels) for s in scopes)
    if isinstance(expr, ScopeAnd):
        return all(_match_scope(scopes, item) for item in expr.items)
    assert isinstance(expr, ScopeOr)
    return any(_match_scope(scopes, item) for item in expr.items)


# -- geoQ ----------------------------------------------------------------------------------


def match_geo(entity: ExpandedEntity, geo: GeoQuery) -> bool:
    """Some instance of the GeoProperty `geo.geoproperty` stands in the relation."""
    instances = (entity.get("attrs") or {}).get(geo.geoproperty)
    if not instances:
        return False
    ref = geometry.reference(geo)
    for inst in instances:
        target = inst.get("value")
        if inst.get("type") != "GeoProperty" or not isinstance(target, dict):
            continue
        if geo.georel == "near":
            if geo.max_distance is not None:
                ok = geometry.near_max(target, ref, geo.max_distance)
            elif geo.min_distance is not None:
                ok = geometry.near_min(target, ref, geo.min_distance)
            else:
                ok = False
        else:
            ok = geometry.relate(geo.georel, target, ref)
        if ok:
            return True
    return False


# -- q -------------------------------------------------------------------------------------


def match_q(entity: ExpandedEntity, q: Q) -> bool:
    if isinstance(q, Comparison):
        return any(_test(kind, elements, q) for kind, elements in targets(entity, q.path))
    if isinstance(q, Exists):
        found = next(iter(targets(entity, q.path)), None) is not None
        return found != q.negated
    if isinstance(q, And):
        return all(match_q(entity, term) for term in q.terms)
    assert isinstance(q, Or)
    return any(match_q(entity, term) for term in q.terms)


def _test(kind: str, elements: list[Any], q: Comparison) -> bool:
    """One target (one instance's value, as its elements) against one comparison."""
    op = q.op
    if kind in RELATIONSHIP_KINDS and op not in ("==", "!="):
        return False
    if op == "==" or op == "!=":
        vocab = kind == "VocabProperty"
        found = any(equals_operand(e, q.value, vocab) for e in elements)
        return found if op == "==" else not found
    value = q.value
    if not isinstance(value, Value):
        return False
    if op == "~=" or op == "!~=":
        pattern = value.value
        if not isinstance(pattern, str):
            return False
        want = op == "~="
        return any(isinstance(e, str) and full_match(pattern, e) == want for e in elements)
    return any(ordered(e, op, value) for e in elements)


def targets(entity: ExpandedEntity, path: AttrPath) -> Iterator[tuple[str, list[Any]]]:
    """Each target of the path in the entity, as (attribute kind, elements): one per
    instance that defines it. Elements are the value itself, or its items for an array."""
    instances = (entity.get("attrs") or {}).get(path.attr)
    if not instances:
        return
    sub = path.sub
    member = None
    if sub and sub[-1] in INSTANCE_MEMBERS:
        member = sub[-1]
        sub = sub[:-1]
    for name in sub:
        found: list[Instance] = []
        for inst in instances:
            children = inst.get("sub")
            if children:
                found.extend(children.get(name, ()))
        if not found:
            return
        instances = found
    for inst in instances:
        if member is not None:
            if member in inst:
                yield _MEMBER, _elements(_walk(inst[member], path.compound))
            continue
        kind = inst.get("type", "Property")
        if kind == "LanguageProperty":
            strings = _language_values(inst.get("languageMap"), path)
            if strings is not None:
                yield kind, strings
            continue
        if path.lang is not None:
            continue
        value = _walk(inst.get(_VALUE_MEMBER.get(kind, "value"), _MISSING), path.compound)
        if value is not _MISSING:
            yield kind, _elements(value)


def _walk(value: Any, keys: tuple[str, ...]) -> Any:
    for k in keys:
        if not isinstance(value, dict):
            return _MISSING
        value = value.get(k, _MISSING)
        if value is _MISSING:
            return _MISSING
    return value


def _elements(value: Any) -> list[Any]:
    if value is _MISSING:
        return []
    return value if isinstance(value, list) else [value]


def _language_values(language_map: Any, path: AttrPath) -> list[Any] | None:
    if not isinstance(language_map, dict) or len(path.compound) > 1:
        return None
    lang = path.language()
    if lang is None or lang == "*":
        chosen = list(language_map.values())
    elif lang in language_map:
        chosen = [language_map[lang]]
    else:
        return None
    out: list[Any] = []
    for v in chosen:
        if isinstance(v, list):
            out.extend(v)
        else:
            out.append(v)
    return out
