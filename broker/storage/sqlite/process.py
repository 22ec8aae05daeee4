"""The SQLite writer's connection in a process of its own.

The event loop and the writer share one GIL when the writer is a thread: under a write load
the writer's Python (row building, binding parameters) and the event loop's (parsing,
expansion) take turns, and the broker uses about one CPU however many it has. In a process
of its own the writer has its own interpreter and GIL, so on a machine with two or more
CPUs the two halves of a write run side by side.

The writer thread of `GroupCommitWriter` stays: it hands each group of ops to the process
(pickled, through a pipe) and waits for the outcomes without holding the GIL. The ops must
therefore be picklable: the store's ops are module-level functions and small classes, never
closures. The process runs the same `commit_group` the thread would. It ignores SIGINT (the
broker shuts it down with the rest of the store) and exits when its pipe closes, so it never
outlives the broker; it is never inside a transaction between groups.

A group whose pickled outcomes never come back (the process was killed) fails with a
StoreError, as does every write after it: the store reports itself down (`ping`).

In-memory databases keep the writer thread: a `memdb` database lives in one process.
"""

from __future__ import annotations

import gc
import multiprocessing
import pickle
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from broker.storage.base import StoreError

Op = Callable[[Any], Any]

_PROTOCOL = pickle.HIGHEST_PROTOCOL
_STOP = b""
_OLDER_EVERY = 100
_context_lock = threading.Lock()
_context: Any = None


def _mp_context() -> Any:
    """forkserver where there is one (a child forked from a small, warm server starts in
    milliseconds and inherits no threads), else spawn."""
    global _context
    with _context_lock:
        if _context is None:
            if "forkserver" in multiprocessing.get_all_start_methods():
                _context = multiprocessing.get_context("forkserver")
                _context.set_forkserver_preload([__name__, "broker.storage.sqlite.store"])
            else:
                _context = multiprocessing.get_context("spawn")
        return _context


_NOT_RUNNING = "the SQLite writer process is not running"
_EXITED = "the SQLite writer process exited; this write may or may not have been committed"


@dataclass(frozen=True, slots=True)
class Sent:
    """A group handed to the process: its size, the outcomes of the ops that could not be
    pickled (by position), and the whole result when nothing is to be received."""

    count: int
    refused: dict[int, Any]
    result: tuple[bool, list[Any]] | None


class WriterProcess:
    """One writer process: `start`, then `send` groups of ops and `receive` their
    outcomes, in order (from two threads, so that the next group is sent while one runs),
    then `close`. Every call blocks."""

    def __init__(
        self,
        connect: Callable[[], Any],
        prepare: Callable[[Any], object],
        run_group: Callable[[Any, list[Op]], tuple[bool, list[Any]]],
        failed: Callable[[Exception], Any],
    ) -> None:
        """`run_group(conn, ops)` -> (committed, outcomes) runs in the process;
        `failed(error)` makes the outcome of an op that could not be run there."""
        self._connect = connect
        self._prepare = prepare
        self._run_group = run_group
        self._failed = failed
        self._pipe: Connection | None = None
        self._process: Any = None
        self._stopping = threading.Lock()
        self.alive = False

    @property
    def pid(self) -> int | None:
        return None if self._process is None else int(self._process.pid)

    def start(self) -> None:
        """Start the process; it opens the connection and runs `prepare` (migrations).
        What they raise is raised here."""
        context = _mp_context()
        ours, theirs = context.Pipe()
        process = context.Process(
            target=serve,
            args=(theirs, self._connect, self._prepare, self._run_group, self._failed),
            name="agora-sqlite-writer",
            daemon=True,
        )
        process.start()
        theirs.close()
        self._pipe, self._process = ours, process
        try:
            status, value = pickle.loads(ours.recv_bytes())
        except (EOFError, OSError) as exc:
            self._stopped()
            raise StoreError("the SQLite writer process exited while starting") from exc
        if status != "ready":
            self._stopped()
            raise value
        self.alive = True

    def send(self, ops: list[Op]) -> Sent:
        """Hand one group to the process without waiting for it to run; `receive` gives its
        outcomes (whether it committed, each op's outcome). Groups run, and their outcomes
        come back, in the order they were sent: one thread may send the next group while
        another waits for the one before. An op that cannot be pickled fails alone, before
        the group is sent."""
        refused: dict[int, Any] = {}
        try:
            data = pickle.dumps(ops, _PROTOCOL)
        except Exception:
            sendable: list[Op] = []
            for k, op in enumerate(ops):
                why = _unpicklable(op)
                if why is None:
                    sendable.append(op)
                else:
                    refused[k] = self._failed(
                        StoreError(f"a write op cannot be handed to the writer process: {why}")
                    )
            if not sendable:
                return Sent(len(ops), refused, (False, []))
            data = pickle.dumps(sendable, _PROTOCOL)
        pipe = self._pipe
        if not self.alive or pipe is None:
            return Sent(len(ops), refused, self._down(len(ops) - len(refused), _NOT_RUNNING))
        try:
            pipe.send_bytes(data)
        except (EOFError, OSError):
            self._stopped()
            return Sent(len(ops), refused, self._down(len(ops) - len(refused), _EXITED))
        return Sent(len(ops), refused, None)

    def receive(self, sent: Sent) -> tuple[bool, list[Any]]:
        """The outcomes of a group `send` handed over (call in the order of the sends)."""
        result = sent.result
        if result is None:
            pipe = self._pipe
            try:
                if pipe is None:
                    raise EOFError
                result = pickle.loads(pipe.recv_bytes())
            except (EOFError, OSError):
                self._stopped()
                result = self._down(sent.count - len(sent.refused), _EXITED)
        if not sent.refused:
            return result
        committed, outcomes = result
        results = iter(outcomes)
        return committed, [
            sent.refused[k] if k in sent.refused else next(results) for k in range(sent.count)
        ]

    def _down(self, count: int, why: str) -> tuple[bool, list[Any]]:
        return False, [self._failed(StoreError(why)) for _ in range(count)]

    def close(self) -> None:
        """Let the process finish and wait (call it once every group sent was received)."""
        if self._pipe is not None and self.alive:
            try:
                self._pipe.send_bytes(_STOP)
                self._pipe.recv_bytes()
            except (EOFError, OSError):
                pass
        self._stopped()

    def _stopped(self) -> None:
        """The process is gone or going: release it (from whichever thread found out)."""
        with self._stopping:
            self.alive = False
            pipe, process = self._pipe, self._process
            self._pipe = self._process = None
        if pipe is not None:
            pipe.close()
        if process is not None:
            process.join(30)
            if process.is_alive():
                process.kill()
                process.join()


