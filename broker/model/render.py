"""ExpandedEntity -> wire forms. (interface stub)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from broker.jsonld import TermMap
from broker.types import CompactedEntity, ExpandedEntity, Instance

Form = Literal["normalized", "concise", "keyValues"]


@dataclass(frozen=True, slots=True)
class RenderOptions:
    form: Form = "normalized"
    sys_attrs: bool = False
    lang: str | None = None
    attrs: frozenset[str] | None = None
    pick: frozenset[str] | None = None
    omit: frozenset[str] | None = None


def render_entity(
    entity: ExpandedEntity, terms: TermMap, opts: RenderOptions
) -> CompactedEntity:
    raise NotImplementedError


def render_attribute(instances: list[Instance], terms: TermMap, opts: RenderOptions) -> Any:
    raise NotImplementedError


def render_feature(
    entity: ExpandedEntity, terms: TermMap, opts: RenderOptions, geometry_property: str
) -> dict[str, Any]:
    raise NotImplementedError
