"""Wire payload -> ExpandedEntity / ExpandedAttrs, validating as it goes.

Every function raises broker.errors.BadRequestData with a detail naming the offending field
("attribute 'speed': 'observedAt' is not a valid DateTime") and never returns a half-valid
result: the output is built only from members that passed their check.

Accepted input (the attribute forms may be mixed within one payload):

- normalized (clauses 4.5.2.2, 4.5.3.2, 4.5.18 to 4.5.24): every attribute an object with
  "type" and its value member;
- concise (clauses 4.5.2.3, 4.5.3.3, ...): "type" may be left out and is inferred from the
  value member present ("value" -> Property, or GeoProperty when the value is a GeoJSON
  geometry; "object" -> Relationship; "languageMap", "vocab", "json", "valueList",
  "objectList" -> their kinds); a bare GeoJSON geometry is a GeoProperty; any other bare
  value (including a JSON object without "type" and without a value member) is a Property;
  an object with "type" is always read as normalized;
- simplified, with `key_values=True` (clause 4.5.4): each attribute is its value; a GeoJSON
  geometry becomes a GeoProperty, {"languageMap": ...} a LanguageProperty, {"vocab": ...} a
  VocabProperty, {"json": ...} a JsonProperty, {"dataset": {datasetId: value}} several
  instances (`@none` = default); everything else is a Property.

Merging a simplified fragment (clause 5.6.17) keeps the type of the attribute it lands on:
give `existing` (the target entity) and a value for an existing Relationship, VocabProperty,
JsonProperty, List* or LanguageProperty instance is read as that kind; with `lang`, a string
for an existing LanguageProperty replaces only that language's entry of its languageMap.

The "@context" member is ignored here (the API resolves it into `terms`); "createdAt",
"modifiedAt", "deletedAt" and "instanceId" in the input are ignored because they are system
generated (clause 5.2.2): every instance, sub-attribute instance and the entity get `now`.

With `allow_null=True` (partial update and merge fragments) the NGSI-LD Null is accepted
and turned into the deletion markers described in broker.model.null; otherwise it is
BadRequestData (clause 5.5.4).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

from broker.errors import BadRequestData
from broker.jsonld import TermMap
from broker.model.geojson import geometry_error, looks_like_geometry, plain_position
from broker.model.null import NGSI_LD_NULL, deletion_instance, is_deletion, is_null_value
from broker.model.validate import (
    NGSI_LD_CORE,
    is_language_tag,
    is_scope,
    is_uri,
    is_valid_name,
    normalize_datetime,
)
from broker.types import ATTRIBUTE_TYPES, VALUE_MEMBER, ExpandedAttrs, ExpandedEntity, Instance

ENTITY_MEMBERS = frozenset({"id", "@id", "type", "@type", "scope", "@context"})
"""Members of an entity (clause 4.5.1) that are not attributes."""

ENTITY_SYSTEM_MEMBERS = frozenset({"createdAt", "modifiedAt", "deletedAt"})
SYSTEM_MEMBERS = ENTITY_SYSTEM_MEMBERS | {"instanceId"}
"""System generated members (of an entity; of an attribute instance also "instanceId"):
ignored in input (clause 5.2.2)."""

RESERVED_NAMES = frozenset(
    {
        *ENTITY_MEMBERS,
        *SYSTEM_MEMBERS,
        "observedAt",
        "unitCode",
        "datasetId",
        "objectType",
        "valueType",
        "expiresAt",
        "lang",
        *VALUE_MEMBER.values(),
        "entity",
        "entityList",
        "previousValue",
        "previousObject",
        "previousLanguageMap",
        "previousVocab",
        "previousJson",
        "previousValueList",
        "previousObjectList",
    }
)
"""Names that cannot name an attribute: entity and attribute members and the non-reified core
terms (clause 4.5.1: "Terms defined in the Core Context as non-reified Properties ... shall
not be used as Attribute names")."""

RESERVED_IRIS = frozenset(NGSI_LD_CORE + name for name in RESERVED_NAMES if name[0] != "@")

CORE_GEO_PROPERTIES = frozenset(
    NGSI_LD_CORE + name for name in ("location", "observationSpace", "operationSpace")
)
"""The core GeoProperties (clause 4.7): their value must be a geometry."""

_VALUE_MEMBERS = tuple(dict.fromkeys(VALUE_MEMBER.values()))
_KIND_OF_MEMBER = {
    "value": "Property",
    "object": "Relationship",
    "languageMap": "LanguageProperty",
    "vocab": "VocabProperty",
    "json": "JsonProperty",
    "valueList": "ListProperty",
    "objectList": "ListRelationship",
}
_TYPE_ALIASES = {"VocabularyProperty": "VocabProperty"}  # the spelling of annex C, clause C.2.2
_META_MEMBERS = frozenset({"datasetId", "observedAt", "unitCode", "objectType", "valueType"})
_UNITLESS = frozenset(
    {"Relationship", "ListRelationship", "LanguageProperty", "VocabProperty", "JsonProperty"}
)
_RELATIONSHIPS = frozenset({"Relationship", "ListRelationship"})
_ABSENT = object()
_OBJECTS_KEPT = 1000
_SKIPPED_IN_ATTRIBUTE = SYSTEM_MEMBERS | {"type", "lang"}
"""Members of an attribute object that are neither copied nor sub-attributes: the kind, the
system timestamps (the broker sets them) and a request's `lang`."""
_FORBIDDEN_IN_ATTRIBUTE = frozenset(
    {"@context", "id", "@id", "scope", "expiresAt", "entity", "entityList"}
    | {name for name in RESERVED_NAMES if name.startswith("previous")}
)


class ExpandedFragment(NamedTuple):
    """An Entity Fragment (clause 5.4): attributes plus the optional entity members.

    `scope == []` means the fragment set scope to the NGSI-LD Null (remove the scope). A
    named tuple: a batch update makes one per element.
    """

    attrs: ExpandedAttrs
    entity_id: str | None = None
    types: list[str] | None = None
    scope: list[str] | None = None


def expand_entity(
    payload: Any, terms: TermMap, *, now: str, key_values: bool = False, max_attributes: int = 1000
) -> ExpandedEntity:
    """A whole entity (POST /entities, PUT /entities/{id}): needs `id` (a URI) and `type`."""
    expander = _Expander(terms, now, allow_null=False, key_values=key_values)
    return _entity(expander, payload, max_attributes)


def entity_expander(
    terms: TermMap, *, now: str, key_values: bool = False, max_attributes: int = 1000
) -> Callable[[Any], ExpandedEntity]:
    """`expand_entity` for many entities with one context and timestamp (a batch): the
    attribute names' IRIs are looked up once for all of them."""
    expander = _Expander(terms, now, allow_null=False, key_values=key_values)
    return partial(_entity, expander, max_attributes=max_attributes)


def _entity(expander: _Expander, payload: Any, max_attributes: int) -> ExpandedEntity:
    if not isinstance(payload, dict):
        raise BadRequestData("the entity must be a JSON object")
    now = expander.now
    entity_id = _entity_id(payload, required=True)
    types = expander.types(payload, required=True)
    scope = _scope(payload, allow_null=False)
    attrs = expander.attrs(payload, max_attributes)
    entity: ExpandedEntity = {"id": entity_id, "type": types}
    if scope:
        entity["scope"] = scope
    entity["createdAt"] = now
    entity["modifiedAt"] = now
    entity["attrs"] = attrs
    return entity


def expand_fragment(
    fragment: Any,
    terms: TermMap,
    *,
    now: str,
    key_values: bool = False,
    allow_null: bool = False,
    max_attributes: int = 1000,
    existing: ExpandedEntity | None = None,
    lang: str | None = None,
) -> ExpandedFragment:
    """An Entity Fragment with its optional "id", "type" and "scope" members kept.

    `existing` and `lang` only matter with `key_values` (see the module docstring)."""
    expander = _Expander(terms, now, allow_null=allow_null, key_values=key_values,
                         existing=existing, lang=lang)
    return _fragment(expander, fragment, max_attributes)


def fragment_expander(
    terms: TermMap, *, now: str, allow_null: bool = False, max_attributes: int = 1000
) -> Callable[[Any], ExpandedFragment]:
    """`expand_fragment` (normalized or concise) for many fragments with one context and
    timestamp (a batch), as `entity_expander` is for entities."""
    expander = _Expander(terms, now, allow_null=allow_null, key_values=False)
    return partial(_fragment, expander, max_attributes=max_attributes)


def _fragment(expander: _Expander, fragment: Any, max_attributes: int) -> ExpandedFragment:
    if not isinstance(fragment, dict):
        raise BadRequestData("the entity fragment must be a JSON object")
    entity_id = _entity_id(fragment, required=False)
    types = expander.types(fragment, required=False) or None
    scope = _scope(fragment, allow_null=expander.allow_null)
    attrs = expander.attrs(fragment, max_attributes)
    return ExpandedFragment(attrs=attrs, entity_id=entity_id, types=types, scope=scope)


def expand_attrs(
    fragment: Any,
    terms: TermMap,
    *,
    now: str,
    key_values: bool = False,
    allow_null: bool = False,
    max_attributes: int = 1000,
    existing: ExpandedEntity | None = None,
    lang: str | None = None,
) -> ExpandedAttrs:
    """A fragment of attributes (POST/PATCH /attrs, PATCH /entities/{id}).

    "id", "type" and "scope" are validated but not returned: use `expand_fragment` to get
    them.
    """
    return expand_fragment(
        fragment,
        terms,
        now=now,
        key_values=key_values,
        allow_null=allow_null,
        max_attributes=max_attributes,
        existing=existing,
        lang=lang,
    ).attrs


def expand_attribute(
    name: str,
    body: Any,
    terms: TermMap,
    *,
    now: str,
    allow_null: bool = False,
    key_values: bool = False,
) -> list[Instance]:
    """One attribute's body (PUT/PATCH /attrs/{attrId}); `name` is the term from the URL."""
    expanded = expand_attribute_name(name, terms)
    expander = _Expander(terms, now, allow_null=allow_null, key_values=key_values)
    return expander.attribute(body, (name,), expanded)


def expand_attribute_name(name: str, terms: TermMap, *, allow_scope: bool = False) -> str:
    """The IRI of an attribute name, after checking it may name an attribute (clause 4.6.2,
    clause 4.5.1). `scope` is refused (BadRequestData, as clauses 5.6.4 and 5.6.19 want for
    PATCH and PUT) unless `allow_scope` (DELETE, clause 5.6.5), when its IRI is returned."""
    if allow_scope and name == "scope":
        return NGSI_LD_CORE + "scope"
    return _attribute_iri(name, terms, (name,))


_NAMES_SEEN_MAX = 10_000
_names_seen: set[str] = set()
"""Attribute names already found valid and not reserved (whatever the context)."""


def _attribute_iri(name: Any, terms: TermMap, path: tuple[str, ...]) -> str:
    if type(name) is not str or name not in _names_seen:
        if not isinstance(name, str) or not is_valid_name(name):
            raise BadRequestData(f"{_where(path)}: not a valid attribute name (clause 4.6.2)",
                                 field=_field(path))
        if name in RESERVED_NAMES:
            raise BadRequestData(f"{_where(path)}: {name!r} is reserved and cannot name an "
                                 "attribute", field=_field(path))
        if len(_names_seen) >= _NAMES_SEEN_MAX:
            _names_seen.clear()
        _names_seen.add(name)
    iri = terms.expand_term(name)
    if iri in RESERVED_IRIS:
        raise BadRequestData(f"{_where(path)}: {name!r} is reserved and cannot name an "
                             "attribute", field=_field(path))
    return iri


def _entity_id(payload: dict[str, Any], *, required: bool) -> str | None:
    entity_id = payload.get("id", payload.get("@id"))
    if entity_id is None:
        if required:
            raise BadRequestData("the entity has no 'id'", field="id")
        return None
    if not is_uri(entity_id):
        raise BadRequestData(f"'id' is not a valid URI: {entity_id!r}", field="id")
    return str(entity_id)


def _scope(payload: dict[str, Any], *, allow_null: bool) -> list[str] | None:
    if "scope" not in payload:
        return None
    raw = payload["scope"]
    if allow_null and (raw is None or raw == NGSI_LD_NULL or raw == [NGSI_LD_NULL]):
        return []
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise BadRequestData("'scope' must not be an empty array", field="scope")
    for item in items:
        if not isinstance(item, str) or not is_scope(item):
            raise BadRequestData(f"'scope' has an invalid scope {item!r} (clause 4.18)",
                                 field="scope")
    return list(dict.fromkeys(items))


def _where(path: tuple[str, ...]) -> str:
    return "attribute " + " > ".join(repr(p) for p in path)


def _field(path: tuple[str, ...], member: str | None = None) -> str:
    return ".".join(path if member is None else (*path, member))


class _Expander:
    """One payload's expansion: the term map, the timestamp and the null policy."""

    __slots__ = (
        "allow_null", "existing", "iris", "key_values", "lang", "now", "objects", "terms",
        "type_iris",
    )

    def __init__(
        self,
        terms: TermMap,
        now: str,
        *,
        allow_null: bool,
        key_values: bool,
        existing: ExpandedEntity | None = None,
        lang: str | None = None,
    ) -> None:
        self.terms = terms
        self.now = now
        self.allow_null = allow_null
        self.key_values = key_values
        self.existing = existing
        self.lang = lang
        self.iris: dict[str, str] = {}
        """Top-level attribute names already expanded (and found valid) by this expander."""
        self.type_iris: dict[str, str] = {}
        """Entity type names likewise."""
        self.objects: set[str] = set()
        """Relationship objects already found to be URIs."""

    def _bad(self, path: tuple[str, ...], message: str, member: str | None = None) -> Exception:
        return BadRequestData(f"{_where(path)}: {message}", field=_field(path, member))

    # -- entity members --------------------------------------------------------------------

    def types(self, payload: dict[str, Any], *, required: bool) -> list[str]:
        raw = payload.get("type", payload.get("@type"))
        if raw is None:
            if required:
                raise BadRequestData("the entity has no 'type'", field="type")
            return []
        items = raw if isinstance(raw, list) else [raw]
        if not items:
            raise BadRequestData("'type' must not be an empty array", field="type")
        out: dict[str, None] = {}
        known = self.type_iris
        for item in items:
            iri = known.get(item) if type(item) is str else None
            if iri is None:
                if not isinstance(item, str) or not is_valid_name(item):
                    raise BadRequestData(f"'type' has an invalid entity type name {item!r}",
                                         field="type")
                iri = known[item] = self.terms.expand_term(item)
            out[iri] = None
        return list(out)

    def attrs(self, payload: dict[str, Any], max_attributes: int) -> ExpandedAttrs:
        if len(payload) > max_attributes:
            count = sum(
                1 for k in payload if k not in ENTITY_MEMBERS and k not in ENTITY_SYSTEM_MEMBERS
            )
            if count > max_attributes:
                raise BadRequestData(
                    f"the entity has {count} attributes; at most {max_attributes} are allowed"
                )
        attrs: ExpandedAttrs = {}
        iris = self.iris
        plain = not self.key_values
        for name, body in payload.items():
            if name in ENTITY_MEMBERS or name in ENTITY_SYSTEM_MEMBERS:
                continue
            path = (name,)
            iri = iris.get(name)
            if iri is None:
                iri = iris[name] = _attribute_iri(name, self.terms, path)
            if plain and type(body) is dict:  # one instance, as `attribute` would make it
                instances = [self._instance_object(body, path, iri)]
            else:
                instances = self.attribute(body, path, iri)
            if iri in attrs:  # two spellings (term and IRI) of one attribute
                instances = attrs[iri] + instances
                self._check_instances(instances, path)
            attrs[iri] = instances
        return attrs

    # -- attributes ------------------------------------------------------------------------

    def attribute(self, body: Any, path: tuple[str, ...], iri: str) -> list[Instance]:
        if self.key_values:
            instances = self._keep_existing_kind(
                self._key_value_attribute(body, path, iri), path, iri
            )
        elif type(body) is dict:
            return [self._instance_object(body, path, iri)]  # one instance: nothing to check
        elif isinstance(body, list) and body and all(isinstance(x, dict) for x in body):
            instances = [self._instance_object(x, path, iri) for x in body]
        else:
            instances = [self._instance(body, path, iri)]
        self._check_instances(instances, path)
        return instances

    def _check_instances(self, instances: list[Instance], path: tuple[str, ...]) -> None:
        """Clause 4.5.5: one default instance at most, datasetIds unique."""
        if len(instances) < 2:
            return
        seen: set[str | None] = set()
        for inst in instances:
            dataset_id = inst.get("datasetId")
            if dataset_id in seen:
                if dataset_id is None:
                    raise self._bad(path, "more than one default instance (without datasetId)")
                raise self._bad(path, f"datasetId {dataset_id!r} is used by more than one "
                                "instance", "datasetId")
            seen.add(dataset_id)

    def _null(
        self, kind: str, path: tuple[str, ...], dataset_id: str | None, raw: Any, member: str
    ) -> Instance:
        if not self.allow_null:
            if raw is None:
                raise self._bad(path, f"{member!r} must not be null", member)
            raise self._bad(path, "the NGSI-LD Null is only allowed in partial updates and "
                            "merges (clause 5.5.4)", member)
        return deletion_instance(kind, dataset_id=dataset_id, now=self.now)

    def _instance(self, body: Any, path: tuple[str, ...], iri: str) -> Instance:
        """Concise bare value, or an object (normalized or concise)."""
        if isinstance(body, dict):
            return self._instance_object(body, path, iri)
        if body is None or body == NGSI_LD_NULL:
            return self._null("Property", path, None, body, "value")
        if iri in CORE_GEO_PROPERTIES:
            raise self._bad(path, "must be a GeoProperty with a GeoJSON geometry value")
        return self._stamp({"type": "Property", "value": body})

    def _stamp(self, inst: Instance) -> Instance:
        inst["createdAt"] = self.now
        inst["modifiedAt"] = self.now
        return inst

    def _kind(self, obj: dict[str, Any], path: tuple[str, ...]) -> str | None:
        """The attribute kind of an object, or None for a concise Property whose value is
        the whole object."""
        raw = obj.get("type")
        if raw is not None:
            kind = _TYPE_ALIASES.get(raw, raw) if isinstance(raw, str) else None
            if kind in ATTRIBUTE_TYPES:
                return kind
            raise self._bad(path, f"unknown attribute type {raw!r}", "type")
        present = [m for m in _VALUE_MEMBERS if m in obj]
        if len(present) > 1:
            raise self._bad(path, f"{present[0]!r} and {present[1]!r} cannot both be present")
        if present:
            return _KIND_OF_MEMBER[present[0]]
        if _META_MEMBERS.intersection(obj):
            raise self._bad(path, "has no value member ('value', 'object', 'languageMap', "
                            "'vocab', 'json', 'valueList' or 'objectList')")
        return None

    def _instance_object(self, obj: dict[str, Any], path: tuple[str, ...], iri: str) -> Instance:
        kind = obj.get("type")
        if kind == "Property" or kind == "Relationship" or kind == "GeoProperty":
            simple = self._simple(obj, kind, path, iri)
            if simple is not None:
                return simple
        if type(kind) is not str or kind not in ATTRIBUTE_TYPES:  # not the normalized form
            if looks_like_geometry(obj) and "value" not in obj:
                return self._stamp({"type": "GeoProperty", "value": self._geometry(obj, path)})
            kind = self._kind(obj, path)
        if kind is None:
            if iri in CORE_GEO_PROPERTIES:
                raise self._bad(path, "must be a GeoProperty with a GeoJSON geometry value")
            self._check_no_null_inside(obj, path)
            return self._stamp({"type": "Property", "value": obj})
        member = VALUE_MEMBER[kind]
        if member not in obj:
            raise self._bad(path, f"a {kind} needs {member!r}")
        dataset_id = self._dataset_id(obj, path)
        raw_value = obj[member]
        if is_null_value(kind, raw_value):
            return self._null(kind, path, dataset_id, raw_value, member)

        if kind == "Property" and looks_like_geometry(raw_value) and (
            "type" not in obj or iri in CORE_GEO_PROPERTIES
        ):
            kind = "GeoProperty"  # clause 4.5.2.3: a geometry value infers GeoProperty
        if iri in CORE_GEO_PROPERTIES and kind != "GeoProperty":
            raise self._bad(path, "must be a GeoProperty with a GeoJSON geometry value", "type")

        inst: Instance = {"type": kind, member: self._value(kind, raw_value, path)}
        sub: ExpandedAttrs = {}
        for key, val in obj.items():
            if key == member or key in _SKIPPED_IN_ATTRIBUTE:
                continue
            if key == "datasetId":
                if dataset_id is not None:
                    inst["datasetId"] = dataset_id
            elif key in _KIND_OF_MEMBER:
                raise self._bad(path, f"{key!r} is not allowed in a {kind}", key)
            elif key == "observedAt":
                inst["observedAt"] = self._observed_at(val, path)
            elif key == "unitCode":
                if kind in _UNITLESS:
                    raise self._bad(path, f"'unitCode' is not allowed in a {kind}", key)
                inst["unitCode"] = self._string_member(val, path, key)
            elif key == "objectType":
                if kind not in _RELATIONSHIPS:
                    raise self._bad(path, f"'objectType' is not allowed in a {kind}", key)
                inst["objectType"] = self._object_type(val, path)
            elif key == "valueType":
                inst["valueType"] = self._string_member(val, path, key)
            elif key in _FORBIDDEN_IN_ATTRIBUTE or key.startswith("@"):
                raise self._bad(path, f"{key!r} is not allowed inside an attribute", key)
            else:
                sub_path = (*path, key)
                sub_iri = _attribute_iri(key, self.terms, sub_path)
                instances = self.attribute(val, sub_path, sub_iri)
                if sub_iri in sub:
                    instances = sub[sub_iri] + instances
                    self._check_instances(instances, sub_path)
                sub[sub_iri] = instances
        if sub:
            inst["sub"] = sub
        return self._stamp(inst)

    def _simple(
        self, obj: dict[str, Any], kind: str, path: tuple[str, ...], iri: str
    ) -> Instance | None:
        """What sensors send most, without the general walk below: a Property whose value is
        a string, number or boolean, a Relationship to one URI, or a GeoProperty whose value
        is a Point of two floats in range, with at most `unitCode` (Property) and
        `observedAt` beside it. The same instance as the general path makes; None for
        anything else (which the general path then expands or refuses)."""
        if kind == "GeoProperty":
            value = obj.get("value")
            if (
                type(value) is not dict
                or len(value) != 2
                or value.get("type") != "Point"
                or plain_position(value.get("coordinates")) is None
            ):
                return None
            inst: Instance = {"type": kind, "value": value}
            member = "value"
        elif iri in CORE_GEO_PROPERTIES:  # their value must be a geometry
            return None
        elif kind == "Property":
            value = obj.get("value", _ABSENT)
            cls = type(value)
            if cls is str:
                if value == NGSI_LD_NULL:
                    return None
            elif cls is not int and cls is not float and cls is not bool:
                return None
            inst = {"type": kind, "value": value}
            member = "value"
        else:
            target = obj.get("object")
            if type(target) is not str or target == NGSI_LD_NULL:
                return None
            if target not in self.objects:  # sensors of a site point at the same few
                if not is_uri(target):
                    return None
                if len(self.objects) < _OBJECTS_KEPT:
                    self.objects.add(target)
            inst = {"type": kind, "object": target}
            member = "object"
        if len(obj) > 2:
            observed: str | None = None
            for key, val in obj.items():
                if key == "type" or key == member:
                    continue
                if key == "unitCode" and kind == "Property" and type(val) is str and val:
                    if self.allow_null and val == NGSI_LD_NULL:
                        return None
                    inst["unitCode"] = val
                elif key == "observedAt" and type(val) is str:
                    observed = val
                    inst["observedAt"] = val  # its place among the members; checked below
                else:
                    return None
            # Checked once every member is known to be the short path's: with another
            # member beside it, the general path decides which error comes first.
            if observed is not None:
                inst["observedAt"] = self._observed_at(observed, path)
        return self._stamp(inst)

    # -- members ---------------------------------------------------------------------------

    def _dataset_id(self, obj: dict[str, Any], path: tuple[str, ...]) -> str | None:
        if "datasetId" not in obj:
            return None
        raw = obj["datasetId"]
        if raw == "@none":
            return None
        if raw == NGSI_LD_NULL or not is_uri(raw):
            raise self._bad(path, f"'datasetId' is not a valid URI: {raw!r}", "datasetId")
        return str(raw)

    def _nullable(self, val: Any) -> bool:
        return self.allow_null and (val is None or val == NGSI_LD_NULL)

    def _observed_at(self, val: Any, path: tuple[str, ...]) -> str:
        if self._nullable(val):
            return NGSI_LD_NULL
        normalized = normalize_datetime(val)
        if normalized is None:
            raise self._bad(path, "'observedAt' is not a valid DateTime", "observedAt")
        return normalized

    def _string_member(self, val: Any, path: tuple[str, ...], key: str) -> str:
        if self._nullable(val):
            return NGSI_LD_NULL
        if not isinstance(val, str) or not val:
            raise self._bad(path, f"{key!r} must be a non-empty string", key)
        return val

    def _object_type(self, val: Any, path: tuple[str, ...]) -> str | list[str]:
        if self._nullable(val):
            return NGSI_LD_NULL
        items = val if isinstance(val, list) else [val]
        if not items or not all(isinstance(t, str) and is_valid_name(t) for t in items):
            raise self._bad(path, "'objectType' must be an entity type name or a list of them",
                            "objectType")
        expanded = [self.terms.expand_term(t) for t in items]
        return expanded if isinstance(val, list) else expanded[0]

    def _check_no_null_inside(self, value: Any, path: tuple[str, ...]) -> None:
        """Clause 5.5.4: the NGSI-LD Null as a member of a JSON object value is only for
        merges."""
        if not self.allow_null and isinstance(value, dict) and NGSI_LD_NULL in value.values():
            raise self._bad(path, "the NGSI-LD Null inside a value is only allowed in merges",
                            "value")

    def _geometry(self, val: Any, path: tuple[str, ...]) -> Any:
        err = geometry_error(val)
        if err is not None:
            raise self._bad(path, f"'value' is not a valid GeoJSON geometry: {err}", "value")
        return val

    def _value(self, kind: str, val: Any, path: tuple[str, ...]) -> Any:
        if kind == "Property":
            self._check_no_null_inside(val, path)
            return val
        if kind == "GeoProperty":
            return self._geometry(val, path)
        if kind == "Relationship":
            return self._object(val, path)
        if kind == "LanguageProperty":
            return self._language_map(val, path)
        if kind == "VocabProperty":
            return self._vocab(val, path)
        if kind == "JsonProperty":
            return val
        if kind == "ListProperty":
            if not isinstance(val, list) or any(item is None for item in val):
                raise self._bad(path, "'valueList' must be an array of non-null values",
                                "valueList")
            return val
        return self._object_list(val, path)

    def _object(self, val: Any, path: tuple[str, ...]) -> str | list[str]:
        if isinstance(val, list):
            if val and all(is_uri(v) for v in val):
                return val
        elif is_uri(val):
            return str(val)
        raise self._bad(path, "'object' must be a URI or a non-empty array of URIs", "object")

    def _object_list(self, val: Any, path: tuple[str, ...]) -> list[str]:
        """Clause 4.5.22.3: URIs, or objects {"object": URI}; stored as URIs."""
        if isinstance(val, list):
            out = [v.get("object") if isinstance(v, dict) and len(v) == 1 else v for v in val]
            if all(is_uri(v) for v in out):
                return [str(v) for v in out]
        raise self._bad(path, "'objectList' must be an array of URIs or of {\"object\": URI}",
                        "objectList")

    def _language_map(self, val: Any, path: tuple[str, ...]) -> dict[str, Any]:
        """Clause 4.6.5: language tag (or "@none") -> string or array of strings."""
        if not isinstance(val, dict) or not val:
            raise self._bad(path, "'languageMap' must be a non-empty JSON object", "languageMap")
        for tag, text in val.items():
            if not is_language_tag(tag):
                raise self._bad(path, f"'languageMap' has an invalid language tag {tag!r}",
                                "languageMap")
            if isinstance(text, str):
                continue
            if not isinstance(text, list) or not all(isinstance(t, str) for t in text):
                raise self._bad(path, f"'languageMap' value for {tag!r} must be a string or an "
                                "array of strings", "languageMap")
        return val

    def _vocab(self, val: Any, path: tuple[str, ...]) -> str | list[str]:
        if isinstance(val, str) and val:
            return self.terms.expand_term(val)
        if isinstance(val, list) and val and all(isinstance(v, str) and v for v in val):
            return [self.terms.expand_term(v) for v in val]
        raise self._bad(path, "'vocab' must be a string or a non-empty array of strings", "vocab")

    # -- simplified (keyValues) input ------------------------------------------------------

    def _key_value_attribute(self, body: Any, path: tuple[str, ...], iri: str) -> list[Instance]:
        if isinstance(body, dict) and len(body) == 1 and isinstance(body.get("dataset"), dict):
            instances = []
            for dataset_id, value in body["dataset"].items():
                inst = self._key_value_instance(value, path, iri)
                if dataset_id != "@none":
                    if not is_uri(dataset_id):
                        raise self._bad(path, f"'dataset' key {dataset_id!r} is not a URI",
                                        "dataset")
                    inst["datasetId"] = dataset_id
                instances.append(inst)
            if not instances:
                raise self._bad(path, "'dataset' must not be empty", "dataset")
            return instances
        return [self._key_value_instance(body, path, iri)]

    def _keep_existing_kind(
        self, instances: list[Instance], path: tuple[str, ...], iri: str
    ) -> list[Instance]:
        """Clause 5.6.17: a simplified value merged into an existing attribute keeps that
        attribute's type."""
        if self.existing is None:
            return instances
        targets = {i.get("datasetId"): i for i in self.existing["attrs"].get(iri, ())}
        out = []
        for inst in instances:
            target = targets.get(inst.get("datasetId"))
            if (
                target is None
                or target["type"] == "Property"
                or inst["type"] != "Property"
                or is_deletion(inst)
            ):
                out.append(inst)
                continue
            kind = target["type"]
            value = inst["value"]
            if kind == "LanguageProperty":
                if not (isinstance(value, str) or (
                        isinstance(value, list) and all(isinstance(v, str) for v in value))):
                    raise self._bad(path, "must be a string for the existing LanguageProperty")
                language_map = dict(target["languageMap"]) if self.lang else {}
                language_map[self.lang or "@none"] = value
                converted = self._language_map(language_map, path)
            elif kind == "GeoProperty":
                raise self._bad(path, "must be a GeoJSON geometry for the existing GeoProperty")
            elif kind == "JsonProperty":
                converted = value
            else:
                converted = self._value(kind, value, path)
            new: Instance = {"type": kind, VALUE_MEMBER[kind]: converted}
            if "datasetId" in inst:
                new["datasetId"] = inst["datasetId"]
            out.append(self._stamp(new))
        return out

    def _key_value_instance(self, value: Any, path: tuple[str, ...], iri: str) -> Instance:
        if value is None or value == NGSI_LD_NULL:
            return self._null("Property", path, None, value, "value")
        if isinstance(value, dict):
            if looks_like_geometry(value):
                return self._stamp({"type": "GeoProperty", "value": self._geometry(value, path)})
            if len(value) == 1:
                (key, inner), = value.items()
                kind = {"languageMap": "LanguageProperty", "vocab": "VocabProperty",
                        "json": "JsonProperty"}.get(key)
                if kind is not None:
                    if iri in CORE_GEO_PROPERTIES:
                        raise self._bad(path, "must be a GeoJSON geometry")
                    if is_null_value(kind, inner):
                        return self._null(kind, path, None, inner, key)
                    return self._stamp({"type": kind, key: self._value(kind, inner, path)})
        if iri in CORE_GEO_PROPERTIES:
            raise self._bad(path, "must be a GeoJSON geometry")
        self._check_no_null_inside(value, path)
        return self._stamp({"type": "Property", "value": value})
