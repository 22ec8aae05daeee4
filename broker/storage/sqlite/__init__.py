"""The embedded SQLite store (the default): `SqliteStore` and its URL syntax."""

from broker.storage.sqlite.store import SqliteStore
from broker.storage.sqlite.url import parse_sqlite_url

__all__ = ["SqliteStore", "parse_sqlite_url"]
