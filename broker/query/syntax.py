"""What every query-language parser shares: a cursor over the text and positioned errors.

Positions in error details count characters from 1, so `speed>>3` reports the second `>` at
position 7. Every syntax error is BadRequestData naming the request parameter (clause 5.5.2).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn, TypeVar

from broker.errors import BadRequestData

T = TypeVar("T")

MAX_ECHO = 120
"""Longest excerpt of the offending text echoed in an error detail."""


def excerpt(text: str) -> str:
    return repr(text if len(text) <= MAX_ECHO else text[:MAX_ECHO] + "...")


class Cursor:
    """A position in one parameter's text, with the parameter name for error details."""

    __slots__ = ("field", "pos", "text")

    def __init__(self, text: str, field: str) -> None:
        self.text = text
        self.field = field
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def startswith(self, token: str) -> bool:
        return self.text.startswith(token, self.pos)

    def take(self, token: str) -> bool:
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def expect(self, token: str, what: str | None = None) -> None:
        if not self.take(token):
            self.fail(f"expected {what or repr(token)}")

    def fail(self, message: str, pos: int | None = None) -> NoReturn:
        at = self.pos if pos is None else pos
        where = "the end" if at >= len(self.text) else f"position {at + 1}"
        raise BadRequestData(
            f"{self.field}: {message} at {where}: {excerpt(self.text)}", field=self.field
        )


def check_length(text: str, field: str, limit: int) -> None:
    if len(text) > limit:
        raise BadRequestData(
            f"{field}: longer than the {limit} characters allowed", field=field
        )
    if not text:
        raise BadRequestData(f"{field}: must not be empty", field=field)


def parse_boolean(
    cur: Cursor,
    atom: Callable[[], T],
    make_and: Callable[[tuple[T, ...]], T],
    make_or: Callable[[tuple[T, ...]], T],
    *,
    or_ops: str = "|,",
    max_depth: int = 16,
) -> T:
    """`atom (op atom)*` with `;` (AND) binding tighter than the OR operators, and
    parentheses: the shape shared by the type (4.17) and scope (4.19) languages."""

    def disjunction(depth: int) -> T:
        items = [conjunction(depth)]
        while not cur.at_end() and cur.peek() in or_ops:
            cur.pos += 1
            items.append(conjunction(depth))
        return items[0] if len(items) == 1 else make_or(tuple(items))

    def conjunction(depth: int) -> T:
        items = [term(depth)]
        while cur.take(";"):
            items.append(term(depth))
        return items[0] if len(items) == 1 else make_and(tuple(items))

    def term(depth: int) -> T:
        if cur.take("("):
            if depth + 1 > max_depth:
                cur.fail(f"parentheses nested deeper than {max_depth}", cur.pos - 1)
            node = disjunction(depth + 1)
            cur.expect(")", "')' or a logical operator")
            return node
        return atom()

    node = disjunction(0)
    if not cur.at_end():
        cur.fail("unbalanced ')'" if cur.peek() == ")" else "expected a logical operator")
    return node
