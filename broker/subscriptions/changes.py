"""What a write changed in an entity's attributes: the names created, updated and deleted.

An attribute counts as updated when any of its instances differs, its `modifiedAt`
included: a write that sets the same value again is still an update (a sensor reporting an
unchanged reading), as the entity's own modifiedAt says.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.types import ExpandedEntity


@dataclass(frozen=True, slots=True)
class AttributeChanges:
    created: frozenset[str]
    updated: frozenset[str]
    deleted: frozenset[str]
    entity_changed: bool = False
    """The entity's own members (type, scope) changed."""


NO_CHANGES = AttributeChanges(frozenset(), frozenset(), frozenset())


def attribute_changes(
    before: ExpandedEntity | None, after: ExpandedEntity | None
) -> AttributeChanges:
    old = (before or {}).get("attrs") or {}
    new = (after or {}).get("attrs") or {}
    created = frozenset(name for name in new if name not in old)
    deleted = frozenset(name for name in old if name not in new)
    updated = frozenset(
        name for name, instances in new.items() if name in old and old[name] != instances
    )
    entity_changed = before is not None and after is not None and (
        before.get("type") != after.get("type") or before.get("scope") != after.get("scope")
    )
    return AttributeChanges(created, updated, deleted, entity_changed)
