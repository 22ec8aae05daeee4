"""Property tests: rendering then re-expanding a random valid entity gives it back.

Normalized and concise are lossless (clause 4.5.2), so expand(render(e)) == e exactly, the
timestamps being `now` on both sides; keyValues is lossy (clause 4.5.4) but keeps every
value, so rendering its re-expansion gives the same keyValues document.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from model_support import NOW, bare_property_entities, entities

from broker.model.expand import expand_entity
from broker.model.render import RenderOptions, render_entity

ROUND_TRIP = settings(max_examples=80, deadline=None)


@ROUND_TRIP
@given(entity=entities())
def test_normalized_render_then_expand_gives_the_entity_back(
    terms: Any, entity: dict[str, Any]
) -> None:
    wire = render_entity(entity, terms, RenderOptions(form="normalized"))
    assert expand_entity(wire, terms, now=NOW) == entity


@ROUND_TRIP
@given(entity=entities())
def test_concise_render_then_expand_gives_the_entity_back(
    terms: Any, entity: dict[str, Any]
) -> None:
    wire = render_entity(entity, terms, RenderOptions(form="concise"))
    assert expand_entity(wire, terms, now=NOW) == entity


@ROUND_TRIP
@given(entity=bare_property_entities())
def test_concise_bare_values_read_back_as_the_same_properties(
    terms: Any, entity: dict[str, Any]
) -> None:
    wire = render_entity(entity, terms, RenderOptions(form="concise"))
    assert expand_entity(wire, terms, now=NOW) == entity


@ROUND_TRIP
@given(entity=entities())
def test_sys_attrs_in_input_do_not_change_the_round_trip(
    terms: Any, entity: dict[str, Any]
) -> None:
    for form in ("normalized", "concise"):
        wire = render_entity(entity, terms, RenderOptions(form=form, sys_attrs=True))
        assert expand_entity(wire, terms, now=NOW) == entity


@ROUND_TRIP
@given(entity=entities())
def test_key_values_render_then_expand_keeps_the_values(terms: Any, entity: dict[str, Any]) -> None:
    opts = RenderOptions(form="keyValues")
    wire = render_entity(entity, terms, opts)
    again = expand_entity(copy.deepcopy(wire), terms, now=NOW, key_values=True)
    assert render_entity(again, terms, opts) == wire
    assert list(again["attrs"]) == list(entity["attrs"])
