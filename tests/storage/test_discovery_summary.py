"""The row summaries both stores share (broker/storage/discovery.py)."""

from __future__ import annotations

from broker.storage.base import AttributeDetails, TypeDetails
from broker.storage.discovery import (
    AttributeUse,
    parse_kinds,
    summarise_attributes,
    summarise_types,
)


def test_kinds_parse_from_a_comma_joined_set_ignoring_empty_items() -> None:
    assert parse_kinds(",Property,Relationship") == {"Property", "Relationship"}
    assert parse_kinds("GeoProperty") == {"GeoProperty"}
    assert parse_kinds("") == frozenset() and parse_kinds(None) == frozenset()


def test_rows_of_one_key_spelt_in_two_orders_add_up() -> None:
    uses = [
        AttributeUse("T", "a", frozenset({"Property", "Relationship"}), 2, 2),
        AttributeUse("T", "a", frozenset({"Relationship", "Property"}), 3, 3),
        AttributeUse("T", "a", frozenset({"Property"}), 1, 1),
    ]
    assert summarise_attributes(uses) == [
        AttributeDetails("a", 6, frozenset({"Property", "Relationship"}), frozenset({"T"}))
    ]


def test_attribute_count_sums_only_the_primary_type_rows() -> None:
    uses = [
        AttributeUse("A", "x", frozenset({"Property"}), 4, 4),
        AttributeUse("B", "x", frozenset({"Property"}), 4, 0),
    ]
    (x,) = summarise_attributes(uses)
    assert (x.entity_count, x.types) == (4, {"A", "B"})


def test_types_without_attribute_rows_keep_their_count_and_rows_of_other_types_are_ignored() -> (
    None
):
    uses = [
        AttributeUse("A", "x", frozenset({"Property"}), 1, 1),
        AttributeUse("C", "y", frozenset({"Property"}), 1, 1),
    ]
    assert summarise_types({"B": 2, "A": 1}, uses) == [
        TypeDetails("A", 1, {"x": frozenset({"Property"})}),
        TypeDetails("B", 2, {}),
    ]
