"""Measure payloads of the FIWARE IoT Agents: UltraLight 2.0 text and IoT Agent JSON.

A payload gives one or more updates of a device; each update is a `Measures`: the values the
device sent, keyed by what it sent them under (the provisioned `object_id`, or the attribute
name), in the order they came, plus the time the device says it measured them, as it wrote it.
Nothing here knows about provisioning; `adapters.iot_agent.entities` maps measures to an entity.

UltraLight 2.0, as iotagent-ul parses it (lib/ulParser.js):

- `k|v|k|v`: keys and values alternate, separated by `|`; values are strings, never typed.
  A `|` cannot be part of a key or a value: it is always a separator.
- `#` separates groups; each group is a separate update (`t|1#t|2` gives two). An empty group,
  and therefore a trailing `#`, is an error, as it is in iotagent-ul.
- A group with an odd number of `|`-separated fields starts with a timestamp
  (`2016-06-13T00:35:30Z|t|1`), which must be ISO 8601; iotagent-ul turns it into the
  `TimeInstant` measure, here it is `Measures.timestamp`. A key named `TimeInstant` is the
  timestamp too (iotagent-ul makes no difference); the leading field wins over it.
- Empty keys and empty values are errors. A key given twice keeps its first position and its
  last value (iotagent-ul builds a JavaScript object the same way).
- One leading `|` of a group is skipped (`|t|1`), as iotagent-ul does. Whitespace and newlines
  at the ends of the payload and of each group are ignored; inside a field they are kept.
- A group that is a command result (`dev@cmd|result`, which iotagent-ul recognises by the `@`)
  is not special here: command results have their own topic and are not measures.

IoT Agent JSON (iotagent-json lib/commonBindings.js): an object is one update, an array of
objects several, in order; values keep their JSON types. The `TimeInstant` member is the
timestamp (iotagent-node-lib takes the `TimeInstant` measure as the time of the update).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

TIMESTAMP_MEASURE = "TimeInstant"
"""The measure that carries the time of an update (iotagent-node-lib's TIMESTAMP_ATTRIBUTE)."""


class MeasureError(ValueError):
    """A payload that is not a valid measure message; the message says what and where."""


@dataclass(frozen=True, slots=True)
class Measures:
    """One update of a device: key (object_id or attribute name) -> raw value, in the order
    the device sent them, and the device's timestamp of the update as it wrote it (ISO 8601),
    or None."""

    values: dict[str, Any]
    timestamp: str | None = None


def parse_iso8601(text: str) -> datetime | None:
    """The datetime an ISO 8601 date or date-time names (offset kept; naive when it has
    none), or None. Accepts what moment's ISO_8601 does in practice: extended and basic
    formats, week dates, `T` or a space between date and time, `Z` or an offset."""
    if len(text) < 8 or not text.isascii() or not text[:4].isdigit():
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _timestamp(value: Any, where: str) -> str:
    if not isinstance(value, str) or parse_iso8601(value.strip()) is None:
        shown = value if isinstance(value, str) else orjson.dumps(value).decode()
        raise MeasureError(f"{where}: timestamp {shown!r} is not an ISO 8601 date-time")
    return value.strip()


def parse_ultralight(text: str) -> list[Measures]:
    """The updates of an UltraLight 2.0 measure payload, in order."""
    body = text.strip()
    if not body:
        raise MeasureError("empty UltraLight payload")
    groups = body.split("#")
    return [_ul_group(group, index, len(groups)) for index, group in enumerate(groups, 1)]


def _ul_group(raw: str, index: int, count: int) -> Measures:
    where = f"group {index}" if count > 1 else "payload"
    group = raw.strip()
    if group.startswith("|"):
        group = group[1:]
    if not group:
        if count == 1:
            raise MeasureError("the UltraLight payload has no measures")
        what = "a trailing '#'" if index == count else "'##'" if index > 1 else "a leading '#'"
        raise MeasureError(f"{where} is empty ({what} leaves a group with no measures)")
    fields = group.split("|")
    timestamp: str | None = None
    start = 0
    if len(fields) % 2:
        first = fields[0]
        if len(fields) == 1:
            raise MeasureError(f"{where}: key {first!r} has no value")
        if parse_iso8601(first) is None:
            if "" in fields:
                empty = fields.index("")
                raise MeasureError(f"{where}: field {empty + 1} of {len(fields)} is empty")
            raise MeasureError(
                f"{where}: {len(fields)} fields, an odd number, so the first must be a "
                f"timestamp, and {first!r} is not an ISO 8601 date-time (or a key has no value)"
            )
        timestamp = first
        start = 1
    values: dict[str, Any] = {}
    for i in range(start, len(fields), 2):
        key, value = fields[i], fields[i + 1]
        if not key:
            raise MeasureError(f"{where}: field {i + 1} is an empty key")
        if not value:
            raise MeasureError(f"{where}: key {key!r} has an empty value")
        values[key] = value
    if TIMESTAMP_MEASURE in values:
        stamp = values.pop(TIMESTAMP_MEASURE)
        if timestamp is None:
            timestamp = _timestamp(stamp, where)
    return Measures(values, timestamp)


def parse_json(payload: bytes) -> list[Measures]:
    """The updates of an IoT Agent JSON measure payload (an object, or an array of objects)."""
    try:
        data = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise MeasureError(f"the payload is not valid JSON: {exc}") from None
    if isinstance(data, dict):
        return [_json_update(data, "payload")]
    if isinstance(data, list):
        if not data:
            raise MeasureError("the payload is an empty array: no measures")
        out = []
        for index, item in enumerate(data):
            where = f"payload[{index}]"
            if not isinstance(item, dict):
                raise MeasureError(f"{where} is {_json_kind(item)}, not a JSON object of measures")
            out.append(_json_update(item, where))
        return out
    raise MeasureError(f"the payload is {_json_kind(data)}, not a JSON object of measures")


def _json_update(values: dict[str, Any], where: str) -> Measures:
    if "" in values:
        raise MeasureError(f"{where}: a measure has an empty name")
    timestamp = None
    if TIMESTAMP_MEASURE in values:
        timestamp = _timestamp(values.pop(TIMESTAMP_MEASURE), f"{where}.{TIMESTAMP_MEASURE}")
    return Measures(values, timestamp)


def parse_single(payload: bytes, name: str, ultralight: bool) -> Measures:
    """The update of a single-attribute message (topic `.../attrs/{name}`): the payload is
    the raw value.

    UltraLight: the text (UTF-8, ends stripped). JSON: the JSON value when the payload parses
    as JSON (`70` is the number 70, `[1, 2]` an array), else the text; a payload that is not
    UTF-8 text either is binary and becomes its hex string, as iotagent-json does for binary
    content (iotagent-json over MQTT hex-encodes every non-JSON payload; text stays text here).
    A `name` of `TimeInstant` sets the timestamp of an update with no values.
    """
    if not name:
        raise MeasureError("the single-measure topic names no attribute")
    value: Any
    if ultralight:
        try:
            value = payload.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise MeasureError(f"{name}: the UltraLight value is not UTF-8 text") from None
    else:
        try:
            value = orjson.loads(payload)
        except orjson.JSONDecodeError:
            try:
                value = payload.decode("utf-8").strip()
            except UnicodeDecodeError:
                value = payload.hex()
    if value == "":
        raise MeasureError(f"{name}: the value is empty")
    if name == TIMESTAMP_MEASURE:
        return Measures({}, _timestamp(value, name))
    return Measures({name: value})


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"
