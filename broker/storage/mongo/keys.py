"""Reversible encoding of document keys for MongoDB.

Attribute names are IRIs (`https://schema.org/name`) full of dots, and values may be
objects with any keys at all (JsonProperty, languageMap, GeoJSON). MongoDB reads a dot in a
field name as a path step and a leading `$` as an operator, and BSON forbids NUL, so such keys
cannot be stored as they are and still be queried. Every key, at every depth, is therefore
percent-encoded: `%` -> `%25`, `.` -> `%2E`, a leading `$` -> `%24`, NUL -> `%00`. Because
`%` itself is always encoded, every `%` in a stored key starts an escape and decoding is
exact. Query code builds field paths with `encode_key` so they match what is stored.
"""

from __future__ import annotations

import re
from typing import Any

_ESCAPE = re.compile(r"%([0-9A-F]{2})")


def encode_key(key: str) -> str:
    if "%" in key:
        key = key.replace("%", "%25")
    if "." in key:
        key = key.replace(".", "%2E")
    if "\x00" in key:
        key = key.replace("\x00", "%00")
    if key.startswith("$"):
        key = "%24" + key[1:]
    return key


def decode_key(key: str) -> str:
    if "%" not in key:
        return key
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), key)


def encode_keys(value: Any) -> Any:
    """A copy of `value` with every dict key, at any depth, encoded."""
    if isinstance(value, dict):
        return {encode_key(k): encode_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [encode_keys(v) for v in value]
    return value


def decode_keys(value: Any) -> Any:
    """The inverse of `encode_keys`."""
    if isinstance(value, dict):
        return {decode_key(k): decode_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_keys(v) for v in value]
    return value
