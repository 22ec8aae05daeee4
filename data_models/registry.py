"""The bundled models and one `referencing` registry that holds every schema.

Every file is read through `importlib.resources`, so the models work from an installed wheel.
The registry never retrieves anything: a `$ref` to a schema that is not bundled is an error,
not a network request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

COMMON_SCHEMA_FILE = "common.json"


@dataclass(frozen=True, slots=True)
class Model:
    """One bundled Smart Data Model: its keyValues schema, JSON-LD context and examples."""

    type: str
    subject: str
    schema: Mapping[str, Any]
    context: Mapping[str, Any]
    example: Mapping[str, Any]
    example_normalized: Mapping[str, Any]

    @property
    def schema_id(self) -> str:
        schema_id: str = self.schema["$id"]
        return schema_id

    @property
    def type_iri(self) -> str:
        iri: str = self.context["@context"][self.type]
        return iri

    @property
    def attributes(self) -> list[str]:
        """Every attribute the schema names, its shared definitions included (not `id`, `type`)."""
        return sorted(_property_names(self.schema, self.schema_id) - {"id", "type"})


def refuse_retrieval(uri: str) -> Resource[Any]:
    """The registry's retrieve function: only bundled schemas resolve."""
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]


def _models_dir() -> Traversable:
    return files("data_models") / "models"


def _read_json(resource: Traversable) -> Any:
    return json.loads(resource.read_text(encoding="utf-8"))


def _subject(schema_id: str) -> str:
    for part in schema_id.split("/"):
        if part.startswith("dataModel."):
            return part.removeprefix("dataModel.")
    raise ValueError(f"schema {schema_id} names no dataModel.<Subject>")


def _load_model(folder: Traversable) -> Model:
    schema = _read_json(folder / "schema.json")
    return Model(
        type=folder.name,
        subject=_subject(schema["$id"]),
        schema=schema,
        context=_read_json(folder / "context.jsonld"),
        example=_read_json(folder / "example.json"),
        example_normalized=_read_json(folder / "example-normalized.json"),
    )


@cache
def _models() -> dict[str, Model]:
    folders = sorted((f for f in _models_dir().iterdir() if f.is_dir()), key=lambda f: f.name)
    return {folder.name: _load_model(folder) for folder in folders}


@cache
def _models_by_type_iri() -> dict[str, Model]:
    return {model.type_iri: model for model in _models().values()}


def common_schema() -> Mapping[str, Any]:
    schema: Mapping[str, Any] = _read_json(_models_dir() / COMMON_SCHEMA_FILE)
    return schema


@cache
def schema_registry() -> Registry[Any]:
    """Every bundled schema under its `$id`; anything else is unresolvable."""
    schemas = [common_schema(), *(model.schema for model in _models().values())]
    resources = [(schema["$id"], Resource.from_contents(schema)) for schema in schemas]
    registry: Registry[Any] = Registry(retrieve=refuse_retrieval)  # type: ignore[call-arg]
    return registry.with_resources(resources).crawl()


def list_models() -> list[Model]:
    """The bundled models, ordered by type name."""
    return list(_models().values())


def get_model(entity_type: str) -> Model | None:
    """The bundled model of a type, by its short name or its full IRI; None if none is bundled."""
    return _models().get(entity_type) or _models_by_type_iri().get(entity_type)


def _property_names(schema: Mapping[str, Any], base_uri: str) -> set[str]:
    resolver = schema_registry().resolver(base_uri)
    names: set[str] = set()
    pending: list[tuple[Mapping[str, Any], Any]] = [(schema, resolver)]
    while pending:
        node, node_resolver = pending.pop()
        names.update(node.get("properties", {}))
        if "$ref" in node:
            resolved = node_resolver.lookup(node["$ref"])
            pending.append((resolved.contents, resolved.resolver))
        pending.extend((branch, node_resolver) for branch in node.get("allOf", []))
    return names
