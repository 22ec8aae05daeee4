"""The update rules of the entity operations, as pure functions on the stored form.

Every function takes a stored entity and expanded input (from broker.model.expand) and
returns a NEW entity; inputs are never mutated, only the containers on the path of a change
are copied (the entity dict, its "attrs" dict, the changed attribute's instance list).

Timestamps: every change sets the entity's modifiedAt and the modifiedAt of each instance it
touches to `now`; an instance that replaces or is merged into an existing one keeps the
existing createdAt (clauses 5.6.2, 5.6.3, 5.6.19); new instances get `now` for both.

Attribute instances are matched by datasetId (no datasetId = the default instance, clause
4.5.5). Deletion requests are the markers of broker.model.null.

Operations and clauses (ETSI GS CIM 009; v1.8 behaviour unless said otherwise):

- `append_attrs`: Append Entity Attributes, 5.6.3 (POST .../attrs, noOverwrite option);
- `update_attrs`: Update Entity Attributes, 5.6.2 in its v1.8 form: only attribute instances
  that exist are replaced, the others are reported as not updated (v1.9 appends them);
- `merge_entity`: Merge Entity, 5.6.17 with the merge patch rules of 5.5.12: instances are
  merged member by member, sub-attributes merged recursively, a JSON object Property value
  merged as RFC 7396 says;
- `partial_update_attr`: Partial Attribute update, 5.6.4 with the rules of 5.5.8;
- `replace_attr`: Replace Attribute, 5.6.19;
- `delete_attr`: Delete Attribute, 5.6.5;
- `replace_entity`: Replace Entity, 5.6.18.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from broker.errors import BadRequestData, ResourceNotFound
from broker.model.geojson import looks_like_geometry
from broker.model.null import NGSI_LD_NULL, NULLABLE_MEMBERS, is_deletion
from broker.model.validate import NGSI_LD_CORE
from broker.types import VALUE_MEMBER, ExpandedAttrs, ExpandedEntity, Instance

SCOPE_NAMES = frozenset({"scope", NGSI_LD_CORE + "scope"})


@dataclass(slots=True)
class UpdateResult:
    """What an operation on several attributes did, by expanded attribute name.

    `not_updated` holds (name, reason) pairs; the API compacts the names into the spec's
    UpdateResult body (clause 5.2.18). An attribute can be in both lists when some of its
    instances were changed and others were not.
    """

    updated: list[str] = field(default_factory=list)
    not_updated: list[tuple[str, str]] = field(default_factory=list)

    def _add_updated(self, name: str) -> None:
        if name not in self.updated:
            self.updated.append(name)


# -- operations on several attributes ------------------------------------------------------


def append_attrs(
    entity: ExpandedEntity,
    attrs: ExpandedAttrs,
    *,
    now: str,
    overwrite: bool,
    types: list[str] | None = None,
    scope: list[str] | None = None,
    max_attributes: int | None = None,
) -> tuple[ExpandedEntity, UpdateResult]:
    """POST /entities/{id}/attrs. With `overwrite=False` (options=noOverwrite) existing
    instances are kept and reported not updated. Types in the fragment are added; scope is
    replaced when overwriting, otherwise its new scopes are added (clause 5.6.3)."""
    result = UpdateResult()
    new_attrs = dict(entity["attrs"])
    for name, instances in attrs.items():
        current = list(new_attrs.get(name, ()))
        touched = False
        for inst in instances:
            if is_deletion(inst):
                raise BadRequestData(f"attribute {name!r}: the NGSI-LD Null cannot be appended")
            i = _find(current, inst.get("datasetId"))
            if i is None:
                current.append(_fresh(inst, now))
                touched = True
            elif overwrite:
                current[i] = _replacing(inst, current[i], now)
                touched = True
            else:
                result.not_updated.append((name, _exists_reason(inst)))
        if touched:
            new_attrs[name] = current
            result._add_updated(name)
    _check_count(new_attrs, max_attributes)
    new_types = _union(entity["type"], types)
    new_scope = _new_scope(entity.get("scope"), scope, replace=overwrite)
    return _finish(entity, new_attrs, new_types, new_scope, result, now), result


def update_attrs(
    entity: ExpandedEntity,
    attrs: ExpandedAttrs,
    *,
    now: str,
    types: list[str] | None = None,
    scope: list[str] | None = None,
) -> tuple[ExpandedEntity, UpdateResult]:
    """PATCH /entities/{id}/attrs: existing instances are replaced (createdAt kept) or, for a
    deletion marker, deleted; instances that do not exist are reported not updated. Types
    are added; scope replaces an existing scope (clause 5.6.2)."""
    result = UpdateResult()
    new_attrs = dict(entity["attrs"])
    for name, instances in attrs.items():
        current = new_attrs.get(name)
        if current is None:
            result.not_updated.append((name, "attribute does not exist"))
            continue
        current = list(current)
        touched = False
        for inst in instances:
            i = _find(current, inst.get("datasetId"))
            if i is None:
                result.not_updated.append((name, _missing_reason(inst.get("datasetId"))))
            elif is_deletion(inst):
                del current[i]
                touched = True
            else:
                _reject_null_inside_value(inst, name)
                current[i] = _replacing(inst, current[i], now)
                touched = True
        if touched:
            _store(new_attrs, name, current)
            result._add_updated(name)
    new_types = _union(entity["type"], types)
    old_scope = entity.get("scope")
    new_scope = _new_scope(old_scope, scope, replace=True) if old_scope else old_scope
    return _finish(entity, new_attrs, new_types, new_scope, result, now), result


def merge_entity(
    entity: ExpandedEntity,
    attrs: ExpandedAttrs,
    *,
    now: str,
    types: list[str] | None = None,
    scope: list[str] | None = None,
    max_attributes: int | None = None,
    observed_at: str | None = None,
) -> tuple[ExpandedEntity, UpdateResult]:
    """PATCH /entities/{id} (Merge Entity, clauses 5.6.17 and 5.5.12).

    New attributes and instances are added; an existing instance is merged: members of the
    fragment replace the instance's members, a member set to the NGSI-LD Null is removed,
    sub-attributes are merged recursively (those not in the fragment are kept), and when both
    the old and the new Property value are JSON objects they are merged as RFC 7396 says
    (NGSI-LD Null removes a key). An instance of another attribute type replaces the old
    one. A deletion marker deletes the matching instance. Types are added; scope is
    replaced, `[]` removes it. `observed_at` (the common observedAt option) also updates
    the observedAt of merged instances that had one, unless the fragment gives its own.
    """
    result = UpdateResult()
    new_attrs = dict(entity["attrs"])
    for name, instances in attrs.items():
        current = list(new_attrs.get(name, ()))
        touched = False
        for inst in instances:
            dataset_id = inst.get("datasetId")
            i = _find(current, dataset_id)
            if is_deletion(inst):
                if i is None:
                    result.not_updated.append((name, _missing_reason(dataset_id)))
                    continue
                del current[i]
            elif i is None:
                current.append(_fresh(_without_nulls(inst), now))
            else:
                merged = _merge_instance(current[i], inst, now)
                if observed_at is not None and "observedAt" in merged and (
                    "observedAt" not in inst
                ):
                    merged["observedAt"] = observed_at
                current[i] = merged
            touched = True
        if touched:
            _store(new_attrs, name, current)
            result._add_updated(name)
    _check_count(new_attrs, max_attributes)
    new_types = _union(entity["type"], types)
    new_scope = _new_scope(entity.get("scope"), scope, replace=True)
    return _finish(entity, new_attrs, new_types, new_scope, result, now), result


# -- operations on one attribute -----------------------------------------------------------


def partial_update_attr(
    entity: ExpandedEntity, name: str, instances: list[Instance], *, now: str
) -> ExpandedEntity:
    """PATCH /entities/{id}/attrs/{attrId} (clauses 5.6.4 and 5.5.8).

    The fragment's members replace the target instance's members, the others are kept; a
    member set to the NGSI-LD Null is removed; a sub-attribute instance of the fragment
    replaces the one with its datasetId (or deletes it when it is a deletion marker). The
    whole attribute cannot be deleted this way and its type cannot change (BadRequestData).
    ResourceNotFound when the attribute or the targeted instance is absent.
    """
    current = list(_existing(entity, name))
    for inst in instances:
        i = _find_or_404(current, name, inst.get("datasetId"))
        if is_deletion(inst):
            raise BadRequestData(
                f"attribute {name!r}: a partial attribute update cannot delete the attribute "
                "(clause 5.6.4); use DELETE"
            )
        _reject_null_inside_value(inst, name)
        old = current[i]
        if inst["type"] != old["type"]:
            raise BadRequestData(
                f"attribute {name!r}: the attribute type cannot change from {old['type']} to "
                f"{inst['type']} (clause 5.6.4)"
            )
        current[i] = _patch_instance(old, inst, now)
    return _with_attribute(entity, name, current, now)


def replace_attr(
    entity: ExpandedEntity, name: str, instances: list[Instance], *, now: str
) -> ExpandedEntity:
    """PUT /entities/{id}/attrs/{attrId} (clause 5.6.19): the instance with the same
    datasetId is replaced, keeping its createdAt. ResourceNotFound when it is absent."""
    current = list(_existing(entity, name))
    for inst in instances:
        i = _find_or_404(current, name, inst.get("datasetId"))
        if is_deletion(inst):
            raise BadRequestData(f"attribute {name!r}: the NGSI-LD Null cannot replace an "
                                 "attribute")
        current[i] = _replacing(inst, current[i], now)
    return _with_attribute(entity, name, current, now)


def delete_attr(
    entity: ExpandedEntity,
    name: str,
    *,
    dataset_id: str | None = None,
    delete_all: bool = False,
    now: str,
) -> ExpandedEntity:
    """DELETE /entities/{id}/attrs/{attrId} (clause 5.6.5): the default instance, the
    instance with `dataset_id` ("@none" = default), or with `delete_all` every instance.
    `scope` (the term or its IRI) removes the entity's scope. ResourceNotFound when absent."""
    if name in SCOPE_NAMES:
        if not entity.get("scope"):
            raise ResourceNotFound("the entity has no scope")
        out = {k: v for k, v in entity.items() if k != "scope"}
        out["modifiedAt"] = now
        return out
    current = list(_existing(entity, name))
    if delete_all:
        current = []
    else:
        if dataset_id == "@none":
            dataset_id = None
        del current[_find_or_404(current, name, dataset_id)]
    return _with_attribute(entity, name, current, now)


