"""The bundled contexts combined per subject and all together (data_models.contexts)."""

from __future__ import annotations

from typing import Any

import pytest

from data_models.contexts import (
    SHARED_NAMESPACE,
    all_models_context,
    combine,
    subject_context,
    subjects,
)
from data_models.registry import Model, get_model, list_models

WEATHER = "https://smartdatamodels.org/dataModel.Weather/"


def _definitions(models: list[Model]) -> dict[str, set[Any]]:
    found: dict[str, set[Any]] = {}
    for model in models:
        for term, iri in model.context["@context"].items():
            found.setdefault(term, set()).add(iri)
    return found


@pytest.mark.parametrize("subject", subjects())
def test_models_of_one_subject_never_define_a_term_differently(subject: str) -> None:
    combined = subject_context(subject)
    assert combined is not None
    assert combined.shared == ()
    models = [m for m in list_models() if m.subject == subject]
    assert combined.models == tuple(sorted(m.type for m in models))
    for model in models:
        for term, iri in model.context["@context"].items():
            assert combined.terms[term] == iri


def test_subject_without_bundled_models_has_no_context() -> None:
    assert subject_context("Agrifood") is None


def test_all_models_context_keeps_every_term_models_define_alike() -> None:
    combined = all_models_context()
    definitions = _definitions(list_models())
    assert set(combined.terms) == set(definitions)
    for term, iris in definitions.items():
        if len(iris) == 1:
            assert combined.terms[term] == next(iter(iris)), term
            assert term not in combined.shared


def test_term_models_define_differently_gets_the_shared_namespace() -> None:
    combined = all_models_context()
    definitions = _definitions(list_models())
    differing = sorted(term for term, iris in definitions.items() if len(iris) > 1)
    assert list(combined.shared) == differing
    assert {"temperature", "dateObserved", "refDevice"} <= set(differing)
    for term in differing:
        assert combined.terms[term] == SHARED_NAMESPACE + term


def test_all_models_context_keeps_each_type_and_its_own_attributes() -> None:
    terms = all_models_context().document()["@context"]
    assert terms["WeatherObserved"] == WEATHER + "WeatherObserved"
    assert terms["atmosphericPressure"] == WEATHER + "atmosphericPressure"
    assert terms["temperature"] == SHARED_NAMESPACE + "temperature"
    assert list(terms) == sorted(terms)


def test_one_model_combined_is_its_own_context() -> None:
    model = get_model("WeatherObserved")
    assert model is not None
    combined = combine([model])
    assert combined.document() == {"@context": dict(sorted(model.context["@context"].items()))}
    assert combined.shared == ()
