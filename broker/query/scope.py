"""scopeQ (ETSI GS CIM 009 clause 4.19): `/a/b`, `/a/+/c`, `/a/#`, `/#`; `;` AND, `|` or `,`
OR, parentheses.

`+` matches exactly one level; a trailing `#` matches the given scope and every scope below
it; `/#` alone matches any entity that has a scope. The leading `/` is optional, as in the
Scope grammar itself (clause 4.18).
"""

from __future__ import annotations

from broker.query.ast import ScopeAnd, ScopeExpr, ScopeOr, ScopePattern
from broker.query.syntax import Cursor, check_length, parse_boolean

DEFAULT_MAX_LENGTH = 4096


def _is_level_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def parse_scopeq(
    text: str, *, field: str = "scopeQ", max_length: int = DEFAULT_MAX_LENGTH
) -> ScopeExpr:
    check_length(text, field, max_length)
    cur = Cursor(text, field)

    def level() -> str:
        if cur.take("+"):
            return "+"
        start = end = cur.pos
        if end < len(text) and text[end].isalpha():
            end += 1
            while end < len(text) and _is_level_char(text[end]):
                end += 1
        if end == start:
            cur.fail("expected a scope level (a name or '+')")
        cur.pos = end
        return text[start:end]

    def atom() -> ScopeExpr:
        leading = cur.take("/")
        if cur.take("#"):
            if not leading:
                cur.fail("expected '/#'", cur.pos - 1)
            return ScopePattern(("#",))
        levels = [level()]
        while cur.take("/"):
            if cur.take("#"):
                levels.append("#")
                break
            levels.append(level())
        return ScopePattern(tuple(levels))

    return parse_boolean(cur, atom, ScopeAnd, ScopeOr)


def unparse_scopeq(expr: ScopeExpr) -> str:
    if isinstance(expr, ScopePattern):
        return "/" + "/".join(expr.levels)
    if isinstance(expr, ScopeAnd):
        return "(" + ";".join(
            f"({unparse_scopeq(i)})" if isinstance(i, ScopeOr) else unparse_scopeq(i)
            for i in expr.items
        ) + ")"
    return "|".join(
        f"({unparse_scopeq(i)})" if isinstance(i, ScopeOr) else unparse_scopeq(i)
        for i in expr.items
    )
