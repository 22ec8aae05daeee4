"""Writes of the bundled Smart Data Models types checked against their schemas.

A tenant's mode is `off` (nothing checked), `warn` (a write that does not fit its model is
stored, logged and counted) or `enforce` (it is refused with 400 BadRequestData naming the
failing field, and nothing changes). The `validation` setting gives the mode of every tenant,
`validation_tenants` overrides it per tenant (`city-a=enforce,city-b=warn`).

An entity is checked when one of its types is a bundled model's: its Smart Data Models IRI
(from the model's @context or the one of all bundled models) or the default-context IRI of
the model's name (an entity written with the core @context only). The stored, expanded entity
is turned back into the keyValues form of the model's short names (the model's own context,
the combined one, the core context, the default vocabulary), and that is what is checked.

What is checked is the entity as the write leaves it. A create or a replace answers for the
whole entity; an update, append or merge answers only for the attributes it writes (and the
ones it deletes), so an entity stored before the mode was switched on can still be updated
attribute by attribute. A valid entity costs the compiled check of `data_models.fastcheck`
(tens of microseconds); jsonschema runs only to explain a refusal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any, NamedTuple, TypeVar

from broker.errors import BadRequestData
from broker.jsonld.core import DEFAULT_VOCAB, core_context_document
from broker.metrics import Metrics
from broker.types import VALUE_MEMBER, ExpandedEntity, Instance
from data_models.contexts import all_models_context
from data_models.fastcheck import compile_model
from data_models.keyvalues import attribute_value
from data_models.registry import Model, list_models
from data_models.validate import Problem, validate

log = logging.getLogger("agora.validation")

MODES = ("off", "warn", "enforce")

Old = TypeVar("Old")
R = TypeVar("R")


class HeldWarning(NamedTuple):
    """A warn-mode report kept back (`held_warnings`) until the write is known."""

    tenant: str
    model: str
    entity_id: str
    described: str


_held: ContextVar[list[HeldWarning] | None] = ContextVar("agora_validation_held", default=None)


@contextmanager
def held_warnings() -> Iterator[list[HeldWarning]]:
    """Within the block, the current task's warn-mode reports are kept in the yielded list
    instead of being logged and counted; `ModelValidation.release` reports those that stand.
    A batch that guesses its ids absent applies an element a second time when the guess was
    wrong, and only the second application is written."""
    held: list[HeldWarning] = []
    token = _held.set(held)
    try:
        yield held
    finally:
        _held.reset(token)


def parse_modes(default: str, tenants: Iterable[str]) -> tuple[str, dict[str, str]]:
    """The settings `validation` and `validation_tenants` read; ValueError names a bad one."""
    if default not in MODES:
        raise ValueError(f"validation must be one of {', '.join(MODES)}, not {default!r}")
    per_tenant: dict[str, str] = {}
    for item in tenants:
        tenant, sep, mode = item.partition("=")
        if not sep or not tenant.strip() or mode.strip() not in MODES:
            raise ValueError(
                f"validation_tenants: {item!r} is not tenant=mode with mode one of "
                f"{', '.join(MODES)}"
            )
        per_tenant[tenant.strip()] = mode.strip()
    return default, per_tenant


class ModelValidation:
    def __init__(
        self, default: str = "off", tenants: Iterable[str] = (), metrics: Metrics | None = None
    ) -> None:
        self.default, self.per_tenant = parse_modes(default, tenants)
        self.metrics = metrics

    def mode(self, tenant: str) -> str:
        return self.per_tenant.get(tenant, self.default)

    def active(self, tenant: str) -> bool:
        return self.mode(tenant) != "off"

    def check(
        self, tenant: str, entity: ExpandedEntity, written: Collection[str] | None = None
    ) -> None:
        """Check one entity as a write leaves it. `written`: the expanded names of the
        attributes the write touched (None: the whole entity answers). Raises
        BadRequestData in enforce mode; logs and counts in warn mode."""
        mode = self.mode(tenant)
        if mode == "off":
            return
        for model in _models_of(entity["type"]):
            problems = _problems(model, entity, written)
            if problems:
                self._report(tenant, mode, model, entity["id"], problems)

    def _report(
        self, tenant: str, mode: str, model: Model, entity_id: str, problems: list[Problem]
    ) -> None:
        described = "; ".join(f"{p.field or '(entity)'}: {p.message}" for p in problems)
        if mode == "enforce":
            if self.metrics is not None:
                self.metrics.validation_failures.labels(model.type, "refused").inc()
            raise BadRequestData(
                f"entity '{entity_id}' does not fit the {model.type} model: {described}",
                field=problems[0].field or "type",
            )
        warning = HeldWarning(tenant, model.type, entity_id, described)
        held = _held.get()
        if held is None:
            self._warn(warning)
        else:
            held.append(warning)

    def release(self, held: Iterable[HeldWarning], keep: Callable[[str], bool]) -> None:
        """Log and count the held warnings whose entity id `keep` accepts; drop the others."""
        for warning in held:
            if keep(warning.entity_id):
                self._warn(warning)

    def _warn(self, warning: HeldWarning) -> None:
        if self.metrics is not None:
            self.metrics.validation_failures.labels(warning.model, "warned").inc()
        log.warning(
            "tenant %r: entity %r does not fit the %s model: %s",
            warning.tenant, warning.entity_id, warning.model, warning.described,
        )


def validated(
    validation: ModelValidation | None,
    tenant: str,
    apply: Callable[[Old], R],
    written: Callable[[Old], Collection[str] | None],
    entity_of: Callable[[R], ExpandedEntity | None],
) -> Callable[[Old], R]:
    """`apply` (an update rule: the stored entity, or None where a batch creates, to its
    result) followed by the check of the entity it produced (`entity_of` picks it from the
    result; `written(old)`: the attributes the rule writes, None for the whole entity);
    `apply` itself when the tenant's mode is off."""
    if validation is None or not validation.active(tenant):
        return apply

    def run(old: Old) -> R:
        result = apply(old)
        entity = entity_of(result)
        if entity is not None and entity is not old:
            validation.check(tenant, entity, written(old))
        return result

    return run


