"""A compiled yes/no check of the bundled keyValues schemas, for validation on every write.

jsonschema walks a schema for every instance, through `referencing` lookups and format
checkers: about a millisecond per entity for the bundled models, more than the write itself.
This module compiles a schema once into nested closures over the keywords the bundled schemas
use (`type`, `enum`, `const`, `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`,
`minLength`, `maxLength`, `pattern`, `format`, `items`, `minItems`, `maxItems`,
`uniqueItems`, `properties`, `required`, `allOf`, `anyOf`, `oneOf`, `$ref`), with the JSON
Schema meaning of each (booleans are not numbers, 1.0 is an integer, `enum` compares
`true` and `1` as different values).

It answers only valid or not: `data_models.validate` asks it first and runs jsonschema, whose
errors name the field, only for an instance it refused. A schema that uses a keyword this
module does not know is not compiled (`compile_model` returns None) and jsonschema decides
alone. A differential test keeps the two in agreement.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping, Sized
from functools import cache
from typing import Any, cast

from referencing._core import Resolver

from data_models.formats import is_date_time, is_uri
from data_models.registry import get_model, schema_registry

Check = Callable[[Any], bool]

ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "examples", "default",
     "definitions", "$defs", "deprecated", "readOnly", "writeOnly"}
)


class Unsupported(Exception):
    """The schema uses a keyword this compiler does not implement."""


def _parses_as(kind: Callable[[str], object]) -> Callable[[str], bool]:
    def test(value: str) -> bool:
        try:
            kind(value)
        except ValueError:
            return False
        return True

    return test


FORMATS: dict[str, Callable[[str], bool]] = {
    "date-time": is_date_time,
    "uri": is_uri,
    "ipv4": _parses_as(ipaddress.IPv4Address),
    "ipv6": _parses_as(ipaddress.IPv6Address),
}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


TYPE_CHECKS: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "number": _is_number,
    "integer": _is_integer,
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}


def _json_key(value: Any) -> Any:
    """A hashable key under which two values are equal exactly when JSON Schema says so."""
    if isinstance(value, bool):
        return ("bool", value)
    if _is_number(value):
        return ("number", float(value))
    if isinstance(value, list):
        return ("array", tuple(_json_key(v) for v in value))
    if isinstance(value, dict):
        return ("object", frozenset((k, _json_key(v)) for k, v in value.items()))
    return (type(value).__name__, value)


class _Compiler:
    def __init__(self) -> None:
        self.by_node: dict[int, Check] = {}

    def compile(self, schema: Any, resolver: Resolver[Any]) -> Check:
        if schema is True:
            return lambda v: True
        if schema is False:
            return lambda v: False
        if not isinstance(schema, Mapping):
            raise Unsupported(f"schema {schema!r}")
        key = id(schema)
        if key in self.by_node:
            return self.by_node[key]
        slot: list[Check] = []

        def check(value: Any) -> bool:  # stands in while a recursive $ref is compiled
            return slot[0](value)

        self.by_node[key] = check
        slot.append(_all(self._keywords(schema, resolver)))
        self.by_node[key] = slot[0]
        return slot[0]

    def _keywords(self, schema: Mapping[str, Any], resolver: Resolver[Any]) -> list[Check]:
        checks: list[Check] = []
        for keyword, arg in schema.items():
            if keyword in ANNOTATIONS or keyword in ("properties", "required"):
                continue
            checks.append(self._keyword(keyword, arg, resolver))
        if "properties" in schema or "required" in schema:
            checks.append(self._object(schema, resolver))
        return checks

    def _keyword(self, keyword: str, arg: Any, resolver: Resolver[Any]) -> Check:
        if keyword == "type":
            names = arg if isinstance(arg, list) else [arg]
            kinds = [TYPE_CHECKS[n] for n in names]
            return kinds[0] if len(kinds) == 1 else _any(kinds)
        if keyword == "enum":
            if all(isinstance(a, str) for a in arg):
                strings = frozenset(arg)
                return lambda v: isinstance(v, str) and v in strings
            allowed = {_json_key(a) for a in arg}
            return lambda v: _json_key(v) in allowed
        if keyword == "const":
            wanted = _json_key(arg)
            return lambda v: _json_key(v) == wanted
        if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            return _bound(keyword, arg)
        if keyword in ("minLength", "maxLength"):
            return _length(keyword, arg, str)
        if keyword in ("minItems", "maxItems"):
            return _length(keyword, arg, list)
        if keyword == "pattern":
            pattern = re.compile(arg)
            return lambda v: not isinstance(v, str) or pattern.search(v) is not None
        if keyword == "format":
            test = FORMATS.get(arg)
            if test is None:
                return lambda v: True  # an unknown format is an annotation
            return lambda v: not isinstance(v, str) or test(v)
        if keyword == "uniqueItems":
            if not arg:
                return lambda v: True
            return lambda v: not isinstance(v, list) or len({_json_key(i) for i in v}) == len(v)
        if keyword == "items":
            if not isinstance(arg, Mapping | bool):
                raise Unsupported("items as an array")
            item = self.compile(arg, resolver)
            return lambda v: not isinstance(v, list) or all(item(i) for i in v)
        if keyword == "allOf":
            return _all([self.compile(s, resolver) for s in arg])
        if keyword == "anyOf":
            return _any([self.compile(s, resolver) for s in arg])
        if keyword == "oneOf":
            return _one_of(arg, [self.compile(s, resolver) for s in arg])
        if keyword == "$ref":
            resolved = resolver.lookup(arg)
            return self.compile(resolved.contents, resolved.resolver)
        raise Unsupported(f"keyword {keyword}")

    def _object(self, schema: Mapping[str, Any], resolver: Resolver[Any]) -> Check:
        members = [
            (name, self.compile(sub, resolver))
            for name, sub in schema.get("properties", {}).items()
        ]
        required = list(schema.get("required", []))

        def check(value: Any) -> bool:
            if not isinstance(value, dict):
                return True
            for name in required:
                if name not in value:
                    return False
            for name, member in members:
                if name in value and not member(value[name]):
                    return False
            return True

        return check


def _all(checks: list[Check]) -> Check:
    if not checks:
        return lambda v: True
    if len(checks) == 1:
        return checks[0]

    def check(value: Any) -> bool:
        for c in checks:
            if not c(value):
                return False
        return True

    return check


def _any(checks: list[Check]) -> Check:
    def check(value: Any) -> bool:
        for c in checks:
            if c(value):
                return True
        return False

    return check


def _one_of(branches: list[Any], checks: list[Check]) -> Check:
    """Exactly one branch holds. When every branch requires a `type` member of its own
    constant value (GeoJSON geometries), an object can only hold for the branch its `type`
    names, so only that branch is tried."""
    by_type: dict[Any, Check] = {}
    for branch, c in zip(branches, checks, strict=True):
        const = _type_const(branch)
        if const is None or const in by_type:
            by_type = {}
            break
        by_type[const] = c

    def count(value: Any) -> bool:
        return sum(1 for c in checks if c(value)) == 1

    if not by_type:
        return count

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return count(value)
        branch = by_type.get(value.get("type")) if isinstance(value.get("type"), str) else None
        return branch is not None and branch(value)

    return check


def _type_const(branch: Any) -> str | None:
    if not isinstance(branch, Mapping) or "type" not in branch.get("required", ()):
        return None
    if branch.get("type") != "object":
        return None
    const = branch.get("properties", {}).get("type", {}).get("const")
    return const if isinstance(const, str) else None


def _bound(keyword: str, limit: float) -> Check:
    if keyword == "minimum":
        return lambda v: not _is_number(v) or v >= limit
    if keyword == "maximum":
        return lambda v: not _is_number(v) or v <= limit
    if keyword == "exclusiveMinimum":
        return lambda v: not _is_number(v) or v > limit
    return lambda v: not _is_number(v) or v < limit


def _length(keyword: str, limit: int, kind: type) -> Check:
    if keyword.startswith("min"):
        return lambda v: not isinstance(v, kind) or len(cast(Sized, v)) >= limit
    return lambda v: not isinstance(v, kind) or len(cast(Sized, v)) <= limit


@cache
def compile_model(model_type: str) -> Check | None:
    """The compiled check of a bundled model's keyValues schema; None if it cannot be compiled
    (then only jsonschema can tell)."""
    model = get_model(model_type)
    if model is None:
        return None
    resolver = schema_registry().resolver(model.schema_id)
    try:
        return _Compiler().compile(model.schema, resolver)
    except Unsupported:
        return None
