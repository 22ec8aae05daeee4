"""The bundled models' JSON-LD contexts combined: those of one subject, and all of them.

A term that several models define alike keeps that definition. A term that models of
different subjects define with different IRIs (`temperature` is a Weather, an Environment
and a WasteManagement term) cannot keep every meaning in one flat context: the combination
maps it to `https://smartdatamodels.org/<term>`, the namespace Smart Data Models gives the
attributes many models share (`name`, `address`, `dateCreated`), so that no model's
attribute is stored under another subject's IRI. The models of one subject define no term
differently; `tests/data_models` checks that.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from data_models.registry import Model, list_models

SHARED_NAMESPACE = "https://smartdatamodels.org/"


@dataclass(frozen=True, slots=True)
class CombinedContext:
    """The term definitions of some bundled models, with what was done to combine them."""

    models: tuple[str, ...]
    """The types whose contexts were combined, in type order."""
    terms: Mapping[str, Any]
    shared: tuple[str, ...]
    """Terms the models define differently, mapped to SHARED_NAMESPACE + term."""

    def document(self) -> dict[str, Any]:
        """The JSON-LD context document: ``{"@context": {term: definition}}``, terms sorted."""
        return {"@context": dict(sorted(self.terms.items()))}


def combine(models: Iterable[Model]) -> CombinedContext:
    chosen = sorted(models, key=lambda model: model.type)
    definitions: dict[str, list[Any]] = {}
    for model in chosen:
        for term, definition in model.context["@context"].items():
            seen = definitions.setdefault(term, [])
            if definition not in seen:
                seen.append(definition)
    terms = {
        term: seen[0] if len(seen) == 1 else SHARED_NAMESPACE + term
        for term, seen in definitions.items()
    }
    shared = tuple(sorted(term for term, seen in definitions.items() if len(seen) > 1))
    return CombinedContext(tuple(model.type for model in chosen), terms, shared)


def subjects() -> list[str]:
    """The subjects (`dataModel.<Subject>` repositories) that have bundled models, sorted."""
    return sorted({model.subject for model in list_models()})


@cache
def subject_context(subject: str) -> CombinedContext | None:
    """The bundled models of one subject combined; None when the subject has none."""
    models = [model for model in list_models() if model.subject == subject]
    return combine(models) if models else None


@cache
def all_models_context() -> CombinedContext:
    return combine(list_models())
