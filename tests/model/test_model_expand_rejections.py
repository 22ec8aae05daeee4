"""broker.model.expand: every rejection is BadRequestData naming the offending field."""

from __future__ import annotations

from typing import Any

import pytest
from model_support import NOW, POINT

from broker.errors import BadRequestData
from broker.model.expand import expand_attribute, expand_attrs, expand_entity
from broker.model.null import NGSI_LD_NULL

ID = "urn:ngsi-ld:Vehicle:A1"


def rejected(terms: Any, payload: Any, *, match: str, **kw: Any) -> BadRequestData:
    with pytest.raises(BadRequestData, match=match) as info:
        expand_entity(payload, terms, now=NOW, **kw)
    return info.value


def rejected_attr(terms: Any, body: Any, *, match: str, name: str = "speed") -> BadRequestData:
    return rejected(terms, {"id": ID, "type": "T", name: body}, match=match)


# -- entity --------------------------------------------------------------------------------


def test_entity_that_is_not_an_object_is_rejected(terms: Any) -> None:
    rejected(terms, [1], match="JSON object")


def test_entity_without_id_is_rejected(terms: Any) -> None:
    rejected(terms, {"type": "T"}, match="no 'id'")


def test_entity_id_not_a_uri_is_rejected(terms: Any) -> None:
    err = rejected(terms, {"id": "not a uri", "type": "T"}, match="'id' is not a valid URI")
    assert err.field == "id"


def test_entity_without_type_is_rejected(terms: Any) -> None:
    rejected(terms, {"id": ID}, match="no 'type'")


def test_entity_type_empty_list_is_rejected(terms: Any) -> None:
    rejected(terms, {"id": ID, "type": []}, match="empty array")


def test_entity_type_with_forbidden_characters_is_rejected(terms: Any) -> None:
    rejected(terms, {"id": ID, "type": "Bad Type"}, match="invalid entity type name")
    rejected(terms, {"id": ID, "type": ["T", 3]}, match="invalid entity type name")


def test_invalid_scope_is_rejected(terms: Any) -> None:
    for scope in ["/a//b", "a b", "", [], ["/ok", 1], "/"]:
        rejected(terms, {"id": ID, "type": "T", "scope": scope}, match="scope")


def test_too_many_attributes_are_rejected(terms: Any) -> None:
    payload = {"id": ID, "type": "T", **{f"a{i}": i for i in range(4)}}
    rejected(terms, payload, match="4 attributes; at most 3", max_attributes=3)
    expand_entity(payload, terms, now=NOW, max_attributes=4)


def test_too_many_attributes_in_a_fragment_are_rejected(terms: Any) -> None:
    with pytest.raises(BadRequestData, match="at most 1"):
        expand_attrs({"a": 1, "b": 2}, terms, now=NOW, max_attributes=1)


# -- names ---------------------------------------------------------------------------------


def test_attribute_name_with_forbidden_characters_is_rejected(terms: Any) -> None:
    for name in ["spe ed", "speed-limit", "1speed", "a=b", "<x>", "a;b", "", "a:", ":b"]:
        rejected_attr(terms, 1, match="not a valid attribute name", name=name)


def test_reserved_names_cannot_name_an_attribute(terms: Any) -> None:
    for name in ["observedAt", "unitCode", "datasetId", "instanceId", "objectType", "value",
                 "object", "languageMap", "lang", "expiresAt", "previousValue"]:
        rejected_attr(terms, 1, match="reserved", name=name)


def test_reserved_core_iri_cannot_name_an_attribute(terms: Any) -> None:
    rejected_attr(terms, 1, match="reserved", name="https://uri.etsi.org/ngsi-ld/observedAt")


def test_reserved_name_as_sub_attribute_is_rejected(terms: Any) -> None:
    rejected_attr(terms, {"value": 1, "id": 3}, match="not allowed inside an attribute")
    rejected_attr(terms, {"value": 1, "@context": {}}, match="not allowed inside an attribute")


