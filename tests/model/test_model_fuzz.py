"""Arbitrary JSON never crashes expansion: it is stored or it is BadRequestData."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from model_support import NOW, POINT

from broker.errors import BadRequestData
from broker.model.expand import expand_attrs, expand_entity
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
