"""Properties of the evaluator over random stored entities and random queries."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from strategies import entities, entity_queries, entity_sets, q_asts, reference_filter

from broker.query.ast import And, Comparison, EntityQuery, Exists, Or, Q
from broker.query.evaluate import match_q, matches, targets
from broker.types import ExpandedEntity


@settings(max_examples=100, deadline=None)
@given(entity_sets(max_size=15), entity_queries())
def test_query_members_combine_as_a_conjunction(
    es: list[ExpandedEntity], query: EntityQuery
) -> None:
    selected = set(reference_filter(es, query))
    for member in ("ids", "id_pattern", "types", "attrs", "q", "geo", "scope"):
        if getattr(query, member) is None:
            continue
        only = EntityQuery(**{member: getattr(query, member)})
        if member == "id_pattern" and query.ids is not None:
            continue  # idPattern is ignored when ids are given
        assert selected <= set(reference_filter(es, only))


@settings(max_examples=200, deadline=None)
@given(entities(), q_asts, q_asts)
def test_and_or_compose(entity: ExpandedEntity, a: Q, b: Q) -> None:
    assert match_q(entity, And((a, b))) == (match_q(entity, a) and match_q(entity, b))
    assert match_q(entity, Or((a, b))) == (match_q(entity, a) or match_q(entity, b))


@settings(max_examples=200, deadline=None)
@given(entities(), q_asts)
def test_unequal_is_the_negation_of_equal_for_one_present_target(
    entity: ExpandedEntity, q: Q
) -> None:
    if not isinstance(q, Comparison) or q.op != "==":
        return
    found = list(targets(entity, q.path))
    unequal = replace(q, op="!=")
    if not found:
        assert not match_q(entity, q) and not match_q(entity, unequal)
    elif len(found) == 1:
        assert match_q(entity, unequal) == (not match_q(entity, q))
    assert match_q(entity, Exists(q.path)) == bool(found)


@settings(max_examples=100, deadline=None)
@given(entities())
def test_empty_query_selects_everything(entity: ExpandedEntity) -> None:
    assert matches(entity, EntityQuery())
