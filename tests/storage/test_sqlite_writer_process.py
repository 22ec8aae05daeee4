"""The SQLite writer in a process of its own (`sqlite_writer`): what it changes for
the store's users, and what happens when it dies. (The store contract tests run on such a
store too: `sqlite-process` in conftest.py.)"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from store_support import EX, simple_entity

from broker.settings import Settings
from broker.storage.base import StoreError
from broker.storage.sqlite import SqliteStore
from broker.storage.sqlite import store as sqlite_store
from broker.types import ExpandedEntity

try:
    from conformance_tests.servers import Broker
except ModuleNotFoundError:  # run as `pytest tests/storage`, without the root on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from conformance_tests.servers import Broker


async def _started(path: Path, **overrides: Any) -> SqliteStore:
    store = SqliteStore(str(path), Settings(**{"sqlite_writer": "process", **overrides}))
    await store.start()
    return store


def _alive(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie waiting for its parent is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


async def test_a_database_file_gets_a_writer_process_when_asked_and_a_thread_otherwise(
    tmp_path: Path,
) -> None:
    store = await _started(tmp_path / "a.db")
    thread = await _started(tmp_path / "b.db", sqlite_writer="thread")
    memory = await _started(Path(":memory:"))
    try:
        pid = store.writer.process_id
        assert pid is not None and pid != os.getpid() and _alive(pid)
        assert thread.writer.process_id is None
        assert memory.writer.process_id is None  # an in-memory database lives in one process
        for s in (store, thread, memory):
            await s.create_entity("t", simple_entity("urn:x:1", speed=1))
            got = await s.get_entity("t", "urn:x:1")
            assert got is not None and got["attrs"][EX + "speed"][0]["value"] == 1
    finally:
        for s in (store, thread, memory):
            await s.close()
    assert not _alive(pid)  # closing the store ends its writer process


@pytest.mark.parametrize(("cpus", "in_process"), [(1, False), (2, True), (8, True)])
async def test_auto_puts_the_writer_in_a_process_when_the_broker_has_two_cpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cpus: int, in_process: bool
) -> None:
    monkeypatch.setattr(sqlite_store, "available_cpus", lambda: cpus)
    store = await _started(tmp_path / "agora.db", sqlite_writer="auto")
    try:
        assert (store.writer.process_id is not None) is in_process
    finally:
        await store.close()


@pytest.mark.parametrize(
    ("cpu_max", "cpus"),
    [("max 100000", None), ("100000 100000", 1), ("50000 100000", 1), ("250000 100000", 2),
     ("", None), ("garbage", None), ("0 100000", None)],
)
def test_a_container_cpu_quota_counts_as_the_cpus_it_allows(
    cpu_max: str, cpus: int | None
) -> None:
    assert sqlite_store.cgroup_cpu_quota(cpu_max) == cpus


def test_an_unknown_writer_place_is_refused_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="sqlite_writer"):
        SqliteStore(":memory:", Settings(sqlite_writer="elsewhere"))


async def test_a_write_op_that_cannot_be_pickled_fails_alone(tmp_path: Path) -> None:
    store = await _started(tmp_path / "agora.db")
    try:
        results = await asyncio.gather(
            store.save_context({"id": "before"}),
            store.writer.submit(lambda conn: conn.execute("DELETE FROM contexts")),
            store.save_context({"id": "after"}),
            return_exceptions=True,
        )
        assert results[0] is None and results[2] is None
        assert isinstance(results[1], StoreError) and "writer process" in str(results[1])
        assert [c["id"] for c in await store.load_contexts()] == ["after", "before"]
    finally:
        await store.close()


async def test_a_killed_writer_process_fails_writes_and_the_store_reports_itself_down(
    tmp_path: Path,
) -> None:
    store = await _started(tmp_path / "agora.db")
    try:
        await store.create_entity("t", simple_entity("urn:x:kept", speed=1))
        assert await store.ping()
        pid = store.writer.process_id
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(StoreError, match="writer process"):
            await store.create_entity("t", simple_entity("urn:x:lost", speed=2))
        with pytest.raises(StoreError):
            await store.create_entity("t", simple_entity("urn:x:later", speed=3))
        assert not await store.ping()
        # What was committed is still there to read.
        assert await store.get_entity("t", "urn:x:kept") is not None
        assert await store.get_entity("t", "urn:x:lost") is None
    finally:
        await asyncio.wait_for(store.close(), 30)


def _hold_until(conn: sqlite3.Connection, flag: str, context_id: str) -> None:
    """A write that waits in the writer process until the file `flag` exists."""
    deadline = time.monotonic() + 20
    while not os.path.exists(flag) and time.monotonic() < deadline:
        time.sleep(0.01)
    conn.execute(
        "INSERT INTO contexts (id, record) VALUES (?, ?)",
        (context_id, orjson.dumps({"id": context_id}).decode()),
    )


async def _until(check: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def _two_groups_sent(
    store: SqliteStore, flag: Path
) -> tuple[asyncio.Future[Any], asyncio.Future[Any]]:
    """A write that waits in the process until `flag` exists, then a second one; returned
    once both groups have been handed to the process."""
    writer = store.writer
    sent = writer.groups_sent
    first = asyncio.ensure_future(
        writer.submit(sqlite_store.Call(_hold_until, str(flag), "first"))
    )
    await _until(lambda: writer.groups_sent == sent + 1)
    second = asyncio.ensure_future(store.save_context({"id": "second"}))
    await _until(lambda: writer.groups_sent == sent + 2)
    return first, second


async def test_the_next_group_is_handed_over_while_the_process_runs_one(
    tmp_path: Path,
) -> None:
    """The process never waits for the broker between groups: a write queued while a group
    runs is sent at once, and its outcome comes back after that group's, in order."""
    store = await _started(tmp_path / "agora.db")
    flag = tmp_path / "go"
    writer = store.writer
    try:
        first, second = await _two_groups_sent(store, flag)
        sent = writer.groups_sent
        third = asyncio.ensure_future(store.save_context({"id": "third"}))
        await asyncio.sleep(0.2)
        # Two groups at most are with the process: the third waits in the queue.
        assert writer.groups_sent == sent
        assert not first.done() and not second.done()
        flag.touch()
        await asyncio.wait_for(asyncio.gather(first, second, third), 20)
        assert [c["id"] for c in await store.load_contexts()] == ["first", "second", "third"]
    finally:
        flag.touch()
        await store.close()


