"""to_key_values: every attribute form simplifies to the value a keyValues client sees."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from data_models.keyvalues import to_key_values


def test_each_attribute_kind_gives_its_value() -> None:
    entity = {
        "@context": "https://example.org/context.jsonld",
        "id": "urn:ngsi-ld:Thing:1",
        "type": "Thing",
        "createdAt": "2026-11-30T08:00:00Z",
        "modifiedAt": "2026-11-30T08:00:00Z",
        "temperature": {"type": "Property", "value": 21.5, "unitCode": "CEL",
                        "observedAt": "2026-11-30T08:00:00Z",
                        "accuracy": {"type": "Property", "value": 0.1}},
        "refDevice": {"type": "Relationship", "object": "urn:ngsi-ld:Device:1"},
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1, 2]}},
        "name": {"type": "LanguageProperty", "languageMap": {"en": "Square", "es": "Plaza"}},
        "category": {"type": "VocabProperty", "vocab": "sensor"},
        "config": {"type": "JsonProperty", "json": {"type": "raw", "value": 3}},
        "readings": {"type": "ListProperty", "valueList": [1, 2, 3]},
        "owners": {"type": "ListRelationship",
                   "objectList": [{"object": "urn:a"}, {"object": "urn:b"}]},
        "since": {"type": "Property", "value": {"@type": "DateTime",
                                                "@value": "2026-01-01T00:00:00Z"}},
    }
    assert to_key_values(entity) == {
        "id": "urn:ngsi-ld:Thing:1",
        "type": "Thing",
        "temperature": 21.5,
        "refDevice": "urn:ngsi-ld:Device:1",
        "location": {"type": "Point", "coordinates": [1, 2]},
        "name": {"en": "Square", "es": "Plaza"},
        "category": "sensor",
        "config": {"type": "raw", "value": 3},
        "readings": [1, 2, 3],
        "owners": ["urn:a", "urn:b"],
        "since": "2026-01-01T00:00:00Z",
    }


def test_concise_and_keyvalues_forms() -> None:
    entity = {
        "id": "urn:x", "type": "Thing",
        "temperature": {"value": 21.5, "unitCode": "CEL"},
        "refDevice": {"object": "urn:ngsi-ld:Device:1"},
        "location": {"type": "Point", "coordinates": [1, 2]},
        "status": "free",
        "category": ["onStreet"],
        "address": {"streetAddress": "Calle Mayor 1"},
    }
    assert to_key_values(entity) == {
        "id": "urn:x", "type": "Thing", "temperature": 21.5, "refDevice": "urn:ngsi-ld:Device:1",
        "location": {"type": "Point", "coordinates": [1, 2]}, "status": "free",
        "category": ["onStreet"], "address": {"streetAddress": "Calle Mayor 1"},
    }


def test_several_instances_give_the_default_one() -> None:
    entity = {"id": "urn:x", "type": "Thing", "speed": [
        {"type": "Property", "value": 50, "datasetId": "urn:radar"},
        {"type": "Property", "value": 48},
    ]}
    assert to_key_values(entity)["speed"] == 48


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.sampled_from(["a", "b", "L1", "streetAddress"]), children, max_size=3),
    max_leaves=8,
)
names = st.from_regex(r"[a-z][A-Za-z0-9]{0,12}", fullmatch=True).filter(
    lambda n: n not in {"id", "type", "createdAt", "modifiedAt", "deletedAt"}
)
uris = st.from_regex(r"urn:ngsi-ld:[A-Za-z]{1,8}:[a-z0-9]{1,8}", fullmatch=True)
geometries = st.builds(
    lambda x, y: {"type": "Point", "coordinates": [x, y]},
    st.floats(-180, 180), st.floats(-90, 90),
)


def _attribute(kind: str, value: Any) -> dict[str, Any]:
    member = {"Property": "value", "Relationship": "object", "GeoProperty": "value",
              "LanguageProperty": "languageMap", "ListProperty": "valueList"}[kind]
    return {"type": kind, member: value, "observedAt": "2026-11-30T08:00:00Z"}


attributes = st.one_of(
    st.tuples(st.just("Property"), json_values),
    st.tuples(st.just("Relationship"), uris),
    st.tuples(st.just("GeoProperty"), geometries),
    st.tuples(st.just("LanguageProperty"), st.dictionaries(st.sampled_from(["en", "es"]),
                                                            st.text(), min_size=1)),
    st.tuples(st.just("ListProperty"), st.lists(json_values, max_size=3)),
)


@given(st.dictionaries(names, attributes, max_size=6), uris)
def test_simplifying_a_normalized_entity_keeps_every_attribute_value(
    generated: dict[str, tuple[str, Any]], entity_id: str
) -> None:
    entity: dict[str, Any] = {"id": entity_id, "type": "Thing"}
    entity |= {name: _attribute(kind, value) for name, (kind, value) in generated.items()}
    simplified = to_key_values(entity)
    assert simplified == {"id": entity_id, "type": "Thing"} | {
        name: value for name, (_, value) in generated.items()
    }
