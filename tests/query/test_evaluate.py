"""Reference semantics over one stored entity (clauses 4.9, 4.17, 4.19, 5.7.2)."""

from __future__ import annotations

from typing import Any

import pytest

from broker.query.ast import EntityQuery, ScopePattern, TypeAnd, TypeName, TypeOr
from broker.query.evaluate import match_q, match_scope, match_types, matches
from broker.query.q import parse_q

NS = "https://uri.etsi.org/ngsi-ld/default-context/"


def prop(value: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, **extra}


def entity(**attrs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "urn:ngsi-ld:Car:1",
        "type": [NS + "Car", NS + "Vehicle"],
        "scope": ["/Madrid/Centro/Sol", "/Paris"],
        "attrs": {NS + k if ":" not in k else k: v for k, v in attrs.items()},
    }


def q(text: str) -> Any:
    """Parse q over default-context names (as the expansion step would give)."""
    from broker.jsonld.context import TermMap
    from broker.query.expand import expand_q

    return expand_q(parse_q(text), TermMap())


CAR = entity(
    speed=[prop(80, observedAt="2024-01-01T10:00:00Z", unitCode="KMH",
                sub={NS + "accuracy": [prop(0.5)]})],
    brand=[prop("Mercedes")],
    parked=[prop(False)],
    seen=[prop("2024-06-01T12:00:00Z")],
    day=[prop("2024-06-01")],
    opens=[prop("08:30:00Z")],
    tags=[prop(["red", "fast"])],
    address=[prop({"city": "Berlin", "zip": {"code": 10115}})],
    owner=[{"type": "Relationship", "object": "urn:ngsi-ld:Person:1"}],
    friends=[{"type": "Relationship", "object": ["urn:ngsi-ld:Person:2", "urn:ngsi-ld:Person:3"]}],
    name=[{"type": "LanguageProperty", "languageMap": {"en": "red", "fr": ["rouge", "chat"]}}],
    colour=[{"type": "VocabProperty", "vocab": NS + "Red"}],
    readings=[{"type": "ListProperty", "valueList": [1, 2, 3]}],
    raw=[{"type": "JsonProperty", "json": {"k": "v"}}],
    temperature=[prop(20), prop(30, datasetId="urn:ngsi-ld:Dataset:b")],
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("speed==80", True), ("speed==81", False), ("speed!=81", True), ("speed!=80", False),
        ("speed>79", True), ("speed>80", False), ("speed>=80", True), ("speed<81", True),
        ("speed<80", False), ("speed<=80", True),
        ("speed==70..90", True), ("speed==81..90", False), ("speed!=81..90", True),
        ("speed==1,80", True), ("speed!=1,80", False), ("speed!=1,2", True),
        ('brand=="Mercedes"', True), ('brand>"A"', True), ('brand<"A"', False),
        ("brand~=Merc.*", True), ("brand~=Merc", False), ("brand!~=Merc", True),
        ("brand!~=Merc.*", False),
        ("parked==false", True), ("parked==true", False), ("parked!=true", True),
        ("seen>2024-01-01T00:00:00Z", True), ("seen<2024-06-01T12:00:00.001Z", True),
        ("seen==2024-06-01T12:00:00.000Z", True),
        ("day==2024-06-01", True), ("day>2024-06-02", False),
        ("opens<09:00:00Z", True), ("opens>09:00:00Z", False),
        ("speed.observedAt>=2024-01-01T00:00:00Z", True),
        ('speed.unitCode=="KMH"', True), ("speed.accuracy<1", True), ("speed.accuracy>1", False),
        ('address[city]=="Berlin"', True), ("address[zip.code]==10115", True),
        ("address[nowhere]", False), ("address[city]", True),
        ('tags=="red"', True), ('tags!="red"', False), ('tags!="blue"', True),
        ('tags=="blue","fast"', True),
        ("owner==urn:ngsi-ld:Person:1", True), ('owner=="urn:ngsi-ld:Person:1"', True),
        ("owner!=urn:ngsi-ld:Person:1", False), ("friends==urn:ngsi-ld:Person:3", True),
        ("friends!=urn:ngsi-ld:Person:3", False), ("friends!=urn:ngsi-ld:Person:9", True),
        ('name[en]=="red"', True), ('name[fr]=="red"', False), ('name[fr]=="chat"', True),
        ('name[*]=="rouge"', True), ('name=="rouge"', True), ('name[de]=="red"', False),
        ('name[en]!="red"', False), ('name[*]!="blue"', True),
        ("colour==Red", True), ("colour!=Red", False), ("colour==Blue", False),
        ("readings==2", True), ("readings!=2", False), ("readings>2", True),
        ('raw[k]=="v"', True),
        ("temperature==30", True), ("temperature==20", True), ("temperature>25", True),
        ("temperature!=20", True), ("temperature<10", False),
        ("speed", True), ("!speed", False), ("missing", False), ("!missing", True),
    ],
)
def test_operators(text: str, expected: bool) -> None:
    assert match_q(CAR, q(text)) is expected


