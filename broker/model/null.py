"""The NGSI-LD Null: how a deletion request travels from expansion to the update rules.

On the wire (clause 4.5.0) the NGSI-LD Null is "urn:ngsi-ld:null" wherever a URI string is
valid, an array holding one NGSI-LD Null where an array is required (valueList,
objectList) and {"@none": "urn:ngsi-ld:null"} for a languageMap. Expansion with
`allow_null=True` (partial update and merge fragments, clauses 5.5.8 and 5.5.12) also takes
a JSON null in those places, as RFC 7396 does.

Whatever the wire form, the expanded form is one shape, so the update rules test one thing:

- a *deletion instance* is an ordinary instance whose value member (VALUE_MEMBER[type]) is
  exactly `NGSI_LD_NULL`: {"type": "Property", "value": "urn:ngsi-ld:null"} deletes the
  default instance, and with a "datasetId" only that instance. It carries no other member
  than "type", the value member, "datasetId", "createdAt" and "modifiedAt";
- a *member deletion* is a non-reified member ("observedAt", "unitCode", "objectType",
  "valueType") whose value is `NGSI_LD_NULL`: merge and partial attribute update remove
  that member from the target instance;
- a sub-attribute deletion is a deletion instance under "sub".

Stored entities never contain `NGSI_LD_NULL` in these places.
"""

from __future__ import annotations

from typing import Any

from broker.types import VALUE_MEMBER, Instance

NGSI_LD_NULL = "urn:ngsi-ld:null"

NULLABLE_MEMBERS = ("observedAt", "unitCode", "objectType", "valueType")


def deletion_instance(kind: str, *, dataset_id: str | None, now: str) -> Instance:
    inst: Instance = {"type": kind, VALUE_MEMBER[kind]: NGSI_LD_NULL}
    if dataset_id is not None:
        inst["datasetId"] = dataset_id
    inst["createdAt"] = now
    inst["modifiedAt"] = now
    return inst


def is_deletion(inst: Instance) -> bool:
    """True when the instance asks for the deletion of its target instance."""
    member = VALUE_MEMBER.get(inst.get("type", ""))
    return member is not None and inst.get(member) == NGSI_LD_NULL


def is_null_value(kind: str, value: Any) -> bool:
    """Whether a wire value member is one of the NGSI-LD Null encodings for its kind."""
    if value is None or value == NGSI_LD_NULL:
        return True
    if kind == "LanguageProperty":
        return isinstance(value, dict) and len(value) == 1 and value.get("@none") == NGSI_LD_NULL
    if kind in ("ListProperty", "ListRelationship"):
        if isinstance(value, list) and len(value) == 1:
            item = value[0]
            if item is None or item == NGSI_LD_NULL:
                return True
            return (
                kind == "ListRelationship"
                and isinstance(item, dict)
                and item.get("object") == NGSI_LD_NULL
            )
    return False
