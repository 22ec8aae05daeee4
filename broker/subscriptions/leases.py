"""Notification slots claimed in the store, so that replicas sharing it agree.

A throttled subscription notifies at most once per `throttling` seconds across every
replica and across restarts: before sending, the notifier asks `admit_throttled`, which
claims the slot in the store (`claim_notification`, an atomic conditional update). A store
that cannot answer does not hold notifications back: they are sent, and the miss logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from broker.storage.base import StoreError, SubscriptionStore
from broker.subscriptions.notification import Pending

log = logging.getLogger(__name__)


class ThrottleLeases:
    def __init__(
        self, store: SubscriptionStore, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._clock = clock

    async def admit_throttled(self, pending: Pending) -> bool:
        sub = pending.sub
        if sub.throttling is None:
            return True
        try:
            granted, _ = await self._store.claim_notification(
                sub.tenant, sub.id, self._clock(), float(sub.throttling)
            )
        except StoreError as exc:
            log.warning("throttling of %s not checked in the store: %s", sub.id, exc)
            return True
        return granted
