"""The single SQLite writer, with group commit.

SQLite allows one writer at a time, and what a write costs is mostly the COMMIT (a WAL
append and, with synchronous=FULL, an fsync). So every write goes through one queue, drained
by one asyncio task onto one dedicated thread and connection: whatever queued up while the
previous group was committing goes into the next transaction, up to `max_group` writes.
Under load that is one commit for hundreds of writes; when idle, a write commits alone at
once.

Each write runs inside its own SAVEPOINT, so a write that fails (a duplicate id) is rolled
back alone and the rest of its group still commits. A caller's future resolves only after
the COMMIT has returned: an acknowledged write is a durable write.

An op may also carry a `run_together(connection, ops) -> results` function (one result
per op, in order): consecutive ops of a group with the same `run_together` then run as one
call, so that, say, 32 entity creates become one INSERT per table instead of 32 of each.
If that call raises, the group falls back to one savepoint per op, and each op runs alone;
an op that it refuses without disturbing the others (a create whose id exists) gets a
`Refused(error)` result instead, which fails that op alone.
An op with an `after_commit()` method has it called once its group has committed.

The connection lives on the writer's thread, or (`process=True`: the store asks for it by
its `sqlite_writer` setting) in a writer process of its own, which the thread drives: see
broker.storage.sqlite.process.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from broker.storage.base import StoreError
from broker.storage.sqlite.process import Sent, WriterProcess

T = TypeVar("T")
IN_FLIGHT = 2
"""Groups a writer process may hold at once: the one it runs and the next, already sent."""
WriteOp = Callable[[sqlite3.Connection], T]


class Call:
    """`function(connection, *args)` as a writer op. A writer process can be handed it (a
    closure cannot be pickled; a module-level function and its arguments can)."""

    __slots__ = ("args", "function")

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        self.function, self.args = function, args

    def __call__(self, conn: sqlite3.Connection) -> Any:
        return self.function(conn, *self.args)


class Refused:
    """What a `run_together` call gives for an op it refused, the rest of the call having
    gone through (a create whose id exists): that op fails with `error`, the others stand."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


def run_ops(conn: sqlite3.Connection, ops: list[Callable[[sqlite3.Connection], Any]]) -> list[Any]:
    """Every op's result, in order; runs of coalescing ops go in one call each."""
    values: list[Any] = []
    start = 0
    while start < len(ops):
        together = getattr(ops[start], "run_together", None)
        end = start + 1
        if together is None:
            values.append(ops[start](conn))
        else:
            while end < len(ops) and getattr(ops[end], "run_together", None) is together:
                end += 1
            values.extend(together(conn, ops[start:end]))
        start = end
    return values


@dataclass(slots=True)
class _Job:
    op: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any]


@dataclass(slots=True)
class _Outcome:
    ok: bool
    value: Any


