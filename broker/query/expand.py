"""Terms to IRIs: the AST a parser gives (names as written) -> the AST stores evaluate.

Attribute names, sub-attribute names, entity types and the geoproperty are expanded with
the request's @context (clause 5.5.7). Instance members (`observedAt`, `unitCode`, ...),
compound-value keys and language tags are not terms and stay as written. String values
that are valid names get their expansion in `Value.iri`, for VocabProperty targets.
"""

from __future__ import annotations

from dataclasses import replace

from broker.errors import BadRequestData, NgsiLdError
from broker.jsonld.context import TermMap
from broker.model.validate import is_valid_name
from broker.query.ast import (
    INSTANCE_MEMBERS,
    And,
    AttrPath,
    Comparison,
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


def expand_name(terms: TermMap, name: str, field: str) -> str:
    try:
        return terms.expand_term(name)
    except NgsiLdError as exc:
        raise BadRequestData(f"{field}: {exc.detail}", field=field) from None


def expand_path(path: AttrPath, terms: TermMap, field: str = "q") -> AttrPath:
    return AttrPath(
        expand_name(terms, path.attr, field),
        tuple(s if s in INSTANCE_MEMBERS else expand_name(terms, s, field) for s in path.sub),
        path.compound,
        path.lang,
    )


def expand_value(value: Value, terms: TermMap) -> Value:
    if value.kind not in ("string", "uri") or not isinstance(value.value, str):
        return value
    if not is_valid_name(value.value):
        return value
    try:
        iri = terms.expand_term(value.value)
    except NgsiLdError:
        return value
    return replace(value, iri=iri)


def _expand_operand(
    operand: Value | Range | ValueList, terms: TermMap
) -> Value | Range | ValueList:
    if isinstance(operand, Value):
        return expand_value(operand, terms)
    if isinstance(operand, ValueList):
        return ValueList(tuple(expand_value(v, terms) for v in operand.items))
    return operand


def expand_q(q: Q, terms: TermMap, field: str = "q") -> Q:
    if isinstance(q, Comparison):
        operand = q.value if q.op in ("~=", "!~=") else _expand_operand(q.value, terms)
        return Comparison(expand_path(q.path, terms, field), q.op, operand)
    if isinstance(q, Exists):
        return Exists(expand_path(q.path, terms, field), q.negated)
    if isinstance(q, And):
        return And(tuple(expand_q(t, terms, field) for t in q.terms))
    return Or(tuple(expand_q(t, terms, field) for t in q.terms))


def expand_types(expr: TypeExpr, terms: TermMap, field: str = "type") -> TypeExpr:
    if isinstance(expr, TypeName):
        return TypeName(expand_name(terms, expr.name, field))
    items = tuple(expand_types(i, terms, field) for i in expr.items)
    return TypeAnd(items) if isinstance(expr, TypeAnd) else TypeOr(items)


def expand_geo(geo: GeoQuery, terms: TermMap) -> GeoQuery:
    return replace(geo, geoproperty=expand_name(terms, geo.geoproperty, "geoproperty"))