def replace_entity(old: ExpandedEntity, new: ExpandedEntity, *, now: str) -> ExpandedEntity:
    """PUT /entities/{id} (clause 5.6.18): the new content under the old id and createdAt."""
    out: ExpandedEntity = {"id": old["id"], "type": new["type"]}
    if new.get("scope"):
        out["scope"] = new["scope"]
    out["createdAt"] = old["createdAt"]
    out["modifiedAt"] = now
    out["attrs"] = new["attrs"]
    return out


# -- helpers -------------------------------------------------------------------------------


def _find(instances: list[Instance], dataset_id: str | None) -> int | None:
    for i, inst in enumerate(instances):
        if inst.get("datasetId") == dataset_id:
            return i
    return None


def _existing(entity: ExpandedEntity, name: str) -> list[Instance]:
    instances: list[Instance] | None = entity["attrs"].get(name)
    if not instances:
        raise ResourceNotFound(f"the entity has no attribute {name!r}")
    return instances


def _find_or_404(instances: list[Instance], name: str, dataset_id: str | None) -> int:
    i = _find(instances, dataset_id)
    if i is None:
        if dataset_id is None:
            raise ResourceNotFound(f"attribute {name!r} has no default instance")
        raise ResourceNotFound(f"attribute {name!r} has no instance with datasetId "
                               f"{dataset_id!r}")
    return i


