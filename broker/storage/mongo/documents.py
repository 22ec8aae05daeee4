"""Entities as MongoDB documents, and back.

The entity id becomes `_id` (the primary key MongoDB indexes anyway), so the document has no
`id` field; every other key is encoded with `keys.encode_keys`. Query code must therefore
address the id as `_id` and build every other field path from encoded names.

Every document written also carries `_rev`, a fresh ObjectId (as text) per write: the revision a
read-modify-write conditions its replace on, so that two replicas changing one entity at
once cannot overwrite each other's change (`MongoStore.modify_entity`). It is not part of
the entity.
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from broker.storage.mongo.keys import decode_key, decode_keys, encode_key, encode_keys
from broker.types import ExpandedEntity

REVISION = "_rev"
_OWN = ("_id", REVISION)


def to_document(entity: ExpandedEntity) -> dict[str, Any]:
    doc: dict[str, Any] = {"_id": entity["id"]}
    for key, value in entity.items():
        if key != "id":
            # A stray top-level "_id" or "_rev" key would overwrite the document's own:
            # keep it apart ("%5F" decodes to "_").
            doc["%5F" + key[1:] if key in _OWN else encode_key(key)] = encode_keys(value)
    doc[REVISION] = str(ObjectId())  # text: nx-27017 cannot match an ObjectId by equality
    return doc


class StoredEntity(dict[str, Any]):
    """An entity as read, with the `_rev` of the document it came from (`revision`, None
    for a document written before revisions), which a conditional write names."""

    __slots__ = ("revision",)

    revision: str | None


def from_document(doc: dict[str, Any]) -> ExpandedEntity:
    entity = StoredEntity(id=doc["_id"])
    for key, value in doc.items():
        if key not in _OWN:
            entity[decode_key(key)] = decode_keys(value)
    revision = doc.get(REVISION)
    entity.revision = revision if isinstance(revision, str) else None
    return entity
