"""The compiled check says valid exactly when jsonschema does, for every bundled model."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data_models.fastcheck import compile_model
from data_models.keyvalues import to_key_values
from data_models.registry import Model, list_models
from data_models.validate import _validator

MODELS = list_models()

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-1000, max_value=1000),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.sampled_from(["", "free", "occupied", "onStreet", "2026-12-01T08:00:00Z",
                     "2026-13-01T08:00:00Z", "urn:ngsi-ld:Device:1", "not a uri",
                     "192.168.1.10", "::1", "Point", "Polygon"]),
    st.text(max_size=8),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["type", "coordinates", "value", "streetAddress", "x"]), inner,
        max_size=3,
    ),
    max_leaves=10,
)


def _valid_per_jsonschema(model: Model, instance: Any) -> bool:
    return bool(_validator(model.type).is_valid(instance))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.type)
def test_every_bundled_model_compiles_and_accepts_its_example(model: Model) -> None:
    check = compile_model(model.type)
    assert check is not None, f"{model.type}: the schema uses a keyword the compiler lacks"
    assert check(to_key_values(model.example))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.type)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_compiled_check_agrees_with_jsonschema_on_mutated_examples(
    model: Model, data: st.DataObject
) -> None:
    instance = copy.deepcopy(to_key_values(model.example))
    names = sorted(set(model.attributes) | set(instance) | {"id", "type"})
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        name = data.draw(st.sampled_from(names))
        action = data.draw(st.sampled_from(["set", "delete", "nudge"]))
        if action == "delete":
            instance.pop(name, None)
        elif action == "nudge" and isinstance(instance.get(name), dict | list):
            _nudge(instance[name], data)
        else:
            instance[name] = data.draw(json_values)
    check = compile_model(model.type)
    assert check is not None
    assert check(instance) == _valid_per_jsonschema(model, instance), instance


def _nudge(value: dict[str, Any] | list[Any], data: st.DataObject) -> None:
    """Change one member deep inside a structured value (a geometry, an address)."""
    if isinstance(value, dict) and value:
        key = data.draw(st.sampled_from(sorted(value)))
        inner = value[key]
        if isinstance(inner, dict | list) and inner and data.draw(st.booleans()):
            _nudge(inner, data)
        else:
            value[key] = data.draw(json_values)
    elif isinstance(value, list) and value:
        index = data.draw(st.integers(min_value=0, max_value=len(value) - 1))
        inner = value[index]
        if isinstance(inner, dict | list) and inner and data.draw(st.booleans()):
            _nudge(inner, data)
        else:
            value[index] = data.draw(json_values)


def test_booleans_are_not_numbers_and_one_point_zero_is_an_integer() -> None:
    from data_models.fastcheck import TYPE_CHECKS

    assert not TYPE_CHECKS["number"](True)
    assert not TYPE_CHECKS["integer"](False)
    assert TYPE_CHECKS["integer"](3.0)
    assert not TYPE_CHECKS["integer"](3.5)