def _reject_null_inside_value(inst: Instance, name: str) -> None:
    """Clause 5.5.4: the NGSI-LD Null as a member of an object value is for merges only."""
    value = inst.get("value")
    if inst["type"] == "Property" and isinstance(value, dict) and NGSI_LD_NULL in value.values():
        raise BadRequestData(f"attribute {name!r}: the NGSI-LD Null inside a value is only "
                             "allowed in merges (clause 5.5.4)")


def _exists_reason(inst: Instance) -> str:
    dataset_id = inst.get("datasetId")
    if dataset_id is None:
        return "attribute exists and noOverwrite was requested"
    return f"instance with datasetId {dataset_id!r} exists and noOverwrite was requested"


def _missing_reason(dataset_id: str | None) -> str:
    if dataset_id is None:
        return "attribute has no default instance"
    return f"attribute has no instance with datasetId {dataset_id!r}"


def _store(attrs: ExpandedAttrs, name: str, instances: list[Instance]) -> None:
    if instances:
        attrs[name] = instances
    else:
        attrs.pop(name, None)


def _fresh(inst: Instance, now: str) -> Instance:
    return {**inst, "createdAt": now, "modifiedAt": now}


def _replacing(new: Instance, old: Instance, now: str) -> Instance:
    return {**new, "createdAt": old.get("createdAt", now), "modifiedAt": now}


def _union(old: list[str], new: list[str] | None) -> list[str]:
    if not new:
        return old
    return list(dict.fromkeys([*old, *new]))


def _new_scope(
    old: list[str] | None, new: list[str] | None, *, replace: bool
) -> list[str] | None:
    if new is None:
        return old
    if replace or not new:
        return list(new)
    return list(dict.fromkeys([*(old or ()), *new]))


def _check_count(attrs: ExpandedAttrs, max_attributes: int | None) -> None:
    if max_attributes is not None and len(attrs) > max_attributes:
        raise BadRequestData(
            f"the entity would have {len(attrs)} attributes; at most {max_attributes} are allowed"
        )


