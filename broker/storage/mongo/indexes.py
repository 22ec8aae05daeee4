"""The indexes an `entities` collection gets for queries, beyond the store's own.

Created when the store creates a tenant's indexes (at start for every recorded tenant, and
at a tenant's first write), so they exist before the first query:

- a `2dsphere` index on the `location` GeoProperty's values, only on a server with geo
  operators (nx-27017 accepts the index but cannot use it). MongoDB then refuses to store a
  document whose `location` it cannot read as GeoJSON, which broker validation makes rare
  but not impossible (self-crossing polygons pass RFC 7946 checks): the store raises
  `RejectedEntity`, answered 400 BadRequestData naming `location`;
- for each IRI in `settings.indexed_attributes`: indexes on the attribute's instance
  `value` and `object`, which serve the q comparisons the compiler pushes down. Only on a
  server whose multikey indexes keep array equality right (nx-27017's do not: with an index
  on an array field, equality matches scalars only).
"""

from __future__ import annotations

import hashlib

from pymongo import IndexModel

from broker.settings import Settings
from broker.storage.mongo.keys import encode_key
from broker.storage.mongo.query import QueryCapabilities

LOCATION = "https://uri.etsi.org/ngsi-ld/location"


def query_indexes(
    caps: QueryCapabilities, *, multikey_index: bool, settings: Settings
) -> list[IndexModel]:
    """Index models for one tenant's `entities` collection (create_indexes is idempotent)."""
    indexes: list[IndexModel] = []
    if caps.geo_operators:
        indexes.append(
            IndexModel(
                [(f"attrs.{encode_key(LOCATION)}.value", "2dsphere")], name="geo_location"
            )
        )
    if multikey_index:
        for attr in getattr(settings, "indexed_attributes", ()):
            path = f"attrs.{encode_key(attr)}"
            tag = hashlib.sha256(attr.encode()).hexdigest()[:16]
            indexes.append(IndexModel([(f"{path}.value", 1)], name=f"value_{tag}"))
            indexes.append(IndexModel([(f"{path}.object", 1)], name=f"object_{tag}"))
    return indexes