async def test_a_writer_process_killed_with_two_groups_fails_both(tmp_path: Path) -> None:
    store = await _started(tmp_path / "agora.db")
    try:
        first, second = await _two_groups_sent(store, tmp_path / "never")
        pid = store.writer.process_id
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        results = await asyncio.wait_for(
            asyncio.gather(first, second, return_exceptions=True), 20
        )
        assert all(isinstance(r, StoreError) for r in results), results
        with pytest.raises(StoreError):
            await store.save_context({"id": "later"})
        assert not await store.ping()
    finally:
        await asyncio.wait_for(store.close(), 30)


def _with(entity: ExpandedEntity, name: str, value: Any) -> ExpandedEntity:
    return dict(entity, attrs={**entity["attrs"], EX + name: [{"type": "Property",
                                                               "value": value}]})


def _write_outside(path: Path, entity: ExpandedEntity) -> None:
    """Another program rewrites the entity's document on the file."""
    raw = sqlite3.connect(path, timeout=10)
    raw.execute("UPDATE entities SET doc = ? WHERE id = ?",
                (orjson.dumps(entity).decode(), entity["id"]))
    raw.commit()
    raw.close()


async def test_modify_entity_runs_again_when_the_row_changed_after_it_was_read(
    tmp_path: Path,
) -> None:
    """With a writer process, modify_entity reads, changes, and writes back only if the row
    still holds what it read; a change made in between (here another connection on the
    file) is not lost. (With the writer thread the cycle is one transaction.)"""
    path = tmp_path / "agora.db"
    store = await _started(path)
    try:
        await store.create_entity("t", simple_entity("urn:x:1", speed=1))
        seen: list[ExpandedEntity] = []

        def change(old: ExpandedEntity) -> tuple[ExpandedEntity, str]:
            seen.append(old)
            if len(seen) == 1:  # someone else writes the row between the read and the write
                _write_outside(path, _with(old, "other", 7))
            return _with(old, "speed", 2), "changed"

        modified = await store.modify_entity("t", "urn:x:1", change)
        assert modified is not None and modified[2] == "changed"
        assert len(seen) == 2 and EX + "other" in seen[1]["attrs"]
        stored = await store.get_entity("t", "urn:x:1")
        assert stored is not None
        assert stored["attrs"][EX + "speed"][0]["value"] == 2
        assert stored["attrs"][EX + "other"][0]["value"] == 7
    finally:
        await store.close()


