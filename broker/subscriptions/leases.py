"""Throttling (clause 5.2.12: the least time between two notifications of a subscription),
held across replicas and restarts by leases in the store.

`too_soon` is the cheap check the matcher makes on the write path, against the last
notification time this process knows of. With a store, that time is learnt from the store:
before a throttled subscription's notification is sent, the notifier asks
`admit_throttled`, which claims the slot (`claim_notification`, an atomic conditional
update); the answer, granted or not, carries the time of the last slot anyone claimed, so
changes arriving within the throttling period after another replica's notification are
dropped here without a store round trip. Without a store (tests, a single process that
need not survive restarts) the matcher's own notifications are the record (`note`).

A store that cannot answer does not hold notifications back: they are sent, the miss logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from broker.storage.base import StoreError, SubscriptionStore
from broker.subscriptions.compiled import CompiledSubscription
from broker.subscriptions.notification import Pending

log = logging.getLogger(__name__)

Key = tuple[str, str]


class ThrottleLeases:
    def __init__(
        self, store: SubscriptionStore | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._clock = clock
        self._last: dict[Key, float] = {}

    @property
    def shared(self) -> bool:
        """True when the leases live in the store (the notifier claims them)."""
        return self._store is not None

    def too_soon(self, sub: CompiledSubscription, now: float) -> bool:
        last = self._last.get(sub.key)
        return last is not None and sub.throttling is not None and now - last < sub.throttling

    def note(self, key: Key, at: float) -> None:
        self._last[key] = max(at, self._last.get(key, at))

    def forget(self, key: Key) -> None:
        self._last.pop(key, None)

    async def admit_throttled(self, pending: Pending) -> bool:
        sub = pending.sub
        if sub.throttling is None or self._store is None:
            return True
        now = self._clock()
        try:
            granted, lease = await self._store.claim_notification(
                sub.tenant, sub.id, now, float(sub.throttling)
            )
        except StoreError as exc:
            log.warning("throttling of %s not checked in the store: %s", sub.id, exc)
            return True
        if lease is not None:
            self.note(sub.key, lease)
        return granted
