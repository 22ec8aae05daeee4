"""Shared by the store tests: entities that exercise what a store must keep exactly (IRIs
full of dots, `$` keys, unicode, every attribute shape of the stored form), the store-factory
type, and the clean-up of a test's MongoDB databases."""

from __future__ import annotations

import asyncio
import copy
import gc
import random
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from pymongo import AsyncMongoClient

from broker.storage.base import EntityStore
from broker.storage.mongo.names import tenant_db_name
from broker.types import ExpandedEntity

OpenStore: TypeAlias = Callable[..., Awaitable[EntityStore]]
"""`open_store(**settings)`: a started store on the current test's data."""

NOW = "2026-01-01T00:00:00.000Z"
LATER = "2026-01-02T12:30:00.000Z"
EX = "https://example.org/"


def rich_entity(entity_id: str = "urn:ngsi-ld:Vehicle:A1") -> ExpandedEntity:
    return {
        "id": entity_id,
        "type": [EX + "Vehicle", "https://uri.fiware.org/ns/data-models#Car"],
        "scope": ["/Madrid/Centro", "/Madrid/Sol"],
        "createdAt": NOW,
        "modifiedAt": NOW,
        "attrs": {
            EX + "speed": [
                {"type": "Property", "value": 80.5, "unitCode": "KMH", "observedAt": NOW},
                {"type": "Property", "value": 79, "datasetId": "urn:ngsi-ld:Dataset:gps"},
            ],
            EX + "name": [{"type": "Property", "value": "Émile — 東京 🚗"}],
            EX + "location": [
                {
                    "type": "GeoProperty",
                    "value": {"type": "Point", "coordinates": [-3.7038, 40.4168]},
                }
            ],
            EX + "owner": [
                {
                    "type": "Relationship",
                    "object": "urn:ngsi-ld:Person:P1",
                    "objectType": EX + "Person",
                    "sub": {
                        EX + "since.year": [{"type": "Property", "value": 2019}],
                        EX + "verifiedBy": [
                            {"type": "Relationship", "object": ["urn:a", "urn:b"]}
                        ],
                    },
                }
            ],
            EX + "config": [
                {
                    "type": "JsonProperty",
                    "json": {
                        "$set": {"a.b": 1, "$inc": None},
                        "100%": [True, False, {"nested.$key": [1.25, -0.0, 10**15]}],
                        "%2E": "literal escape-looking key",
                        "_id": "not the primary key",
                        "": "empty key",
                        "\x00nul": "nul in a key",
                    },
                }
            ],
            EX + "label": [
                {"type": "LanguageProperty", "languageMap": {"en": "car", "es": "coche"}}
            ],
            EX + "category": [{"type": "VocabProperty", "vocab": [EX + "a.b", EX + "c"]}],
            EX + "readings": [{"type": "ListProperty", "valueList": [1, [2, 3], {"$k": 4}]}],
            EX + "path": [{"type": "ListRelationship", "objectList": ["urn:x", "urn:y"]}],
            EX + "empty": [{"type": "Property", "value": {}}],
        },
    }


def simple_entity(entity_id: str, kind: str = "Thing", **attrs: Any) -> ExpandedEntity:
    return {
        "id": entity_id,
        "type": [EX + kind],
        "createdAt": NOW,
        "modifiedAt": NOW,
        "attrs": {EX + k: [{"type": "Property", "value": v}] for k, v in attrs.items()},
    }


_KEY_PIECES = [".", "$", "%", "%25", "%2E", "a", "é", "東", "_id", "\x00", " ", "/", "0"]


def random_json(rng: random.Random, depth: int = 0) -> Any:
    """A random JSON value whose object keys are built from awkward pieces."""
    roll = rng.random()
    if depth > 3 or roll < 0.3:
        return rng.choice(
            [None, True, False, rng.randint(-(2**53), 2**53), rng.random() * 1e6, "txt", "ü$."]
        )
    if roll < 0.6:
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {
        "".join(rng.choices(_KEY_PIECES, k=rng.randint(0, 4))): random_json(rng, depth + 1)
        for _ in range(rng.randint(0, 4))
    }


def with_json_value(entity: ExpandedEntity, value: Any) -> ExpandedEntity:
    copied = copy.deepcopy(entity)
    copied["attrs"][EX + "random"] = [{"type": "JsonProperty", "json": value}]
    return copied


async def drop_mongo_databases(url: str, prefix: str) -> None:
    """Drop every database a store with this prefix created (default tenant and others)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    try:
        default = client[prefix]
        tenants = [doc["_id"] async for doc in default["tenants"].find({}, {"_id": 1})]
        for tenant in tenants:
            await client.drop_database(tenant_db_name(prefix, tenant))
        await client.drop_database(prefix)
    finally:
        await client.close()


async def collect_sockets_pymongo_leaked(delay: float = 0.0) -> None:
    """PyMongo 4.20 drops, unclosed, the socket of a connection attempt that `close()` cancels
    (PYTHON-5867, fixed upstream): likely when the server is unreachable, possible at any
    close. Collect such sockets where they arise instead of letting their ResourceWarning
    (an error under this suite's warning filter) land in whichever test runs next."""
    await asyncio.sleep(delay)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
