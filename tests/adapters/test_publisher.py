"""AdapterContext.publish: batching, order, tenants, contexts, retries, refusals, overflow."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web

from adapters.sdk import AdapterContext
from tests.adapters.conftest import RecordingBroker, entity, problem

MakeContext = Callable[..., AdapterContext]


async def test_a_full_batch_is_sent_without_waiting_for_the_interval(
    recording_broker: RecordingBroker, make_context: MakeContext
) -> None:
    async with make_context(recording_broker.url, batch_size=3, flush_interval=60) as ctx:
        for n in range(7):
            ctx.publish(entity(n))
        requests = await recording_broker.wait_for_requests(2)
        assert [r.ids for r in requests] == [
            [f"urn:ngsi-ld:Thing:{n}" for n in range(3)],
            [f"urn:ngsi-ld:Thing:{n}" for n in range(3, 6)],
        ]
        assert ctx.counters.snapshot()["buffered"] == 1
    # close sent the rest
    assert recording_broker.requests[-1].ids == ["urn:ngsi-ld:Thing:6"]
    assert requests[0].query == "options=update"


async def test_a_partial_batch_is_sent_after_the_flush_interval(
    recording_broker: RecordingBroker, make_context: MakeContext
) -> None:
    async with make_context(recording_broker.url, batch_size=100, flush_interval=0.2) as ctx:
        ctx.publish(entity(1))
        ctx.publish(entity(2))
        started = asyncio.get_running_loop().time()
        requests = await recording_broker.wait_for_requests(1)
        waited = asyncio.get_running_loop().time() - started
        assert requests[0].ids == ["urn:ngsi-ld:Thing:1", "urn:ngsi-ld:Thing:2"]
        assert 0.1 <= waited < 1.0
        assert ctx.counters.snapshot()["entities_out"] == 2


async def test_updates_to_one_entity_arrive_in_publish_order(
    recording_broker: RecordingBroker, make_context: MakeContext
) -> None:
    async with make_context(recording_broker.url, batch_size=4, flush_interval=60) as ctx:
        for value in range(10):
            ctx.publish(entity(value % 2, reading=value))
    values = [e["reading"]["value"] for r in recording_broker.requests for e in r.body]
    assert values == list(range(10))


async def test_each_tenant_gets_its_own_batches_and_header(
    recording_broker: RecordingBroker, make_context: MakeContext
) -> None:
    async with make_context(recording_broker.url, batch_size=10, flush_interval=60) as ctx:
        ctx.publish(entity(1), tenant="north")
        ctx.publish(entity(2), tenant="south")
        ctx.publish(entity(3), tenant="north")
        ctx.publish(entity(4))
    by_tenant = {r.tenant: r.ids for r in recording_broker.requests}
    assert by_tenant == {
        "north": ["urn:ngsi-ld:Thing:1", "urn:ngsi-ld:Thing:3"],
        "south": ["urn:ngsi-ld:Thing:2"],
        None: ["urn:ngsi-ld:Thing:4"],
    }


async def test_a_url_context_goes_in_a_link_header_and_an_object_inline(
    recording_broker: RecordingBroker, make_context: MakeContext
) -> None:
    inline = {"Thing": "https://example.org/Thing"}
    async with make_context(recording_broker.url, batch_size=10, flush_interval=60) as ctx:
        ctx.publish(entity(1), context="https://example.org/context.jsonld")
        ctx.publish(entity(2), context=inline)
        ctx.publish(entity(3) | {"@context": inline})
        ctx.publish(entity(4))
    linked, ld_json, plain = recording_broker.requests
    assert linked.content_type == "application/json"
    assert linked.link is not None and "<https://example.org/context.jsonld>" in linked.link
    assert "@context" not in linked.body[0]
    assert ld_json.content_type == "application/ld+json" and ld_json.link is None
    assert [e["@context"] for e in ld_json.body] == [inline, inline]
    assert plain.content_type == "application/json" and plain.link is None


async def test_a_broker_answering_503_is_retried_until_it_takes_the_batch(
    recording_broker: RecordingBroker, make_context: MakeContext
) -> None:
    recording_broker.answers = [problem(503), problem(429), problem(500)]
    async with make_context(recording_broker.url, batch_size=2, flush_interval=60) as ctx:
        ctx.publish(entity(1))
        ctx.publish(entity(2))
        await recording_broker.wait_for_requests(4)
        await ctx.flush()
        counts = ctx.counters.snapshot()
    assert [r.ids for r in recording_broker.requests] == [
        ["urn:ngsi-ld:Thing:1", "urn:ngsi-ld:Thing:2"]
    ] * 4
    assert counts["entities_out"] == 2
    assert counts["errors"] == 3
    assert counts["dropped"] == 0


async def test_entities_a_207_rejects_are_counted_and_logged_not_retried(
    recording_broker: RecordingBroker, make_context: MakeContext, caplog: pytest.LogCaptureFixture
) -> None:
    recording_broker.answers = [
        web.json_response(
            {
                "success": ["urn:ngsi-ld:Thing:1"],
                "errors": [
                    {
                        "entityId": "urn:ngsi-ld:Thing:2",
                        "error": {"type": "x", "title": "Bad request", "detail": "temp: bad"},
                    }
                ],
            },
            status=207,
        )
    ]
    with caplog.at_level(logging.WARNING, "agora.adapters"):
        async with make_context(recording_broker.url, batch_size=2, flush_interval=60) as ctx:
            ctx.publish(entity(1))
            ctx.publish(entity(2))
            await ctx.flush()
            counts = ctx.counters.snapshot()
    assert len(recording_broker.requests) == 1
    assert counts["entities_out"] == 1 and counts["errors"] == 1
    assert "urn:ngsi-ld:Thing:2" in caplog.text and "temp: bad" in caplog.text


async def test_a_full_buffer_drops_the_oldest_counts_and_logs_it(
    recording_broker: RecordingBroker, make_context: MakeContext,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ctx = make_context(recording_broker.url, batch_size=2, max_buffered=4, flush_interval=60)
    with caplog.at_level(logging.WARNING, "agora.adapters"):
        for n in range(10):  # not started: nothing leaves until close
            ctx.publish(entity(n))
        counts = ctx.counters.snapshot()
        await ctx.close()
    assert counts["dropped"] == 6 and counts["buffered"] == 4
    assert recording_broker.ids == [f"urn:ngsi-ld:Thing:{n}" for n in range(6, 10)]
    logged = re.findall(r"dropped the (\d+) oldest", caplog.text)
    assert sum(int(n) for n in logged) == 6


async def test_an_adapter_that_waits_for_room_loses_nothing_while_the_broker_lags(
    recording_broker: RecordingBroker, make_context: MakeContext
) -> None:
    recording_broker.answers = [problem(503), problem(503), problem(503)]
    async with make_context(
        recording_broker.url, batch_size=2, max_buffered=4, flush_interval=60
    ) as ctx:
        most_buffered = 0
        for n in range(20):
            await ctx.wait_for_room()
            ctx.publish(entity(n))
            most_buffered = max(most_buffered, ctx.counters.snapshot()["buffered"])
    counts = ctx.counters.snapshot()
    assert counts["dropped"] == 0 and counts["entities_out"] == 20
    assert most_buffered <= 4
    assert recording_broker.ids[-20:] == [f"urn:ngsi-ld:Thing:{n}" for n in range(20)]


async def test_what_cannot_be_delivered_by_the_close_deadline_is_counted_and_logged(
    make_context: MakeContext, caplog: pytest.LogCaptureFixture
) -> None:
    from adapters.sdk.testing import free_port

    ctx = make_context(f"http://127.0.0.1:{free_port()}", close_timeout=0.2)
    ctx.start()
    ctx.publish_many(entity(n) for n in range(3))
    with caplog.at_level(logging.WARNING, "agora.adapters"):
        await ctx.close()
    counts = ctx.counters.snapshot()
    assert counts["dropped"] == 3 and counts["entities_out"] == 0 and counts["buffered"] == 0
    assert "3 entities were still undelivered at close" in caplog.text


async def test_close_delivers_what_is_buffered(
    recording_broker: RecordingBroker, make_context: MakeContext
) -> None:
    ctx = make_context(recording_broker.url, batch_size=100, flush_interval=60)
    ctx.start()
    ctx.publish_many(entity(n) for n in range(5))
    assert recording_broker.requests == []
    await ctx.close()
    assert len(recording_broker.ids) == 5
    assert ctx.counters.snapshot()["dropped"] == 0


async def test_a_whole_batch_refused_with_400_counts_each_entity_as_an_error(
    recording_broker: RecordingBroker, make_context: MakeContext
) -> None:
    recording_broker.answers = [problem(400)]
    async with make_context(recording_broker.url, batch_size=3, flush_interval=60) as ctx:
        ctx.publish_many(entity(n) for n in range(3))
        await ctx.flush()
        counts: dict[str, Any] = ctx.counters.snapshot()
    assert len(recording_broker.requests) == 1
    assert counts["errors"] == 3 and counts["entities_out"] == 0


def test_an_entity_without_id_or_type_is_refused_at_publish(make_context: MakeContext) -> None:
    ctx = make_context("http://127.0.0.1:1")
    with pytest.raises(ValueError, match="'id' and a 'type'"):
        ctx.publish({"type": "Thing"})
