"""What the MongoDB server in front of us actually does, found out at start-up.

Stand-ins for MongoDB (nx-27017 in the test suite) implement most of the wire protocol but
not all of MongoDB's semantics. Rather than trusting a version string, the store tries the
behaviours it depends on in a scratch collection and adapts. The query work adds its own
probes here (geo operators).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase


@dataclass(frozen=True)
class Capabilities:
    multikey_index: bool
    """An index on an array field keeps `{field: element}` matching array elements.

    nx-27017 0.8 answers such a query with only the documents whose field is a scalar once an
    index exists on the field, so on such a server the store does not index `type`.
    """


async def probe(db: AsyncDatabase[dict[str, Any]]) -> Capabilities:
    scratch = db[f"probe_{uuid.uuid4().hex}"]
    try:
        await scratch.create_index("t")
        await scratch.insert_one({"_id": 1, "t": ["a", "b"]})
        found = await scratch.find_one({"t": "b"})
        return Capabilities(multikey_index=found is not None)
    finally:
        await scratch.drop()
