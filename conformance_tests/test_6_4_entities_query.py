"""Clause 6.4.3.2: GET /entities (Query Entities, behaviour in 5.7.2) with the NGSI-LD Query
Language of clause 4.9 (`q`), entity selection by `id`, `idPattern` and type expressions
(clause 4.17), and the `attrs`, `pick`, `omit` and `options` of the result.

Every test gives its entities a type name of its own and always filters by it, so entities
written by other tests never show up in its results.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from typing import Any

import pytest

from conformance_tests.client import (
    API,
    JSON,
    JSONLD,
    Client,
    assert_problem,
    new_id,
)
from conformance_tests.samples import POINT

ENTITIES = f"{API}/entities"


def _type(prefix: str = "Sensor") -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def _prop(value: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "Property", "value": value, **extra}


def _rel(target: str, **extra: Any) -> dict[str, Any]:
    return {"type": "Relationship", "object": target, **extra}


def _make(client: Client, etype: str | list[str], **attrs: Any) -> str:
    """Create one entity of `etype` with the given attributes; return its id."""
    kind = etype if isinstance(etype, str) else etype[0]
    entity = {"id": new_id(kind), "type": etype, **attrs}
    client.create(entity)
    return entity["id"]


def _query(client: Client, **params: Any) -> list[dict[str, Any]]:
    r = client.get(ENTITIES, params=params, accept=JSON)
    assert r.status == 200, f"query {params} failed: {r}"
    body = r.json()
    assert isinstance(body, list), body
    return body


def _ids(client: Client, **params: Any) -> set[str]:
    return {e["id"] for e in _query(client, **params)}


def _by_id(entities: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in entities}


def _dt(value: str) -> dict[str, str]:
    return {"@type": "DateTime", "@value": value}


@pytest.fixture
def speeds(client: Client) -> tuple[str, dict[int, str]]:
    """Four entities of a fresh type with speed 10, 20, 30 and 40: (type, {speed: id})."""
    t = _type("Car")
    return t, {v: _make(client, t, speed=_prop(v)) for v in (10, 20, 30, 40)}


# -- q: comparison operators (clause 4.9) ------------------------------------------------------


def test_q_equal_number_matches_only_that_value(client: Client, speeds: Any) -> None:
    t, ids = speeds
    assert _ids(client, type=t, q="speed==20") == {ids[20]}


def test_q_equal_integer_matches_the_same_number_written_as_decimal(
    client: Client, speeds: Any
) -> None:
    t, ids = speeds
    assert _ids(client, type=t, q="speed==20.0") == {ids[20]}


def test_q_unequal_number_matches_every_other_value(client: Client, speeds: Any) -> None:
    t, ids = speeds
    assert _ids(client, type=t, q="speed!=20") == {ids[10], ids[30], ids[40]}


def test_q_greater_than_is_strict(client: Client, speeds: Any) -> None:
    t, ids = speeds
    assert _ids(client, type=t, q="speed>20") == {ids[30], ids[40]}


def test_q_greater_or_equal_includes_the_value(client: Client, speeds: Any) -> None:
    t, ids = speeds
    assert _ids(client, type=t, q="speed>=20") == {ids[20], ids[30], ids[40]}


def test_q_less_than_is_strict(client: Client, speeds: Any) -> None:
    t, ids = speeds
    assert _ids(client, type=t, q="speed<20") == {ids[10]}


def test_q_less_or_equal_includes_the_value(client: Client, speeds: Any) -> None:
    t, ids = speeds
    assert _ids(client, type=t, q="speed<=20") == {ids[10], ids[20]}


def test_q_compares_negative_and_decimal_numbers_numerically(client: Client) -> None:
    t = _type()
    ids = {v: _make(client, t, temperature=_prop(v)) for v in (-1.5, 0.25, 3, 12)}
    assert _ids(client, type=t, q="temperature>-1") == {ids[0.25], ids[3], ids[12]}
    assert _ids(client, type=t, q="temperature<0.3") == {ids[-1.5], ids[0.25]}
    # 12 > 3 as numbers, although "12" < "3" as text
    assert _ids(client, type=t, q="temperature>3") == {ids[12]}


def test_q_range_matches_values_between_both_ends_inclusive(client: Client, speeds: Any) -> None:
    t, ids = speeds
    assert _ids(client, type=t, q="speed==20..30") == {ids[20], ids[30]}


def test_q_unequal_range_matches_values_outside_it(client: Client, speeds: Any) -> None:
    t, ids = speeds
    assert _ids(client, type=t, q="speed!=20..30") == {ids[10], ids[40]}


def test_q_value_list_matches_any_listed_value(client: Client, speeds: Any) -> None:
    t, ids = speeds
    assert _ids(client, type=t, q="speed==10,30") == {ids[10], ids[30]}


def test_q_unequal_value_list_matches_none_of_the_listed_values(
    client: Client, speeds: Any
) -> None:
    t, ids = speeds
    assert _ids(client, type=t, q="speed!=10,30") == {ids[20], ids[40]}


# -- q: value types ----------------------------------------------------------------------------


@pytest.fixture
def brands(client: Client) -> tuple[str, dict[str, str]]:
    t = _type("Car")
    return t, {b: _make(client, t, brandName=_prop(b)) for b in ("Mercedes", "Seat", "Volvo")}


def test_q_equal_quoted_string(client: Client, brands: Any) -> None:
    t, ids = brands
    assert _ids(client, type=t, q='brandName=="Volvo"') == {ids["Volvo"]}


def test_q_unequal_quoted_string(client: Client, brands: Any) -> None:
    t, ids = brands
    assert _ids(client, type=t, q='brandName!="Volvo"') == {ids["Mercedes"], ids["Seat"]}


def test_q_string_value_list(client: Client, brands: Any) -> None:
    t, ids = brands
    assert _ids(client, type=t, q='brandName=="Volvo","Seat"') == {ids["Volvo"], ids["Seat"]}


def test_q_strings_are_ordered_lexicographically(client: Client, brands: Any) -> None:
    t, ids = brands
    assert _ids(client, type=t, q='brandName>"Seat"') == {ids["Volvo"]}
    assert _ids(client, type=t, q='brandName<="Seat"') == {ids["Mercedes"], ids["Seat"]}


def test_q_string_range(client: Client, brands: Any) -> None:
    t, ids = brands
    assert _ids(client, type=t, q='brandName=="N".."W"') == {ids["Seat"], ids["Volvo"]}


def test_q_string_equality_is_case_sensitive(client: Client, brands: Any) -> None:
    t, _ = brands
    assert _ids(client, type=t, q='brandName=="volvo"') == set()


def test_q_quoted_string_may_hold_the_query_language_delimiters(client: Client) -> None:
    t = _type()
    tricky = _make(client, t, label=_prop("a;b|c (d) == e"))
    _make(client, t, label=_prop("a"))
    assert _ids(client, type=t, q='label=="a;b|c (d) == e"') == {tricky}


def test_q_quoted_number_matches_a_string_not_a_number(client: Client) -> None:
    t = _type()
    as_text = _make(client, t, code=_prop("42"))
    as_number = _make(client, t, code=_prop(42))
    assert _ids(client, type=t, q='code=="42"') == {as_text}
    assert _ids(client, type=t, q="code==42") == {as_number}


def test_q_boolean_true_and_false(client: Client) -> None:
    t = _type("Parking")
    open_ = _make(client, t, isOpen=_prop(True))
    closed = _make(client, t, isOpen=_prop(False))
    text = _make(client, t, isOpen=_prop("true"))
    assert _ids(client, type=t, q="isOpen==true") == {open_}
    assert _ids(client, type=t, q="isOpen==false") == {closed}
    assert _ids(client, type=t, q='isOpen=="true"') == {text}


def test_q_ordering_a_string_against_a_number_does_not_match(client: Client) -> None:
    t = _type()
    _make(client, t, speed=_prop("fast"))
    number = _make(client, t, speed=_prop(90))
    assert _ids(client, type=t, q="speed>5") == {number}


@pytest.fixture
def observations(client: Client) -> tuple[str, dict[str, str]]:
    """Three entities whose `dateObserved` is a DateTime value in May, June and July 2024."""
    t = _type("Observation")
    days = {
        "may": "2024-05-01T10:00:00Z",
        "june": "2024-06-01T10:00:00Z",
        "july": "2024-07-01T10:00:00Z",
    }
    return t, {k: _make(client, t, dateObserved=_prop(_dt(v))) for k, v in days.items()}


def test_q_datetime_greater_than(client: Client, observations: Any) -> None:
    t, ids = observations
    got = _ids(client, type=t, q="dateObserved>2024-05-15T00:00:00Z")
    assert got == {ids["june"], ids["july"]}


def test_q_datetime_less_or_equal_includes_the_same_instant(
    client: Client, observations: Any
) -> None:
    t, ids = observations
    got = _ids(client, type=t, q="dateObserved<=2024-06-01T10:00:00Z")
    assert got == {ids["may"], ids["june"]}


def test_q_datetime_range(client: Client, observations: Any) -> None:
    t, ids = observations
    got = _ids(client, type=t, q="dateObserved==2024-05-15T00:00:00Z..2024-06-15T00:00:00Z")
    assert got == {ids["june"]}


def test_q_datetime_equal_to_the_exact_instant(client: Client, observations: Any) -> None:
    t, ids = observations
    assert _ids(client, type=t, q="dateObserved==2024-07-01T10:00:00Z") == {ids["july"]}


def test_q_observed_at_of_an_attribute_is_compared_as_a_datetime(client: Client) -> None:
    t = _type()
    early = _make(client, t, speed=_prop(1, observedAt="2024-05-01T10:00:00.000Z"))
    late = _make(client, t, speed=_prop(1, observedAt="2024-09-01T10:00:00.000Z"))
    _make(client, t, speed=_prop(1))  # no observedAt at all
    assert _ids(client, type=t, q="speed.observedAt>=2024-06-01T00:00:00Z") == {late}
    assert _ids(client, type=t, q="speed.observedAt<2024-06-01T00:00:00Z") == {early}


# -- q: relationships compared by object -------------------------------------------------------


@pytest.fixture
def parked(client: Client) -> tuple[str, dict[str, str]]:
    t = _type("Car")
    a = "urn:ngsi-ld:OffStreetParking:Downtown1"
    b = "urn:ngsi-ld:OffStreetParking:Uptown2"
    return t, {
        "a": _make(client, t, isParked=_rel(a)),
        "b": _make(client, t, isParked=_rel(b)),
        "none": _make(client, t, speed=_prop(1)),
    }


def test_q_relationship_equal_compares_the_object_uri(client: Client, parked: Any) -> None:
    t, ids = parked
    got = _ids(client, type=t, q="isParked==urn:ngsi-ld:OffStreetParking:Downtown1")
    assert got == {ids["a"]}


def test_q_relationship_unequal_compares_the_object_uri(client: Client, parked: Any) -> None:
    t, ids = parked
    got = _ids(client, type=t, q="isParked!=urn:ngsi-ld:OffStreetParking:Downtown1")
    assert got == {ids["b"]}


def test_q_bare_relationship_name_matches_entities_having_it(client: Client, parked: Any) -> None:
    t, ids = parked
    assert _ids(client, type=t, q="isParked") == {ids["a"], ids["b"]}


# -- q: logical operators, precedence, parentheses ---------------------------------------------


@pytest.fixture
def mixed(client: Client) -> tuple[str, dict[str, str]]:
    """Entities with speed and brandName combinations for ; and | tests."""
    t = _type("Car")
    return t, {
        "fast_volvo": _make(client, t, speed=_prop(90), brandName=_prop("Volvo")),
        "slow_volvo": _make(client, t, speed=_prop(10), brandName=_prop("Volvo")),
        "fast_seat": _make(client, t, speed=_prop(90), brandName=_prop("Seat")),
        "slow_seat": _make(client, t, speed=_prop(10), brandName=_prop("Seat")),
    }


def test_q_semicolon_is_and(client: Client, mixed: Any) -> None:
    t, ids = mixed
    assert _ids(client, type=t, q='speed>50;brandName=="Volvo"') == {ids["fast_volvo"]}


def test_q_pipe_is_or(client: Client, mixed: Any) -> None:
    t, ids = mixed
    got = _ids(client, type=t, q='speed>50|brandName=="Volvo"')
    assert got == {ids["fast_volvo"], ids["slow_volvo"], ids["fast_seat"]}


def test_q_and_binds_tighter_than_or(client: Client) -> None:
    t = _type()
    # a|b;c must read a|(b;c): e1 matches only through a, e3 only has b
    e1 = _make(client, t, a=_prop(1), b=_prop(0), c=_prop(0))
    e2 = _make(client, t, a=_prop(0), b=_prop(1), c=_prop(1))
    _make(client, t, a=_prop(0), b=_prop(1), c=_prop(0))
    assert _ids(client, type=t, q="a==1|b==1;c==1") == {e1, e2}
    assert _ids(client, type=t, q="b==1;c==1|a==1") == {e1, e2}


def test_q_parentheses_override_precedence(client: Client) -> None:
    t = _type()
    _make(client, t, a=_prop(1), b=_prop(0), c=_prop(0))
    e2 = _make(client, t, a=_prop(0), b=_prop(1), c=_prop(1))
    _make(client, t, a=_prop(0), b=_prop(1), c=_prop(0))
    assert _ids(client, type=t, q="(a==1|b==1);c==1") == {e2}


def test_q_two_parenthesised_groups_joined_by_or(client: Client, mixed: Any) -> None:
    t, ids = mixed
    q = '(speed>50;brandName=="Seat")|(speed<50;brandName=="Volvo")'
    assert _ids(client, type=t, q=q) == {ids["fast_seat"], ids["slow_volvo"]}


def test_q_several_and_terms_all_have_to_match(client: Client) -> None:
    t = _type()
    both = _make(client, t, temperature=_prop(22), humidity=_prop(40))
    _make(client, t, temperature=_prop(22), humidity=_prop(90))
    _make(client, t, temperature=_prop(35), humidity=_prop(40))
    q = "temperature>=20;temperature<=25;humidity<80"
    assert _ids(client, type=t, q=q) == {both}


# -- q: pattern operators ----------------------------------------------------------------------


@pytest.fixture
def names(client: Client) -> tuple[str, dict[str, str]]:
    t = _type("Parking")
    return t, {
        n: _make(client, t, name=_prop(n))
        for n in ("Parking Downtown", "Parking Uptown", "Garage Central")
    }


def test_q_pattern_matches_strings_by_regular_expression(client: Client, names: Any) -> None:
    t, ids = names
    got = _ids(client, type=t, q="name~=Parking.*")
    assert got == {ids["Parking Downtown"], ids["Parking Uptown"]}


def test_q_pattern_with_character_class(client: Client, names: Any) -> None:
    t, ids = names
    assert _ids(client, type=t, q="name~=.*[DG]own.*") == {ids["Parking Downtown"]}


def test_q_not_pattern_matches_strings_that_do_not_match(client: Client, names: Any) -> None:
    t, ids = names
    assert _ids(client, type=t, q="name!~=Parking.*") == {ids["Garage Central"]}


def test_q_pattern_with_posix_bracket_classes(client: Client, names: Any) -> None:
    t, ids = names
    assert _ids(client, type=t, q="name~=[[:upper:]][[:lower:]]+ Down[[:alpha:]]*") == {
        ids["Parking Downtown"]
    }


def test_q_pattern_too_costly_to_match_is_400_naming_q_and_answers_promptly(
    client: Client,
) -> None:
    t = _type()
    _make(client, t, name=_prop("a" * 40 + "!"))
    started = time.monotonic()
    r = client.get(ENTITIES, params={"type": t, "q": "name~=(a|aa)+"}, accept=JSON)
    problem = assert_problem(r, 400, "BadRequestData")
    assert problem.get("field") == "q"
    assert "regex_timeout" in problem["detail"]
    assert time.monotonic() - started < 5


def test_id_pattern_too_costly_to_match_is_400_naming_it(client: Client) -> None:
    t = _type()
    client.create({"id": f"urn:ngsi-ld:{t}:" + "a" * 40, "type": t, "speed": _prop(1)})
    # 'z' is in no id here: a 'b' would be (the type is random hex), and "ab" matches at once.
    r = client.get(ENTITIES, params={"type": t, "idPattern": "(a|aa)+z"}, accept=JSON)
    problem = assert_problem(r, 400, "BadRequestData")
    assert problem.get("field") == "idPattern"


# -- q: attribute existence, sub-attributes, compound values -----------------------------------


def test_q_bare_attribute_matches_entities_that_have_it(client: Client) -> None:
    t = _type()
    with_colour = _make(client, t, colour=_prop("red"))
    _make(client, t, speed=_prop(3))
    assert _ids(client, type=t, q="colour") == {with_colour}


def test_q_bare_attribute_combined_with_a_comparison(client: Client) -> None:
    t = _type()
    hit = _make(client, t, colour=_prop("red"), speed=_prop(50))
    _make(client, t, colour=_prop("red"), speed=_prop(5))
    _make(client, t, speed=_prop(50))
    assert _ids(client, type=t, q="colour;speed>10") == {hit}


def test_q_comparison_on_a_missing_attribute_does_not_match(client: Client) -> None:
    t = _type()
    with_speed = _make(client, t, speed=_prop(5))
    _make(client, t, colour=_prop("red"))
    assert _ids(client, type=t, q="speed>=0") == {with_speed}
    assert _ids(client, type=t, q="speed==0..100") == {with_speed}


def test_q_dot_path_compares_a_sub_attribute(client: Client) -> None:
    t = _type()
    precise = _make(client, t, speed=_prop(80, accuracy=_prop(0.95)))
    _make(client, t, speed=_prop(80, accuracy=_prop(0.5)))
    _make(client, t, speed=_prop(80))
    assert _ids(client, type=t, q="speed.accuracy>0.9") == {precise}


def test_q_dot_path_alone_matches_entities_whose_attribute_has_that_sub_attribute(
    client: Client,
) -> None:
    t = _type()
    with_sub = _make(client, t, speed=_prop(80, accuracy=_prop(0.5)))
    _make(client, t, speed=_prop(80))
    assert _ids(client, type=t, q="speed.accuracy") == {with_sub}


def test_q_dot_path_compares_a_sub_relationship_by_object(client: Client) -> None:
    t = _type()
    bob = _make(client, t, speed=_prop(1, providedBy=_rel("urn:ngsi-ld:Person:Bob")))
    _make(client, t, speed=_prop(1, providedBy=_rel("urn:ngsi-ld:Person:Alice")))
    assert _ids(client, type=t, q="speed.providedBy==urn:ngsi-ld:Person:Bob") == {bob}


def test_q_brackets_compare_a_key_of_a_compound_value(client: Client) -> None:
    t = _type("Building")
    madrid = _make(client, t, address=_prop({"city": "Madrid", "zip": "28013"}))
    _make(client, t, address=_prop({"city": "Toledo", "zip": "45001"}))
    assert _ids(client, type=t, q='address[city]=="Madrid"') == {madrid}


def test_q_brackets_follow_a_dotted_key_path_into_nested_values(client: Client) -> None:
    t = _type()
    high = _make(client, t, rawdata=_prop({"airquality": {"particulate": 40, "no2": 12}}))
    _make(client, t, rawdata=_prop({"airquality": {"particulate": 5, "no2": 12}}))
    assert _ids(client, type=t, q="rawdata[airquality.particulate]>=40") == {high}


def test_q_brackets_on_a_key_that_is_missing_do_not_match(client: Client) -> None:
    t = _type()
    has_key = _make(client, t, config=_prop({"mode": "eco"}))
    _make(client, t, config=_prop({"other": "eco"}))
    assert _ids(client, type=t, q='config[mode]=="eco"') == {has_key}


def test_q_sub_attribute_path_then_compound_key(client: Client) -> None:
    t = _type()
    hit = _make(client, t, sensor=_prop(1, rawdata=_prop({"airquality": {"particulate": 40}})))
    _make(client, t, sensor=_prop(1, rawdata=_prop({"airquality": {"particulate": 3}})))
    assert _ids(client, type=t, q="sensor.rawdata[airquality.particulate]==40") == {hit}


def test_q_equal_matches_a_member_of_an_array_value(client: Client) -> None:
    t = _type()
    red = _make(client, t, colours=_prop(["red", "blue"]))
    _make(client, t, colours=_prop(["green"]))
    assert _ids(client, type=t, q='colours=="red"') == {red}


def test_q_brackets_on_a_language_property_compare_the_string_in_that_language(
    client: Client,
) -> None:
    t = _type("Square")
    brussels = _make(
        client, t, street={"type": "LanguageProperty", "languageMap": {
            "fr": "Grand Place", "nl": "Grote Markt"
        }},
    )
    _make(client, t, street={"type": "LanguageProperty", "languageMap": {"nl": "Vrijthof"}})
    assert _ids(client, type=t, q='street[nl]=="Grote Markt"') == {brussels}
    assert _ids(client, type=t, q='street[fr]=="Grote Markt"') == set()


# -- q: multi-attributes (datasetId) -----------------------------------------------------------


def test_q_multi_attribute_matches_when_any_instance_matches(client: Client) -> None:
    t = _type()
    multi = _make(
        client,
        t,
        speed=[_prop(10), _prop(90, datasetId="urn:ngsi-ld:Dataset:gps")],
    )
    slow = _make(client, t, speed=_prop(10))
    assert _ids(client, type=t, q="speed>50") == {multi}
    assert _ids(client, type=t, q="speed<50") == {multi, slow}


def test_q_multi_attribute_instance_without_default_is_compared(client: Client) -> None:
    t = _type()
    multi = _make(
        client,
        t,
        speed=[
            _prop(33, datasetId="urn:ngsi-ld:Dataset:radar"),
            _prop(44, datasetId="urn:ngsi-ld:Dataset:gps"),
        ],
    )
    assert _ids(client, type=t, q="speed==44") == {multi}
    assert _ids(client, type=t, q="speed==33") == {multi}
    assert _ids(client, type=t, q="speed==55") == set()


# -- q: names are expanded with the @context ---------------------------------------------------


def test_q_attribute_names_are_expanded_with_the_request_context(
    client: Client, user_context_url: str
) -> None:
    entity = {"id": new_id(), "type": "Vehicle", "speed": _prop(80)}
    r = client.post(ENTITIES, json=entity, context=user_context_url)
    assert r.status == 201, r
    params = {"type": "Vehicle", "id": entity["id"], "q": "speed==80"}
    r = client.get(ENTITIES, params=params, accept=JSON, context=user_context_url)
    assert r.status == 200, r
    assert [e["id"] for e in r.json()] == [entity["id"]]
    # without the context, Vehicle and speed are other (default-vocabulary) names
    r = client.get(ENTITIES, params=params, accept=JSON)
    assert r.status == 200, r
    assert r.json() == []


# -- q: malformed ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "q",
    [
        "speed==",
        "==5",
        "(speed==1",
        "speed==1)",
        "speed==1;",
        "speed==1||speed==2",
        'brandName=="unterminated',
        "speed>>1",
        "speed==1 2",
    ],
)
def test_malformed_q_is_400_bad_request_data_naming_q(client: Client, q: str) -> None:
    r = client.get(ENTITIES, params={"type": _type(), "q": q}, accept=JSON)
    problem = assert_problem(r, 400, ("BadRequestData", "InvalidRequest"))
    assert re.search(r"\bq\b", f"{problem['title']} {problem['detail']}"), (
        f"the error does not name the q parameter: {problem}"
    )


# -- selection by id, idPattern and type -------------------------------------------------------


def test_query_by_id_returns_that_entity(client: Client) -> None:
    t = _type()
    wanted = _make(client, t, speed=_prop(1))
    _make(client, t, speed=_prop(2))
    assert _ids(client, id=wanted) == {wanted}


def test_query_by_id_list_returns_each_listed_entity(client: Client) -> None:
    t = _type()
    a, b = _make(client, t, speed=_prop(1)), _make(client, t, speed=_prop(2))
    _make(client, t, speed=_prop(3))
    assert _ids(client, id=f"{a},{b}") == {a, b}


def test_query_by_id_and_type_needs_both_to_match(client: Client) -> None:
    t = _type()
    a = _make(client, t, speed=_prop(1))
    assert _ids(client, id=a, type=t) == {a}
    assert _ids(client, id=a, type=_type()) == set()


def test_query_by_unknown_id_is_200_with_an_empty_array(client: Client) -> None:
    assert _query(client, id=new_id()) == []


def test_query_by_unknown_type_is_200_with_an_empty_array(client: Client) -> None:
    assert _query(client, type=_type()) == []


def test_query_by_id_that_is_not_a_uri_is_400(client: Client) -> None:
    r = client.get(ENTITIES, params={"id": "not a uri"}, accept=JSON)
    assert_problem(r, 400, "BadRequestData")


def test_query_by_id_pattern_matches_ids_by_regular_expression(client: Client) -> None:
    t = _type()
    for suffix in ("north-1", "north-2", "south-1"):
        client.create({"id": f"urn:ngsi-ld:{t}:{suffix}", "type": t, "speed": _prop(1)})
    got = _ids(client, idPattern=f"^urn:ngsi-ld:{t}:north-.*")
    assert got == {f"urn:ngsi-ld:{t}:north-1", f"urn:ngsi-ld:{t}:north-2"}
    got = _ids(client, type=t, idPattern=".*:south-[0-9]+$")
    assert got == {f"urn:ngsi-ld:{t}:south-1"}


def test_query_with_invalid_id_pattern_is_400(client: Client) -> None:
    r = client.get(ENTITIES, params={"type": _type(), "idPattern": "urn:(unclosed"}, accept=JSON)
    assert_problem(r, 400, "BadRequestData")


@pytest.fixture
def typed(client: Client) -> tuple[dict[str, str], dict[str, str]]:
    """Entities typed [A], [B], [A, B] and [C] with fresh type names: (names, ids)."""
    n = {k: _type(k) for k in ("A", "B", "C")}
    ids = {
        "a": _make(client, n["A"], speed=_prop(1)),
        "b": _make(client, n["B"], speed=_prop(1)),
        "ab": _make(client, [n["A"], n["B"]], speed=_prop(1)),
        "c": _make(client, n["C"], speed=_prop(1)),
    }
    return n, ids


def test_type_selects_entities_having_that_type_among_others(client: Client, typed: Any) -> None:
    n, ids = typed
    assert _ids(client, type=n["A"]) == {ids["a"], ids["ab"]}
    assert _ids(client, type=n["B"]) == {ids["b"], ids["ab"]}


def test_type_list_with_comma_is_or(client: Client, typed: Any) -> None:
    n, ids = typed
    assert _ids(client, type=f"{n['A']},{n['B']}") == {ids["a"], ids["b"], ids["ab"]}


def test_type_expression_with_pipe_is_or(client: Client, typed: Any) -> None:
    n, ids = typed
    assert _ids(client, type=f"{n['A']}|{n['C']}") == {ids["a"], ids["ab"], ids["c"]}


def test_type_expression_with_semicolon_is_and(client: Client, typed: Any) -> None:
    n, ids = typed
    assert _ids(client, type=f"{n['A']};{n['B']}") == {ids["ab"]}


def test_type_expression_with_parentheses(client: Client, typed: Any) -> None:
    n, ids = typed
    assert _ids(client, type=f"({n['A']};{n['B']})|{n['C']}") == {ids["ab"], ids["c"]}
    assert _ids(client, type=f"{n['B']};({n['A']}|{n['C']})") == {ids["ab"]}


def test_multi_typed_entity_is_returned_once_with_all_its_types(
    client: Client, typed: Any
) -> None:
    n, ids = typed
    found = [e for e in _query(client, type=f"{n['A']},{n['B']}") if e["id"] == ids["ab"]]
    assert len(found) == 1
    assert sorted(found[0]["type"]) == sorted([n["A"], n["B"]])


def test_type_is_expanded_with_the_request_context(
    client: Client, user_context_url: str
) -> None:
    entity = {"id": new_id(), "type": "Vehicle", "speed": _prop(1)}
    r = client.post(ENTITIES, json=entity, context=user_context_url)
    assert r.status == 201, r
    r = client.get(
        ENTITIES, params={"type": "Vehicle", "id": entity["id"]}, accept=JSON,
        context=user_context_url,
    )
    assert r.status == 200, r
    assert [e["type"] for e in r.json()] == ["Vehicle"]
    expanded = "https://example.org/agora/Vehicle"
    assert _ids(client, type=expanded, id=entity["id"]) == {entity["id"]}
    assert _ids(client, type="Vehicle", id=entity["id"]) == set()


# -- a query must select something -------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [{}, {"options": "keyValues"}, {"limit": "5"}, {"count": "true"}],
    ids=["no_parameters", "only_options", "only_limit", "only_count"],
)
def test_query_without_id_type_attrs_q_or_geoq_is_400_bad_request_data(
    client: Client, params: dict[str, str]
) -> None:
    r = client.get(ENTITIES, params=params, accept=JSON)
    assert_problem(r, 400, "BadRequestData")


# -- attrs: selection and projection -----------------------------------------------------------


def test_attrs_returns_only_the_listed_attributes(client: Client) -> None:
    t = _type("Car")
    entity = {
        "id": new_id(t), "type": t, "speed": _prop(80, unitCode="KMH"),
        "brandName": _prop("Volvo"), "location": {"type": "GeoProperty", "value": POINT},
    }
    client.create(entity)
    got = _query(client, type=t, attrs="speed,location")
    assert got == [
        {"id": entity["id"], "type": t, "speed": entity["speed"], "location": entity["location"]}
    ]


def test_attrs_selects_entities_that_have_at_least_one_of_them(client: Client) -> None:
    t = _type()
    with_speed = _make(client, t, speed=_prop(1), brandName=_prop("x"))
    with_colour = _make(client, t, colour=_prop("red"))
    _make(client, t, brandName=_prop("only"))
    got = _by_id(_query(client, type=t, attrs="speed,colour"))
    assert set(got) == {with_speed, with_colour}
    assert "brandName" not in got[with_speed]
    assert set(got[with_colour]) == {"id", "type", "colour"}


def test_attrs_that_no_entity_has_gives_an_empty_array(client: Client) -> None:
    t = _type()
    _make(client, t, speed=_prop(1))
    assert _query(client, type=t, attrs="colour") == []


def test_attrs_alone_is_a_valid_query(client: Client) -> None:
    t = _type()
    name = f"reading{uuid.uuid4().hex[:8]}"
    hit = _make(client, t, **{name: _prop(1)})
    _make(client, t, speed=_prop(1))
    assert _ids(client, attrs=name) == {hit}


def test_q_does_not_limit_the_attributes_returned(client: Client) -> None:
    t = _type()
    entity = {"id": new_id(t), "type": t, "speed": _prop(80), "brandName": _prop("Volvo")}
    client.create(entity)
    assert _query(client, type=t, q="speed>1") == [entity]


# -- pick / omit -------------------------------------------------------------------------------


def test_pick_keeps_only_the_picked_members_of_each_entity(client: Client) -> None:
    t = _type()
    a = _make(client, t, speed=_prop(1), brandName=_prop("x"))
    b = _make(client, t, speed=_prop(2), colour=_prop("red"))
    got = _by_id(_query(client, type=t, pick="id,speed"))
    assert got == {a: {"id": a, "speed": _prop(1)}, b: {"id": b, "speed": _prop(2)}}


def test_omit_drops_the_omitted_members_of_each_entity(client: Client) -> None:
    t = _type()
    a = _make(client, t, speed=_prop(1), brandName=_prop("x"))
    got = _query(client, type=t, omit="speed,type")
    assert got == [{"id": a, "brandName": _prop("x")}]


# -- options and representations on query results ---------------------------------------------


def _vehicle(t: str) -> dict[str, Any]:
    return {
        "id": new_id(t),
        "type": t,
        "brandName": _prop("Mercedes"),
        "speed": _prop(80, unitCode="KMH"),
        "isParked": _rel("urn:ngsi-ld:OffStreetParking:Downtown1"),
        "location": {"type": "GeoProperty", "value": POINT},
    }


def test_query_returns_entities_in_normalized_form_by_default(client: Client) -> None:
    t = _type("Car")
    entity = _vehicle(t)
    client.create(entity)
    assert _query(client, type=t) == [entity]


@pytest.mark.parametrize("option", ["keyValues", "simplified"])
def test_query_key_values_gives_bare_values(client: Client, option: str) -> None:
    t = _type("Car")
    entity = _vehicle(t)
    client.create(entity)
    assert _query(client, type=t, options=option) == [
        {
            "id": entity["id"],
            "type": t,
            "brandName": "Mercedes",
            "speed": 80,
            "isParked": "urn:ngsi-ld:OffStreetParking:Downtown1",
            "location": POINT,
        }
    ]


def test_query_concise_drops_attribute_types(client: Client) -> None:
    t = _type("Car")
    entity = _vehicle(t)
    client.create(entity)
    assert _query(client, type=t, options="concise") == [
        {
            "id": entity["id"],
            "type": t,
            "brandName": "Mercedes",
            "speed": {"value": 80, "unitCode": "KMH"},
            "isParked": {"object": "urn:ngsi-ld:OffStreetParking:Downtown1"},
            "location": POINT,
        }
    ]


def test_query_sys_attrs_adds_created_and_modified_at(client: Client) -> None:
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    t = _type("Car")
    client.create(_vehicle(t))
    (got,) = _query(client, type=t, options="sysAttrs")
    for holder in (got, got["speed"], got["isParked"]):
        created = dt.datetime.fromisoformat(holder["createdAt"].replace("Z", "+00:00"))
        modified = dt.datetime.fromisoformat(holder["modifiedAt"].replace("Z", "+00:00"))
        assert before <= created <= modified


def test_query_without_sys_attrs_has_no_timestamps(client: Client) -> None:
    t = _type("Car")
    client.create(_vehicle(t))
    (got,) = _query(client, type=t)
    assert "createdAt" not in got and "modifiedAt" not in got
    assert "createdAt" not in got["speed"]


def test_query_key_values_with_attrs_projects_and_simplifies(client: Client) -> None:
    t = _type("Car")
    entity = _vehicle(t)
    client.create(entity)
    got = _query(client, type=t, attrs="speed", options="keyValues")
    assert got == [{"id": entity["id"], "type": t, "speed": 80}]


def test_query_as_json_answers_with_a_context_link_header(client: Client) -> None:
    t = _type("Car")
    client.create(_vehicle(t))
    r = client.get(ENTITIES, params={"type": t}, accept=JSON)
    assert r.status == 200, r
    assert r.content_type == JSON
    assert r.link_context, f"no JSON-LD context Link header: {r.headers}"
    assert all("@context" not in e for e in r.json())


def test_query_as_json_ld_puts_the_context_in_every_entity(client: Client) -> None:
    t = _type("Car")
    client.create(_vehicle(t))
    client.create(_vehicle(t))
    r = client.get(ENTITIES, params={"type": t}, accept=JSONLD)
    assert r.status == 200, r
    assert r.content_type == JSONLD
    body = r.json()
    assert len(body) == 2
    assert all("@context" in e for e in body), body


def test_query_result_with_no_match_is_an_empty_json_array(client: Client) -> None:
    t = _type()
    _make(client, t, speed=_prop(1))
    r = client.get(ENTITIES, params={"type": t, "q": "speed>100"}, accept=JSON)
    assert r.status == 200, r
    assert r.json() == []