def serve(
    pipe: Connection,
    connect: Callable[[], Any],
    prepare: Callable[[Any], object],
    run_group: Callable[[Any, list[Op]], tuple[bool, list[Any]]],
    failed: Callable[[Exception], Any],
) -> None:
    """The process: open, prepare, then one group per message until told to stop (an empty
    message) or until the broker's end of the pipe closes.

    The collector runs between groups, not inside them: a group allocates tens of thousands
    of short-lived containers (the entities parsed from their documents, the rows), and an
    automatic pass in the middle of one walks all of them (at the interpreter's thresholds,
    a sixth of the process's time). Once a group's objects are freed a young pass is nearly
    free; the older generations get theirs every `_OLDER_EVERY` groups."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.disable()
    try:
        conn = connect()
        prepare(conn)
    except BaseException as exc:
        try:
            data = pickle.dumps(("error", exc), _PROTOCOL)
        except Exception:
            data = pickle.dumps(("error", StoreError(f"{type(exc).__name__}: {exc}")), _PROTOCOL)
        pipe.send_bytes(data)
        return
    gc.collect()
    gc.freeze()
    pipe.send_bytes(pickle.dumps(("ready", None), _PROTOCOL))
    groups = 0
    try:
        while True:
            try:
                data = pipe.recv_bytes()
            except (EOFError, OSError):
                break
            if data == _STOP:
                break
            _serve_one(pipe, conn, data, run_group, failed)
            groups += 1
            gc.collect(2 if groups % (_OLDER_EVERY**2) == 0 else
                       1 if groups % _OLDER_EVERY == 0 else 0)
    finally:
        conn.close()
        try:
            pipe.send_bytes(_STOP)
        except OSError:
            pass
        pipe.close()


def _serve_one(
    pipe: Connection,
    conn: Any,
    data: bytes,
    run_group: Callable[[Any, list[Op]], tuple[bool, list[Any]]],
    failed: Callable[[Exception], Any],
) -> None:
    """One group: everything it allocated is garbage once this returns."""
    pipe.send_bytes(_result_bytes(run_group(conn, pickle.loads(data)), failed))


def _result_bytes(result: tuple[bool, list[Any]], failed: Callable[[Exception], Any]) -> bytes:
    try:
        return pickle.dumps(result, _PROTOCOL)
    except Exception:  # an op returned or raised something that does not pickle
        committed, outcomes = result
        return pickle.dumps((committed, [_sendable(o, failed) for o in outcomes]), _PROTOCOL)


def _sendable(outcome: Any, failed: Callable[[Exception], Any]) -> Any:
    why = _unpicklable(outcome)
    if why is None:
        return outcome
    return failed(StoreError(f"the write ran, but its result could not be returned: {why}"))


def _unpicklable(value: Any) -> Exception | None:
    """Why `value` cannot be pickled, None when it can."""
    try:
        pickle.dumps(value, _PROTOCOL)
    except Exception as exc:
        return exc
    return None
