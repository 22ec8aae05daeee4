"""Regular expressions of queries, compiled once (clause 4.9 `~=`, clause 5.7.2 `idPattern`).

The `regex` module stands in for IEEE 1003.2 extended regular expressions: the common subset
(classes, anchors, alternation, repetition) behaves as there, and so do POSIX bracket
classes such as `[[:digit:]]`.

A pattern can cost time exponential in the text it is matched against (`(a|aa)+$`), and
matching runs on the broker's event loop or a store thread. Each match therefore has a time
limit (`regex_timeout`, set once by the application); a match that runs out raises
`PatternTooCostly`, a 400 BadRequestData naming the parameter, and the query or the
subscription check stops there.
"""

from __future__ import annotations

from functools import lru_cache

import regex

from broker.errors import BadRequestData

PatternError = regex.error
"""What `compile_pattern` raises for an invalid pattern (it has `msg` and `pos`)."""

DEFAULT_TIMEOUT = 0.05
_limits = {"timeout": DEFAULT_TIMEOUT}


class PatternTooCostly(BadRequestData):
    """A `~=` or `idPattern` match ran longer than `regex_timeout`."""


def set_match_timeout(seconds: float) -> None:
    """The longest one match may run (the `regex_timeout` setting)."""
    if not seconds > 0:
        raise ValueError("regex_timeout must be a positive number of seconds")
    _limits["timeout"] = float(seconds)


def match_timeout() -> float:
    return _limits["timeout"]


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> regex.Pattern[str]:
    """Raises PatternError for an invalid pattern (callers turn it into BadRequestData)."""
    return regex.compile(pattern)


def full_match(pattern: str, text: str, field: str = "q") -> bool:
    """`~=`: the target value is in L(R), the language of the pattern (clause 4.9): the
    whole string matches, not a substring."""
    try:
        return compile_pattern(pattern).fullmatch(text, timeout=_limits["timeout"]) is not None
    except TimeoutError:
        raise _too_costly(pattern, field) from None


def search(pattern: str, text: str, field: str = "idPattern") -> bool:
    """`idPattern`: POSIX `regexec` semantics (a match anywhere; anchor with ^ and $)."""
    try:
        return compile_pattern(pattern).search(text, timeout=_limits["timeout"]) is not None
    except TimeoutError:
        raise _too_costly(pattern, field) from None


def _too_costly(pattern: str, field: str) -> PatternTooCostly:
    shown = pattern if len(pattern) <= 40 else pattern[:37] + "..."
    return PatternTooCostly(
        f"the regular expression {shown!r} takes longer than {_limits['timeout']:g} s to "
        "match a value (regex_timeout); simplify it",
        field=field,
    )
