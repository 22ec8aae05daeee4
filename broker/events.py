"""The in-process change bus: the seam between writing and reacting.

Services publish one ChangeEvent per entity change after the store acknowledged it.
Subscriptions and temporal history consume them. Listeners must not block: a listener
that needs I/O puts the event on its own queue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal, NamedTuple

from broker.types import ExpandedEntity

Trigger = Literal[
    "entityCreated",
    "entityUpdated",
    "entityDeleted",
]

log = logging.getLogger(__name__)


class ChangeEvent(NamedTuple):
    """One entity change (a named tuple: a batch publishes one per entity, and a frozen
    dataclass costs several times as much to make)."""

    tenant: str
    trigger: Trigger
    entity_id: str
    before: ExpandedEntity | None
    after: ExpandedEntity | None


Listener = Callable[[ChangeEvent], None]


class EventBus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def publish(self, event: ChangeEvent) -> None:
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                log.exception("change listener %r failed", listener)