def test_expand_attribute_rejects_scope_and_bad_names(terms: Any) -> None:
    for name in ["scope", "bad name"]:
        with pytest.raises(BadRequestData):
            expand_attribute(name, {"value": 1}, terms, now=NOW)


# -- attribute kinds -----------------------------------------------------------------------


def test_unknown_attribute_type_is_rejected(terms: Any) -> None:
    err = rejected_attr(terms, {"type": "Propertie", "value": 1}, match="unknown attribute type")
    assert err.field == "speed.type"


def test_property_value_null_is_rejected(terms: Any) -> None:
    err = rejected_attr(terms, {"type": "Property", "value": None},
                        match="'value' must not be null")
    assert err.detail.startswith("attribute 'speed': ")


def test_bare_null_attribute_is_rejected(terms: Any) -> None:
    rejected_attr(terms, None, match="must not be null")


def test_ngsi_ld_null_outside_updates_is_rejected(terms: Any) -> None:
    rejected_attr(terms, NGSI_LD_NULL, match="only allowed in partial updates")
    rejected_attr(terms, {"type": "Property", "value": NGSI_LD_NULL}, match="only allowed")
    rejected_attr(terms, {"object": NGSI_LD_NULL}, match="only allowed", name="owner")


def test_ngsi_ld_null_inside_an_object_value_is_rejected_outside_merges(terms: Any) -> None:
    rejected_attr(terms, {"value": {"city": NGSI_LD_NULL}}, match="only allowed in merges")


def test_missing_value_member_is_rejected(terms: Any) -> None:
    rejected_attr(terms, {"type": "Property", "unitCode": "X"}, match="needs 'value'")
    rejected_attr(terms, {"type": "Relationship", "value": 1}, match="needs 'object'")


def test_concise_object_with_members_but_no_value_is_rejected(terms: Any) -> None:
    rejected_attr(terms, {"observedAt": "2024-01-01T00:00:00Z"}, match="no value member")


def test_two_value_members_are_rejected(terms: Any) -> None:
    rejected_attr(terms, {"value": 1, "object": "urn:a:1"}, match="cannot both be present")


def test_value_member_of_another_kind_is_rejected(terms: Any) -> None:
    rejected_attr(terms, {"type": "Property", "value": 1, "object": "urn:a:1"},
                  match="'object' is not allowed in a Property")


def test_relationship_object_not_a_uri_is_rejected(terms: Any) -> None:
    for obj in ["not a uri", 3, [], ["urn:a:1", "bad uri"]]:
        rejected_attr(terms, {"type": "Relationship", "object": obj}, match="'object' must be")


def test_unit_code_on_a_relationship_is_rejected(terms: Any) -> None:
    rejected_attr(terms, {"type": "Relationship", "object": "urn:a:1", "unitCode": "M"},
                  match="'unitCode' is not allowed in a Relationship")


def test_unit_code_on_language_vocab_and_json_properties_is_rejected(terms: Any) -> None:
    for body in [{"languageMap": {"en": "x"}}, {"vocab": "x"}, {"json": {}}]:
        rejected_attr(terms, {**body, "unitCode": "M"}, match="'unitCode' is not allowed")


def test_unit_code_not_a_string_is_rejected(terms: Any) -> None:
    rejected_attr(terms, {"value": 1, "unitCode": 3}, match="'unitCode' must be")


def test_object_type_on_a_property_is_rejected(terms: Any) -> None:
    rejected_attr(terms, {"value": 1, "objectType": "T"}, match="'objectType' is not allowed")


def test_invalid_object_type_is_rejected(terms: Any) -> None:
    rejected_attr(terms, {"object": "urn:a:1", "objectType": "bad type"},
                  match="'objectType' must be")


