"""Keeping this process's subscriptions in step with the store, for replicas sharing it.

At start every stored subscription is loaded and compiled into the index. Then, every
`subscription_sync_interval` seconds, the revisions of all subscriptions are read (one cheap
query per tenant): a subscription with an unknown or changed revision is read again and
recompiled, one no longer listed is dropped. A subscription created, updated or deleted
through another replica is thus matched here within about one interval; the replica that
handled the request applies it at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from broker.storage.base import StoredSubscription, StoreError, SubscriptionStore
from broker.subscriptions.compiled import compile_subscription
from broker.subscriptions.index import SubscriptionIndex
from broker.subscriptions.stats import StatsBook

log = logging.getLogger(__name__)

Key = tuple[str, str]


class SubscriptionSync:
    def __init__(
        self,
        store: SubscriptionStore,
        index: SubscriptionIndex,
        stats: StatsBook,
        *,
        on_removed: Callable[[Key], None] | None = None,
    ) -> None:
        self._store = store
        self._index = index
        self._stats = stats
        self._on_removed = on_removed
        self._revisions: dict[Key, str] = {}

    async def load(self) -> None:
        """Load and compile every stored subscription."""
        for stored in await self._store.load_subscriptions():
            self._put(stored)
        log.info("subscriptions loaded: %d", len(self._index))

    def _put(self, stored: StoredSubscription) -> bool:
        key = (stored.tenant, stored.id)
        self._revisions[key] = stored.revision
        try:
            self._index.put(compile_subscription(stored.tenant, stored.record))
        except Exception:
            log.exception("subscription %s cannot be compiled; skipped", stored.id)
            return False
        return True

    async def poll(self) -> None:
        """Apply what changed in the store since the last poll."""
        current = await self._store.subscription_revisions()
        for key, revision in current.items():
            if self._revisions.get(key) == revision:
                continue
            stored = await self._store.get_subscription(*key)
            if stored is None:
                continue
            self._put(stored)
        for key in [k for k in self._revisions if k not in current]:
            del self._revisions[key]
            if self._index.get(*key) is not None:
                self._index.remove(*key)
                self._stats.forget(key)
                if self._on_removed is not None:
                    self._on_removed(key)
        self._revisions.update(current)

    async def run(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.poll()
            except StoreError as exc:
                log.warning("subscriptions not synchronised with the store: %s", exc)
