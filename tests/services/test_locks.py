"""Per-entity mutual exclusion (broker/services/locks.py): one holder per key, waiters served
in arrival order, overlapping sets never deadlock, and a cancelled waiter or holder leaves no
key behind."""

from __future__ import annotations

import asyncio
import random

import pytest

from broker.services.locks import EntityLocks

T = "tenant"


async def test_a_held_key_makes_the_next_holder_wait() -> None:
    locks = EntityLocks()
    order: list[str] = []

    async def write(name: str, ids: list[str], pause: float) -> None:
        async with locks.hold(T, ids):
            order.append(f"{name} in")
            await asyncio.sleep(pause)
            order.append(f"{name} out")

    first = asyncio.create_task(write("a", ["e1", "e2"], 0.05))
    await asyncio.sleep(0)
    second = asyncio.create_task(write("b", ["e2", "e3"], 0))
    await asyncio.gather(first, second)
    assert order == ["a in", "a out", "b in", "b out"]
    assert len(locks) == 0


async def test_keys_are_per_tenant() -> None:
    locks = EntityLocks()
    async with locks.one("city-a", "e1"):
        async with asyncio.timeout(1):
            async with locks.one("city-b", "e1"):
                assert locks.held("city-a", "e1") and locks.held("city-b", "e1")
    assert len(locks) == 0


async def test_waiters_are_served_in_arrival_order() -> None:
    locks = EntityLocks()
    served: list[int] = []
    gate = locks.one(T, "e1")
    await gate.__aenter__()

    async def wait(i: int) -> None:
        async with locks.one(T, "e1"):
            served.append(i)

    tasks = [asyncio.create_task(wait(i)) for i in range(5)]
    await asyncio.sleep(0.01)
    assert served == []
    await gate.__aexit__(None, None, None)
    await asyncio.gather(*tasks)
    assert served == [0, 1, 2, 3, 4]
    assert len(locks) == 0


async def test_a_cancelled_waiter_does_not_keep_the_key() -> None:
    locks = EntityLocks()
    gate = locks.one(T, "e1")
    await gate.__aenter__()
    waiting = asyncio.create_task(_hold(locks, ["e0", "e1"]))
    await asyncio.sleep(0.01)
    assert locks.held(T, "e0")  # taken before it started to wait for e1
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert not locks.held(T, "e0")
    await gate.__aexit__(None, None, None)
    assert len(locks) == 0
    async with asyncio.timeout(1):
        await _hold(locks, ["e0", "e1"])


async def test_a_waiter_cancelled_as_the_key_is_handed_to_it_passes_it_on() -> None:
    locks = EntityLocks()
    gate = locks.one(T, "e1")
    await gate.__aenter__()
    doomed = asyncio.create_task(_hold(locks, ["e1"]))
    after = asyncio.create_task(_hold(locks, ["e1"]))
    await asyncio.sleep(0.01)
    await gate.__aexit__(None, None, None)  # hands e1 to `doomed`...
    doomed.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await doomed
    async with asyncio.timeout(1):
        await after
    assert len(locks) == 0


async def test_an_error_inside_releases_every_key() -> None:
    locks = EntityLocks()
    with pytest.raises(RuntimeError):
        async with locks.hold(T, ["e1", "e2", "e3"]):
            raise RuntimeError("the write failed")
    assert len(locks) == 0


async def test_overlapping_sorted_sets_never_deadlock_and_never_overlap() -> None:
    """200 holders of random overlapping sets of 20 keys: all finish, and no key ever has two
    holders at once."""
    locks = EntityLocks()
    rng = random.Random(7)
    inside: set[str] = set()

    async def writer() -> None:
        ids = sorted(rng.sample([f"e{i}" for i in range(20)], rng.randint(1, 6)))
        async with locks.hold(T, ids):
            assert not inside.intersection(ids)
            inside.update(ids)
            await asyncio.sleep(rng.random() / 1000)
            inside.difference_update(ids)

    async with asyncio.timeout(10):
        await asyncio.gather(*(writer() for _ in range(200)))
    assert len(locks) == 0


async def _hold(locks: EntityLocks, ids: list[str]) -> None:
    async with locks.hold(T, ids):
        await asyncio.sleep(0)
