"""A stored subscription made ready for matching: its selectors and filters as query ASTs.

`CompiledSubscription.fired(event)` decides whether one change event notifies, with the
semantics of clauses 5.2.12 and 5.8.6:

- the entity (after the change; before it for a deletion) must match one of `entities`
  (id, idPattern, type expression), or any entity when only watchedAttributes is given;
- and `q`, `geoQ` and `scopeQ`, evaluated by `broker.query.evaluate` exactly as a query
  would (`csf` filters context sources, not entities: it is kept, not evaluated);
- and one of `notificationTrigger`: `entityCreated`, `entityDeleted` for those events;
  `attributeCreated` / `attributeUpdated` / `attributeDeleted` when an attribute was added /
  changed / removed, where creating an entity adds each of its attributes; `entityUpdated`
  is any of the three attribute triggers on an existing entity (not its creation), or a
  change of its type or scope.
  `watchedAttributes` restricts the attribute triggers to those attributes (entityCreated
  and entityDeleted fire whatever attributes the entity has);
- paused (isActive false), expired and periodic (timeInterval) subscriptions never fire on
  a change.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from broker.events import ChangeEvent
from broker.query.ast import EntityQuery, GeoQuery, Q, TypeExpr
from broker.query.evaluate import matches
from broker.query.geoq import parse_geoq
from broker.query.scope import parse_scopeq
from broker.query.types import parse_type_expression, type_names
from broker.subscriptions.changes import NO_CHANGES, AttributeChanges, attribute_changes
from broker.subscriptions.qcodec import q_from_json
from broker.subscriptions.record import SubscriptionRecord, expires_epoch
from broker.types import ExpandedEntity

ATTRIBUTE_TRIGGERS = frozenset({"attributeCreated", "attributeUpdated", "attributeDeleted"})


@dataclass(frozen=True, slots=True)
class Fired:
    """Why a subscription notifies for one event: the event's trigger and, for updates, what
    changed (the notification shows deleted attributes and, with showChanges, old values)."""

    trigger: str
    changes: AttributeChanges


@dataclass(frozen=True, slots=True)
class CompiledSubscription:
    tenant: str
    id: str
    record: SubscriptionRecord
    selectors: tuple[EntityQuery, ...]
    """One query per entity selector; empty: any entity."""
    filter: EntityQuery
    watched: frozenset[str] | None
    triggers: frozenset[str]
    """The notificationTrigger list, with entityUpdated spelled out as the three attribute
    triggers it stands for."""
    listed: frozenset[str]
    """The notificationTrigger list as given."""
    type_keys: frozenset[str] | None
    """Every type name the selectors mention (an entity must have one of them to match);
    None when some selector, or the absence of selectors, admits any type."""
    expires: float | None
    active: bool
    periodic: bool
    throttling: float | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.tenant, self.id)

    def running(self, now: float) -> bool:
        """Not paused and not expired."""
        return self.active and (self.expires is None or self.expires > now)

    def live(self, now: float) -> bool:
        """Notifies on changes: running and not periodic."""
        return not self.periodic and self.running(now)

    @property
    def interval(self) -> float | None:
        """timeInterval (seconds) of a periodic subscription."""
        value = self.record.get("timeInterval")
        return None if value is None else float(value)

    def fired(self, event: ChangeEvent, now: float | None = None) -> Fired | None:
        if not self.live(time.time() if now is None else now):
            return None
        entity = event.after if event.after is not None else event.before
        if entity is None or not self.selects(entity):
            return None
        triggers = self.triggers
        if event.trigger == "entityDeleted":
            return Fired("entityDeleted", NO_CHANGES) if "entityDeleted" in triggers else None
        changes = attribute_changes(event.before, event.after)
        if event.trigger == "entityCreated":
            listed = self.listed
            if "entityCreated" in listed or (
                "attributeCreated" in listed and self._watched(changes.created)
            ):
                return Fired("entityCreated", changes)
            return None
        if (
            ("attributeCreated" in triggers and self._watched(changes.created))
            or ("attributeUpdated" in triggers and self._watched(changes.updated))
            or ("attributeDeleted" in triggers and self._watched(changes.deleted))
            or ("entityUpdated" in triggers and changes.entity_changed and self.watched is None)
        ):
            return Fired("entityUpdated", changes)
        return None

    def selects(self, entity: ExpandedEntity) -> bool:
        if self.selectors and not any(matches(entity, s) for s in self.selectors):
            return False
        return matches(entity, self.filter)

    def _watched(self, names: frozenset[str]) -> bool:
        if self.watched is None:
            return bool(names)
        return not self.watched.isdisjoint(names)


def compile_subscription(tenant: str, record: SubscriptionRecord) -> CompiledSubscription:
    selectors: list[EntityQuery] = []
    keys: set[str] | None = set()
    for selector in record.get("entities", ()):
        types: TypeExpr | None = None
        if "type" in selector:
            types = parse_type_expression(selector["type"])
            if keys is not None:
                keys.update(type_names(types))
        else:
            keys = None
        selectors.append(
            EntityQuery(
                ids=(selector["id"],) if "id" in selector else None,
                id_pattern=selector.get("idPattern"),
                types=types,
            )
        )
    if not selectors:
        keys = None
    listed = frozenset(record.get("notificationTrigger", ()))
    triggers = set(listed)
    if "entityUpdated" in triggers:
        triggers |= ATTRIBUTE_TRIGGERS
    watched = record.get("watchedAttributes")
    return CompiledSubscription(
        tenant=tenant,
        id=record["id"],
        record=record,
        selectors=tuple(selectors),
        filter=EntityQuery(
            q=_q(record.get("q")),
            geo=_geo(record.get("geoQ")),
            scope=None if "scopeQ" not in record else parse_scopeq(record["scopeQ"]),
        ),
        watched=None if watched is None else frozenset(watched),
        triggers=frozenset(triggers),
        listed=listed,
        type_keys=None if keys is None else frozenset(keys),
        expires=expires_epoch(record),
        active=bool(record.get("isActive", True)),
        periodic="timeInterval" in record,
        throttling=record.get("throttling"),
    )


def _q(data: dict[str, object] | None) -> Q | None:
    return None if data is None else q_from_json(data)


def _geo(data: dict[str, object] | None) -> GeoQuery | None:
    if data is None:
        return None
    return parse_geoq(
        str(data["georel"]), str(data["geometry"]), data["coordinates"], str(data["geoproperty"])
    )