@pytest.mark.parametrize(
    "text",
    [
        'speed=="80"', "speed==true", "speed>2024-01-01T00:00:00Z", 'speed~="80"',
        "brand==5", "brand>5", "parked==0", "day==2024-06-01T00:00:00Z",
    ],
)
def test_kind_mismatch_matches_neither_equal_nor_ordered(text: str) -> None:
    assert match_q(CAR, q(text)) is False


@pytest.mark.parametrize("text", ['speed!="80"', "brand!=5", "parked!=0"])
def test_kind_mismatch_is_unequal(text: str) -> None:
    assert match_q(CAR, q(text)) is True


@pytest.mark.parametrize("text", ["missing!=5", 'missing!="x"', "missing!~=x", "missing!=1..2"])
def test_not_equal_needs_the_attribute(text: str) -> None:
    assert match_q(CAR, q(text)) is False


@pytest.mark.parametrize(
    "text", ['owner>"urn:ngsi-ld:Person:0"', 'owner~="urn.*"', 'owner<"z"']
)
def test_relationships_match_only_equal_and_unequal(text: str) -> None:
    assert match_q(CAR, q(text)) is False


def test_logic_and_precedence() -> None:
    assert match_q(CAR, q("speed>100|brand==\"Mercedes\";parked==false")) is True
    assert match_q(CAR, q("(speed>100|brand==\"Mercedes\");parked==true")) is False
    assert match_q(CAR, q("speed>100;brand==\"Mercedes\"|parked==false")) is True


def test_types() -> None:
    car, vehicle, bus = TypeName(NS + "Car"), TypeName(NS + "Vehicle"), TypeName(NS + "Bus")
    assert match_types(CAR, car)
    assert not match_types(CAR, bus)
    assert match_types(CAR, TypeOr((bus, car)))
    assert match_types(CAR, TypeAnd((car, vehicle)))
    assert not match_types(CAR, TypeAnd((car, bus)))


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        (("Madrid",), False), (("Madrid", "#"), True), (("Madrid", "Centro", "#"), True),
        (("Madrid", "Centro", "Sol", "#"), True), (("Madrid", "+", "Sol"), True),
        (("Madrid", "+"), False), (("+", "+", "+"), True), (("#",), True), (("Paris",), True),
        (("Madrid", "Centro", "Sol", "Plaza", "#"), False), (("Berlin", "#"), False),
    ],
)
def test_scope_patterns(levels: tuple[str, ...], expected: bool) -> None:
    assert match_scope(CAR, ScopePattern(levels)) is expected


def test_scope_absent_never_matches() -> None:
    assert not match_scope({"id": "x", "type": [], "attrs": {}}, ScopePattern(("#",)))


def test_ids_pattern_and_attrs() -> None:
    assert matches(CAR, EntityQuery(ids=("urn:ngsi-ld:Car:1", "urn:ngsi-ld:Car:2")))
    assert not matches(CAR, EntityQuery(ids=("urn:ngsi-ld:Car:2",)))
    assert matches(CAR, EntityQuery(id_pattern="Car:[0-9]"))
    assert not matches(CAR, EntityQuery(id_pattern="^Car"))
    assert matches(CAR, EntityQuery(ids=("urn:ngsi-ld:Car:1",), id_pattern="nomatch"))
    assert matches(CAR, EntityQuery(attrs=frozenset({NS + "speed", NS + "nothing"})))
    assert not matches(CAR, EntityQuery(attrs=frozenset({NS + "nothing"})))
    assert matches(CAR, EntityQuery())
    assert not matches(CAR, EntityQuery(types=TypeName(NS + "Car"), q=q("speed>100")))
