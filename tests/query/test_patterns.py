"""Regular expressions of `~=` and `idPattern` (patterns.py): POSIX classes, and the time
limit on one match (`regex_timeout`)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from broker.errors import BadRequestData
from broker.query import patterns
from broker.query.patterns import PatternTooCostly, full_match, search, set_match_timeout


@pytest.fixture(autouse=True)
def _restore_timeout() -> Iterator[None]:
    yield
    set_match_timeout(patterns.DEFAULT_TIMEOUT)


def test_full_match_needs_the_whole_string_and_search_a_part() -> None:
    assert full_match("Park.*", "Parking Downtown")
    assert not full_match("Down", "Parking Downtown")
    assert search("Down", "Parking Downtown")
    assert not search("^Down", "Parking Downtown")


def test_posix_bracket_classes_are_understood() -> None:
    assert full_match("[[:alpha:]]+-[[:digit:]]{2}", "north-12")
    assert not full_match("[[:alpha:]]+-[[:digit:]]{2}", "north-1a")


def test_a_match_that_runs_out_of_time_is_a_bad_request_naming_the_parameter() -> None:
    set_match_timeout(0.02)
    started = time.monotonic()
    with pytest.raises(PatternTooCostly) as caught:
        full_match("(a|aa)+", "a" * 40 + "!")
    assert time.monotonic() - started < 1
    assert isinstance(caught.value, BadRequestData)
    assert caught.value.field == "q"
    assert "0.02 s" in caught.value.detail
    with pytest.raises(PatternTooCostly) as caught:
        search("(a|aa)+b", "a" * 40)
    assert caught.value.field == "idPattern"


def test_the_time_limit_is_a_positive_number_of_seconds() -> None:
    with pytest.raises(ValueError, match="regex_timeout"):
        set_match_timeout(0)
    set_match_timeout(5)
    assert patterns.match_timeout() == 5.0
