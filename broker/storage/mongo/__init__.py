"""The MongoDB store: `MongoStore`."""

from broker.storage.mongo.store import MongoStore

__all__ = ["MongoStore"]
