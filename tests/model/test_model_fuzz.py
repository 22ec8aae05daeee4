"""Arbitrary JSON never crashes expansion: it is stored or it is BadRequestData."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from model_support import NOW, POINT

from broker.errors import BadRequestData
from broker.model.expand import (
    entity_expander,
    expand_attrs,
    expand_entity,
    expand_fragment,
    fragment_expander,
)
from broker.model.null import NGSI_LD_NULL

# JSON built from the words NGSI-LD payloads use, so that the fuzzing reaches deep branches.
words = st.sampled_from(
    ["type", "value", "object", "languageMap", "vocab", "json", "valueList", "objectList",
     "datasetId", "observedAt", "unitCode", "objectType", "dataset", "Property",
     "Relationship", "GeoProperty", "LanguageProperty", "VocabProperty", "JsonProperty",
     "ListProperty", "ListRelationship", "Point", "Polygon", "coordinates", "geometries",
     "GeometryCollection", "@none", "en", "speed", "location", "urn:a:1", NGSI_LD_NULL,
     "2024-01-01T00:00:00Z", "bad name", "@context"]
)
leaves = st.one_of(st.none(), st.booleans(), st.integers(-200, 200), st.floats(-200, 200),
                   words, st.just(POINT))
json_docs = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(words, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(attrs=st.dictionaries(words, json_docs, max_size=3), key_values=st.booleans(),
       allow_null=st.booleans())
def test_arbitrary_fragments_are_stored_or_rejected_as_bad_request_data(
    terms: Any, attrs: dict[str, Any], key_values: bool, allow_null: bool
) -> None:
    try:
        expand_attrs(attrs, terms, now=NOW, key_values=key_values, allow_null=allow_null)
    except BadRequestData:
        pass


@settings(max_examples=100, deadline=None)
@given(payload=json_docs)
def test_arbitrary_entities_are_stored_or_rejected_as_bad_request_data(
    terms: Any, payload: Any
) -> None:
    try:
        expand_entity(payload, terms, now=NOW)
    except BadRequestData:
        pass


# Entities of the shapes sensors send, with names, types and objects that repeat across a
# batch, valid or not.
_sensor_attributes = st.one_of(
    st.fixed_dictionaries({"type": st.just("Relationship"), "object": st.sampled_from(
        ["urn:a:1", "urn:a:2", "urn:a:1", "urn:a:2", "not a uri", NGSI_LD_NULL])}),
    st.fixed_dictionaries({"type": st.just("Property"), "value": st.one_of(
        st.integers(-5, 5), st.just("free"), st.just(NGSI_LD_NULL))},
        optional={"unitCode": st.sampled_from(["KMH", ""]),
                  "observedAt": st.sampled_from(["2024-01-01T00:00:00Z", "yesterday"])}),
    st.fixed_dictionaries({"type": st.just("GeoProperty"), "value": st.sampled_from(
        [POINT, {"type": "Point", "coordinates": [1.5, 2.5]},
         {"type": "Point", "coordinates": [500.0, 2.5]}])}),
)
_sensor_entities = st.fixed_dictionaries(
    {"id": st.sampled_from(["urn:ngsi-ld:T:1", "urn:ngsi-ld:T:2", "urn:ngsi-ld:T:3", "bad id"]),
     "type": st.sampled_from(["T", "U", ["T", "U"], "bad type"])},
    optional={name: _sensor_attributes for name in
              ["speed", "location", "refA", "refB", "x:y", "https://e.org/a"]},
) | st.fixed_dictionaries(
    {"id": st.just("urn:ngsi-ld:T:4"), "type": st.just("T")},
    optional={name: _sensor_attributes for name in ["speed", "observedAt", "bad name"]},
)


def _outcome(expand: Any, payload: Any) -> Any:
    try:
        return "ok", expand(payload)
    except BadRequestData as exc:
        return "refused", str(exc), exc.to_problem().get("field")


_SENSOR_BATCH = [
    {"id": "urn:ngsi-ld:T:1", "type": "T", "refA": {"type": "Relationship", "object": "urn:a:1"}},
    {"id": "urn:ngsi-ld:T:2", "type": "T", "refA": {"type": "Relationship", "object": "no uri"}},
    {"id": "urn:ngsi-ld:T:3", "type": "T", "speed": {"type": "Property", "value": 1}},
    {"id": "urn:ngsi-ld:T:4", "type": "observedAt", "speed": {"type": "Property", "value": 1}},
    {"id": "urn:ngsi-ld:T:5", "type": "T", "observedAt": {"type": "Property", "value": 1}},
]


@settings(max_examples=300, deadline=None)
@given(
    payloads=st.lists(
        st.dictionaries(words, json_docs, max_size=4).map(
            lambda d: {"id": "urn:ngsi-ld:T:1", "type": "T", **d}
        )
        | st.dictionaries(words, json_docs, max_size=4)
        | _sensor_entities,
        max_size=8,
    )
    | st.lists(_sensor_entities, min_size=2, max_size=8),
    max_attributes=st.integers(1, 4),
)
@example(payloads=_SENSOR_BATCH, max_attributes=4)
def test_a_batch_expander_expands_each_entity_as_expand_entity_does(
    terms: Any, payloads: list[Any], max_attributes: int
) -> None:
    """One expander for a whole batch (names, types and relationship objects looked up once
    for all of its entities) gives each entity, or its refusal, as expanding it alone does,
    whatever came before it in the batch."""
    batch = entity_expander(terms, now=NOW, max_attributes=max_attributes)
    for payload in payloads:
        alone = _outcome(
            lambda p: expand_entity(p, terms, now=NOW, max_attributes=max_attributes), payload
        )
        assert _outcome(batch, payload) == alone


@settings(max_examples=200, deadline=None)
@given(
    payloads=st.lists(
        st.dictionaries(words, json_docs, max_size=4) | _sensor_entities, max_size=8
    )
    | st.lists(_sensor_entities, min_size=2, max_size=8),
    allow_null=st.booleans(),
)
@example(payloads=_SENSOR_BATCH, allow_null=False)
def test_a_batch_fragment_expander_expands_each_fragment_as_expand_fragment_does(
    terms: Any, payloads: list[Any], allow_null: bool
) -> None:
    batch = fragment_expander(terms, now=NOW, allow_null=allow_null, max_attributes=3)
    for payload in payloads:
        alone = _outcome(
            lambda p: expand_fragment(
                p, terms, now=NOW, allow_null=allow_null, max_attributes=3
            ),
            payload,
        )
        assert _outcome(batch, payload) == alone
