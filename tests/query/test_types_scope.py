"""Type selection (clause 4.17) and scopeQ (clause 4.19) parsers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from strategies import scope_exprs, type_exprs

from broker.errors import BadRequestData
from broker.query.ast import (
    ScopeAnd,
    ScopeExpr,
    ScopeOr,
    ScopePattern,
    TypeAnd,
    TypeExpr,
    TypeName,
    TypeOr,
)
from broker.query.scope import parse_scopeq, unparse_scopeq
from broker.query.types import parse_type_expression, unparse_types

A, B, C = TypeName("A"), TypeName("B"), TypeName("C")


def test_type_expressions() -> None:
    assert parse_type_expression("A") == A
    assert parse_type_expression("A,B") == TypeOr((A, B))
    assert parse_type_expression("A|B") == TypeOr((A, B))
    assert parse_type_expression("(A;B)") == TypeAnd((A, B))
    assert parse_type_expression("(A;B)|C") == TypeOr((TypeAnd((A, B)), C))
    assert parse_type_expression("(A;B),C") == TypeOr((TypeAnd((A, B)), C))
    assert parse_type_expression("https://e.org/T") == TypeName("https://e.org/T")
    assert parse_type_expression("ex:T") == TypeName("ex:T")


@pytest.mark.parametrize(
    ("text", "message"),
    [("A,,B", "position 3"), ("(A;B", "the end"), ("1A", "not a valid"), ("A)", "unbalanced")],
)
def test_type_errors(text: str, message: str) -> None:
    with pytest.raises(BadRequestData) as err:
        parse_type_expression(text)
    assert err.value.field == "type" and message in err.value.detail


def test_scope_expressions() -> None:
    assert parse_scopeq("/Madrid") == ScopePattern(("Madrid",))
    assert parse_scopeq("/Madrid/Gardens/#") == ScopePattern(("Madrid", "Gardens", "#"))
    assert parse_scopeq("/Madrid/+/ParqueNorte") == ScopePattern(("Madrid", "+", "ParqueNorte"))
    assert parse_scopeq("/#") == ScopePattern(("#",))
    assert parse_scopeq("(/Madrid/Districts;/CompanyA)|/CompanyB") == ScopeOr(
        (ScopeAnd((ScopePattern(("Madrid", "Districts")), ScopePattern(("CompanyA",)))),
         ScopePattern(("CompanyB",)))
    )
    assert parse_scopeq("/a,/b") == ScopeOr((ScopePattern(("a",)), ScopePattern(("b",))))


@pytest.mark.parametrize("text", ["/a//b", "/a/#/b", "#", "/a/b-c", "(/a"])
def test_scope_errors(text: str) -> None:
    with pytest.raises(BadRequestData) as err:
        parse_scopeq(text)
    assert err.value.field == "scopeQ"


@settings(max_examples=100, deadline=None)
@given(type_exprs)
def test_type_round_trip(expr: TypeExpr) -> None:
    def plain(e: TypeExpr) -> TypeExpr:
        if isinstance(e, TypeName):
            return TypeName(e.name.rsplit("/", 1)[-1])
        items = tuple(plain(i) for i in e.items)
        return TypeAnd(items) if isinstance(e, TypeAnd) else TypeOr(items)

    assert parse_type_expression(unparse_types(plain(expr))) == plain(expr)


@settings(max_examples=100, deadline=None)
@given(scope_exprs)
def test_scope_round_trip(expr: ScopeExpr) -> None:
    assert parse_scopeq(unparse_scopeq(expr)) == expr
