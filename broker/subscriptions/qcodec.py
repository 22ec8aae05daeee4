"""A q AST (names expanded) as JSON, and back, so a stored subscription needs no @context to
be matched: `q` and `csf` are kept as the expanded AST, not as text in the terms of the
context they were written in. `compact_q` gives the AST back in another context's terms,
for showing it (`unparse` then writes the text)."""

from __future__ import annotations

from typing import Any, cast

from broker.jsonld import TermMap
from broker.query.ast import (
    INSTANCE_MEMBERS,
    And,
    AttrPath,
    Comparison,
    Exists,
    Operator,
    Or,
    Q,
    Range,
    Value,
    ValueKind,
    ValueList,
)


def q_to_json(q: Q) -> dict[str, Any]:
    if isinstance(q, Comparison):
        return {"cmp": _path(q.path), "op": q.op, "value": _operand(q.value)}
    if isinstance(q, Exists):
        return {"exists": _path(q.path), "negated": q.negated}
    if isinstance(q, And):
        return {"and": [q_to_json(t) for t in q.terms]}
    return {"or": [q_to_json(t) for t in q.terms]}


def q_from_json(data: dict[str, Any]) -> Q:
    if "cmp" in data:
        return Comparison(
            _path_from(data["cmp"]), cast(Operator, data["op"]), _operand_from(data["value"])
        )
    if "exists" in data:
        return Exists(_path_from(data["exists"]), bool(data["negated"]))
    if "and" in data:
        return And(tuple(q_from_json(t) for t in data["and"]))
    return Or(tuple(q_from_json(t) for t in data["or"]))


def compact_q(q: Q, terms: TermMap) -> Q:
    """The AST with attribute and sub-attribute names compacted by `terms`."""
    if isinstance(q, Comparison):
        return Comparison(_compact_path(q.path, terms), q.op, q.value)
    if isinstance(q, Exists):
        return Exists(_compact_path(q.path, terms), q.negated)
    if isinstance(q, And):
        return And(tuple(compact_q(t, terms) for t in q.terms))
    return Or(tuple(compact_q(t, terms) for t in q.terms))


def _compact_path(path: AttrPath, terms: TermMap) -> AttrPath:
    return AttrPath(
        terms.compact_iri(path.attr),
        tuple(s if s in INSTANCE_MEMBERS else terms.compact_iri(s) for s in path.sub),
        path.compound,
        path.lang,
    )


def _path(path: AttrPath) -> dict[str, Any]:
    out: dict[str, Any] = {"attr": path.attr}
    if path.sub:
        out["sub"] = list(path.sub)
    if path.compound:
        out["compound"] = list(path.compound)
    if path.lang is not None:
        out["lang"] = path.lang
    return out


def _path_from(data: dict[str, Any]) -> AttrPath:
    return AttrPath(
        data["attr"],
        tuple(data.get("sub", ())),
        tuple(data.get("compound", ())),
        data.get("lang"),
    )


def _value(value: Value) -> dict[str, Any]:
    out: dict[str, Any] = {"v": value.value, "kind": value.kind}
    if value.iri is not None:
        out["iri"] = value.iri
    return out


def _value_from(data: dict[str, Any]) -> Value:
    return Value(data["v"], cast(ValueKind, data["kind"]), data.get("iri"))


def _operand(value: Value | Range | ValueList) -> dict[str, Any]:
    if isinstance(value, Range):
        return {"range": [_value(value.low), _value(value.high)]}
    if isinstance(value, ValueList):
        return {"list": [_value(v) for v in value.items]}
    return _value(value)


def _operand_from(data: dict[str, Any]) -> Value | Range | ValueList:
    if "range" in data:
        low, high = data["range"]
        return Range(_value_from(low), _value_from(high))
    if "list" in data:
        return ValueList(tuple(_value_from(v) for v in data["list"]))
    return _value_from(data)
