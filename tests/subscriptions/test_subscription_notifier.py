"""The notifier (notifier.py) with the HTTP transport against real receivers on loopback
ports: delivery, retries, failure counters, drops, and isolation of a healthy receiver from
a dead one (connection refused) and a slow one (5 s answers)."""

from __future__ import annotations

import asyncio
import socket
import statistics
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from conftest import Receiver

from broker.events import ChangeEvent
from broker.jsonld import TermMap
from broker.metrics import Metrics
from broker.settings import Settings
from broker.subscriptions.compiled import CompiledSubscription, compile_subscription
from broker.subscriptions.http_transport import HttpTransport
from broker.subscriptions.notification import Outbound, Pending, notification_request
from broker.subscriptions.notifier import Notifier
from broker.subscriptions.parse import new_record
from broker.subscriptions.stats import StatsBook

NOW = "2026-01-01T00:00:00.000Z"
ENTITY = {
    "id": "urn:ngsi-ld:Vehicle:1",
    "type": ["https://example.org/Vehicle"],
    "createdAt": NOW,
    "modifiedAt": NOW,
    "attrs": {"https://example.org/speed": [
        {"type": "Property", "value": 1, "createdAt": NOW, "modifiedAt": NOW}]},
}
EVENT = ChangeEvent("", "entityCreated", ENTITY["id"], None, ENTITY)


