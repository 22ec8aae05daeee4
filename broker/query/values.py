"""How q compares one target value with one query value (ETSI GS CIM 009 clause 4.9).

Each query value kind compares only with target values of the same data type: numbers
with JSON numbers (never booleans), strings and URIs with JSON strings, booleans with
booleans, DateTimes / Dates / Times with strings (or `{"@type", "@value"}` objects) that
are valid values of that kind, ordered in time (clause 4.9: "the order relation considered
shall be a temporal one"). Strings order by code point (RFC 8259 section 8.3). A kind
mismatch compares as neither equal nor ordered: `==`, `<`, ... do not match and `!=` does
(clause 4.9, "If the data type of the target value and the data type of the Query Term
value are different, then they shall be considered unequal").
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from broker.query.ast import Range, Value, ValueList

_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,6}))?Z\Z"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_TIME = re.compile(r"(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,6}))?Z?\Z")

Key = Any
"""A comparable key: values of one kind compare with <, == as the kind's order says."""


@lru_cache(maxsize=8192)
def datetime_key(text: str) -> tuple[int, ...] | None:
    m = _DATETIME.match(text)
    if m is None:
        return None
    *parts, frac = m.groups()
    return (*(int(p) for p in parts), int((frac or "0").ljust(6, "0")))


@lru_cache(maxsize=2048)
def time_key(text: str) -> tuple[int, ...] | None:
    m = _TIME.match(text)
    if m is None:
        return None
    *parts, frac = m.groups()
    return (*(int(p) for p in parts), int((frac or "0").ljust(6, "0")))


def _temporal_text(target: Any) -> str | None:
    if isinstance(target, str):
        return target
    if isinstance(target, dict):
        inner = target.get("@value")
        if isinstance(inner, str):
            return inner
    return None


def key(target: Any, kind: str) -> Key | None:
    """The target value as a key of the query value's kind, or None on a kind mismatch."""
    if kind == "number":
        if isinstance(target, (int, float)) and not isinstance(target, bool):
            return target
        return None
    if kind in ("string", "uri"):
        return target if isinstance(target, str) else None
    if kind == "boolean":
        return target if isinstance(target, bool) else None
    if kind == "datetime":
        text = _temporal_text(target)
        return None if text is None else datetime_key(text)
    if kind == "date":
        text = _temporal_text(target)
        return text if text is not None and _DATE.match(text) else None
    if kind == "time":
        text = _temporal_text(target)
        return None if text is None else time_key(text)
    if kind == "null":
        return () if target is None else None
    return None


def query_key(value: Value) -> Key:
    """The query value as a key of its own kind."""
    v = value.value
    if value.kind == "datetime":
        assert isinstance(v, str)
        return datetime_key(v)
    if value.kind == "time":
        assert isinstance(v, str)
        return time_key(v)
    if value.kind == "null":
        return ()
    return v


def equals(target: Any, value: Value, vocab: bool = False) -> bool:
    """One target element equals one query value (same kind, same value). For a
    VocabProperty target the expanded query value (`Value.iri`) also counts."""
    k = key(target, value.kind)
    if k is None:
        return False
    if k == query_key(value):
        return True
    return vocab and value.iri is not None and k == value.iri


def in_range(target: Any, rng: Range) -> bool:
    k = key(target, rng.low.kind)
    if k is None:
        return False
    try:
        return bool(query_key(rng.low) <= k <= query_key(rng.high))
    except TypeError:
        return False


def equals_operand(target: Any, operand: Value | Range | ValueList, vocab: bool) -> bool:
    """`==` for one target element: the value, any value of a list, or within a range."""
    if isinstance(operand, Value):
        return equals(target, operand, vocab)
    if isinstance(operand, ValueList):
        return any(equals(target, v, vocab) for v in operand.items)
    return in_range(target, operand)


def ordered(target: Any, op: str, value: Value) -> bool:
    """`<`, `<=`, `>`, `>=` for one target element (False on a kind mismatch)."""
    if value.kind in ("boolean", "null"):
        return False
    k = key(target, value.kind)
    if k is None:
        return False
    q = query_key(value)
    try:
        if op == ">":
            return bool(k > q)
        if op == ">=":
            return bool(k >= q)
        if op == "<":
            return bool(k < q)
        return bool(k <= q)
    except TypeError:
        return False
