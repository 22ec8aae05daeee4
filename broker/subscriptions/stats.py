"""Delivery counters of each subscription (the read-only members of NotificationParams,
clause 5.2.14), kept in memory and written to the store in batches.

A notification does not cost a store write: `StatsBook` keeps this process's notifications
since the last flush and `flush` adds them to the stored counters in one call (periodically
and at shutdown). The store adds, it does not overwrite, so replicas sharing a store each add
their own notifications and the stored counters are the sum. After a crash, the
notifications of the last interval are not counted; nothing else is lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from broker.storage.base import StoreError, add_counters

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


def merged(stored: DeliveryStats, delta: DeliveryStats) -> DeliveryStats:
    """Counters `stored` plus the notifications of `delta` (the store's own rule)."""
    return DeliveryStats.from_json(add_counters(stored.to_json(), delta.to_json()))


class StatsSink(Protocol):
    async def add_subscription_stats(
        self, updates: list[tuple[str, str, dict[str, Any]]]
    ) -> None: ...


class StatsBook:
    """This process's notifications not yet added to the store's counters. What a client
    reads is the store's counters (the sum over every replica, as of the last flushes) plus
    these."""

    def __init__(self) -> None:
        self._pending: dict[Key, DeliveryStats] = {}
        self._in_flight: dict[Key, DeliveryStats] = {}

    def get(self, key: Key) -> DeliveryStats:
        """The notifications of `key` this process has not yet written to the store."""
        found = self._pending.get(key)
        if found is None:
            found = self._pending[key] = DeliveryStats()
        return found

    def current(self, key: Key, stored: dict[str, Any]) -> DeliveryStats:
        """The stored counters of a subscription with this process's unwritten ones added."""
        out = DeliveryStats.from_json(stored)
        for book in (self._in_flight, self._pending):
            delta = book.get(key)
            if delta is not None:
                out = merged(out, delta)
        return out

    def forget(self, key: Key) -> None:
        self._pending.pop(key, None)
        self._in_flight.pop(key, None)

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

    @property
    def dirty(self) -> int:
        return len(self._pending)

    async def flush(self, sink: StatsSink) -> None:
        """Add every pending notification to the store's counters; on a store failure they
        stay pending."""
        if not self._pending:
            return
        self._in_flight, self._pending = self._pending, {}
        updates = [(t, s, stats.to_json()) for (t, s), stats in self._in_flight.items()]
        try:
            await sink.add_subscription_stats(updates)
        except StoreError as exc:
            log.warning("subscription counters not saved (kept for the next flush): %s", exc)
            for key, stats in self._in_flight.items():
                later = self._pending.get(key)
                self._pending[key] = stats if later is None else merged(stats, later)
        finally:
            self._in_flight = {}