def dead_url() -> str:
    """A loopback port nothing listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/notify"


def sub_for(terms: TermMap, uri: str, **endpoint: Any) -> CompiledSubscription:
    body = {
        "type": "Subscription",
        "entities": [{"type": "Vehicle"}],
        "notification": {"endpoint": {"uri": uri, **endpoint}},
    }
    return compile_subscription("", new_record(body, terms, Settings(), context=None, now=NOW))


def pending_for(sub: CompiledSubscription) -> Pending:
    fired = sub.fired(EVENT)
    assert fired is not None
    return Pending(sub, EVENT, fired, NOW)


Make = Callable[..., Notifier]


@pytest.fixture
async def make_notifier(terms: TermMap) -> AsyncIterator[Callable[..., Any]]:
    made: list[Notifier] = []

    async def make(**overrides: Any) -> tuple[Notifier, StatsBook, Metrics]:
        values: dict[str, Any] = {
            "allow_private_urls": True,
            "notification_retries": 0,
            "notification_retry_backoff": 0.01,
            "notification_drain_timeout": 0.2,
        }
        values.update(overrides)
        stats, metrics = StatsBook(), Metrics()

        async def build(p: Pending) -> Outbound:
            return notification_request(p, terms, "https://example.org/ctx.jsonld")

        notifier = Notifier(
            Settings(**values), build, stats, metrics,
            {"http": HttpTransport(allow_private=True)},
        )
        await notifier.start()
        made.append(notifier)
        return notifier, stats, metrics

    yield make
    for notifier in made:
        await notifier.close()


async def settle(condition: Callable[[], bool], within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.005)


async def test_a_delivered_notification_counts_as_sent(
    terms: TermMap, receiver: Receiver, make_notifier: Any
) -> None:
    notifier, stats, metrics = await make_notifier()
    sub = sub_for(terms, receiver.url())
    assert notifier.submit(pending_for(sub))
    await receiver.wait_for(1)
    await settle(lambda: stats.get(sub.key).times_sent == 1)
    s = stats.get(sub.key)
    assert (s.status, s.times_failed, s.last_success) == ("ok", 0, NOW)
    assert metrics.notifications_sent.labels("http")._value.get() == 1


async def test_an_error_answer_is_retried_then_counted_as_failed_until_a_success(
    terms: TermMap, receiver: Receiver, make_notifier: Any
) -> None:
    notifier, stats, metrics = await make_notifier(notification_retries=2)
    receiver.status["/notify"] = 500
    sub = sub_for(terms, receiver.url())
    notifier.submit(pending_for(sub))
    await receiver.wait_for(3)
    await settle(lambda: stats.get(sub.key).times_sent == 1)
    s = stats.get(sub.key)
    assert (s.status, s.times_failed, s.last_failure, s.last_success) == ("failed", 1, NOW, None)
    assert metrics.notifications_failed.labels("http")._value.get() == 1
    receiver.status["/notify"] = 200
    notifier.submit(pending_for(sub))
    await settle(lambda: stats.get(sub.key).times_sent == 2)
    assert stats.get(sub.key).status == "ok"
    assert stats.get(sub.key).times_failed == 1


async def test_a_refused_connection_is_a_failure(terms: TermMap, make_notifier: Any) -> None:
    notifier, stats, _ = await make_notifier(notification_retries=1)
    sub = sub_for(terms, dead_url())
    notifier.submit(pending_for(sub))
    await settle(lambda: stats.get(sub.key).times_sent == 1)
    assert stats.get(sub.key).status == "failed"


async def test_a_timeout_is_a_failure(
    terms: TermMap, receiver: Receiver, make_notifier: Any
) -> None:
    notifier, stats, _ = await make_notifier()
    receiver.delay["/slow"] = 5.0
    sub = sub_for(terms, receiver.url("/slow"), timeout=100)
    notifier.submit(pending_for(sub))
    await settle(lambda: stats.get(sub.key).times_sent == 1, within=2.0)
    assert stats.get(sub.key).status == "failed"


async def test_a_full_queue_drops_and_counts(
    terms: TermMap, receiver: Receiver, make_notifier: Any
) -> None:
    notifier, _, metrics = await make_notifier(
        notification_queue_size=2, notification_concurrency=1
    )
    receiver.delay["/slow"] = 5.0
    sub = sub_for(terms, receiver.url("/slow"))
    notifier.submit(pending_for(sub))
    await receiver.wait_for(1, "/slow")  # the worker is busy; the queue holds two more
    results = [notifier.submit(pending_for(sub)) for _ in range(5)]
    assert results == [True, True, False, False, False]
    assert notifier.queues()[0].dropped == 3
    assert metrics.notifications_dropped.labels("http")._value.get() == 3


async def test_cooldown_skips_notifications_after_a_failure(
    terms: TermMap, receiver: Receiver, make_notifier: Any
) -> None:
    notifier, stats, _ = await make_notifier()
    receiver.status["/notify"] = 503
    sub = sub_for(terms, receiver.url(), cooldown=60_000)
    notifier.submit(pending_for(sub))
    await settle(lambda: stats.get(sub.key).times_sent == 1)
    notifier.submit(pending_for(sub))
    await asyncio.sleep(0.1)
    assert len(receiver.at("/notify")) == 1
    assert stats.get(sub.key).times_sent == 1


async def test_close_delivers_what_is_queued(
    terms: TermMap, receiver: Receiver, make_notifier: Any
) -> None:
    notifier, stats, _ = await make_notifier(
        notification_concurrency=1, notification_drain_timeout=5.0
    )
    sub = sub_for(terms, receiver.url())
    for _ in range(20):
        notifier.submit(pending_for(sub))
    await notifier.close()
    assert len(receiver.at("/notify")) == 20
    assert stats.get(sub.key).times_sent == 20
    assert not notifier.submit(pending_for(sub))


async def _healthy_latencies(
    notifier: Notifier, receiver: Receiver, sub: CompiledSubscription, count: int,
    noise: Callable[[], None] | None = None,
) -> list[float]:
    loop = asyncio.get_running_loop()
    sent_at: list[float] = []
    start = len(receiver.at("/healthy"))
    for _ in range(count):
        if noise is not None:
            noise()
        sent_at.append(loop.time())
        notifier.submit(pending_for(sub))
        await asyncio.sleep(0.005)
    arrived = await receiver.wait_for(start + count, "/healthy")
    return [r.at - t for r, t in zip(arrived[start:], sent_at, strict=True)]


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


async def test_dead_and_slow_receivers_do_not_delay_a_healthy_one(
    terms: TermMap, receiver: Receiver, make_notifier: Any
) -> None:
    notifier, _, _ = await make_notifier(notification_retries=2)
    receiver.delay["/slow"] = 5.0
    healthy = sub_for(terms, receiver.url("/healthy"))
    slow = sub_for(terms, receiver.url("/slow").replace("127.0.0.1", "localhost"))
    dead = sub_for(terms, dead_url())
    await _healthy_latencies(notifier, receiver, healthy, 20)  # warm the connections
    alone = await _healthy_latencies(notifier, receiver, healthy, 200)

    def noise() -> None:
        notifier.submit(pending_for(slow))
        notifier.submit(pending_for(dead))

    crowded = await _healthy_latencies(notifier, receiver, healthy, 200, noise)
    assert len(receiver.at("/slow")) > 0, "the slow receiver was not reached"
    delay = _p99(crowded) - _p99(alone)
    assert delay < 0.010, (
        f"p99 {_p99(alone) * 1000:.2f} ms alone, {_p99(crowded) * 1000:.2f} ms beside "
        "a dead and a slow receiver"
    )
