"""Regular expressions of queries, compiled once (clause 4.9 `~=`, clause 5.7.2 `idPattern`).

Python `re` stands in for IEEE 1003.2 extended regular expressions; the common subset
(classes, anchors, alternation, repetition) behaves the same.
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Raises re.error for an invalid pattern (callers turn it into BadRequestData)."""
    return re.compile(pattern)


def full_match(pattern: str, text: str) -> bool:
    """`~=`: the target value is in L(R), the language of the pattern (clause 4.9): the
    whole string matches, not a substring."""
    return compile_pattern(pattern).fullmatch(text) is not None


def search(pattern: str, text: str) -> bool:
    """`idPattern`: POSIX `regexec` semantics (a match anywhere; anchor with ^ and $)."""
    return compile_pattern(pattern).search(text) is not None
