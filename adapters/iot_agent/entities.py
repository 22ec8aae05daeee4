"""From a device's measures to the NGSI-LD entity it updates (normalized, short names).

The mapping follows iotagent-node-lib's NGSI-LD path (lib/services/ngsi/entities-NGSI-LD.js,
`sendUpdateValueNgsiLD` and `convertAttrNGSILD`):

- entity type: the device's `entity_type`, else the group's, else `default_type`; entity id:
  the device's `entity_name` (an absolute URI is kept; any other name gets the
  `urn:ngsi-ld:{Type}:` prefix, as iotagent-node-lib does), else `urn:ngsi-ld:{Type}:{device_id}`.
- each measure is looked up among the device's provisioned attributes, then the group's (by
  `object_id`, then by attribute name): it takes the attribute's name, type, `unitCode` and
  metadata (other metadata become sub-properties). An unprovisioned measure keeps its own
  name and is a plain Property, unless `explicitAttrs` (the device's, else the group's) is
  true, which drops it. Measures named `id` and `type` become `measure_id` and `measure_type`;
  provisioned attributes named `id`, `type` or `TimeInstant` are ignored.
- values are converted by the provisioned type (case-insensitive; see `_CONVERTERS`):

  - Property, Text, String, TextUnrestricted: a Property with the value as sent;
  - Number, Integer, Float: a JSON number (Number: an integer unless the text has a fraction
    or an exponent; Integer truncates);
  - Boolean: true or false (`true`, `false`, `1`, `0`, in any case);
  - DateTime, Date, Time: `{"@type": "DateTime", "@value": "…Z"}` in UTC, `Date` as
    `YYYY-MM-DD`, `Time` as `hh:mm:ss`; a number is epoch milliseconds;
  - geo:point: a GeoProperty Point from `"lat, lon"` (the NGSI v2 order), coordinates
    `[lon, lat]`;
  - geo:json, GeoProperty: a GeoProperty with a GeoJSON geometry (an object or its JSON text);
  - Point, LineString, Polygon, MultiPoint, MultiLineString, MultiPolygon (also `geo:` and
    the name in lower case): a GeoProperty of that type; comma lists and flat arrays are
    `lon, lat, lon, lat…` as in iotagent-node-lib; a Polygon from a list is one closed ring;
  - Relationship, ListRelationship: `object` a URI (or an array of URIs), `objectList`;
  - LanguageProperty: `languageMap` (an object or its JSON text; plain text is
    `{"@none": text}`);
  - JsonProperty, ListProperty, VocabularyProperty (or VocabProperty): `json`, `valueList`,
    `vocab`;
  - StructuredValue, Array, Object: a Property; JSON text is parsed;
  - None: left out (iotagent-node-lib's autocast makes it null);
  - any other type: a Property `{"@type": type, "@value": value}`, iotagent-node-lib's
    JSON-LD typed value.

  A value that is null, or that cannot be read as the number, boolean or date-time its type
  asks for, leaves the attribute out of the entity, as iotagent-node-lib does for numbers (it
  drops NaN). Bad geometries, relationship objects that are not URIs, malformed language maps,
  lists and vocabularies are a `MeasureError`: iotagent-node-lib rejects the update
  (BadGeocoordinates) or the broker would.
- `observedAt` on every measured attribute: the update's timestamp (`Measures.timestamp`, or a
  `TimeInstant` measure), as an NGSI-LD DateTime in UTC; without one, `received_at` when the
  timestamp flag is on (the device's flag, else the group's, else the `timestamp` argument).
- static attributes of the group and of the device (the device's win on a name), converted
  the same way, without `observedAt`; a measured attribute wins over a static one.
- `refDevice`: a Relationship to `urn:ngsi-ld:Device:{device_id}`, unless a static or
  measured attribute is named `refDevice`. When the bundled Smart Data Model of the entity
  type declares `refDevice` an array (ParkingSpot, Streetlight, WasteContainer), it is a
  ListRelationship, so that the entity still validates against its model.
- names NGSI-LD forbids (clause 4.6.2, and the reserved core names such as `value` or
  `observedAt`) are a `MeasureError` naming the attribute; a measure named `TimeInstant`
  never becomes an attribute.

Speed: everything that depends only on the device and its group (the lookup of measures,
each attribute's converter, unit and sub-properties, the converted static attributes, id and
type) is compiled once into a `DeviceMapping`. `build_entity` finds the mapping of a
(device, group, default_type) in a bounded cache keyed by object identity: `Device` and
`Group` are frozen but hold dicts, so they cannot be hashed, and a provisioning change
replaces the object, which gives it a new mapping. The cache keeps the objects it maps, so an
id is never reused while its entry lives. Callers that hold a device for long can keep
`mapping_for(device, group)` and call its `build` directly.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from collections.abc import Mapping as AbcMapping
from datetime import UTC, datetime, time
from functools import lru_cache
from typing import Any

import orjson

from adapters.iot_agent.measures import (
    TIMESTAMP_MEASURE,
    MeasureError,
    Measures,
    parse_iso8601,
)
from adapters.iot_agent.provisioning import Attribute, Device, Group, StaticAttribute
from data_models.registry import get_model

DEFAULT_ENTITY_TYPE = "Thing"
NGSI_LD_URN = "urn:ngsi-ld:"
REF_DEVICE = "refDevice"

# broker/model/expand.py RESERVED_NAMES (the adapters do not import the broker): entity and
# attribute members and the non-reified core terms cannot name an attribute (clause 4.5.1).
RESERVED_NAMES = frozenset({
    "id", "@id", "type", "@type", "scope", "@context", "createdAt", "modifiedAt", "deletedAt",
    "instanceId", "observedAt", "unitCode", "datasetId", "objectType", "valueType",
    "expiresAt", "lang", "value", "object", "languageMap", "vocab", "json", "valueList",
    "objectList", "entity", "entityList", "previousValue", "previousObject",
    "previousLanguageMap", "previousVocab", "previousJson", "previousValueList",
    "previousObjectList",
})
CORE_GEO_PROPERTIES = frozenset({"location", "observationSpace", "operationSpace"})
"""Core GeoProperties (clause 4.7): the broker refuses them unless their value is a geometry."""

_IGNORED_PROVISIONED = frozenset({"id", "type", TIMESTAMP_MEASURE})
_RENAMED_MEASURES = {"id": "measure_id", "type": "measure_type"}

Instance = dict[str, Any]
Converter = Callable[[Any, str], Instance | None]


# -- names and URIs (the rules of broker/model/validate.py) -------------------------------

_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+\Z")
_URI_EXCLUDED = frozenset(' <>"{}|\\^`')
_NGSI_LD_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z\Z")


def _is_uri(value: Any) -> bool:
    return isinstance(value, str) and _URI.match(value) is not None


def _is_name_char(ch: str) -> bool:
    return ch == "_" or unicodedata.category(ch)[0] in "LN"


def _is_plain_name(text: str) -> bool:
    return bool(text) and text[0].isalpha() and all(_is_name_char(ch) for ch in text[1:])


@lru_cache(maxsize=4096)
def _name_problem(name: str) -> str | None:
    """Why `name` cannot name an attribute (clause 4.6.2 and the reserved names), or None."""
    if name in RESERVED_NAMES:
        return f"attribute {name!r}: the name is reserved by NGSI-LD"
    if _is_plain_name(name):
        return None
    prefix, sep, rest = name.partition(":")
    if (sep and _is_plain_name(prefix) and _is_plain_name(rest)) or _is_uri(name):
        return None
    return (f"attribute {name!r}: not a valid NGSI-LD attribute name (a letter, then letters, "
            "digits or '_'; clause 4.6.2)")


def _check_type_name(name: str) -> str:
    if _is_plain_name(name) or _is_uri(name):
        return name
    prefix, sep, rest = name.partition(":")
    if sep and _is_plain_name(prefix) and _is_plain_name(rest):
        return name
    raise MeasureError(f"entity type {name!r} is not a valid NGSI-LD type name")


def _uri_part(text: str) -> str:
    """`text` with the characters a URI cannot hold percent-encoded."""
    if not any(ch in _URI_EXCLUDED or ch.isspace() for ch in text):
        return text
    return "".join(
        "".join(f"%{b:02X}" for b in ch.encode()) if ch in _URI_EXCLUDED or ch.isspace() else ch
        for ch in text
    )


def entity_id(device: Device, entity_type: str) -> str:
    """The id of the device's entity: its `entity_name` when set (prefixed with
    `urn:ngsi-ld:{entity_type}:` unless it is already an absolute URI, as iotagent-node-lib
    does), else `urn:ngsi-ld:{entity_type}:{device_id}`."""
    name = device.entity_name
    if name:
        return name if _is_uri(name) else f"{NGSI_LD_URN}{entity_type}:{_uri_part(name)}"
    return f"{NGSI_LD_URN}{entity_type}:{_uri_part(device.device_id)}"


# -- date-times ----------------------------------------------------------------------------

def _utc(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO 8601 text (naive means UTC) or epoch milliseconds."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            if not math.isfinite(value):
                return None
            return datetime.fromtimestamp(value / 1000, UTC)
        if isinstance(value, str):
            parsed = parse_iso8601(value.strip())
            if parsed is None:
                return None
            if parsed.tzinfo is None:
                return parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return None


def _format_datetime(moment: datetime) -> str:
    fraction = moment.microsecond
    tail = f"{fraction // 1000:03d}" if fraction % 1000 == 0 else f"{fraction:06d}"
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
            f"{moment.minute:02d}:{moment.second:02d}.{tail}Z")


def ngsi_ld_datetime(value: str) -> str:
    """An ISO 8601 date-time as an NGSI-LD DateTime (UTC, `Z`, milliseconds as JavaScript's
    toISOString writes them, microseconds when there are any); naive means UTC. A value that
    already is an NGSI-LD DateTime is returned as it is. MeasureError when it is none."""
    if _NGSI_LD_DATETIME.match(value):
        return value
    moment = _utc(value)
    if moment is None:
        raise MeasureError(f"timestamp {value!r} is not an ISO 8601 date-time")
    return _format_datetime(moment)


# -- value conversions ---------------------------------------------------------------------

_INTEGER = re.compile(r"[+-]?\d+\Z")
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip()
        try:
            if _INTEGER.match(text):
                return int(text)
            if _DECIMAL.match(text):
                number = float(text)
                return number if math.isfinite(number) else None
        except ValueError:  # more digits than int() converts
            return None
    return None


def _property(value: Any) -> Instance:
    return {"type": "Property", "value": value}


def _plain(value: Any, name: str) -> Instance:
    return {"type": "Property", "value": value}


def _to_number(value: Any, name: str) -> Instance | None:
    number = _number(value)
    return None if number is None else _property(number)


def _to_integer(value: Any, name: str) -> Instance | None:
    number = _number(value)
    return None if number is None else _property(int(number))


def _to_float(value: Any, name: str) -> Instance | None:
    number = _number(value)
    return None if number is None else _property(float(number))


_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def _to_boolean(value: Any, name: str) -> Instance | None:
    if isinstance(value, bool):
        return _property(value)
    if isinstance(value, int) and value in (0, 1):
        return _property(bool(value))
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return _property(True)
        if text in _FALSE:
            return _property(False)
    return None


def _to_datetime(value: Any, name: str) -> Instance | None:
    moment = _utc(value)
    if moment is None:
        return None
    return _property({"@type": "DateTime", "@value": _format_datetime(moment)})


def _to_date(value: Any, name: str) -> Instance | None:
    moment = _utc(value)
    if moment is None:
        return None
    return _property({"@type": "Date", "@value": moment.date().isoformat()})


def _to_time(value: Any, name: str) -> Instance | None:
    clock: time | None = None
    if isinstance(value, str) and ":" in value[:3]:
        try:
            parsed = time.fromisoformat(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None:
            if parsed.tzinfo is not None:
                offset = parsed.utcoffset()
                assert offset is not None
                shifted = datetime.combine(datetime(2000, 1, 1), parsed.replace(tzinfo=None))
                parsed = (shifted - offset).time()
            clock = parsed
    if clock is None:
        moment = _utc(value)
        if moment is None:
            return None
        clock = moment.time()
    return _property({"@type": "Time", "@value": clock.strftime("%H:%M:%S")})


def _json_text(value: Any) -> Any:
    """The JSON value a string spells when it is JSON text of an object or array, else the
    value itself (UltraLight sends every value as text)."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def _to_structured(value: Any, name: str) -> Instance:
    return _property(_json_text(value))


