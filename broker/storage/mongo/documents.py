"""Entities as MongoDB documents, and back.

The entity id becomes `_id` (the primary key MongoDB indexes anyway), so the document has no
`id` field; every other key is encoded with `keys.encode_keys`. Query code must therefore
address the id as `_id` and build every other field path from encoded names.
"""

from __future__ import annotations

from typing import Any

from broker.storage.mongo.keys import decode_key, decode_keys, encode_key, encode_keys
from broker.types import ExpandedEntity


def to_document(entity: ExpandedEntity) -> dict[str, Any]:
    doc: dict[str, Any] = {"_id": entity["id"]}
    for key, value in entity.items():
        if key != "id":
            # A stray top-level "_id" key would overwrite the primary key: keep it apart.
            doc["%5Fid" if key == "_id" else encode_key(key)] = encode_keys(value)
    return doc


def from_document(doc: dict[str, Any]) -> ExpandedEntity:
    entity: ExpandedEntity = {"id": doc["_id"]}
    for key, value in doc.items():
        if key != "_id":
            entity[decode_key(key)] = decode_keys(value)
    return entity
