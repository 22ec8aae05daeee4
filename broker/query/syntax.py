"""What every query-language parser shares: a cursor over the text and positioned errors.

Positions in error details count characters from 1, so `speed>>3` reports the second `>` at
position 7. Every syntax error is BadRequestData naming the request parameter (clause 5.5.2).
"""

from __future__ import annotations

from typing import NoReturn

from broker.errors import BadRequestData

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
