"""Time in subscriptions, end to end: periodic notifications (timeInterval), throttling,
both across a restart of the broker on the same SQLite file, and expiry (expiresAt)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from conftest import BrokerFactory, Receiver
from test_subscription_end_to_end import (
    create,
    patch_attrs,
    quiet,
    subscribe,
    subscription,
    vehicle,
)

Client = TestClient[web.Request, web.Application]
VEHICLE = "urn:ngsi-ld:Vehicle:1"


def speed(value: Any) -> dict[str, Any]:
    return {"speed": {"type": "Property", "value": value}}


def in_seconds(seconds: float) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


async def status_of(broker: Client, location: str) -> str:
    r = await broker.get(location)
    assert r.status == 200
    return str((await r.json())["status"])


async def test_periodic_subscription_sends_the_current_state_every_interval(
    broker: Client, receiver: Receiver
) -> None:
    await create(broker, vehicle(1, speed=1))
    await create(broker, vehicle(2, speed=2))
    await subscribe(
        broker,
        subscription(receiver, timeInterval=0.5, notification={"format": "keyValues"}),
    )
    [first] = await receiver.wait_for(1)
    assert first.body["data"] == [
        {"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "speed": 1},
        {"id": "urn:ngsi-ld:Vehicle:2", "type": "Vehicle", "speed": 2},
    ]
    await patch_attrs(broker, VEHICLE, speed(5))
    got = await receiver.wait_for(3)
    assert got[2].body["data"][0]["speed"] == 5
    gaps = [b.at - a.at for a, b in itertools.pairwise(got)]
    assert all(0.4 <= gap <= 1.5 for gap in gaps), gaps


async def test_periodic_subscription_notifies_at_once_then_not_on_changes(
    broker: Client, receiver: Receiver
) -> None:
    await create(broker, vehicle(1, speed=1))
    await subscribe(broker, subscription(receiver, timeInterval=30))
    await receiver.wait_for(1)
    await patch_attrs(broker, VEHICLE, speed(2))
    assert await quiet(receiver, wait=0.3) == 1


async def test_periodic_schedule_survives_a_restart(
    open_broker: BrokerFactory, receiver: Receiver, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'agora.db'}"
    broker = await open_broker(store=store)
    await create(broker, vehicle(1, speed=1))
    await subscribe(broker, subscription(receiver, timeInterval=2))
    [first] = await receiver.wait_for(1)
    await broker.close()
    broker = await open_broker(store=store)
    assert await quiet(receiver, wait=1.0) == 1, "the restarted broker notified at once"
    got = await receiver.wait_for(2, within=4.0)
    assert 1.8 <= got[1].at - first.at <= 3.5


async def test_throttling_holds_notifications_back_and_survives_a_restart(
    open_broker: BrokerFactory, receiver: Receiver, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'agora.db'}"
    broker = await open_broker(store=store)
    await subscribe(broker, subscription(receiver, throttling=2))
    await create(broker, vehicle(1, speed=0))
    [first] = await receiver.wait_for(1)
    for value in range(1, 4):
        await patch_attrs(broker, VEHICLE, speed(value))
    assert await quiet(receiver, wait=0.2) == 1
    await broker.close()
    broker = await open_broker(store=store)
    await patch_attrs(broker, VEHICLE, speed(10))
    assert await quiet(receiver, wait=0.3) == 1, "throttling forgot the last notification"
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, first.at + 2.05 - loop.time()))
    await patch_attrs(broker, VEHICLE, speed(11))
    got = await receiver.wait_for(2)
    assert got[1].body["data"][0]["speed"]["value"] == 11


async def test_an_expired_subscription_stops_notifying_and_shows_expired(
    broker: Client, receiver: Receiver
) -> None:
    location = await subscribe(broker, subscription(receiver, expiresAt=in_seconds(1.0)))
    assert await status_of(broker, location) == "active"
    await create(broker, vehicle(1, speed=1))
    await receiver.wait_for(1)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while await status_of(broker, location) != "expired":
        assert loop.time() < deadline
        await asyncio.sleep(0.05)
    await patch_attrs(broker, VEHICLE, speed(2))
    assert await quiet(receiver, wait=0.3) == 1


async def test_an_expired_periodic_subscription_stops(broker: Client, receiver: Receiver) -> None:
    await create(broker, vehicle(1, speed=1))
    location = await subscribe(
        broker, subscription(receiver, timeInterval=0.3, expiresAt=in_seconds(1.0))
    )
    await receiver.wait_for(2)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    while await status_of(broker, location) != "expired":
        assert loop.time() < deadline
        await asyncio.sleep(0.05)
    count = len(receiver.at("/notify"))
    assert await quiet(receiver, wait=0.8) == count