def _problems(
    model: Model, entity: ExpandedEntity, written: Collection[str] | None
) -> list[Problem]:
    key_values = _key_values(model, entity)
    fast = compile_model(model.type)
    if fast is not None and fast(key_values):
        return []
    problems = validate(key_values)
    if written is None:
        return problems
    touched = {_short_name(iri) for iri in written}
    return [p for p in problems if _top_level(p.field) in touched]


def _key_values(model: Model, entity: ExpandedEntity) -> dict[str, Any]:
    key_values: dict[str, Any] = {"id": entity["id"], "type": model.type}
    for iri, instances in entity.get("attrs", {}).items():
        key_values[_short_name(iri)] = _stored_value(instances)
    return key_values


def _short_name(iri: str) -> str:
    """The short name the models' schemas use for an expanded attribute IRI; a
    default-context IRI not in any context gives its last segment, as @vocab would; any other
    IRI stays as it is (no model names it)."""
    name = _short_names().get(iri)
    if name is not None:
        return name
    return iri[len(DEFAULT_VOCAB):] if iri.startswith(DEFAULT_VOCAB) else iri


def _stored_value(instances: list[Instance]) -> Any:
    """The keyValues value of a stored attribute: its default instance's value member (as
    `data_models.keyvalues` gives it, without having to guess the form)."""
    instance = instances[0]
    if "datasetId" in instance:
        instance = next((i for i in instances if "datasetId" not in i), instance)
    member = VALUE_MEMBER.get(instance.get("type", ""))
    if member is None:
        return attribute_value(instances)
    value = instance.get(member)
    if member == "objectList" and isinstance(value, list):
        return [item["object"] if isinstance(item, dict) else item for item in value]
    if isinstance(value, dict) and "@value" in value:
        return value["@value"]
    return value


def _top_level(field: str) -> str:
    for i, char in enumerate(field):
        if char in ".[":
            return field[:i]
    return field


@cache
def _models_by_iri() -> dict[str, Model]:
    combined = all_models_context().terms
    found: dict[str, Model] = {}
    for model in list_models():
        found[model.type_iri] = model
        found[DEFAULT_VOCAB + model.type] = model
        combined_iri = _iri_of(combined.get(model.type))
        if combined_iri is not None:
            found[combined_iri] = model
    return found


def _models_of(types: list[str]) -> list[Model]:
    by_iri = _models_by_iri()
    return [by_iri[t] for t in types if t in by_iri]


@cache
def _short_names() -> dict[str, str]:
    """Expanded attribute IRI -> the short name the models' schemas use."""
    names: dict[str, str] = {}
    core = core_context_document()["@context"]
    core_terms = core if isinstance(core, dict) else {}
    for term, definition in core_terms.items():
        iri = _expand_compact(_iri_of(definition), core_terms)
        if iri is not None and not term.startswith("@"):
            names.setdefault(iri, term)
    contexts = [model.context["@context"] for model in list_models()]
    contexts.append(all_models_context().terms)
    for terms in contexts:
        for term, definition in terms.items():
            iri = _iri_of(definition)
            if iri is not None:
                names[iri] = term
    return names


def _iri_of(definition: Any) -> str | None:
    if isinstance(definition, str):
        return definition
    if isinstance(definition, dict) and isinstance(definition.get("@id"), str):
        iri: str = definition["@id"]
        return iri
    return None


def _expand_compact(iri: str | None, terms: dict[str, Any]) -> str | None:
    """A full IRI as it is, a compact one (`ngsi-ld:location`) through its prefix term;
    None for anything else."""
    if iri is None or "://" in iri:
        return iri
    prefix, sep, rest = iri.partition(":")
    base = _iri_of(terms.get(prefix)) if sep else None
    return base + rest if base is not None else None
