"""broker.model.language: the Language Filter of clause 4.15."""

from __future__ import annotations

from broker.model.language import choose_language, parse_language_ranges

STREET = {"fr": "Grand Place", "nl": "Grote Markt", "en-GB": "Great Square"}


def test_exact_language_is_chosen() -> None:
    assert choose_language(STREET, "nl") == ("nl", "Grote Markt")


def test_matching_is_case_insensitive_and_returns_the_stored_tag() -> None:
    assert choose_language(STREET, "EN-gb") == ("en-GB", "Great Square")


def test_range_matches_a_more_specific_tag() -> None:
    assert choose_language(STREET, "en") == ("en-GB", "Great Square")


def test_specific_range_falls_back_to_its_prefix() -> None:
    assert choose_language(STREET, "fr-CH") == ("fr", "Grand Place")


def test_list_of_ranges_is_tried_in_order() -> None:
    assert choose_language(STREET, "de,nl,fr") == ("nl", "Grote Markt")


def test_quality_values_rank_the_ranges() -> None:
    assert choose_language(STREET, "fr;q=0.5,nl;q=0.9") == ("nl", "Grote Markt")


def test_no_match_falls_back_to_none_entry() -> None:
    assert choose_language({**STREET, "@none": "GP"}, "de") == ("@none", "GP")


def test_no_match_without_none_falls_back_to_the_first_entry() -> None:
    assert choose_language(STREET, "de") == ("fr", "Grand Place")


def test_wildcard_gives_any_language() -> None:
    assert choose_language(STREET, "*") == ("fr", "Grand Place")
    assert choose_language(STREET, "de,*;q=0.5") == ("fr", "Grand Place")


def test_array_values_are_returned_as_they_are() -> None:
    assert choose_language({"en": ["a", "b"]}, "en") == ("en", ["a", "b"])


def test_zero_quality_ranges_are_dropped() -> None:
    assert parse_language_ranges("fr;q=0,en;q=0.3,nl") == ("nl", "en")
