"""GET /entities parameters -> one expanded EntityQuery (clause 6.4.3.2, 5.7.2)."""

from __future__ import annotations

import pytest

from broker.errors import BadRequestData
from broker.jsonld.context import TermMap
from broker.query.ast import AttrPath, Comparison, TypeName, TypeOr, Value
from broker.query.params import parse_entity_query, parse_projection

NS = "https://uri.etsi.org/ngsi-ld/default-context/"
CORE = "https://uri.etsi.org/ngsi-ld/"


class Limited:
    query_max_length = 30
    query_max_depth = 2
    regex_max_length = 5


def test_everything_is_expanded() -> None:
    query = parse_entity_query(
        {
            "id": "urn:a:1,urn:a:2",
            "idPattern": "^urn:a",
            "type": "Car,Bus",
            "attrs": "speed,name",
            "q": "speed.observedAt>2024-01-01T00:00:00Z;brand[model.name]==Male",
            "georel": "near;maxDistance==10",
            "geometry": "Point",
            "coordinates": "[1,2]",
            "scopeQ": "/a/#",
            "csf": "provider==\"x\"",
        },
        TermMap(),
    )
    assert query.ids == ("urn:a:1", "urn:a:2")
    assert query.id_pattern == "^urn:a"
    assert query.types == TypeOr((TypeName(NS + "Car"), TypeName(NS + "Bus")))
    assert query.attrs == frozenset({NS + "speed", NS + "name"})
    assert query.q is not None and query.geo is not None and query.scope is not None
    first, second = query.q.terms  # type: ignore[union-attr]
    assert first.path == AttrPath(NS + "speed", ("observedAt",))
    assert second == Comparison(
        AttrPath(NS + "brand", (), ("model", "name")), "==", Value("Male", "string", NS + "Male")
    )
    assert query.geo.geoproperty == CORE + "location"
    assert query.csf == Comparison(AttrPath(NS + "provider"), "==", Value("x", "string", NS + "x"))


def test_a_query_needs_a_selection() -> None:
    with pytest.raises(BadRequestData, match="at least one of"):
        parse_entity_query({"scopeQ": "/a"}, TermMap())
    assert parse_entity_query({}, TermMap(), require_selection=False).types is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"id": "urn:a:1,not a uri"}, "id"),
        ({"idPattern": "(["}, "idPattern"),
        ({"idPattern": "abcdefgh"}, "idPattern"),
        ({"type": "A,,B"}, "type"),
        ({"type": ""}, "type"),
        ({"attrs": "a,b c"}, "attrs"),
        ({"q": "a>>1"}, "q"),
        ({"q": "(((a)))"}, "q"),
        ({"q": "a==1;" * 10}, "q"),
        ({"type": "A", "scopeQ": "/a//b"}, "scopeQ"),
        ({"type": "A", "csf": "x>"}, "csf"),
        ({"georel": "within", "geometry": "Point"}, "coordinates"),
        ({"georel": "near", "geometry": "Point", "coordinates": "[1,2]"}, "georel"),
        ({"georel": "within", "geometry": "Point", "coordinates": "[1,2]",
          "geoproperty": "1x"}, "geoproperty"),
    ],
)
def test_errors_name_the_parameter(params: dict[str, str], field: str) -> None:
    with pytest.raises(BadRequestData) as err:
        parse_entity_query(params, TermMap(), Limited())
    assert err.value.field == field


def test_projection() -> None:
    assert parse_projection({}, TermMap()) is None
    p = parse_projection({"pick": "id,speed"}, TermMap())
    assert p is not None and p.pick == frozenset({"id", NS + "speed"})
    p = parse_projection({"attrs": "speed"}, TermMap())
    assert p is not None and p.pick == frozenset({NS + "speed"})
    p = parse_projection({"omit": "location"}, TermMap())
    assert p is not None and p.omit == frozenset({CORE + "location"})
    with pytest.raises(BadRequestData) as err:
        parse_projection({"pick": "a", "omit": "b"}, TermMap())
    assert err.value.field == "omit"
