"""UltraLight 2.0 and IoT Agent JSON measure payloads, with the examples of the FIWARE docs
(iotagent-ul and iotagent-json user manuals) and property tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.iot_agent.measures import (
    MeasureError,
    Measures,
    parse_json,
    parse_single,
    parse_ultralight,
)


def updates(measures: list[Measures]) -> list[tuple[list[tuple[str, Any]], str | None]]:
    """What a caller sees, order included (dict equality ignores order)."""
    return [(list(m.values.items()), m.timestamp) for m in measures]


# -- UltraLight 2.0: the iotagent-ul user manual -----------------------------------------

def test_ul_key_value_pairs_are_one_update_with_string_values() -> None:
    assert updates(parse_ultralight("t|15|k|abc")) == [([("t", "15"), ("k", "abc")], None)]


def test_ul_values_are_never_typed() -> None:
    assert parse_ultralight("t|10|s|true|l|78.8")[0].values == {
        "t": "10", "s": "true", "l": "78.8"
    }


def test_ul_hash_separates_updates_in_order() -> None:
    assert updates(parse_ultralight("gps|1.2/3.4#t|10")) == [
        ([("gps", "1.2/3.4")], None),
        ([("t", "10")], None),
    ]


def test_ul_a_group_with_an_odd_field_count_starts_with_its_timestamp() -> None:
    assert updates(parse_ultralight("2016-06-13T00:35:30Z|lle|100")) == [
        ([("lle", "100")], "2016-06-13T00:35:30Z")
    ]


def test_ul_each_group_has_its_own_timestamp() -> None:
    parsed = parse_ultralight("2016-06-13T00:35:30Z|t|1#t|2#2016-06-13T00:36:30+02:00|t|3")
    assert [m.timestamp for m in parsed] == [
        "2016-06-13T00:35:30Z", None, "2016-06-13T00:36:30+02:00"
    ]


def test_ul_timeinstant_key_is_the_timestamp_and_no_value() -> None:
    parsed = parse_ultralight("TimeInstant|2016-06-13T00:35:30Z|t|1")
    assert updates(parsed) == [([("t", "1")], "2016-06-13T00:35:30Z")]


def test_ul_leading_timestamp_wins_over_a_timeinstant_key() -> None:
    parsed = parse_ultralight("2016-06-13T00:35:30Z|TimeInstant|2020-01-01T00:00:00Z|t|1")
    assert updates(parsed) == [([("t", "1")], "2016-06-13T00:35:30Z")]


def test_ul_the_mqtt_example_payload() -> None:
    assert parse_ultralight("h|70|t|15")[0].values == {"h": "70", "t": "15"}


def test_ul_whitespace_and_newlines_at_the_ends_are_ignored() -> None:
    assert parse_ultralight("  t|15|k|abc\r\n")[0].values == {"t": "15", "k": "abc"}
    assert [m.values for m in parse_ultralight("t|1\n#\nt|2\n")] == [{"t": "1"}, {"t": "2"}]


def test_ul_whitespace_inside_a_value_is_kept() -> None:
    assert parse_ultralight("s|Calle Mayor 3")[0].values == {"s": "Calle Mayor 3"}


def test_ul_a_repeated_key_keeps_its_first_place_and_last_value() -> None:
    assert updates(parse_ultralight("t|1|h|2|t|3")) == [([("t", "3"), ("h", "2")], None)]


def test_ul_one_leading_bar_of_a_group_is_skipped_as_iotagent_ul_does() -> None:
    assert [m.values for m in parse_ultralight("|t|1#|h|2")] == [{"t": "1"}, {"h": "2"}]


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        ("", "empty UltraLight payload"),
        ("   \n", "empty UltraLight payload"),
        ("t", "key 't' has no value"),
        ("t|15|h", "'t' is not an ISO 8601 date-time"),
        ("t|1#h", "group 2: key 'h' has no value"),
        ("t|1#", "group 2 is empty (a trailing '#'"),
        ("t|1##h|2", "group 2 is empty ('##'"),
        ("#t|1", "group 1 is empty (a leading '#'"),
        ("|", "has no measures"),
        ("t|1||2", "field 3 is an empty key"),
        ("t||h|2", "key 't' has an empty value"),
        ("t|1|h|", "key 'h' has an empty value"),
        ("t||", "field 2 of 3 is empty"),
        ("yesterday|t|1", "'yesterday' is not an ISO 8601 date-time"),
        ("2016-13-45T00:00:00Z|t|1", "is not an ISO 8601 date-time"),
        ("TimeInstant|soon|t|1", "timestamp 'soon' is not an ISO 8601 date-time"),
    ],
)
def test_ul_malformed_payloads_say_what_and_where(payload: str, says: str) -> None:
    with pytest.raises(MeasureError, match=None) as caught:
        parse_ultralight(payload)
    assert says in str(caught.value)


def test_ul_a_bar_inside_a_value_is_a_separator() -> None:
    # "msg|a|b" is three fields: a timestamp that is not one, or a key without a value
    with pytest.raises(MeasureError, match="3 fields"):
        parse_ultralight("msg|a|b")
    assert parse_ultralight("msg|a|b|c")[0].values == {"msg": "a", "b": "c"}


def test_ul_a_command_result_is_read_as_measures() -> None:
    assert parse_ultralight("dev1@ping|Ping ok")[0].values == {"dev1@ping": "Ping ok"}


# -- IoT Agent JSON: the iotagent-json user manual ----------------------------------------

def test_json_object_is_one_update_with_values_typed_as_sent() -> None:
    assert updates(parse_json(b'{"h": "45%", "t": "23", "l": "1570"}')) == [
        ([("h", "45%"), ("t", "23"), ("l", "1570")], None)
    ]
    assert parse_json(b'{"h": 70, "t": 15}')[0].values == {"h": 70, "t": 15}


def test_json_nested_values_are_kept() -> None:
    payload = b'{"h": "45%", "t": "23", "l": {"a": 2, "b": "up", "c": ["1", "3"]}}'
    assert parse_json(payload)[0].values["l"] == {"a": 2, "b": "up", "c": ["1", "3"]}


def test_json_array_is_several_updates_in_order() -> None:
    payload = b'[{"h": "45%", "t": "23", "l": "1570"}, {"h": "47%", "t": "21", "l": "1321"}]'
    assert [m.values["t"] for m in parse_json(payload)] == ["23", "21"]


def test_json_timeinstant_is_the_timestamp_and_not_a_value() -> None:
    parsed = parse_json(b'{"t": 21.5, "TimeInstant": "2024-05-01T12:00:00+02:00"}')
    assert updates(parsed) == [([("t", 21.5)], "2024-05-01T12:00:00+02:00")]


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        (b"", "not valid JSON"),
        (b"t|15", "not valid JSON"),
        (b'{"t": 1', "not valid JSON"),
        (b"42", "the payload is a number, not a JSON object of measures"),
        (b'"t"', "a string"),
        (b"null", "null"),
        (b"[]", "empty array"),
        (b'[{"t": 1}, 7]', "payload[1] is a number"),
        (b'[{"t": 1}, [{"t": 2}]]', "payload[1] is an array"),
        (b'{"": 1}', "empty name"),
        (b'{"t": 1, "TimeInstant": "later"}', "payload.TimeInstant: timestamp 'later'"),
        (b'[{"t": 1}, {"TimeInstant": 1714557600000}]', "payload[1].TimeInstant"),
    ],
)
def test_json_malformed_payloads_say_what_and_where(payload: bytes, says: str) -> None:
    with pytest.raises(MeasureError) as caught:
        parse_json(payload)
    assert says in str(caught.value)


# -- single-attribute topics --------------------------------------------------------------

def test_single_ul_value_is_the_text() -> None:
    assert parse_single(b"70", "h", ultralight=True) == Measures({"h": "70"})
    assert parse_single(b"Calle Mayor 3\n", "s", ultralight=True) == Measures(
        {"s": "Calle Mayor 3"}
    )


def test_single_json_value_is_the_json_value() -> None:
    assert parse_single(b"70", "h", ultralight=False) == Measures({"h": 70})
    assert parse_single(b"true", "on", ultralight=False) == Measures({"on": True})
    assert parse_single(b'{"a": 1}', "cfg", ultralight=False) == Measures({"cfg": {"a": 1}})


def test_single_json_array_is_the_value_as_sent() -> None:
    payload = (b'[{"timestamp": "2025-01-26T12:00:00Z", "value": 44},'
               b'{"timestamp": "2025-01-27T09:00:00Z", "value": 33}]')
    assert parse_single(payload, "h", ultralight=False).values["h"][1]["value"] == 33


def test_single_json_text_that_is_not_json_stays_text() -> None:
    assert parse_single(b"free", "status", ultralight=False) == Measures({"status": "free"})


def test_single_json_binary_becomes_hex_as_iotagent_json_does() -> None:
    assert parse_single(b"\xff\x00\x10", "raw", ultralight=False) == Measures({"raw": "ff0010"})


def test_single_timeinstant_topic_sets_the_timestamp() -> None:
    assert parse_single(b"2024-05-01T10:00:00Z", "TimeInstant", ultralight=True) == Measures(
        {}, "2024-05-01T10:00:00Z"
    )


@pytest.mark.parametrize("ultralight", [True, False])
def test_single_empty_or_unnamed_is_an_error(ultralight: bool) -> None:
    with pytest.raises(MeasureError, match="h: the value is empty"):
        parse_single(b"  ", "h", ultralight=ultralight)
    with pytest.raises(MeasureError, match="names no attribute"):
        parse_single(b"1", "", ultralight=ultralight)
    with pytest.raises(MeasureError, match="TimeInstant: timestamp"):
        parse_single(b"now", "TimeInstant", ultralight=ultralight)


def test_single_ul_binary_is_an_error() -> None:
    with pytest.raises(MeasureError, match="not UTF-8"):
        parse_single(b"\xff\xfe", "raw", ultralight=True)


# -- property tests -----------------------------------------------------------------------

ul_tokens = st.text(
    st.characters(blacklist_characters="|#", blacklist_categories=("Cs",)), min_size=1,
    max_size=12,
).filter(lambda s: s == s.strip() and s != "TimeInstant")
timestamps = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1),
    timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=5, minutes=30))]),
).map(lambda d: d.isoformat().replace("+00:00", "Z"))
ul_groups = st.tuples(
    st.dictionaries(ul_tokens, ul_tokens, min_size=1, max_size=6),
    st.none() | timestamps,
)


def render_ul(groups: list[tuple[dict[str, str], str | None]]) -> str:
    rendered = []
    for values, stamp in groups:
        fields = [stamp] if stamp is not None else []
        for key, value in values.items():
            fields += [key, value]
        rendered.append("|".join(fields))
    return "#".join(rendered)


@settings(max_examples=300, deadline=None)
@given(groups=st.lists(ul_groups, min_size=1, max_size=4))
def test_ul_rendered_groups_parse_back_to_the_same_updates(
    groups: list[tuple[dict[str, str], str | None]]
) -> None:
    parsed = parse_ultralight(render_ul(groups))
    assert updates(parsed) == [(list(values.items()), stamp) for values, stamp in groups]


ul_garbage = st.text(st.sampled_from("|#ab1:-TZ \n@"), max_size=30) | st.text(max_size=30)


@settings(max_examples=500, deadline=None)
@given(text=ul_garbage)
def test_ul_garbage_parses_or_raises_measure_error_only(text: str) -> None:
    try:
        parsed = parse_ultralight(text)
    except MeasureError:
        return
    assert parsed
    for update in parsed:
        assert all(key and value for key, value in update.values.items())
        assert all(isinstance(v, str) for v in update.values.values())


json_keys = st.text(min_size=1, max_size=10).filter(lambda k: k != "TimeInstant")
json_scalars = (st.none() | st.booleans() | st.integers(-(2**53), 2**53)
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=8,
)
json_updates = st.tuples(st.dictionaries(json_keys, json_values, max_size=5),
                         st.none() | timestamps)


def render_json(values: dict[str, Any], stamp: str | None) -> dict[str, Any]:
    return values if stamp is None else {**values, "TimeInstant": stamp}


@settings(max_examples=300, deadline=None)
@given(items=st.lists(json_updates, min_size=1, max_size=4), as_array=st.booleans())
def test_json_rendered_updates_parse_back_to_the_same_updates(
    items: list[tuple[dict[str, Any], str | None]], as_array: bool
) -> None:
    if not as_array:
        items = items[:1]
    objects = [render_json(values, stamp) for values, stamp in items]
    payload = orjson.dumps(objects if as_array else objects[0])
    assert updates(parse_json(payload)) == [(list(v.items()), s) for v, s in items]


json_garbage = st.binary(max_size=40) | json_values.map(orjson.dumps) | st.lists(
    json_values, max_size=3).map(orjson.dumps)


@settings(max_examples=500, deadline=None)
@given(payload=json_garbage)
def test_json_garbage_parses_or_raises_measure_error_only(payload: bytes) -> None:
    try:
        parsed = parse_json(payload)
    except MeasureError:
        return
    assert parsed and all(isinstance(m.values, dict) for m in parsed)
    assert all("TimeInstant" not in m.values for m in parsed)


@settings(max_examples=300, deadline=None)
@given(payload=st.binary(max_size=30), name=st.text(max_size=8), ultralight=st.booleans())
def test_single_garbage_parses_or_raises_measure_error_only(
    payload: bytes, name: str, ultralight: bool
) -> None:
    try:
        parse_single(payload, name, ultralight)
    except MeasureError:
        pass
