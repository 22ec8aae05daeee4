"""The format checker the schemas are validated with.

jsonschema checks `date-time` and `uri` only when optional packages are installed; these two
checks make the formats the models use mean the same thing everywhere.
"""

from __future__ import annotations

import re
from datetime import datetime

from jsonschema import FormatChecker

DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")


def is_date_time(instance: object) -> bool:
    """An RFC 3339 date-time with its offset, e.g. 2026-11-30T08:00:00Z."""
    if not isinstance(instance, str):
        return True
    if not DATE_TIME.match(instance):
        return False
    try:
        datetime.fromisoformat(instance.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def is_uri(instance: object) -> bool:
    """An absolute URI: a scheme, a colon and no whitespace."""
    return not isinstance(instance, str) or URI.match(instance) is not None


def format_checker() -> FormatChecker:
    checker = FormatChecker()
    checker.checks("date-time")(is_date_time)
    checker.checks("uri")(is_uri)
    return checker
