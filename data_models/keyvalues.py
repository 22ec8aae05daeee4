"""NGSI-LD entities (normalized, concise or keyValues) turned into their keyValues form.

The schemas describe the keyValues (simplified) form, so an entity is simplified before it is
validated: a Property becomes its value, a Relationship its object, a GeoProperty its
geometry, a LanguageProperty its languageMap, a VocabProperty its vocab, a JsonProperty its
json, a ListProperty its valueList and a ListRelationship its objects. Sub-attributes,
`observedAt`, `unitCode`, `datasetId` and the system members (`createdAt`, `modifiedAt`,
`deletedAt`) are dropped, and so is `@context`. Names are kept as they come: entities are
expected with the short names of the model's context.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DROPPED_ENTITY_MEMBERS = frozenset({"@context", "createdAt", "modifiedAt", "deletedAt"})

VALUE_MEMBER = {
    "Property": "value",
    "GeoProperty": "value",
    "Relationship": "object",
    "LanguageProperty": "languageMap",
    "VocabProperty": "vocab",
    "JsonProperty": "json",
    "ListProperty": "valueList",
    "ListRelationship": "objectList",
}
"""Attribute type → the member holding its value (normalized form)."""

CONCISE_VALUE_MEMBERS = ("value", "object", "languageMap", "vocab", "json", "valueList",
                         "objectList")
"""Members that mark a concise attribute (one without `type`), in the order they are tried."""


def to_key_values(entity: Mapping[str, Any]) -> dict[str, Any]:
    """The keyValues form of an entity given in normalized, concise or keyValues form."""
    return {
        name: member if name in ("id", "type") else attribute_value(member)
        for name, member in entity.items()
        if name not in DROPPED_ENTITY_MEMBERS
    }


def attribute_value(attribute: Any) -> Any:
    """The plain value of one attribute, whichever form it comes in."""
    if isinstance(attribute, list) and attribute and all(_is_attribute(a) for a in attribute):
        return attribute_value(_default_instance(attribute))
    if not isinstance(attribute, Mapping):
        return attribute
    member = _value_member(attribute)
    if member is None:
        return dict(attribute)  # a structured keyValues value, or a bare GeoJSON geometry
    value = attribute[member]
    if member == "objectList":
        return [item["object"] if isinstance(item, Mapping) else item for item in value]
    return _plain(value)


def _value_member(attribute: Mapping[str, Any]) -> str | None:
    kind = attribute.get("type")
    if isinstance(kind, str) and kind in VALUE_MEMBER and VALUE_MEMBER[kind] in attribute:
        return VALUE_MEMBER[kind]
    if "type" in attribute and not _is_attribute_type(kind):
        return None  # a GeoJSON geometry or another value with a `type` of its own
    return next((m for m in CONCISE_VALUE_MEMBERS if m in attribute), None)


def _is_attribute_type(kind: Any) -> bool:
    return isinstance(kind, str) and kind in VALUE_MEMBER


def _is_attribute(candidate: Any) -> bool:
    return isinstance(candidate, Mapping) and _value_member(candidate) is not None and (
        "datasetId" in candidate or _is_attribute_type(candidate.get("type"))
    )


def _default_instance(instances: list[Any]) -> Any:
    """Of several instances (datasetId), the default one, or else the first."""
    return next((i for i in instances if "datasetId" not in i), instances[0])


def _plain(value: Any) -> Any:
    """A JSON-LD value object such as {"@type": "DateTime", "@value": ...} becomes its @value."""
    if isinstance(value, Mapping) and "@value" in value:
        return value["@value"]
    return value