def test_invalid_observed_at_is_rejected(terms: Any) -> None:
    for bad in ["2024-05-01", "2024-05-01T10:00:00", "2024-05-01T10:00:00+01:00",
                "2024-02-30T10:00:00Z", "2024-05-01T25:00:00Z", "2024-05-01T10:00:00.1234567Z",
                1714557600]:
        err = rejected_attr(terms, {"value": 1, "observedAt": bad},
                            match="attribute 'speed': 'observedAt' is not a valid DateTime")
        assert err.field == "speed.observedAt"


def test_dataset_id_not_a_uri_is_rejected(terms: Any) -> None:
    rejected_attr(terms, {"value": 1, "datasetId": "not a uri"}, match="'datasetId' is not")


def test_two_default_instances_are_rejected(terms: Any) -> None:
    rejected_attr(terms, [{"value": 1}, {"value": 2}], match="more than one default instance")


def test_duplicate_dataset_ids_are_rejected(terms: Any) -> None:
    rejected_attr(terms, [{"value": 1, "datasetId": "urn:d:1"}, {"value": 2, "datasetId":
                  "urn:d:1"}], match="'urn:d:1' is used by more than one instance")


def test_invalid_geometry_is_rejected(terms: Any) -> None:
    err = rejected_attr(
        terms,
        {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [200, 0]}},
        match="not a valid GeoJSON geometry: longitude 200 is out of range",
        name="location",
    )
    assert err.field == "location.value"


def test_concise_invalid_geometry_is_rejected(terms: Any) -> None:
    rejected_attr(terms, {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]},
                  match="not a valid GeoJSON geometry", name="area")


def test_location_that_is_not_a_geometry_is_rejected(terms: Any) -> None:
    for body in ["Madrid", {"type": "Property", "value": "Madrid"}, {"value": 3},
                 {"street": "x"}]:
        rejected_attr(terms, body, match="must be a GeoProperty", name="location")


def test_language_map_errors_are_rejected(terms: Any) -> None:
    for lm in [{}, "en", {"not a tag!": "x"}, {"en": 3}, {"en": ["a", 1]}]:
        rejected_attr(terms, {"type": "LanguageProperty", "languageMap": lm},
                      match="'languageMap'", name="street")


def test_vocab_errors_are_rejected(terms: Any) -> None:
    for vocab in ["", [], [1], 3]:
        rejected_attr(terms, {"type": "VocabProperty", "vocab": vocab}, match="'vocab' must be")


def test_value_list_errors_are_rejected(terms: Any) -> None:
    for value_list in [3, "a", [1, None]]:
        rejected_attr(terms, {"type": "ListProperty", "valueList": value_list},
                      match="'valueList' must be")


def test_object_list_errors_are_rejected(terms: Any) -> None:
    for object_list in ["urn:a:1", ["bad uri"], [{"object": "urn:a:1", "x": 1}], [3]]:
        rejected_attr(terms, {"type": "ListRelationship", "objectList": object_list},
                      match="'objectList' must be")


def test_sub_attribute_errors_name_the_full_path(terms: Any) -> None:
    body = {"value": 1, "accuracy": {"value": 2, "observedAt": "yesterday"}}
    err = rejected_attr(terms, body, match="attribute 'speed' > 'accuracy': 'observedAt'")
    assert err.field == "speed.accuracy.observedAt"


def test_rejection_returns_nothing_half_valid(terms: Any) -> None:
    payload = {"id": ID, "type": "T", "a": 1, "b": {"type": "GeoProperty", "value": POINT},
               "c": {"type": "Property"}}
    rejected(terms, payload, match="attribute 'c'")


def test_key_values_location_must_be_a_geometry(terms: Any) -> None:
    rejected(terms, {"id": ID, "type": "T", "location": "here"}, match="GeoJSON geometry",
             key_values=True)


def test_key_values_null_is_rejected_outside_updates(terms: Any) -> None:
    rejected(terms, {"id": ID, "type": "T", "a": None}, match="must not be null",
             key_values=True)


def test_key_values_dataset_key_must_be_a_uri(terms: Any) -> None:
    rejected(terms, {"id": ID, "type": "T", "a": {"dataset": {"bad key": 1}}},
             match="not a URI", key_values=True)
