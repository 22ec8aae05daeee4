"""The shared vocabulary: the forms an entity takes on its way through the broker.

`ExpandedEntity` is the stored form: every type and attribute name is a full IRI.
`CompactedEntity` is a wire form: terms compacted with the request's @context.
They are both dicts at run time; the aliases say in a signature which form a function takes.

Stored (expanded) entity::

    {
      "id": "urn:ngsi-ld:Vehicle:A1",
      "type": ["https://example.org/Vehicle"],       # expanded type IRIs, at least one
      "scope": ["/Madrid/Centro"],                     # optional, absent when none
      "createdAt": "2026-01-01T00:00:00.000Z",
      "modifiedAt": "2026-01-01T00:00:00.000Z",
      "attrs": {"https://example.org/speed": [Instance, ...]},
    }

An attribute is a list of instances, one per datasetId (the default instance has no
"datasetId" key).  An `Instance` is::

    {
      "type": "Property" | "Relationship" | "GeoProperty" | "LanguageProperty"
              | "VocabProperty" | "JsonProperty" | "ListProperty" | "ListRelationship",
      # the one value member for its type:
      "value": ...            # Property, GeoProperty (a GeoJSON geometry)
      "json": ...             # JsonProperty (any JSON, never expanded)
      "object": str | [str]   # Relationship
      "languageMap": {...}    # LanguageProperty
      "vocab": str | [str]    # VocabProperty, expanded IRIs
      "valueList": [...]      # ListProperty
      "objectList": [str]     # ListRelationship
      # optional members:
      "datasetId": str, "observedAt": str, "unitCode": str, "objectType": str (expanded),
      "createdAt": str, "modifiedAt": str,
      "sub": {"<expanded name>": [Instance, ...]}   # sub-properties / sub-relationships
    }
"""

from __future__ import annotations

from typing import Any, TypeAlias

ExpandedEntity: TypeAlias = dict[str, Any]
CompactedEntity: TypeAlias = dict[str, Any]
Instance: TypeAlias = dict[str, Any]
ExpandedAttrs: TypeAlias = dict[str, list[Instance]]

DEFAULT_TENANT = ""

ATTRIBUTE_TYPES = frozenset(
    {
        "Property",
        "Relationship",
        "GeoProperty",
        "LanguageProperty",
        "VocabProperty",
        "JsonProperty",
        "ListProperty",
        "ListRelationship",
    }
)

VALUE_MEMBER = {
    "Property": "value",
    "GeoProperty": "value",
    "JsonProperty": "json",
    "Relationship": "object",
    "LanguageProperty": "languageMap",
    "VocabProperty": "vocab",
    "ListProperty": "valueList",
    "ListRelationship": "objectList",
}
