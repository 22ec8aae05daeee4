"""ExpandedEntity -> wire forms: normalized, concise, keyValues (simplified), GeoJSON Feature.

On the hot path of every read: the renderers build plain dicts directly from the stored
entity, compact names with the request's TermMap and never copy or mutate the stored
entity. Leaf values (a Property value, a geometry, a languageMap) are shared with the stored
entity, not copied: treat the output as read-only and serialize it.

Forms (clause references to ETSI GS CIM 009 V1.9.1):

- normalized (4.5.2.2, 4.5.3.2, ...): every attribute {"type", value member, members};
  a ListRelationship's objectList as [{"object": URI}] (annex C, clause C.2.2);
- concise (4.5.2.3, 4.5.3.3, ...): "type" dropped where the value member implies it; a
  Property or GeoProperty without any other member becomes its bare value; a Property whose
  value is a GeoJSON geometry keeps "type": "Property" so that re-reading does not infer a
  GeoProperty; instances of a multi-attribute are always objects;
- keyValues (4.5.4): each attribute is its value (Relationship -> object, LanguageProperty
  -> {"languageMap": ...}, VocabProperty -> {"vocab": ...}, JsonProperty -> {"json": ...},
  List* -> the array), a multi-attribute {"dataset": {datasetId | "@none": value}};
  sub-attributes are dropped;
- `lang` (4.15): a LanguageProperty becomes a Property with the chosen string as "value"
  and the chosen tag as "lang" (keyValues: the string); see broker.model.language;
- `sys_attrs`: createdAt/modifiedAt on the entity, every instance and sub-attribute;
- `attrs`, `pick`, `omit` (4.21): sets of expanded attribute names; `pick`/`omit` may also
  hold the entity members "id", "type" and "scope".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from broker.jsonld import TermMap
from broker.model.geojson import is_valid_geometry, looks_like_geometry
from broker.model.language import choose_language
from broker.types import VALUE_MEMBER, CompactedEntity, ExpandedEntity, Instance

Form = Literal["normalized", "concise", "keyValues"]


@dataclass(frozen=True, slots=True)
class RenderOptions:
    form: Form = "normalized"
    sys_attrs: bool = False
    lang: str | None = None
    attrs: frozenset[str] | None = None
    pick: frozenset[str] | None = None
    omit: frozenset[str] | None = None


def render_entity(
    entity: ExpandedEntity, terms: TermMap, opts: RenderOptions
) -> CompactedEntity:
    pick, omit = opts.pick, opts.omit
    out: CompactedEntity = {}
    if _kept("id", pick, omit):
        out["id"] = entity["id"]
    if _kept("type", pick, omit):
        out["type"] = _compact_types(entity["type"], terms)
    scope = entity.get("scope")
    if scope and _kept("scope", pick, omit):
        out["scope"] = scope[0] if len(scope) == 1 else list(scope)
    if opts.sys_attrs:
        out["createdAt"] = entity["createdAt"]
        out["modifiedAt"] = entity["modifiedAt"]
    render = _RENDERERS[opts.form]
    wanted = opts.attrs
    compact = terms.compact_iri
    for name, instances in entity["attrs"].items():
        if wanted is not None and name not in wanted:
            continue
        if (pick is not None and name not in pick) or (omit is not None and name in omit):
            continue
        out[compact(name)] = render(instances, terms, opts)
    return out


def render_attribute(instances: list[Instance], terms: TermMap, opts: RenderOptions) -> Any:
    """One attribute in the chosen form (GET /entities/{id}/attrs/{attrId})."""
    return _RENDERERS[opts.form](instances, terms, opts)


def render_feature(
    entity: ExpandedEntity,
    terms: TermMap,
    opts: RenderOptions,
    geometry_property: str,
    *,
    dataset_id: str | None = None,
) -> dict[str, Any]:
    """The GeoJSON Feature of an entity (clauses 4.5.16.2 and, for keyValues, 4.5.17.1).

    `geometry_property` is the expanded name of the GeoProperty giving "geometry"; of a
    multi-attribute the instance with `dataset_id` is used (the default instance when None,
    clause 4.5.16.1). "geometry" is null when the entity lacks it or its value is not a
    valid geometry.
    """
    properties = render_entity(entity, terms, opts)
    properties.pop("id", None)
    return {
        "id": entity["id"],
        "type": "Feature",
        "geometry": _geometry(entity, geometry_property, dataset_id),
        "properties": properties,
    }


def _geometry(entity: ExpandedEntity, name: str, dataset_id: str | None) -> Any:
    for inst in entity["attrs"].get(name, ()):
        if inst.get("datasetId") == dataset_id:
            value = inst.get("value")
            if inst["type"] == "GeoProperty" or is_valid_geometry(value):
                return value
            return None
    return None


def _kept(member: str, pick: frozenset[str] | None, omit: frozenset[str] | None) -> bool:
    return (pick is None or member in pick) and (omit is None or member not in omit)


def _compact_types(types: list[str], terms: TermMap) -> str | list[str]:
    if len(types) == 1:
        return terms.compact_iri(types[0])
    return [terms.compact_iri(t) for t in types]


def _compact_value(value: str | list[str], terms: TermMap) -> str | list[str]:
    if isinstance(value, str):
        return terms.compact_iri(value)
    return [terms.compact_iri(v) for v in value]


# -- normalized and concise -----------------------------------------------------------------


def _instance_object(
    inst: Instance, terms: TermMap, opts: RenderOptions, typed: bool
) -> dict[str, Any]:
    """The object form of an instance; `typed` says whether "type" is written (normalized)
    or left to inference (concise)."""
    kind = inst["type"]
    out: dict[str, Any] = {}
    if kind == "LanguageProperty" and opts.lang is not None:
        tag, text = choose_language(inst["languageMap"], opts.lang)
        if typed:
            out["type"] = "Property"
        out["value"] = text
        out["lang"] = tag
    else:
        if typed or (kind == "Property" and looks_like_geometry(inst["value"])):
            out["type"] = kind
        member = VALUE_MEMBER[kind]
        value = inst[member]
        if kind == "VocabProperty":
            value = _compact_value(value, terms)
        elif kind == "ListRelationship":
            value = [{"object": uri} for uri in value]
        out[member] = value
    if "datasetId" in inst:
        out["datasetId"] = inst["datasetId"]
    if "objectType" in inst:
        out["objectType"] = _compact_value(inst["objectType"], terms)
    for member in ("observedAt", "unitCode", "valueType"):
        if member in inst:
            out[member] = inst[member]
    if opts.sys_attrs:
        out["createdAt"] = inst["createdAt"]
        out["modifiedAt"] = inst["modifiedAt"]
    sub = inst.get("sub")
    if sub:
        render = _render_normalized if typed else _render_concise
        compact = terms.compact_iri
        for name, instances in sub.items():
            out[compact(name)] = render(instances, terms, opts)
    return out


def _render_normalized(instances: list[Instance], terms: TermMap, opts: RenderOptions) -> Any:
    if len(instances) == 1:
        return _instance_object(instances[0], terms, opts, True)
    return [_instance_object(inst, terms, opts, True) for inst in instances]


def _bare_ok(value: Any) -> bool:
    """Whether a Property value can be written bare in concise form and read back as that
    same Property: scalars, and arrays holding no object (an array of objects reads as
    several instances)."""
    if isinstance(value, list):
        return not any(isinstance(item, dict) for item in value)
    return not isinstance(value, dict)


def _concise_single(inst: Instance, terms: TermMap, opts: RenderOptions) -> Any:
    out = _instance_object(inst, terms, opts, False)
    if len(out) == 1:
        kind = inst["type"]
        if kind == "GeoProperty" or (kind == "Property" and "value" in out):
            value = out["value"]
            if kind == "GeoProperty" or _bare_ok(value):
                return value
    return out


def _render_concise(instances: list[Instance], terms: TermMap, opts: RenderOptions) -> Any:
    if len(instances) == 1:
        return _concise_single(instances[0], terms, opts)
    return [_instance_object(inst, terms, opts, False) for inst in instances]


# -- keyValues ------------------------------------------------------------------------------


def _simplified(inst: Instance, terms: TermMap, opts: RenderOptions) -> Any:
    kind = inst["type"]
    if kind in ("Property", "GeoProperty"):
        return inst["value"]
    if kind == "Relationship":
        return inst["object"]
    if kind == "LanguageProperty":
        if opts.lang is not None:
            return choose_language(inst["languageMap"], opts.lang)[1]
        return {"languageMap": inst["languageMap"]}
    if kind == "VocabProperty":
        return {"vocab": _compact_value(inst["vocab"], terms)}
    if kind == "JsonProperty":
        return {"json": inst["json"]}
    return inst[VALUE_MEMBER[kind]]  # ListProperty valueList, ListRelationship objectList


def _render_key_values(instances: list[Instance], terms: TermMap, opts: RenderOptions) -> Any:
    if len(instances) == 1 and "datasetId" not in instances[0]:
        return _simplified(instances[0], terms, opts)
    return {
        "dataset": {
            inst.get("datasetId", "@none"): _simplified(inst, terms, opts) for inst in instances
        }
    }


_RENDERERS: dict[str, Callable[[list[Instance], TermMap, RenderOptions], Any]] = {
    "normalized": _render_normalized,
    "concise": _render_concise,
    "keyValues": _render_key_values,
}
