"""The change listener: for each ChangeEvent, the tenant's subscriptions that fire, handed to
the notifier's queues. It runs inside `EventBus.publish`, on the write path, so it only
matches and enqueues; rendering and sending happen in the notifier's workers.

`throttling` (clause 5.2.12: the least time between two notifications of one subscription):
a change that comes sooner after the last notification known (leases.py) is not notified.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from broker.events import ChangeEvent
from broker.query.patterns import PatternTooCostly
from broker.services.entities import utc_now
from broker.subscriptions.index import SubscriptionIndex
from broker.subscriptions.leases import ThrottleLeases
from broker.subscriptions.notification import Pending

log = logging.getLogger(__name__)


class Matcher:
    def __init__(
        self,
        index: SubscriptionIndex,
        submit: Callable[[Pending], bool],
        *,
        throttle: ThrottleLeases | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._index = index
        self._submit = submit
        self._clock = clock
        self._throttle = throttle if throttle is not None else ThrottleLeases(clock=clock)

    def on_change(self, event: ChangeEvent) -> None:
        types: set[str] = set()
        for entity in (event.before, event.after):
            if entity is not None:
                types.update(entity.get("type") or ())
        candidates = self._index.candidates(event.tenant, types)
        if not candidates:
            return
        now = self._clock()
        notified_at = utc_now()
        for sub in candidates:
            try:
                fired = sub.fired(event, now)
            except PatternTooCostly as exc:
                log.warning("subscription %s does not fire for %s: %s", sub.key[1],
                            event.entity_id, exc.detail)
                continue
            if fired is None:
                continue
            if sub.throttling is not None:
                if self._throttle.too_soon(sub, now):
                    continue
                if not self._throttle.shared:
                    self._throttle.note(sub.key, now)
            self._submit(Pending(sub, event, fired, notified_at))

    def forget(self, key: tuple[str, str]) -> None:
        self._throttle.forget(key)
