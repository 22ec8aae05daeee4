"""Small validators for the strings NGSI-LD payloads carry: URIs, DateTimes, names, scopes,
language tags.

They answer yes/no (or a normalized string) and never raise: the caller knows the field path
and builds the error detail.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from functools import lru_cache

# RFC 3986 / RFC 3987 absolute URI, as NGSI-LD uses it for ids, datasetIds and objects
# (clause 4.6.3: "URI"; IRIs are allowed, clause 5.2.1): a scheme, a colon and at least one
# character that is neither whitespace nor one the URI grammar excludes.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+\Z")

# Clause 4.6.3: YYYY-MM-DDThh:mm:ss[.ffffff]Z, always UTC; in requests a comma may replace
# the decimal point.
_DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,6}))?Z\Z")

# RFC 5646 language tag, checked for shape only (primary subtag plus subtags).
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*\Z")

NGSI_LD_CORE = "https://uri.etsi.org/ngsi-ld/"


def is_uri(value: object) -> bool:
    """An absolute URI (scheme ":" ...), e.g. `urn:ngsi-ld:Vehicle:A1` or `https://e.org/x`."""
    return isinstance(value, str) and _URI.match(value) is not None


def normalize_datetime(value: object) -> str | None:
    """The DateTime in its stored spelling (decimal point, not comma), or None if invalid.

    Clause 4.6.3: all components present, seconds fraction of at most six digits, and the
    trailing "Z"; no offsets. The calendar date and time of day must exist.
    """
    if not isinstance(value, str):
        return None
    m = _DATETIME.match(value)
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    try:
        datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    return value.replace(",", ".") if "," in value else value


def is_datetime(value: object) -> bool:
    return normalize_datetime(value) is not None


def _is_name_char(ch: str) -> bool:
    return ch == "_" or unicodedata.category(ch)[0] in "LN"


def _is_plain_name(text: str) -> bool:
    """Clause 4.6.2: `name = unicodeLetter *nameChar`, nameChar = letter / number / "_"."""
    if not text or not text[0].isalpha():
        return False
    return all(_is_name_char(ch) for ch in text[1:])


@lru_cache(maxsize=4096)
def is_valid_name(name: str) -> bool:
    """An Entity Type, Property or Relationship name as clause 4.6.2 allows it.

    Accepted: a plain name (`speed`), a prefixed name (`ex:speed`) and, because a JSON-LD
    document may always use the full IRI instead of a term, an absolute IRI
    (`https://example.org/speed`). Anything else is BadRequestData (clause 4.6.2).
    """
    if _is_plain_name(name):
        return True
    prefix, sep, rest = name.partition(":")
    if sep and _is_plain_name(prefix) and _is_plain_name(rest):
        return True
    return is_uri(name)


@lru_cache(maxsize=1024)
def is_scope(value: str) -> bool:
    """Clause 4.18: `Scope = [/] ScopeLevel *(/ ScopeLevel)`, ScopeLevel = 1*nameChar."""
    body = value[1:] if value.startswith("/") else value
    if not body:
        return False
    for level in body.split("/"):
        if not level or not all(_is_name_char(ch) for ch in level):
            return False
    return True


def is_language_tag(value: str) -> bool:
    """A languageMap key: an RFC 5646 tag or "@none" (clause 4.6.5)."""
    return value == "@none" or _LANGUAGE_TAG.match(value) is not None
