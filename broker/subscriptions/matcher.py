"""The change listener: for each ChangeEvent, the tenant's subscriptions that fire, handed to
the notifier's queues. It runs inside `EventBus.publish`, on the write path, so it only
matches and enqueues; rendering and sending happen in the notifier's workers.

`throttling` (clause 5.2.12: the least time between two notifications of one subscription)
is honoured in memory: a notification that comes sooner is not sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from broker.events import ChangeEvent
from broker.services.entities import utc_now
from broker.subscriptions.index import SubscriptionIndex
from broker.subscriptions.notification import Pending


class Matcher:
    def __init__(
        self,
        index: SubscriptionIndex,
        submit: Callable[[Pending], bool],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._index = index
        self._submit = submit
        self._clock = clock
        self._last_sent: dict[tuple[str, str], float] = {}

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
            fired = sub.fired(event, now)
            if fired is None:
                continue
            if sub.throttling is not None:
                last = self._last_sent.get(sub.key)
                if last is not None and now - last < sub.throttling:
                    continue
                self._last_sent[sub.key] = now
            self._submit(Pending(sub, event, fired, notified_at))

    def forget(self, key: tuple[str, str]) -> None:
        self._last_sent.pop(key, None)
