"""The bundled models: every schema, context and example is sound and resolves offline."""

from __future__ import annotations

import json
import socket
import tomllib
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing.exceptions import Unresolvable, Unretrievable

from data_models.keyvalues import to_key_values
from data_models.registry import Model, get_model, list_models, schema_registry
from data_models.validate import validate

ROOT = Path(__file__).resolve().parents[2]
CORE_CONTEXT = (
    ROOT / "broker/jsonld/contexts/ngsi-ld-core-context-v1.8.jsonld"
)

ISSUE_TYPES = {
    "AirQualityObserved", "NoiseLevelObserved", "WeatherObserved", "WaterConsumptionObserved",
    "WasteContainer", "ParkingSpot", "TrafficFlowObserved", "CrowdFlowObserved", "Streetlight",
    "Device", "DeviceMeasurement", "ThreePhaseAcMeasurement",
}

MODELS = list_models()
ids = [m.type for m in MODELS]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the bundled models must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_every_model_the_city_sensors_need_is_bundled() -> None:
    assert {m.type for m in MODELS} == ISSUE_TYPES


@pytest.mark.parametrize("model", MODELS, ids=ids)
def test_schema_is_valid_draft_2020_12(model: Model) -> None:
    assert model.schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(model.schema)


@pytest.mark.parametrize("model", MODELS, ids=ids)
def test_every_ref_resolves_from_the_bundle(model: Model) -> None:
    refs = _refs(model.schema)
    assert refs, "each model shares the common definitions"
    resolver = schema_registry().resolver(model.schema_id)
    for ref in refs:
        assert resolver.lookup(ref).contents is not None


def test_a_ref_outside_the_bundle_is_refused_not_fetched() -> None:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "$ref": "https://example.org/elsewhere.json#/definitions/thing"}
    validator = Draft202012Validator(schema, registry=schema_registry())
    with pytest.raises(Unresolvable) as refused:
        validator.validate({})
    # a failed attempt to fetch would chain an Unretrievable; a refusal does not
    chain: list[BaseException] = []
    error: BaseException | None = refused.value
    while error is not None:
        chain.append(error)
        error = error.__cause__
    assert not any(isinstance(e, Unretrievable) for e in chain)


@pytest.mark.parametrize("model", MODELS, ids=ids)
def test_keyvalues_example_is_valid(model: Model) -> None:
    assert validate(model.example) == []


@pytest.mark.parametrize("model", MODELS, ids=ids)
def test_normalized_example_is_valid(model: Model) -> None:
    assert validate(model.example_normalized) == []


@pytest.mark.parametrize("model", MODELS, ids=ids)
def test_normalized_example_simplifies_to_the_keyvalues_example(model: Model) -> None:
    assert to_key_values(model.example_normalized) == model.example


@pytest.mark.parametrize("model", MODELS, ids=ids)
def test_type_is_the_models_own_and_pinned(model: Model) -> None:
    assert model.example["type"] == model.type
    assert validate(dict(model.example) | {"type": ["Other", model.type]}) == []
    assert get_model(model.type_iri) is model


@pytest.mark.parametrize("model", MODELS, ids=ids)
def test_context_names_every_attribute_the_core_context_does_not(model: Model) -> None:
    core_terms = set(json.loads(CORE_CONTEXT.read_text(encoding="utf-8"))["@context"])
    context = model.context["@context"]
    assert context[model.type] == f"https://smartdatamodels.org/dataModel.{model.subject}/{model.type}"
    assert not set(context) & core_terms, "core terms are never repeated"
    for attribute in model.attributes:
        if attribute not in core_terms:
            assert context[attribute].startswith("https://smartdatamodels.org/"), attribute
    for attribute in model.example:
        assert attribute in context or attribute in core_terms, attribute


@pytest.mark.parametrize("model", MODELS, ids=ids)
def test_schema_says_it_is_a_subset_and_describes_units(model: Model) -> None:
    assert "subset" in model.schema["description"]
    own = model.schema["allOf"][-1]["properties"]
    assert all("description" in spec for spec in own.values())


def test_every_bundled_file_is_declared_package_data() -> None:
    """What `importlib.resources` reads here must also be in the wheel."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = pyproject["tool"]["setuptools"]["package-data"]["data_models"]
    package = ROOT / "data_models"
    data_files = [
        p.relative_to(package).as_posix()
        for p in package.rglob("*")
        if p.is_file() and p.suffix != ".py" and "__pycache__" not in p.parts
    ]
    assert any(name.endswith("schema.json") for name in data_files)
    assert "NOTICE" in data_files
    for name in data_files:
        assert any(fnmatch(name, glob) for glob in globs), f"{name} would be left out of the wheel"
