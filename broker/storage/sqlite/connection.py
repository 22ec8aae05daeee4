"""Opening SQLite connections: the file (or in-memory database) and the pragmas each role needs.

Every connection runs in autocommit mode (`isolation_level=None`) so transactions are exactly
the BEGIN/COMMIT the writer issues, never ones the sqlite3 module opens on its own.
`check_same_thread=False` only lets the owner close a connection from another thread at
shutdown; each connection is still used by one thread at a time.
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass
from pathlib import Path

from broker.storage.sqlite.url import MEMORY

SYNCHRONOUS_LEVELS = frozenset({"OFF", "NORMAL", "FULL", "EXTRA"})
BUSY_TIMEOUT_SECONDS = 10.0
STATEMENT_CACHE = 512
WAL_BACKSTOP_PAGES = 50_000
"""The writer copies the WAL back into the database file itself only past this many pages
(200 MB at the default page size): normally the `Checkpointer` thread does it, so a commit
never waits for a checkpoint (with SQLite's own 1,000-page checkpoints in the commit, POST
p99 was 16 ms; with 10,000-page ones, 45 ms)."""


@dataclass(frozen=True)
class Database:
    """Where the data lives and how to reach it from several connections."""

    target: str
    uri: bool
    in_memory: bool
    shared_cache: bool = False

    @classmethod
    def at(cls, path: str) -> Database:
        """A database file (its directory created), or a fresh in-memory database.

        In memory, every connection must reach the same database, so it gets a unique name
        on the `memdb` VFS, which gives several connections one database with ordinary
        locking: readers see only committed writes, as with a file. Where the linked SQLite
        lacks `memdb` (before 3.36) a shared-cache URI stands in.
        """
        if path == MEMORY:
            name = f"agora-{uuid.uuid4().hex}"
            if _has_memdb():
                return cls(f"file:/{name}?vfs=memdb", uri=True, in_memory=True)
            return cls(
                f"file:{name}?mode=memory&cache=shared", uri=True, in_memory=True,
                shared_cache=True,
            )
        Path(path).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        return cls(str(Path(path).expanduser()), uri=False, in_memory=False)

    def connect(
        self, factory: type[sqlite3.Connection] = sqlite3.Connection
    ) -> sqlite3.Connection:
        return sqlite3.connect(
            self.target,
            factory=factory,
            uri=self.uri,
            timeout=BUSY_TIMEOUT_SECONDS,
            isolation_level=None,
            check_same_thread=False,
            # The bulk inserts' chunk statements (bulk.py) beside everything else.
            cached_statements=STATEMENT_CACHE,
        )


def open_writer(
    db: Database,
    synchronous: str,
    cache_mb: int = 64,
    factory: type[sqlite3.Connection] = sqlite3.Connection,
) -> sqlite3.Connection:
    """The one connection that writes: WAL on a file, `synchronous` as configured."""
    conn = db.connect(factory)
    try:
        _set_cache(conn, cache_mb)
        if not db.in_memory:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise sqlite3.OperationalError(f"could not switch to WAL (journal_mode={mode})")
        conn.execute(f"PRAGMA synchronous={checked_synchronous(synchronous)}")
        # Statement journals (a multi-row statement inside a savepoint needs one) in memory:
        # on disk each transaction opened, wrote and unlinked a temporary file.
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute(f"PRAGMA wal_autocheckpoint={WAL_BACKSTOP_PAGES}")
    except BaseException:
        conn.close()
        raise
    return conn


def open_reader(db: Database, cache_mb: int = 64) -> sqlite3.Connection:
    """A read connection: `query_only` so a bug can never write behind the writer's back."""
    conn = db.connect()
    conn.execute("PRAGMA query_only=ON")
    _set_cache(conn, cache_mb)
    if db.shared_cache:
        # Shared-cache connections lock whole tables; without this a reader blocks the
        # writer (and the other way round) with SQLITE_LOCKED, which no busy timeout retries.
        conn.execute("PRAGMA read_uncommitted=ON")
    return conn


def _set_cache(conn: sqlite3.Connection, cache_mb: int) -> None:
    """The connection's page cache (SQLite's default is 2 MB: at 100,000 entities a geo
    query then read half of its candidates' rows from the file, at twice the time)."""
    conn.execute(f"PRAGMA cache_size={-1024 * max(int(cache_mb), 1)}")


def checked_synchronous(level: str) -> str:
    upper = level.strip().upper()
    if upper not in SYNCHRONOUS_LEVELS:
        raise ValueError(
            f"sqlite_synchronous must be one of {sorted(SYNCHRONOUS_LEVELS)}, not '{level}'"
        )
    return upper


def _has_memdb() -> bool:
    try:
        probe = sqlite3.connect(f"file:/agora-probe-{uuid.uuid4().hex}?vfs=memdb", uri=True)
    except sqlite3.OperationalError:
        return False
    probe.close()
    return True
