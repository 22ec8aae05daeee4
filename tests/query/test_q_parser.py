"""q parser (clause 4.9): every operator, value kind, precedence, and positioned errors."""

from __future__ import annotations

import pytest

from broker.errors import BadRequestData, OperationNotSupported
from broker.query.ast import (
    And,
    AttrPath,
    Comparison,
    Exists,
    Or,
    Range,
    Value,
    ValueList,
)
from broker.query.q import parse_q, unparse


def cmp(attr: str, op: str, value: object) -> Comparison:
    return Comparison(AttrPath(attr), op, value)  # type: ignore[arg-type]


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_every_comparison_operator_parses(op: str) -> None:
    assert parse_q(f"speed{op}50") == cmp("speed", op, Value(50, "number"))


@pytest.mark.parametrize("op", ["~=", "!~="])
def test_pattern_operators_take_raw_or_quoted_patterns(op: str) -> None:
    assert parse_q(f"name{op}^A.*") == cmp("name", op, Value("^A.*", "string"))
    assert parse_q(f'name{op}"a|b"') == cmp("name", op, Value("a|b", "string"))


def test_raw_pattern_ends_at_a_top_level_logical_operator() -> None:
    assert parse_q("name~=a(b|c);x") == And(
        (cmp("name", "~=", Value("a(b|c)", "string")), Exists(AttrPath("x")))
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("a==12", Value(12, "number")),
        ("a==-3.5", Value(-3.5, "number")),
        ("a==1e3", Value(1000.0, "number")),
        ('a=="x \\"y\\" \\u00e9"', Value('x "y" é', "string")),
        ("a==true", Value(True, "boolean")),
        ("a==false", Value(False, "boolean")),
        ("a==2024-01-02T03:04:05Z", Value("2024-01-02T03:04:05Z", "datetime")),
        ("a==2024-01-02T03:04:05,25Z", Value("2024-01-02T03:04:05.25Z", "datetime")),
        ("a==2024-01-02", Value("2024-01-02", "date")),
        ("a==12:30:00Z", Value("12:30:00Z", "time")),
        ("a==urn:ngsi-ld:Car:1", Value("urn:ngsi-ld:Car:1", "uri")),
        ("a==https://e.org/x?y=1", Value("https://e.org/x?y=1", "uri")),
        ("a==Male", Value("Male", "string")),
    ],
)
def test_value_kinds(text: str, value: Value) -> None:
    assert parse_q(text) == cmp("a", "==", value)


def test_range_and_value_list() -> None:
    assert parse_q("t==10..20") == cmp("t", "==", Range(Value(10, "number"), Value(20, "number")))
    assert parse_q('c!="black","red"') == cmp(
        "c", "!=", ValueList((Value("black", "string"), Value("red", "string")))
    )
    assert parse_q("d==2024-01-01T00:00:00Z..2024-02-01T00:00:00Z").value == Range(
        Value("2024-01-01T00:00:00Z", "datetime"), Value("2024-02-01T00:00:00Z", "datetime")
    )


def test_and_binds_tighter_than_or() -> None:
    a, b, c = (Exists(AttrPath(n)) for n in "abc")
    assert parse_q("a|b;c") == Or((a, And((b, c))))
    assert parse_q("a;b|c") == Or((And((a, b)), c))
    assert parse_q("(a|b);c") == And((Or((a, b)), c))


def test_spec_examples_6_and_7() -> None:
    q6 = parse_q('((speed>50|rpm>3000);brandName=="Mercedes")')
    assert isinstance(q6, And) and isinstance(q6.terms[0], Or)
    q7 = parse_q("(temperature>=20;temperature<=25)|capacity<=10")
    assert isinstance(q7, Or) and isinstance(q7.terms[0], And)


def test_paths() -> None:
    assert parse_q("temperature.observedAt>=2017-12-24T12:00:00Z").path == AttrPath(  # type: ignore[union-attr]
        "temperature", ("observedAt",)
    )
    assert parse_q('address[city]=="Berlin"').path == AttrPath(  # type: ignore[union-attr]
        "address", compound=("city",)
    )
    assert parse_q("sensor.rawdata[airquality.particulate]==40").path == AttrPath(  # type: ignore[union-attr]
        "sensor", ("rawdata",), ("airquality", "particulate")
    )
    assert parse_q('color[*]=="red"').path == AttrPath("color", lang="*")  # type: ignore[union-attr]
    assert parse_q("ex:speed>1").path == AttrPath("ex:speed")  # type: ignore[union-attr]


def test_language_filter_is_a_one_key_compound_path() -> None:
    path = parse_q('color[en]=="red"').path  # type: ignore[union-attr]
    assert path.compound == ("en",) and path.language() == "en"


def test_exists_and_not_exists() -> None:
    assert parse_q("isMonitoredBy") == Exists(AttrPath("isMonitoredBy"))
    assert parse_q("!speed") == Exists(AttrPath("speed"), negated=True)


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("speed>>3", "position 7", "expected a value"),
        ("speed=3", "position 6", "expected an operator"),
        ("speed>true", "position 6", "can only be compared with == or !="),
        ("speed>1..3", "position 6", "range or a list of values needs == or !="),
        ("(a==1", "the end", "expected ')'"),
        ("a==1)", "position 5", "unbalanced ')'"),
        ('a=="x', "position 4", "unterminated quoted string"),
        ("a~=(", "position 4", "invalid regular expression"),
        ('a==1.."b"', "position 4", "a range from a number to a string"),
        ("a==2024-13-01", "position 4", "not a valid Date"),
        ("a==2024-02-30T00:00:00Z", "position 4", "not a valid DateTime"),
        ("a==25:00:00Z", "position 4", "not a valid Time"),
        ("1a==1", "position 1", "expected an attribute name"),
        ("a;", "the end", "expected an attribute name"),
        ("a.==1", "position 3", "expected a sub-attribute name"),
        ("a[]==1", "position 3", "expected a member name"),
        ("a==", "the end", "expected a value"),
    ],
)
def test_errors_name_the_position(text: str, position: str, message: str) -> None:
    with pytest.raises(BadRequestData) as err:
        parse_q(text)
    assert err.value.field == "q"
    assert message in err.value.detail
    assert f"at {position}" in err.value.detail


def test_limits() -> None:
    with pytest.raises(BadRequestData, match="longer than"):
        parse_q("a==1;" * 10 + "b", max_length=20)
    with pytest.raises(BadRequestData, match="nested deeper"):
        parse_q("((((a))))", max_depth=3)
    assert parse_q("((a))", max_depth=2) == Exists(AttrPath("a"))
    with pytest.raises(BadRequestData, match="regular expression longer"):
        parse_q("a~=" + "x" * 30, max_regex_length=20)
    with pytest.raises(BadRequestData, match="must not be empty"):
        parse_q("")


def test_linked_entity_paths_are_not_supported() -> None:
    with pytest.raises(OperationNotSupported):
        parse_q("sensor{humidity}==40")


def test_field_name_is_the_parameter() -> None:
    with pytest.raises(BadRequestData) as err:
        parse_q("a>>", field="csf")
    assert err.value.field == "csf" and err.value.detail.startswith("csf:")


def test_unparse_examples() -> None:
    text = 'a>5;(b=="x"|!c);d==1,true,urn:x:y;e[k.l]==2024-01-01..2024-02-01'
    assert unparse(parse_q(text)) == text
