"""Discovery as aggregation pipelines (clauses 5.7.5-5.7.10).

Two pipelines, both run by the server: entity counts per type (`$unwind` the type array,
`$group`), and attribute uses (see `broker.storage.discovery`): each entity's attributes as
an array (`$objectToArray`), unwound, then its types unwound, grouped by one string key

    "<kinds, comma-joined>.<encoded attribute name>.<type>"

A string key rather than a compound `_id` because nx-27017 does not evaluate expressions
inside a compound `_id`. The key splits back exactly: kinds contain neither `,` nor `.`, an
encoded attribute name never contains `.` (keys.py encodes it as `%2E`), and the rest is the
one type. Every operator used ($objectToArray, $map, $setUnion, $reduce, $concat,
$arrayElemAt, $cond) runs on nx-27017 0.8.1 as on MongoDB.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from broker.storage.base import AttributeDetails, TypeDetails
from broker.storage.discovery import (
    AttributeUse,
    parse_kinds,
    summarise_attributes,
    summarise_types,
)
from broker.storage.mongo.keys import decode_key, encode_key

Doc = dict[str, Any]

_KINDS: Doc = {
    "$reduce": {
        "input": {"$setUnion": [{"$map": {"input": "$attrs.v", "in": "$$this.type"}}, []]},
        "initialValue": "",
        "in": {"$concat": ["$$value", ",", "$$this"]},
    }
}


async def count_entities_by_type(
    entities: AsyncCollection[Doc], entity_type: str | None = None
) -> dict[str, int]:
    pipeline: list[Doc] = []
    if entity_type is not None:
        # `$in`, not equality: nx-27017 answers equality on an indexed array field wrongly.
        pipeline.append({"$match": {"type": {"$in": [entity_type]}}})
    pipeline.append({"$unwind": "$type"})
    if entity_type is not None:
        pipeline.append({"$match": {"type": entity_type}})
    pipeline.append({"$group": {"_id": "$type", "n": {"$sum": 1}}})
    cursor = await entities.aggregate(pipeline)
    return {str(doc["_id"]): int(doc["n"]) async for doc in cursor}


async def attribute_names(entities: AsyncCollection[Doc]) -> list[str]:
    pipeline: list[Doc] = [
        {"$project": {"attrs": {"$objectToArray": "$attrs"}}},
        {"$unwind": "$attrs"},
        {"$group": {"_id": "$attrs.k"}},
    ]
    cursor = await entities.aggregate(pipeline)
    return sorted({decode_key(str(doc["_id"])) async for doc in cursor})


async def describe_types(
    entities: AsyncCollection[Doc], entity_type: str | None
) -> list[TypeDetails]:
    counts = await count_entities_by_type(entities, entity_type)
    if not counts:
        return []
    uses = await _uses(entities, entity_type=entity_type)
    return summarise_types(counts, uses)


async def describe_attributes(
    entities: AsyncCollection[Doc], attribute: str | None
) -> list[AttributeDetails]:
    return summarise_attributes(await _uses(entities, attribute=attribute))


async def _uses(
    entities: AsyncCollection[Doc],
    *,
    entity_type: str | None = None,
    attribute: str | None = None,
) -> list[AttributeUse]:
    encoded = None if attribute is None else encode_key(attribute)
    pipeline: list[Doc] = []
    if entity_type is not None:
        pipeline.append({"$match": {"type": {"$in": [entity_type]}}})
    if encoded is not None:
        pipeline.append({"$match": {f"attrs.{encoded}": {"$exists": True}}})
    pipeline += [
        {
            "$project": {
                "type": 1,
                "first": {"$arrayElemAt": ["$type", 0]},
                "attrs": {"$objectToArray": "$attrs"},
            }
        },
        {"$unwind": "$attrs"},
    ]
    if encoded is not None:
        pipeline.append({"$match": {"attrs.k": encoded}})
    pipeline.append({"$unwind": "$type"})
    if entity_type is not None:
        pipeline.append({"$match": {"type": entity_type}})
    pipeline += [
        {
            "$project": {
                "key": {"$concat": [_KINDS, ".", "$attrs.k", ".", "$type"]},
                "primary": {"$cond": [{"$eq": ["$type", "$first"]}, 1, 0]},
            }
        },
        {"$group": {"_id": "$key", "n": {"$sum": 1}, "primary": {"$sum": "$primary"}}},
    ]
    cursor = await entities.aggregate(pipeline)
    uses: list[AttributeUse] = []
    async for doc in cursor:
        kinds, name, entity_type_of_row = str(doc["_id"]).split(".", 2)
        uses.append(
            AttributeUse(
                entity_type_of_row,
                decode_key(name),
                parse_kinds(kinds),
                int(doc["n"]),
                int(doc["primary"]),
            )
        )
    return uses
