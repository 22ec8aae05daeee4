"""Wire payload -> ExpandedEntity / ExpandedAttrs, validating as it goes. (interface stub)

Every function raises broker.errors.BadRequestData (or InvalidRequest) with a detail naming
the offending field, and never returns a half-valid result.
"""

from __future__ import annotations

from typing import Any

from broker.jsonld import TermMap
from broker.types import ExpandedAttrs, ExpandedEntity, Instance


def expand_entity(
    payload: Any, terms: TermMap, *, now: str, key_values: bool = False, max_attributes: int = 1000
) -> ExpandedEntity:
    """A whole entity (POST /entities, PUT /entities/{id}): needs `id` (a URI) and `type`."""
    raise NotImplementedError


def expand_attrs(
    fragment: Any,
    terms: TermMap,
    *,
    now: str,
    key_values: bool = False,
    allow_null: bool = False,
    max_attributes: int = 1000,
) -> ExpandedAttrs:
    """A fragment of attributes (POST/PATCH /attrs, PATCH /entities/{id})."""
    raise NotImplementedError


def expand_attribute(
    name: str, body: Any, terms: TermMap, *, now: str, allow_null: bool = False
) -> list[Instance]:
    """One attribute's body (PUT/PATCH /attrs/{attrId})."""
    raise NotImplementedError