def _finish(
    entity: ExpandedEntity,
    attrs: ExpandedAttrs,
    types: list[str],
    scope: list[str] | None,
    result: UpdateResult,
    now: str,
) -> ExpandedEntity:
    changed = bool(result.updated) or types != entity["type"] or scope != entity.get("scope")
    out: ExpandedEntity = {"id": entity["id"], "type": types}
    if scope:
        out["scope"] = scope
    out["createdAt"] = entity["createdAt"]
    out["modifiedAt"] = now if changed else entity["modifiedAt"]
    out["attrs"] = attrs
    return out


def _with_attribute(
    entity: ExpandedEntity, name: str, instances: list[Instance], now: str
) -> ExpandedEntity:
    attrs = dict(entity["attrs"])
    _store(attrs, name, instances)
    out = dict(entity)
    out["attrs"] = attrs
    out["modifiedAt"] = now
    return out


def _merge_patch(target: Any, patch: dict[str, Any]) -> dict[str, Any]:
    """IETF RFC 7396 on a JSON object value, with the NGSI-LD Null (or null) as "remove"."""
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None or value == NGSI_LD_NULL:
            out.pop(key, None)
        elif isinstance(value, dict):
            out[key] = _merge_patch(out.get(key), value)
        else:
            out[key] = value
    return out


def _without_nulls(inst: Instance) -> Instance:
    """A fragment instance made storable when there is nothing to merge it into: member
    deletions and sub-attribute deletions dropped, Null keys removed from an object value."""
    out = {k: v for k, v in inst.items() if not (k in NULLABLE_MEMBERS and v == NGSI_LD_NULL)}
    value = out.get("value")
    if out["type"] == "Property" and isinstance(value, dict):
        out["value"] = _merge_patch({}, value)
    sub = inst.get("sub")
    if sub:
        cleaned = {
            name: [_without_nulls(s) for s in instances if not is_deletion(s)]
            for name, instances in sub.items()
        }
        cleaned = {name: instances for name, instances in cleaned.items() if instances}
        if cleaned:
            out["sub"] = cleaned
        else:
            out.pop("sub")
    return out


def _merge_instance(old: Instance, new: Instance, now: str) -> Instance:
    kind = new["type"]
    if kind != old["type"]:
        return _replacing(_without_nulls(new), old, now)
    member = VALUE_MEMBER[kind]
    out = dict(old)
    for key, value in new.items():
        if key in ("type", "createdAt", "modifiedAt", "sub"):
            continue
        if key == member:
            old_value = old[member]
            if (
                kind == "Property"
                and isinstance(value, dict)
                and isinstance(old_value, dict)
                and not looks_like_geometry(value)
            ):
                value = _merge_patch(old_value, value)
            out[key] = value
        elif key in NULLABLE_MEMBERS and value == NGSI_LD_NULL:
            out.pop(key, None)
        else:
            out[key] = value
    if "sub" in new:
        _apply_sub(out, old.get("sub"), new["sub"], now, _merge_instance)
    out["modifiedAt"] = now
    return out


def _patch_instance(old: Instance, new: Instance, now: str) -> Instance:
    """Clause 5.5.8 at attribute level: replace members, never merge inside them."""
    out = dict(old)
    for key, value in new.items():
        if key in ("type", "createdAt", "modifiedAt", "sub"):
            continue
        if key in NULLABLE_MEMBERS and value == NGSI_LD_NULL:
            out.pop(key, None)
        else:
            out[key] = value
    if "sub" in new:
        _apply_sub(out, old.get("sub"), new["sub"], now, _replacing_sub)
    out["modifiedAt"] = now
    return out


def _replacing_sub(old: Instance, new: Instance, now: str) -> Instance:
    return _replacing(_without_nulls(new), old, now)


def _apply_sub(
    out: Instance,
    old_sub: ExpandedAttrs | None,
    new_sub: ExpandedAttrs,
    now: str,
    combine: Callable[[Instance, Instance, str], Instance],
) -> None:
    """Apply a fragment's sub-attributes to `out` (a copy of the old instance): deletion
    markers delete, matching instances are combined with `combine`, others are added."""
    sub = dict(old_sub or {})
    for name, instances in new_sub.items():
        current = list(sub.get(name, ()))
        for inst in instances:
            i = _find(current, inst.get("datasetId"))
            if is_deletion(inst):
                if i is not None:
                    del current[i]
            elif i is None:
                current.append(_fresh(_without_nulls(inst), now))
            else:
                current[i] = combine(current[i], inst, now)
        _store(sub, name, current)
    if sub:
        out["sub"] = sub
    else:
        out.pop("sub", None)
