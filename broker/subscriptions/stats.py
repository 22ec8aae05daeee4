"""Delivery counters of each subscription (the read-only members of NotificationParams,
clause 5.2.14), kept in memory and written to the store in batches.

A notification does not cost a store write: `StatsBook` marks the subscription dirty and
`flush` writes every dirty one in one call (the service flushes periodically and at
shutdown). After a crash, the counters of the last interval are lost; nothing else is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from broker.storage.base import StoreError

log = logging.getLogger(__name__)

Key = tuple[str, str]
"""(tenant, subscription id)"""


@dataclass(slots=True)
class DeliveryStats:
    times_sent: int = 0
    times_failed: int = 0
    last_notification: str | None = None
    last_success: str | None = None
    last_failure: str | None = None
    status: str | None = None
    """"ok" when the last notification was delivered, "failed" when it was not."""

    def as_members(self) -> dict[str, Any]:
        """The NotificationParams members (clause 5.2.14) these counters give."""
        out: dict[str, Any] = {"timesSent": self.times_sent, "timesFailed": self.times_failed}
        if self.status is not None:
            out["status"] = self.status
        for member, value in (
            ("lastNotification", self.last_notification),
            ("lastSuccess", self.last_success),
            ("lastFailure", self.last_failure),
        ):
            if value is not None:
                out[member] = value
        return out

    def to_json(self) -> dict[str, Any]:
        return self.as_members()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeliveryStats:
        return cls(
            times_sent=int(data.get("timesSent", 0)),
            times_failed=int(data.get("timesFailed", 0)),
            last_notification=data.get("lastNotification"),
            last_success=data.get("lastSuccess"),
            last_failure=data.get("lastFailure"),
            status=data.get("status"),
        )


class StatsSink(Protocol):
    async def save_subscription_stats(
        self, updates: list[tuple[str, str, dict[str, Any]]]
    ) -> None: ...


class StatsBook:
    def __init__(self) -> None:
        self._stats: dict[Key, DeliveryStats] = {}
        self._dirty: set[Key] = set()

    def get(self, key: Key) -> DeliveryStats:
        found = self._stats.get(key)
        if found is None:
            found = self._stats[key] = DeliveryStats()
        return found

    def current(self, key: Key, stored: dict[str, Any]) -> DeliveryStats:
        """This process's counters of a subscription, or the stored ones when it has none."""
        found = self._stats.get(key)
        return found if found is not None else DeliveryStats.from_json(stored)

    def load(self, key: Key, data: dict[str, Any]) -> None:
        self._stats[key] = DeliveryStats.from_json(data)

    def forget(self, key: Key) -> None:
        self._stats.pop(key, None)
        self._dirty.discard(key)

    def sent(self, key: Key, at: str, *, ok: bool) -> None:
        stats = self.get(key)
        stats.times_sent += 1
        stats.last_notification = at
        if ok:
            stats.last_success = at
            stats.status = "ok"
        else:
            stats.times_failed += 1
            stats.last_failure = at
            stats.status = "failed"
        self._dirty.add(key)

    @property
    def dirty(self) -> int:
        return len(self._dirty)

    async def flush(self, sink: StatsSink) -> None:
        """Write every dirty subscription's counters; on a store failure they stay dirty."""
        if not self._dirty:
            return
        keys = list(self._dirty)
        self._dirty.clear()
        updates = [(t, s, self._stats[(t, s)].to_json()) for t, s in keys if (t, s) in self._stats]
        try:
            await sink.save_subscription_stats(updates)
        except StoreError as exc:
            log.warning("subscription counters not saved (kept for the next flush): %s", exc)
            self._dirty.update(keys)