def _to_none(value: Any, name: str) -> None:
    return None


def _typed(attribute_type: str) -> Converter:
    def convert(value: Any, name: str) -> Instance:
        return _property({"@type": attribute_type, "@value": value})

    return convert


def _to_relationship(value: Any, name: str) -> Instance:
    value = _json_text(value)
    if _is_uri(value) or (isinstance(value, list) and value and all(map(_is_uri, value))):
        return {"type": "Relationship", "object": value}
    raise MeasureError(f"attribute {name!r}: a Relationship needs a URI, got {value!r}")


def _to_list_relationship(value: Any, name: str) -> Instance:
    value = _json_text(value)
    if _is_uri(value):
        value = [value]
    if isinstance(value, list):
        objects = [v.get("object") if isinstance(v, dict) else v for v in value]
        if all(map(_is_uri, objects)):
            return {"type": "ListRelationship", "objectList": [{"object": o} for o in objects]}
    raise MeasureError(f"attribute {name!r}: a ListRelationship needs an array of URIs, "
                       f"got {value!r}")


_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*\Z")


def _to_language(value: Any, name: str) -> Instance:
    value = _json_text(value)
    if isinstance(value, str):
        value = {"@none": value}
    if isinstance(value, dict) and value:
        for tag, text in value.items():
            if tag != "@none" and not _LANGUAGE_TAG.match(tag):
                raise MeasureError(f"attribute {name!r}: {tag!r} is not a language tag")
            if not isinstance(text, str) and not (
                isinstance(text, list) and all(isinstance(t, str) for t in text)
            ):
                raise MeasureError(f"attribute {name!r}: the text for {tag!r} must be a string")
        return {"type": "LanguageProperty", "languageMap": value}
    raise MeasureError(f"attribute {name!r}: a LanguageProperty needs a language map, "
                       f"got {value!r}")


