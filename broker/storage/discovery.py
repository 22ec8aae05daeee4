"""Discovery answers from attribute-use rows, for a store that groups its documents.

The MongoDB store reduces its entities to `AttributeUse` rows, grouped server-side so that
there are about as many rows as (type, attribute, kind set) combinations, not entities (the
SQLite store reads counts and combinations from its side tables instead and builds the
answers in `sqlite/discovery.py`):

    (entity type, attribute, kinds, entities, primary)

`entities` is the number of entities of that type holding the attribute with exactly that
set of kinds across its instances; `primary` counts only those of them for which `type` is
the entity's first type, so that summing `primary` over a tenant's rows counts each entity
once per attribute even when it has several types. Rows with the same key may repeat (a
server may spell one kind set in two orders); they add up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from broker.storage.base import AttributeDetails, TypeDetails


@dataclass(frozen=True, slots=True)
class AttributeUse:
    type: str
    attribute: str
    kinds: frozenset[str]
    entities: int
    primary: int


def parse_kinds(text: str | None) -> frozenset[str]:
    """A kind set spelt as the stores group it: kinds joined by commas (empty items ignored)."""
    if not text:
        return frozenset()
    return frozenset(kind for kind in text.split(",") if kind)


def summarise_types(
    type_counts: Mapping[str, int], uses: Iterable[AttributeUse]
) -> list[TypeDetails]:
    """One TypeDetails per type of `type_counts`, ordered by type."""
    attributes: dict[str, dict[str, set[str]]] = {t: {} for t in type_counts}
    for use in uses:
        per_type = attributes.get(use.type)
        if per_type is not None:
            per_type.setdefault(use.attribute, set()).update(use.kinds)
    return [
        TypeDetails(
            type=t,
            entity_count=type_counts[t],
            attributes={name: frozenset(kinds) for name, kinds in sorted(attributes[t].items())},
        )
        for t in sorted(type_counts)
    ]


def summarise_attributes(uses: Iterable[AttributeUse]) -> list[AttributeDetails]:
    """One AttributeDetails per attribute named in `uses`, ordered by name."""
    counts: dict[str, int] = {}
    kinds: dict[str, set[str]] = {}
    types: dict[str, set[str]] = {}
    for use in uses:
        counts[use.attribute] = counts.get(use.attribute, 0) + use.primary
        kinds.setdefault(use.attribute, set()).update(use.kinds)
        types.setdefault(use.attribute, set()).add(use.type)
    return [
        AttributeDetails(
            name=name,
            entity_count=counts[name],
            kinds=frozenset(kinds[name]),
            types=frozenset(types[name]),
        )
        for name in sorted(counts)
    ]
