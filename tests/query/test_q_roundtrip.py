"""Property: random q ASTs rendered back to text parse to the same AST."""

from __future__ import annotations

from hypothesis import given, settings
from strategies import plain_q_asts

from broker.query.ast import Q
from broker.query.q import parse_q, unparse


@settings(max_examples=300, deadline=None)
@given(plain_q_asts)
def test_unparse_then_parse_is_identity(ast: Q) -> None:
    assert parse_q(unparse(ast), max_length=1_000_000, max_depth=64) == ast