async def test_modify_entity_sees_what_changed_since_its_last_write_of_the_entity(
    tmp_path: Path,
) -> None:
    """The store starts from what it last wrote to an entity, as a guess: a guess that is no
    longer what is stored (a rule that fails on it, a write that finds another document)
    gives way to a read."""
    path = tmp_path / "agora.db"
    store = await _started(path)
    try:
        await store.create_entity("t", simple_entity("urn:x:1", speed=1))

        def set_speed(value: int) -> Any:
            def change(old: ExpandedEntity) -> tuple[ExpandedEntity, None]:
                return _with(old, "speed", value), None
            return change

        def needs_gear(old: ExpandedEntity) -> tuple[ExpandedEntity, None]:
            if EX + "gear" not in old["attrs"]:
                raise LookupError("no gear")
            return _with(old, "gear", old["attrs"][EX + "gear"][0]["value"] + 1), None

        await store.modify_entity("t", "urn:x:1", set_speed(2))
        stored = await store.get_entity("t", "urn:x:1")
        assert stored is not None
        _write_outside(path, _with(stored, "colour", "red"))
        await store.modify_entity("t", "urn:x:1", set_speed(3))
        stored = await store.get_entity("t", "urn:x:1")
        assert stored is not None
        assert stored["attrs"][EX + "colour"][0]["value"] == "red"
        assert stored["attrs"][EX + "speed"][0]["value"] == 3

        _write_outside(path, _with(stored, "gear", 1))  # the last write here had no gear
        await store.modify_entity("t", "urn:x:1", needs_gear)
        stored = await store.get_entity("t", "urn:x:1")
        assert stored is not None and stored["attrs"][EX + "gear"][0]["value"] == 2

        without = dict(stored, attrs={k: v for k, v in stored["attrs"].items()
                                      if k != EX + "gear"})
        _write_outside(path, without)  # the last write here had a gear; what is stored has not
        with pytest.raises(LookupError):
            await store.modify_entity("t", "urn:x:1", needs_gear)

        await store.delete_entity("t", "urn:x:1")
        assert await store.modify_entity("t", "urn:x:1", set_speed(4)) is None
    finally:
        await store.close()


def test_the_writer_process_ends_with_a_broker_that_is_killed(tmp_path: Path) -> None:
    broker = Broker(f"sqlite:///{tmp_path / 'agora.db'}",
                    env={"AGORA_SQLITE_WRITER": "process"})
    broker.start()
    try:
        assert broker.proc is not None
        helpers = _descendants(broker.proc.pid)
        assert helpers, "the broker started no writer process"
        broker.proc.send_signal(signal.SIGKILL)
        broker.proc.wait(10)
        deadline = time.monotonic() + 20
        while any(_alive(pid) for pid in helpers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in helpers if _alive(pid)]
    finally:
        broker.stop()
