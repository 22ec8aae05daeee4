"""Validation of an entity against the bundled model of its type.

The entity may come normalized, concise or as keyValues; it is simplified first
(`to_key_values`) and then checked against the model's keyValues schema. Each problem names
the field (a path such as `location.coordinates[1]`) and says what is wrong. A valid entity
is recognised by the compiled check of `data_models.fastcheck` in tens of microseconds;
jsonschema runs only to explain a refusal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from data_models.fastcheck import compile_model
from data_models.formats import format_checker
from data_models.keyvalues import to_key_values
from data_models.registry import Model, get_model, schema_registry

JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
              dict: "object", type(None): "null"}


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason an entity does not fit its model. `field` is "" for the entity as a whole."""

    entity_id: str | None
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.entity_id or '(no id)'}: {self.field or '(entity)'}: {self.message}"


def validate(entity: Any) -> list[Problem]:
    """Every problem found in one entity (normalized, concise or keyValues); [] when valid."""
    if not isinstance(entity, Mapping):
        return [Problem(None, "", f"an entity is a JSON object, not {_json_type(entity)}")]
    key_values = to_key_values(entity)
    entity_id = key_values.get("id") if isinstance(key_values.get("id"), str) else None
    types = key_values.get("type")
    if types is None:
        return [Problem(entity_id, "type", "required attribute is missing")]
    type_names = types if isinstance(types, list) else [types]
    if not type_names or not all(isinstance(t, str) for t in type_names):
        return [Problem(entity_id, "type", "must be a type name or an array of type names")]
    models = [m for m in (get_model(t) for t in type_names) if m is not None]
    if not models:
        names = ", ".join(type_names)
        return [Problem(entity_id, "type", f"no bundled model for type {names}")]
    problems: list[Problem] = []
    for model in models:
        instance = key_values | {"type": model.type}
        fast = compile_model(model.type)
        if fast is not None and fast(instance):
            continue  # valid: jsonschema is asked only to explain a refusal
        problems.extend(
            Problem(entity_id, field, message)
            for field, message in _schema_problems(model, instance)
        )
    return sorted(set(problems), key=lambda p: (p.field, p.message))


@cache
def _validator(model_type: str) -> Draft202012Validator:
    model = get_model(model_type)
    assert model is not None
    return Draft202012Validator(
        model.schema, registry=schema_registry(), format_checker=format_checker()
    )


def _schema_problems(model: Model, instance: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [_describe(error) for error in _validator(model.type).iter_errors(instance)]


def _describe(error: ValidationError) -> tuple[str, str]:
    path = list(error.absolute_path)
    keyword, expected, instance = error.validator, error.validator_value, error.instance
    if keyword == "required":
        missing = _missing_member(error)
        return _field([*path, missing]), "required attribute is missing"
    if keyword in ("oneOf", "anyOf"):
        return _describe_alternatives(error)
    return _field(path), _message(str(keyword), expected, instance, error.message)


def _message(keyword: str, expected: Any, instance: Any, default: str) -> str:
    shown = _show(instance)
    if keyword == "type":
        wanted = " or ".join(expected) if isinstance(expected, list) else expected
        return f"expected {wanted}, got {_json_type(instance)} {shown}"
    if keyword == "enum":
        return f"{shown} is not one of: {', '.join(_show(v) for v in expected)}"
    if keyword == "const":
        return f"must be {_show(expected)}, got {shown}"
    if keyword == "minimum":
        return f"{shown} is below the minimum {expected}"
    if keyword == "maximum":
        return f"{shown} is above the maximum {expected}"
    if keyword == "format":
        return f"{shown} is not a valid {expected}"
    if keyword == "pattern":
        return f"{shown} does not match the pattern {expected}"
    if keyword in ("minItems", "maxItems"):
        bound = "at least" if keyword == "minItems" else "at most"
        return f"needs {bound} {expected} items, has {len(instance)}"
    return default


def _describe_alternatives(error: ValidationError) -> tuple[str, str]:
    """oneOf/anyOf: name the alternative that was meant when the instance says which."""
    path = list(error.absolute_path)
    branches: list[Mapping[str, Any]] = list(error.validator_value)
    context = list(error.context or [])
    if context and all(e.validator == "required" for e in context):
        names = ", ".join(_missing_member(e) for e in context)
        return _field(path), f"one of {names} is required"
    titles = [b["title"] for b in branches if isinstance(b, Mapping) and "title" in b]
    meant = _meant_branch(error, branches)
    if meant is not None:
        inner = [e for e in context if e.relative_schema_path[0] == meant]
        if inner:
            field, message = _describe(inner[0])
            return field, f"{branches[meant]['title']}: {message}"
    if titles:
        return _field(path), f"{_show(error.instance)} matches none of: {', '.join(titles)}"
    return _field(path), f"{_show(error.instance)} matches none of the allowed forms"


def _meant_branch(error: ValidationError, branches: list[Mapping[str, Any]]) -> int | None:
    """The branch whose `type` const equals the instance's `type` (a GeoJSON geometry type)."""
    instance = error.instance
    if not isinstance(instance, Mapping):
        return None
    for index, branch in enumerate(branches):
        const = branch.get("properties", {}).get("type", {}).get("const")
        if const is not None and const == instance.get("type"):
            return index
    return None


def _missing_member(error: ValidationError) -> str:
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    for name in error.validator_value:
        if name not in instance and error.message.startswith(repr(name)):
            return str(name)
    return str(error.message.split()[0]).strip("'")


def _field(path: list[Any]) -> str:
    field = ""
    for part in path:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    return field


def _json_type(value: Any) -> str:
    return JSON_TYPES.get(type(value), type(value).__name__)


def _show(value: Any, limit: int = 60) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= limit else text[: limit - 1] + "…"
