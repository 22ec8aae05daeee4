"""Entity type selection (ETSI GS CIM 009 clause 4.17): `A,B` / `A|B` (any), `(A;B)` (all).

`;` binds tighter than `|` and `,`; parentheses group. A type is a name (clause 4.6.2) or a
URI; as the clause notes, `,;()|` cannot appear in one here.
"""

from __future__ import annotations

from broker.model.validate import is_valid_name
from broker.query.ast import TypeAnd, TypeExpr, TypeName, TypeOr
from broker.query.syntax import Cursor, check_length, parse_boolean

DEFAULT_MAX_LENGTH = 4096
_DELIMITERS = frozenset(",;|()")


def parse_type_expression(
    text: str, *, field: str = "type", max_length: int = DEFAULT_MAX_LENGTH
) -> TypeExpr:
    check_length(text, field, max_length)
    cur = Cursor(text, field)

    def atom() -> TypeExpr:
        start = end = cur.pos
        while end < len(text) and text[end] not in _DELIMITERS:
            end += 1
        name = text[start:end]
        if not name:
            cur.fail("expected an entity type")
        if not is_valid_name(name):
            cur.fail(f"{name!r} is not a valid entity type name", start)
        cur.pos = end
        return TypeName(name)

    return parse_boolean(cur, atom, TypeAnd, TypeOr)


def unparse_types(expr: TypeExpr) -> str:
    if isinstance(expr, TypeName):
        return expr.name
    if isinstance(expr, TypeAnd):
        return "(" + ";".join(
            f"({unparse_types(i)})" if isinstance(i, TypeOr) else unparse_types(i)
            for i in expr.items
        ) + ")"
    return "|".join(
        f"({unparse_types(i)})" if isinstance(i, TypeOr) else unparse_types(i)
        for i in expr.items
    )


def type_names(expr: TypeExpr) -> set[str]:
    """Every type named in the expression."""
    if isinstance(expr, TypeName):
        return {expr.name}
    names: set[str] = set()
    for item in expr.items:
        names |= type_names(item)
    return names