def _to_json(value: Any, name: str) -> Instance:
    return {"type": "JsonProperty", "json": _json_text(value)}


def _to_list(value: Any, name: str) -> Instance:
    value = _json_text(value)
    if isinstance(value, list) and all(item is not None for item in value):
        return {"type": "ListProperty", "valueList": value}
    raise MeasureError(f"attribute {name!r}: a ListProperty needs an array without nulls, "
                       f"got {value!r}")


def _to_vocab(value: Any, name: str) -> Instance:
    value = _json_text(value)
    if (isinstance(value, str) and value) or (
        isinstance(value, list) and value and all(isinstance(v, str) and v for v in value)
    ):
        return {"type": "VocabProperty", "vocab": value}
    raise MeasureError(f"attribute {name!r}: a VocabProperty needs a term or an array of "
                       f"terms, got {value!r}")


# -- geometries ----------------------------------------------------------------------------

GEOMETRY_TYPES = frozenset({"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                            "MultiPolygon", "GeometryCollection"})


def _is_coordinate(n: Any) -> bool:
    return isinstance(n, (int, float)) and not isinstance(n, bool) and math.isfinite(n)


def _position_problem(pos: Any) -> str | None:
    if not isinstance(pos, list) or not 2 <= len(pos) <= 3 or not all(map(_is_coordinate, pos)):
        return f"{pos!r} is not a position (2 or 3 numbers)"
    if not -180 <= pos[0] <= 180:
        return f"longitude {pos[0]} is out of range [-180, 180]"
    if not -90 <= pos[1] <= 90:
        return f"latitude {pos[1]} is out of range [-90, 90]"
    return None


def _positions_problem(coords: Any, minimum: int, what: str) -> str | None:
    if not isinstance(coords, list) or len(coords) < minimum:
        return f"a {what} needs at least {minimum} positions"
    for pos in coords:
        problem = _position_problem(pos)
        if problem:
            return problem
    return None


def _polygon_problem(rings: Any) -> str | None:
    if not isinstance(rings, list) or not rings:
        return "a Polygon needs a linear ring"
    for ring in rings:
        problem = _positions_problem(ring, 4, "linear ring")
        if problem:
            return problem
        if ring[0] != ring[-1]:
            return "a linear ring must be closed (its first position repeated at the end)"
    return None


def _members_problem(
    coords: Any, check: Callable[[Any], str | None], what: str
) -> str | None:
    if not isinstance(coords, list) or not coords:
        return f"a {what} needs at least one member"
    for member in coords:
        problem = check(member)
        if problem:
            return problem
    return None


def _geometry_problem(geometry: Any) -> str | None:
    """Why `geometry` is not a GeoJSON geometry the broker accepts (RFC 7946), or None."""
    if not isinstance(geometry, dict) or geometry.get("type") not in GEOMETRY_TYPES:
        return "not a GeoJSON geometry"
    kind = geometry["type"]
    if kind == "GeometryCollection":
        members = geometry.get("geometries")
        if not isinstance(members, list) or not members:
            return "a GeometryCollection needs geometries"
        for member in members:
            if isinstance(member, dict) and member.get("type") == "GeometryCollection":
                return "nested GeometryCollections are not supported"
            problem = _geometry_problem(member)
            if problem:
                return problem
        return None
    coords = geometry.get("coordinates")
    if kind == "Point":
        return _position_problem(coords)
    if kind == "MultiPoint":
        return _positions_problem(coords, 1, "MultiPoint")
    if kind == "LineString":
        return _positions_problem(coords, 2, "LineString")
    if kind == "MultiLineString":
        return _members_problem(coords, lambda c: _positions_problem(c, 2, "LineString"),
                                "MultiLineString")
    if kind == "Polygon":
        return _polygon_problem(coords)
    return _members_problem(coords, _polygon_problem, "MultiPolygon")


def _flat_numbers(value: Any) -> list[Any] | None:
    """iotagent-node-lib's splitLngLat: comma lists and nested arrays, flattened."""
    if isinstance(value, str):
        parts: list[Any] = [p.strip() for p in value.split(",")]
    elif isinstance(value, list):
        parts = []
        for item in value:
            inner = _flat_numbers(item) if isinstance(item, (list, str)) else [item]
            if inner is None:
                return None
            parts.extend(inner)
    else:
        return None
    numbers = [_number(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    return numbers


def _geo(kind: str | None, *, lat_first: bool = False) -> Converter:
    """A GeoProperty converter: GeoJSON objects (or their JSON text) pass; otherwise the value
    is a list of numbers read as positions of a `kind` geometry (Point when kind is None)."""
    target = kind or "Point"

    def convert(value: Any, name: str) -> Instance:
        value = _json_text(value)
        if isinstance(value, dict):
            geometry = value
        elif target in ("MultiLineString", "MultiPolygon"):
            geometry = {"type": target, "coordinates": value}
        else:
            numbers = _flat_numbers(value)
            if not numbers:
                raise MeasureError(f"attribute {name!r}: {value!r} is not a list of "
                                   f"coordinates for a {target}")
            if target == "Point" and len(numbers) != 2:
                raise MeasureError(f"attribute {name!r}: a Point has two coordinates, "
                                   f"got {len(numbers)}")
            if len(numbers) % 2:
                raise MeasureError(f"attribute {name!r}: an odd number of coordinates "
                                   f"({len(numbers)}) for a {target}")
            pairs = [numbers[i:i + 2] for i in range(0, len(numbers), 2)]
            if lat_first:
                pairs = [[lon, lat] for lat, lon in pairs]
            coords: Any = pairs
            if target == "Point":
                coords = pairs[0]
            elif target == "Polygon":
                coords = [pairs]
            geometry = {"type": target, "coordinates": coords}
        problem = _geometry_problem(geometry)
        if problem:
            raise MeasureError(f"attribute {name!r}: {problem}")
        return {"type": "GeoProperty", "value": geometry}

    return convert


_CONVERTERS: dict[str, Converter] = {
    "property": _plain, "text": _plain, "string": _plain, "textunrestricted": _plain,
    "number": _to_number, "integer": _to_integer, "float": _to_float,
    "boolean": _to_boolean,
    "datetime": _to_datetime, "date": _to_date, "time": _to_time,
    "geo:point": _geo("Point", lat_first=True),
    "geo:json": _geo(None), "geoproperty": _geo(None), "point": _geo("Point"),
    "relationship": _to_relationship, "listrelationship": _to_list_relationship,
    "languageproperty": _to_language, "jsonproperty": _to_json, "listproperty": _to_list,
    "vocabularyproperty": _to_vocab, "vocabproperty": _to_vocab,
    "structuredvalue": _to_structured, "array": _to_structured, "object": _to_structured,
    "none": _to_none,
}
for _geometry_type in ("LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"):
    _CONVERTERS[_geometry_type.lower()] = _CONVERTERS["geo:" + _geometry_type.lower()] = _geo(
        _geometry_type
    )

_UNITLESS = frozenset({"Relationship", "ListRelationship", "LanguageProperty", "VocabProperty",
                       "JsonProperty"})


def converter(attribute_type: str) -> Converter:
    """The conversion of a provisioned attribute type (case-insensitive); unknown types give
    iotagent-node-lib's JSON-LD typed value."""
    return _CONVERTERS.get(attribute_type.lower()) or _typed(attribute_type)


def convert_value(value: Any, attribute_type: str, name: str) -> Instance | None:
    """One attribute (without observedAt or unitCode) for a value of a provisioned type, or
    None when the value is null or unreadable as that type."""
    if value is None:
        return None
    return converter(attribute_type)(value, name)


def _core_geo(instance: Instance, name: str) -> Instance:
    if instance["type"] == "GeoProperty":
        return instance
    if instance["type"] == "Property" and _geometry_problem(instance["value"]) is None:
        return {"type": "GeoProperty", "value": instance["value"]}
    raise MeasureError(f"attribute {name!r}: NGSI-LD makes {name} a GeoProperty; provision "
                       "it as geo:point, geo:json or a GeoJSON type, or send a GeoJSON geometry")


# -- the compiled mapping of one device ----------------------------------------------------

class _Target:
    """Where a measure goes: the attribute name and how its value is converted."""

    __slots__ = ("convert", "core_geo", "error", "name", "skip", "sub", "unit_code")

    def __init__(
        self,
        name: str,
        convert: Converter = _plain,
        *,
        unit_code: str | None = None,
        sub: dict[str, Instance] | None = None,
        error: str | None = None,
        skip: bool = False,
    ) -> None:
        self.name = name
        self.convert = convert
        self.unit_code = unit_code
        self.sub = sub or {}
        self.error = error
        self.skip = skip
        self.core_geo = name in CORE_GEO_PROPERTIES


def _unit_of(metadata: AbcMapping[str, Any]) -> str | None:
    unit = metadata.get("unitCode")
    if isinstance(unit, AbcMapping):
        unit = unit.get("value")
    return unit if isinstance(unit, str) and unit else None


def _sub_attributes(metadata: AbcMapping[str, Any], owner: str) -> dict[str, Instance]:
    """Provisioned metadata other than unitCode and TimeInstant, as sub-properties."""
    out: dict[str, Instance] = {}
    for key, meta in metadata.items():
        if key in ("unitCode", TIMESTAMP_MEASURE):
            continue
        problem = _name_problem(key)
        if problem:
            raise MeasureError(f"attribute {owner!r}: metadata {problem}")
        if isinstance(meta, AbcMapping) and "value" in meta:
            converted = convert_value(meta["value"], str(meta.get("type") or "Property"),
                                      f"{owner}.{key}")
        else:
            converted = convert_value(meta, "Property", f"{owner}.{key}")
        if converted is not None:
            out[key] = converted
    return out


def _target(attribute: Attribute) -> _Target:
    name = attribute.name
    if name in _IGNORED_PROVISIONED:
        return _Target(name, skip=True)
    problem = _name_problem(name)
    if problem:
        return _Target(name, error=problem)
    try:
        sub = _sub_attributes(attribute.metadata, name)
    except MeasureError as exc:
        return _Target(name, error=str(exc))
    return _Target(name, converter(attribute.type), unit_code=attribute.unit_code, sub=sub)


def _static(attribute: StaticAttribute) -> Instance | None:
    name = attribute.name
    problem = _name_problem(name)
    if problem:
        raise MeasureError(f"static {problem}")
    instance = convert_value(attribute.value, attribute.type, name)
    if instance is None:
        return None
    if name in CORE_GEO_PROPERTIES:
        instance = _core_geo(instance, name)
    unit = _unit_of(attribute.metadata)
    if unit is not None and instance["type"] not in _UNITLESS:
        instance["unitCode"] = unit
    instance.update(_sub_attributes(attribute.metadata, name))
    return instance


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


@lru_cache(maxsize=256)
def _ref_device_is_list(entity_type: str) -> bool:
    """Whether the bundled Smart Data Model of the type declares refDevice an array."""
    model = get_model(entity_type)
    if model is None:
        return False
    pending: list[Any] = [model.schema]
    while pending:
        node = pending.pop()
        if not isinstance(node, AbcMapping):
            continue
        declared = node.get("properties", {}).get(REF_DEVICE)
        if isinstance(declared, AbcMapping):
            return declared.get("type") == "array"
        pending.extend(node.get("allOf", []))
    return False


_UNPROVISIONED_MAX = 256


class DeviceMapping:
    """What a device's measures become, compiled once from the device and its group."""

    __slots__ = ("_by_key", "_by_name", "_explicit", "_ref_device", "_statics", "_timestamp",
                 "_unprovisioned", "device", "entity_id", "entity_type", "group")

    def __init__(
        self, device: Device, group: Group | None, default_type: str = DEFAULT_ENTITY_TYPE
    ) -> None:
        self.device = device
        self.group = group
        self.entity_type = _check_type_name(
            device.entity_type or (group.entity_type if group else None) or default_type
        )
        self.entity_id = entity_id(device, self.entity_type)
        provisioned = [*(group.attributes if group else ()), *device.attributes]
        self._by_key: dict[str, _Target] = {}
        self._by_name: dict[str, _Target] = {}
        for attribute in provisioned:  # the device's come last and win
            target = _target(attribute)
            self._by_key[attribute.key] = target
            self._by_name[attribute.name] = target
        explicit = device.explicit_attrs
        self._explicit = explicit if explicit is not None else bool(group and group.explicit_attrs)
        stamp = device.timestamp
        self._timestamp = stamp if stamp is not None else (group.timestamp if group else None)
        statics: dict[str, StaticAttribute] = {}
        for static in [*(group.static_attributes if group else ()), *device.static_attributes]:
            if static.name not in _IGNORED_PROVISIONED:
                statics[static.name] = static
        self._statics: dict[str, Instance] = {}
        for name, static in statics.items():
            instance = _static(static)
            if instance is not None:
                self._statics[name] = instance
        self._ref_device: Instance | None = None
        if REF_DEVICE not in statics:
            device_uri = f"{NGSI_LD_URN}Device:{_uri_part(device.device_id)}"
            if _ref_device_is_list(self.entity_type):
                self._ref_device = {"type": "ListRelationship",
                                    "objectList": [{"object": device_uri}]}
            else:
                self._ref_device = {"type": "Relationship", "object": device_uri}
        self._unprovisioned: dict[str, _Target] = {}

    def _target_of(self, key: str) -> _Target | None:
        target = self._by_key.get(key) or self._by_name.get(key)
        if target is not None or self._explicit:
            return target
        target = self._unprovisioned.get(key)
        if target is None:
            name = _RENAMED_MEASURES.get(key, key)
            problem = _name_problem(name)
            target = _Target(name, error=problem) if problem else _Target(name)
            if len(self._unprovisioned) >= _UNPROVISIONED_MAX:
                self._unprovisioned.clear()
            self._unprovisioned[key] = target
        return target

    def build(self, measures: Measures, received_at: str, *, timestamp: bool = True) -> Instance:
        """The entity of one update (see the module docstring)."""
        values = measures.values
        stamp = measures.timestamp
        if stamp is None and TIMESTAMP_MEASURE in values:
            raw = values[TIMESTAMP_MEASURE]
            stamp = raw if isinstance(raw, str) else None
            if stamp is None:
                raise MeasureError(f"{TIMESTAMP_MEASURE}: {raw!r} is not an ISO 8601 date-time")
        if stamp is not None:
            observed: str | None = ngsi_ld_datetime(stamp)
        elif self._timestamp if self._timestamp is not None else timestamp:
            observed = ngsi_ld_datetime(received_at)
        else:
            observed = None
        entity: Instance = {"id": self.entity_id, "type": self.entity_type}
        for key, raw in values.items():
            if key == TIMESTAMP_MEASURE:
                continue
            target = self._target_of(key)
            if target is None or target.skip:
                continue
            if target.error is not None:
                raise MeasureError(target.error)
            if raw is None:
                continue
            instance = target.convert(raw, target.name)
            if instance is None:
                continue
            if target.core_geo:
                instance = _core_geo(instance, target.name)
            if target.unit_code is not None and instance["type"] not in _UNITLESS:
                instance["unitCode"] = target.unit_code
            for sub_name, sub in target.sub.items():
                instance[sub_name] = _copy(sub)
            if observed is not None:
                instance["observedAt"] = observed
            entity[target.name] = instance
        for name, static in self._statics.items():
            if name not in entity:
                entity[name] = _copy(static)
        if self._ref_device is not None and REF_DEVICE not in entity:
            entity[REF_DEVICE] = _copy(self._ref_device)
        return entity


_MAPPINGS: dict[tuple[int, int, str], DeviceMapping] = {}
_MAPPINGS_MAX = 65_536
"""Room for a province's devices (14,000) reporting in turn; a miss compiles one again."""


def mapping_for(
    device: Device, group: Group | None = None, default_type: str = DEFAULT_ENTITY_TYPE
) -> DeviceMapping:
    """The compiled mapping of a device (with its group), from a bounded identity cache."""
    key = (id(device), id(group), default_type)
    mapping = _MAPPINGS.get(key)
    if mapping is not None and mapping.device is device and mapping.group is group:
        return mapping
    mapping = DeviceMapping(device, group, default_type)
    if len(_MAPPINGS) >= _MAPPINGS_MAX:
        try:
            del _MAPPINGS[next(iter(_MAPPINGS))]
        except (KeyError, RuntimeError, StopIteration):  # another thread got there first
            pass
    _MAPPINGS[key] = mapping
    return mapping


def build_entity(
    device: Device,
    group: Group | None,
    measures: Measures,
    received_at: str,
    *,
    default_type: str = DEFAULT_ENTITY_TYPE,
    timestamp: bool = True,
) -> dict[str, Any]:
    """The normalized NGSI-LD entity (short names, no @context) that one update of `device`
    gives; `received_at` (ISO 8601) is when the message arrived. MeasureError when a value
    or a name cannot be mapped."""
    return mapping_for(device, group, default_type).build(
        measures, received_at, timestamp=timestamp
    )
