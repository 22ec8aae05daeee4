"""Typed adapter configuration: a dataclass, filled from a mapping, a JSON or a TOML file.

Every error names the field (`port`, `sensors[2].id`), so an operator can fix the file
without reading the adapter's code. The same dataclass gives the manifest its JSON Schema.
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

C = TypeVar("C")


class ConfigError(ValueError):
    """A configuration that does not fit its dataclass; `field` is the dotted path."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


def load_config(config_type: type[C], data: Mapping[str, Any] | None) -> C:
    """An instance of the dataclass `config_type` from `data` (missing fields take their
    defaults; unknown fields, wrong types and missing required fields are errors)."""
    value = _convert(config_type, {} if data is None else data, "")
    return typing.cast(C, value)


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The mapping in a `.json` or `.toml` file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("", f"cannot read {path}: {exc.strerror}") from exc
    try:
        data: Any = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError("", f"{path} is not valid {path.suffix.lstrip('.')}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError("", f"{path} must hold an object")
    return data


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _convert(kind: Any, value: Any, path: str) -> Any:
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        return _dataclass(kind, value, path)
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors: list[ConfigError] = []
        for option in options:
            try:
                return _convert(option, value, path)
            except ConfigError as exc:
                errors.append(exc)
        raise errors[0] if len(errors) == 1 else ConfigError(
            path, f"expected {' or '.join(_name(o) for o in options)}, got {_show(value)}"
        )
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(path, f"expected one of {list(args)}, got {_show(value)}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(path, f"expected a list, got {_show(value)}")
        return [_convert(args[0], item, f"{path}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(path, f"expected an object, got {_show(value)}")
        return {str(k): _convert(args[1], v, _join(path, str(k))) for k, v in value.items()}
    if kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(path, f"expected true or false, got {_show(value)}")
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(path, f"expected an integer, got {_show(value)}")
        return value
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(path, f"expected a number, got {_show(value)}")
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise ConfigError(path, f"expected a string, got {_show(value)}")
        return value
    if kind is Any:
        return value
    raise TypeError(f"{path}: unsupported configuration type {kind!r}")


def _dataclass(kind: type[Any], value: Any, path: str) -> Any:
    if not isinstance(value, Mapping):
        raise ConfigError(path, f"expected an object, got {_show(value)}")
    hints = typing.get_type_hints(kind)
    fields = {f.name: f for f in dataclasses.fields(kind) if f.init}
    unknown = sorted(set(value) - set(fields))
    if unknown:
        known = ", ".join(fields)
        raise ConfigError(_join(path, str(unknown[0])), f"unknown field (known: {known})")
    given: dict[str, Any] = {}
    for name, field in fields.items():
        if name in value:
            given[name] = _convert(hints[name], value[name], _join(path, name))
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ConfigError(_join(path, name), "required field is missing")
    try:
        return kind(**given)
    except ValueError as exc:  # a __post_init__ check
        raise ConfigError(path, str(exc)) from exc


def config_schema(config_type: type[Any]) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a configuration dataclass."""
    schema = _schema(config_type)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def _schema(kind: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        hints = typing.get_type_hints(kind)
        properties: dict[str, Any] = {}
        required: list[str] = []
        for f in dataclasses.fields(kind):
            if not f.init:
                continue
            prop = _schema(hints[f.name])
            if f.default is not dataclasses.MISSING:
                prop["default"] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                prop["default"] = _plain(f.default_factory())
            else:
                required.append(f.name)
            properties[f.name] = prop
        out: dict[str, Any] = {
            "type": "object", "properties": properties, "additionalProperties": False,
        }
        if required:
            out["required"] = required
        if kind.__doc__ and not kind.__doc__.startswith(kind.__name__ + "("):
            out["description"] = kind.__doc__.strip()
        return out
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [_schema(a) for a in args]}
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin is list:
        return {"type": "array", "items": _schema(args[0])}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema(args[1])}
    simple = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}
    if kind in simple:
        return {"type": simple[kind]}
    return {}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def _name(kind: Any) -> str:
    return getattr(kind, "__name__", str(kind))


def _show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
