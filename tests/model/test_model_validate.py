"""broker.model.validate: the string validators."""

from __future__ import annotations

import pytest

from broker.model.validate import (
    is_datetime,
    is_language_tag,
    is_scope,
    is_uri,
    is_valid_name,
    normalize_datetime,
)


@pytest.mark.parametrize(
    "value", ["urn:ngsi-ld:Vehicle:A1", "https://example.org/a?b=c#d", "urn:x:ñandú", "a:b"]
)
def test_absolute_uris_are_uris(value: str) -> None:
    assert is_uri(value)


@pytest.mark.parametrize("value", ["", "Vehicle", "urn:", "has space:x", "urn:a b", "1x:y",
                                   "urn:<x>", 3, None])
def test_non_uris_are_not_uris(value: object) -> None:
    assert not is_uri(value)


@pytest.mark.parametrize(
    "value", ["2024-05-01T10:00:00Z", "2024-05-01T10:00:00.123Z", "2024-05-01T10:00:00.123456Z",
              "2024-02-29T23:59:59Z"]
)
def test_utc_datetimes_are_valid(value: str) -> None:
    assert is_datetime(value)
    assert normalize_datetime(value) == value


@pytest.mark.parametrize(
    "value", ["2024-05-01", "2024-05-01T10:00Z", "2024-05-01T10:00:00", "2024-05-01 10:00:00Z",
              "2024-05-01T10:00:00+00:00", "2023-02-29T00:00:00Z", "2024-13-01T00:00:00Z",
              "2024-05-01T10:00:60Z", "2024-05-01T10:00:00.1234567Z", 20240501]
)
def test_incomplete_or_non_utc_datetimes_are_invalid(value: object) -> None:
    assert not is_datetime(value)


def test_comma_decimal_separator_is_normalized_to_a_point() -> None:
    assert normalize_datetime("2024-05-01T10:00:00,25Z") == "2024-05-01T10:00:00.25Z"


@pytest.mark.parametrize("name", ["speed", "Speed_2", "número", "ex:speed", "温度",
                                  "https://example.org/speed"])
def test_valid_names(name: str) -> None:
    assert is_valid_name(name)


@pytest.mark.parametrize("name", ["", "_speed", "2speed", "speed-limit", "sp eed", "a.b",
                                  "ex:", ":speed", "a=b", "speed;", "(x)"])
def test_names_with_forbidden_characters_are_invalid(name: str) -> None:
    assert not is_valid_name(name)


@pytest.mark.parametrize("scope", ["/Madrid", "Madrid", "/Madrid/Centro/Sol_1", "/a1/ñ"])
def test_valid_scopes(scope: str) -> None:
    assert is_scope(scope)


@pytest.mark.parametrize("scope", ["", "/", "//a", "/a/", "/a b", "/a#", "/a/+"])
def test_invalid_scopes(scope: str) -> None:
    assert not is_scope(scope)


@pytest.mark.parametrize("tag", ["en", "fr-CH", "zh-Hant-TW", "@none"])
def test_language_tags(tag: str) -> None:
    assert is_language_tag(tag)


@pytest.mark.parametrize("tag", ["", "english language", "en_GB", "-en", "toolongtag"])
def test_invalid_language_tags(tag: str) -> None:
    assert not is_language_tag(tag)
