"""The NGSI-LD Language Filter (clause 4.15): pick one string out of a languageMap.

`lang` follows IETF RFC 3282 / RFC 4647: a comma-separated list of language ranges, each
with an optional quality value (`fr-CH,fr;q=0.9,en;q=0.8,*;q=0.5`). Ranges are tried by
descending quality; for each, an exact tag match wins, then a tag the range is a prefix of
(`en` matches `en-GB`), then the range truncated subtag by subtag (`fr-CH` falls back to
`fr`). `*` and "no match" both fall back to "any supported language": the `@none` entry
when there is one, else the first entry.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=256)
def parse_language_ranges(lang: str) -> tuple[str, ...]:
    """The ranges of a `lang` value, lower-cased, best first; q=0 ranges are dropped."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(lang.split(",")):
        item, _, params = part.strip().partition(";")
        item = item.strip().lower()
        if not item:
            continue
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, item))
    ranked.sort()
    return tuple(item for _, _, item in ranked)


def _match(language_range: str, tags: dict[str, str]) -> str | None:
    exact = tags.get(language_range)
    if exact is not None:
        return exact
    prefix = language_range + "-"
    for lower, tag in tags.items():
        if lower.startswith(prefix):
            return tag
    truncated = language_range
    while "-" in truncated:
        truncated = truncated.rsplit("-", 1)[0]
        found = tags.get(truncated)
        if found is not None:
            return found
    return None


def choose_language(language_map: dict[str, Any], lang: str) -> tuple[str, Any]:
    """(tag, value) from a non-empty languageMap for the `lang` filter."""
    tags = {tag.lower(): tag for tag in language_map if tag != "@none"}
    for language_range in parse_language_ranges(lang):
        if language_range == "*":
            break
        tag = _match(language_range, tags)
        if tag is not None:
            return tag, language_map[tag]
    if "@none" in language_map:
        return "@none", language_map["@none"]
    first = next(iter(language_map))
    return first, language_map[first]