class GroupCommitWriter:
    """Runs write operations `op(connection)` in group-committed transactions."""

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        max_group: int,
        *,
        process: bool = False,
    ) -> None:
        """`process`: the connection lives in a writer process of its own (see
        broker.storage.sqlite.process); `connect`, the `prepare` given to `start` and every
        op must then be picklable."""
        if max_group < 1:
            raise ValueError("group_commit_max must be at least 1")
        self._connect = connect
        self._max_group = max_group
        self._use_process = process
        self._process: WriterProcess | None = None
        self._queue: asyncio.Queue[_Job | None] = asyncio.Queue()
        self._executor: ThreadPoolExecutor | None = None
        self._receiver: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._accepting = False
        self.groups_committed = 0
        """Transactions committed so far (a test can see that writes were grouped)."""
        self.groups_sent = 0
        """Groups handed to the writer process so far."""

    async def start(self, prepare: Callable[[sqlite3.Connection], object]) -> None:
        """Open the connection on the writer thread, run `prepare` (migrations) there."""
        loop = asyncio.get_running_loop()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="agora-sqlite-writer")
        try:
            if self._use_process:
                self._process = WriterProcess(self._connect, prepare, commit_group, _failure)
                await loop.run_in_executor(self._executor, self._process.start)
                self._receiver = ThreadPoolExecutor(
                    1, thread_name_prefix="agora-sqlite-writer-outcomes"
                )
            else:
                self._conn = await loop.run_in_executor(self._executor, self._connect)
                await loop.run_in_executor(self._executor, prepare, self._conn)
        except BaseException:
            await self._release()
            raise
        self._accepting = True
        self._task = asyncio.create_task(self._drain(), name="agora-sqlite-writer")

    @property
    def alive(self) -> bool:
        """False once the writer process has died (writes then fail with StoreError)."""
        return self._process is None or self._process.alive

    @property
    def process_id(self) -> int | None:
        """The writer process's pid, when there is one."""
        return None if self._process is None else self._process.pid

    async def submit(self, op: WriteOp[T]) -> T:
        """Queue `op`; return its result once the transaction holding it has committed.

        A caller that gives up waiting (cancellation) does not withdraw the write: it was
        queued, so it still commits.
        """
        if not self._accepting:
            raise StoreError("the SQLite store is not open for writes")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Job(op, future))
        return await future

    async def close(self) -> None:
        """Stop taking writes, commit everything already queued, release the connection."""
        if self._task is not None:
            self._accepting = False
            self._queue.put_nowait(None)
            await self._task
            self._task = None
        await self._release()

    async def _release(self) -> None:
        self._accepting = False
        executor, conn, process = self._executor, self._conn, self._process
        receiver, self._receiver = self._receiver, None
        self._executor = self._conn = None
        if receiver is not None:
            receiver.shutdown(wait=False)
        if executor is None:
            return
        loop = asyncio.get_running_loop()
        if conn is not None:
            await loop.run_in_executor(executor, conn.close)
        if process is not None:
            await loop.run_in_executor(executor, process.close)
        executor.shutdown(wait=False)

    async def _drain(self) -> None:
        """Group what is queued and commit it, a group at a time; with a writer process,
        up to `IN_FLIGHT` groups at a time: the next group is pickled and sent while the
        process runs the one before, so it never waits for the broker between groups."""
        loop = asyncio.get_running_loop()
        window = asyncio.Semaphore(IN_FLIGHT if self._process is not None else 1)
        settling: set[asyncio.Task[None]] = set()
        stopping = False
        while not stopping:
            await window.acquire()  # so that what queues meanwhile joins the next group
            first = await self._queue.get()
            group: list[_Job] = []
            if first is None:
                stopping = True
            else:
                group.append(first)
            while not stopping and len(group) < self._max_group and not self._queue.empty():
                job = self._queue.get_nowait()
                if job is None:
                    stopping = True
                else:
                    group.append(job)
            if not group:
                window.release()
                continue
            ops = [job.op for job in group]
            outcomes: Awaitable[list[_Outcome]]
            if self._process is None:
                outcomes = loop.run_in_executor(self._executor, self._commit_group, ops)
            else:
                sent = await self._sent(loop, ops)
                self.groups_sent += 1
                # The receiver thread takes the groups in the order they were sent.
                outcomes = loop.run_in_executor(self._receiver, self._received, sent)
            task = asyncio.create_task(self._settle(group, outcomes, window))
            settling.add(task)
            task.add_done_callback(settling.discard)
        while settling:
            await asyncio.gather(*settling)

    async def _sent(self, loop: asyncio.AbstractEventLoop, ops: list[WriteOp[Any]]) -> Sent:
        assert self._process is not None
        try:
            return await loop.run_in_executor(self._executor, self._process.send, ops)
        except Exception as exc:  # the thread pool itself failed: nothing was sent
            return Sent(len(ops), {}, (False, [_failure(_broken(exc)) for _ in ops]))

    async def _settle(
        self, group: list[_Job], outcomes: Awaitable[list[_Outcome]], window: asyncio.Semaphore
    ) -> None:
        try:
            try:
                done = await outcomes
            except Exception as exc:  # the thread pool itself failed: nothing committed
                done = [_failure(_broken(exc)) for _ in group]
            for job, outcome in zip(group, done, strict=True):
                if job.future.done():
                    continue
                if outcome.ok:
                    job.future.set_result(outcome.value)
                else:
                    job.future.set_exception(outcome.value)
        finally:
            window.release()

    def _commit_group(self, ops: list[Callable[[sqlite3.Connection], Any]]) -> list[_Outcome]:
        """On the executor thread: the group committed on the writer's connection."""
        assert self._conn is not None
        committed, outcomes = commit_group(self._conn, ops)
        if committed:
            self.groups_committed += 1
        return outcomes

    def _received(self, sent: Sent) -> list[_Outcome]:
        """On the receiver thread: a group's outcomes from the writer process."""
        assert self._process is not None
        committed, outcomes = self._process.receive(sent)
        if committed:
            self.groups_committed += 1
        return outcomes


def _broken(exc: Exception) -> StoreError:
    return StoreError(f"SQLite writer failed: {exc}")


def commit_group(
    conn: sqlite3.Connection, ops: list[Callable[[sqlite3.Connection], Any]]
) -> tuple[bool, list[_Outcome]]:
    """One transaction, one COMMIT: (whether it committed, each op's outcome).

    The ops first run together in one savepoint: a savepoint per op costs a third of a
    small write, and refusals (a duplicate id) are rare. Only when one op raises is that
    rolled back and every op run again in a savepoint of its own, so the refused one fails
    alone. Ops are closures over their inputs (or objects holding them), so running one twice
    is safe. Once the COMMIT has returned, each op that succeeded and has an `after_commit`
    method gets it called (what an op learned, such as new attribute keys, is kept only once
    it is durable)."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("SAVEPOINT grp")
        try:
            values = run_ops(conn, ops)
        except Exception:
            conn.execute("ROLLBACK TO grp")
            conn.execute("RELEASE grp")
            outcomes = [_run_alone(conn, op) for op in ops]
        else:
            conn.execute("RELEASE grp")
            outcomes = [
                _Outcome(False, value.error) if type(value) is Refused else _Outcome(True, value)
                for value in values
            ]
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
        return False, [_Outcome(False, StoreError(f"SQLite commit failed: {exc}")) for _ in ops]
    for op, outcome in zip(ops, outcomes, strict=True):
        hook = getattr(op, "after_commit", None)
        if outcome.ok and hook is not None:
            hook()
    return True, outcomes


def _failure(error: Exception) -> _Outcome:
    return _Outcome(False, error)


def _run_alone(conn: sqlite3.Connection, op: Callable[[sqlite3.Connection], Any]) -> _Outcome:
    conn.execute("SAVEPOINT op")
    try:
        value = op(conn)
    except Exception as exc:
        # If SQLite already rolled the whole transaction back (disk full, I/O error)
        # this raises too, and the group fails as it must.
        conn.execute("ROLLBACK TO op")
        conn.execute("RELEASE op")
        return _Outcome(False, _as_store_error(exc))
    conn.execute("RELEASE op")
    return _Outcome(True, value)


def _as_store_error(exc: Exception) -> Exception:
    """sqlite3 errors become StoreError; the store's own errors and bugs pass unchanged."""
    if isinstance(exc, sqlite3.Error):
        error = StoreError(f"SQLite write failed: {exc}")
        error.__cause__ = exc
        return error
    return exc
