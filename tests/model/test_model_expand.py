"""broker.model.expand: what each accepted input becomes in the stored form."""

from __future__ import annotations

from typing import Any

import pytest
from model_support import CORE, LOCATION, NOW, POINT, iri

from broker.errors import BadRequestData
from broker.model.expand import (
    expand_attribute,
    expand_attribute_name,
    expand_attrs,
    expand_entity,
    expand_fragment,
)
from broker.model.null import NGSI_LD_NULL

ID = "urn:ngsi-ld:Vehicle:A1"


def entity(terms: Any, **attrs: Any) -> dict[str, Any]:
    return expand_entity({"id": ID, "type": "Vehicle", **attrs}, terms, now=NOW)


def only(terms: Any, body: Any, name: str = "speed") -> dict[str, Any]:
    instances = entity(terms, **{name: body})["attrs"][terms.expand_term(name)]
    assert len(instances) == 1
    return dict(instances[0])


def stamped(inst: dict[str, Any]) -> dict[str, Any]:
    return {**inst, "createdAt": NOW, "modifiedAt": NOW}


# -- entity members -------------------------------------------------------------------------


def test_entity_members_are_stored_expanded_with_timestamps(terms: Any) -> None:
    got = expand_entity(
        {"id": ID, "type": "Vehicle", "scope": "/Madrid", "@context": "x", "createdAt": "junk"},
        terms,
        now=NOW,
    )
    assert got == {
        "id": ID,
        "type": [iri("Vehicle")],
        "scope": ["/Madrid"],
        "createdAt": NOW,
        "modifiedAt": NOW,
        "attrs": {},
    }


def test_entity_type_list_is_expanded_and_deduplicated(terms: Any) -> None:
    got = expand_entity({"id": ID, "type": ["Vehicle", "ex:Car", "Vehicle"]}, terms, now=NOW)
    assert got["type"] == [iri("Vehicle"), "https://example.org/Car"]


def test_entity_at_id_and_at_type_are_accepted(terms: Any) -> None:
    got = expand_entity({"@id": ID, "@type": "Vehicle"}, terms, now=NOW)
    assert (got["id"], got["type"]) == (ID, [iri("Vehicle")])


def test_entity_without_scope_has_no_scope_key(terms: Any) -> None:
    assert "scope" not in entity(terms)


def test_scope_list_is_kept_in_order_without_duplicates(terms: Any) -> None:
    got = expand_entity({"id": ID, "type": "T", "scope": ["/a/b", "c", "/a/b"]}, terms, now=NOW)
    assert got["scope"] == ["/a/b", "c"]


def test_attribute_names_are_expanded_with_the_term_map(terms: Any) -> None:
    got = entity(terms, speed=1, **{"ex:colour": "red", "https://x.org/weight": 3})
    assert list(got["attrs"]) == [iri("speed"), "https://example.org/colour",
                                  "https://x.org/weight"]


def test_term_and_iri_spellings_of_one_attribute_are_combined(terms: Any) -> None:
    got = entity(
        terms,
        speed={"type": "Property", "value": 1},
        **{iri("speed"): {"type": "Property", "value": 2, "datasetId": "urn:ds:1"}},
    )
    assert [i["value"] for i in got["attrs"][iri("speed")]] == [1, 2]


# -- normalized attributes ------------------------------------------------------------------


def test_normalized_property_keeps_its_members(terms: Any) -> None:
    body = {"type": "Property", "value": 80, "unitCode": "KMH",
            "observedAt": "2024-05-01T10:00:00.000Z", "valueType": "Integer"}
    assert only(terms, body) == stamped(body)


def test_property_value_may_be_any_json(terms: Any) -> None:
    for value in ["x", 0, 1.5, False, [1, "a", None], {"a": {"b": [1]}}]:
        assert only(terms, {"type": "Property", "value": value})["value"] == value


def test_observed_at_with_comma_is_stored_with_a_point(terms: Any) -> None:
    got = only(terms, {"type": "Property", "value": 1, "observedAt": "2024-05-01T10:00:00,5Z"})
    assert got["observedAt"] == "2024-05-01T10:00:00.5Z"


def test_relationship_with_object_and_object_type(terms: Any) -> None:
    got = only(terms, {"type": "Relationship", "object": "urn:ngsi-ld:P:1", "objectType": "P"},
               "owner")
    assert got == stamped({"type": "Relationship", "object": "urn:ngsi-ld:P:1",
                           "objectType": iri("P")})


def test_relationship_object_may_be_a_list_of_uris(terms: Any) -> None:
    body = {"type": "Relationship", "object": ["urn:a:1", "urn:a:2"]}
    assert only(terms, body, "owners")["object"] == ["urn:a:1", "urn:a:2"]


def test_geo_property_keeps_the_geometry(terms: Any) -> None:
    got = only(terms, {"type": "GeoProperty", "value": POINT}, "location")
    assert got == stamped({"type": "GeoProperty", "value": POINT})


def test_language_property_keeps_the_language_map(terms: Any) -> None:
    lm = {"fr": "Grand Place", "nl": ["Grote Markt", "Markt"], "@none": "GP"}
    got = only(terms, {"type": "LanguageProperty", "languageMap": lm}, "street")
    assert got == stamped({"type": "LanguageProperty", "languageMap": lm})


def test_vocab_property_values_are_expanded(terms: Any) -> None:
    got = only(terms, {"type": "VocabProperty", "vocab": ["commercial", "ex:m"]}, "category")
    assert got["vocab"] == [iri("commercial"), "https://example.org/m"]
    single = only(terms, {"type": "VocabProperty", "vocab": "commercial"}, "category")
    assert single["vocab"] == iri("commercial")


def test_vocabulary_property_spelling_of_annex_c_is_a_vocab_property(terms: Any) -> None:
    got = only(terms, {"type": "VocabularyProperty", "vocab": "x"}, "category")
    assert got["type"] == "VocabProperty"


def test_json_property_keeps_json_verbatim_without_expansion(terms: Any) -> None:
    raw = {"id": "not-a-uri", "type": "Point", "value": None, "speed": [1, {"a": 2}]}
    got = only(terms, {"type": "JsonProperty", "json": raw}, "config")
    assert got["json"] == raw


def test_list_property_keeps_the_value_list(terms: Any) -> None:
    got = only(terms, {"type": "ListProperty", "valueList": [3, "a", [1]], "unitCode": "MMT"},
               "depths")
    assert got == stamped({"type": "ListProperty", "valueList": [3, "a", [1]], "unitCode": "MMT"})


def test_list_relationship_accepts_object_wrappers_and_stores_uris(terms: Any) -> None:
    body = {"type": "ListRelationship", "objectList": [{"object": "urn:c:1"}, "urn:c:2"]}
    assert only(terms, body, "route")["objectList"] == ["urn:c:1", "urn:c:2"]


def test_sub_attributes_are_expanded_recursively(terms: Any) -> None:
    body = {
        "type": "Relationship",
        "object": "urn:p:1",
        "providedBy": {"type": "Relationship", "object": "urn:q:1",
                       "accuracy": {"type": "Property", "value": 0.9}},
    }
    got = only(terms, body, "isParked")
    provided = got["sub"][iri("providedBy")]
    assert provided == [stamped({
        "type": "Relationship",
        "object": "urn:q:1",
        "sub": {iri("accuracy"): [stamped({"type": "Property", "value": 0.9})]},
    })]


def test_every_instance_gets_now_as_created_and_modified_at(terms: Any) -> None:
    body = {"type": "Property", "value": 1, "createdAt": "2000-01-01T00:00:00Z",
            "modifiedAt": "2000-01-01T00:00:00Z", "a": {"type": "Property", "value": 2}}
    got = only(terms, body)
    assert (got["createdAt"], got["modifiedAt"]) == (NOW, NOW)
    sub = got["sub"][iri("a")][0]
    assert (sub["createdAt"], sub["modifiedAt"]) == (NOW, NOW)


def test_multi_attribute_instances_are_kept_with_their_dataset_ids(terms: Any) -> None:
    body = [
        {"type": "Property", "value": 1},
        {"type": "Property", "value": 2, "datasetId": "urn:ds:gps"},
        {"type": "Property", "value": 3, "datasetId": "urn:ds:radar"},
    ]
    got = entity(terms, speed=body)["attrs"][iri("speed")]
    assert [(i.get("datasetId"), i["value"]) for i in got] == [
        (None, 1), ("urn:ds:gps", 2), ("urn:ds:radar", 3)]


def test_dataset_id_at_none_means_the_default_instance(terms: Any) -> None:
    got = only(terms, {"type": "Property", "value": 1, "datasetId": "@none"})
    assert "datasetId" not in got


def test_input_lang_member_is_ignored(terms: Any) -> None:
    got = only(terms, {"type": "Property", "value": "x", "lang": "fr"})
    assert "lang" not in got


# -- concise inference ----------------------------------------------------------------------


def test_concise_bare_value_is_a_property(terms: Any) -> None:
    assert only(terms, 80) == stamped({"type": "Property", "value": 80})


def test_concise_bare_array_of_scalars_is_a_property(terms: Any) -> None:
    assert only(terms, [1, 2])["value"] == [1, 2]
    assert only(terms, [])["value"] == []


def test_concise_object_with_value_is_a_property(terms: Any) -> None:
    got = only(terms, {"value": 80, "unitCode": "KMH"})
    assert got == stamped({"type": "Property", "value": 80, "unitCode": "KMH"})


def test_concise_object_without_type_or_value_member_is_a_property_value(terms: Any) -> None:
    got = only(terms, {"street": "Main", "city": "X"}, "address")
    assert got["value"] == {"street": "Main", "city": "X"}


def test_concise_bare_geometry_is_a_geo_property(terms: Any) -> None:
    assert only(terms, POINT, "location") == stamped({"type": "GeoProperty", "value": POINT})
    assert only(terms, POINT, "area")["type"] == "GeoProperty"


def test_concise_value_holding_a_geometry_is_a_geo_property(terms: Any) -> None:
    got = only(terms, {"value": POINT, "observedAt": "2024-01-01T00:00:00Z"}, "area")
    assert got["type"] == "GeoProperty"


def test_explicit_property_with_geometry_value_stays_a_property(terms: Any) -> None:
    assert only(terms, {"type": "Property", "value": POINT}, "area")["type"] == "Property"


def test_explicit_property_geometry_under_location_becomes_a_geo_property(terms: Any) -> None:
    assert only(terms, {"type": "Property", "value": POINT}, "location")["type"] == "GeoProperty"


def test_concise_object_member_infers_a_relationship(terms: Any) -> None:
    got = only(terms, {"object": "urn:p:1", "since": 3}, "owner")
    assert got["type"] == "Relationship"
    assert got["sub"][iri("since")][0]["value"] == 3


def test_concise_value_members_infer_their_kinds(terms: Any) -> None:
    cases = {
        "languageMap": ({"en": "x"}, "LanguageProperty"),
        "vocab": ("a", "VocabProperty"),
        "json": ({"a": 1}, "JsonProperty"),
        "valueList": ([1], "ListProperty"),
        "objectList": (["urn:a:1"], "ListRelationship"),
    }
    for member, (value, kind) in cases.items():
        assert only(terms, {member: value}, "x")["type"] == kind


def test_concise_sub_attribute_bare_value(terms: Any) -> None:
    got = only(terms, {"value": 80, "accuracy": 0.9})
    assert got["sub"] == {iri("accuracy"): [stamped({"type": "Property", "value": 0.9})]}


# -- keyValues input -----------------------------------------------------------------------


def kv(terms: Any, **attrs: Any) -> dict[str, Any]:
    return expand_entity({"id": ID, "type": "T", **attrs}, terms, now=NOW, key_values=True)


def test_key_values_scalar_and_object_values_are_properties(terms: Any) -> None:
    got = kv(terms, speed=80, address={"value": 1, "object": "urn:a:1"})
    assert got["attrs"][iri("speed")] == [stamped({"type": "Property", "value": 80})]
    assert got["attrs"][iri("address")][0]["value"] == {"value": 1, "object": "urn:a:1"}


def test_key_values_geometry_is_a_geo_property(terms: Any) -> None:
    assert kv(terms, location=POINT)["attrs"][LOCATION][0]["type"] == "GeoProperty"


def test_key_values_wrapped_members_infer_language_vocab_and_json(terms: Any) -> None:
    got = kv(terms, a={"languageMap": {"en": "x"}}, b={"vocab": "v"}, c={"json": [1]})
    assert got["attrs"][iri("a")][0]["type"] == "LanguageProperty"
    assert got["attrs"][iri("b")][0] == stamped({"type": "VocabProperty", "vocab": iri("v")})
    assert got["attrs"][iri("c")][0]["json"] == [1]


def test_key_values_dataset_member_gives_several_instances(terms: Any) -> None:
    got = kv(terms, speed={"dataset": {"@none": 1, "urn:ds:a": 2}})
    assert got["attrs"][iri("speed")] == [
        stamped({"type": "Property", "value": 1}),
        stamped({"type": "Property", "value": 2, "datasetId": "urn:ds:a"}),
    ]


# -- fragments and single attributes -------------------------------------------------------


def test_expand_attrs_returns_only_the_attributes(terms: Any) -> None:
    got = expand_attrs({"id": ID, "type": "T", "@context": [], "speed": 1}, terms, now=NOW)
    assert list(got) == [iri("speed")]


def test_expand_fragment_keeps_id_types_and_scope(terms: Any) -> None:
    got = expand_fragment({"id": ID, "type": ["A", "B"], "scope": "/x", "s": 1}, terms, now=NOW)
    assert (got.entity_id, got.types, got.scope) == (ID, [iri("A"), iri("B")], ["/x"])
    assert list(got.attrs) == [iri("s")]


def test_expand_fragment_without_entity_members_has_none(terms: Any) -> None:
    got = expand_fragment({"s": 1}, terms, now=NOW)
    assert (got.entity_id, got.types, got.scope) == (None, None, None)


def test_fragment_scope_null_means_remove_the_scope(terms: Any) -> None:
    got = expand_fragment({"scope": NGSI_LD_NULL}, terms, now=NOW, allow_null=True)
    assert got.scope == []


def test_expand_attribute_returns_the_instances(terms: Any) -> None:
    got = expand_attribute("speed", {"value": 3, "datasetId": "urn:ds:1"}, terms, now=NOW)
    assert got == [stamped({"type": "Property", "value": 3, "datasetId": "urn:ds:1"})]


def test_expand_attribute_name_gives_the_iri(terms: Any) -> None:
    assert expand_attribute_name("speed", terms) == iri("speed")
    assert expand_attribute_name("location", terms) == LOCATION


# -- the NGSI-LD Null with allow_null ------------------------------------------------------


def null_attrs(terms: Any, **attrs: Any) -> dict[str, Any]:
    return expand_attrs(attrs, terms, now=NOW, allow_null=True)


def test_null_value_becomes_a_deletion_instance(terms: Any) -> None:
    got = null_attrs(terms, speed={"type": "Property", "value": NGSI_LD_NULL})
    assert got[iri("speed")] == [stamped({"type": "Property", "value": NGSI_LD_NULL})]


def test_bare_null_and_json_null_become_deletion_instances(terms: Any) -> None:
    got = null_attrs(terms, a=NGSI_LD_NULL, b=None)
    assert got[iri("a")][0]["value"] == NGSI_LD_NULL
    assert got[iri("b")][0]["value"] == NGSI_LD_NULL


def test_null_with_dataset_id_targets_that_instance(terms: Any) -> None:
    got = null_attrs(terms, speed={"value": NGSI_LD_NULL, "datasetId": "urn:ds:1"})
    assert got[iri("speed")] == [stamped({"type": "Property", "value": NGSI_LD_NULL,
                                          "datasetId": "urn:ds:1"})]


def test_every_kind_has_its_null_encoding(terms: Any) -> None:
    got = null_attrs(
        terms,
        r={"type": "Relationship", "object": NGSI_LD_NULL},
        lp={"type": "LanguageProperty", "languageMap": {"@none": NGSI_LD_NULL}},
        vp={"type": "VocabProperty", "vocab": NGSI_LD_NULL},
        jp={"type": "JsonProperty", "json": NGSI_LD_NULL},
        lst={"type": "ListProperty", "valueList": [NGSI_LD_NULL]},
        lr={"type": "ListRelationship", "objectList": [{"object": NGSI_LD_NULL}]},
    )
    for name, member in [("r", "object"), ("lp", "languageMap"), ("vp", "vocab"),
                         ("jp", "json"), ("lst", "valueList"), ("lr", "objectList")]:
        assert got[iri(name)][0][member] == NGSI_LD_NULL


def test_null_members_and_sub_attributes_are_kept_as_deletions(terms: Any) -> None:
    got = null_attrs(
        terms,
        speed={"type": "Property", "value": 1, "unitCode": NGSI_LD_NULL, "observedAt": None,
               "accuracy": NGSI_LD_NULL},
    )
    inst = got[iri("speed")][0]
    assert inst["unitCode"] == NGSI_LD_NULL
    assert inst["observedAt"] == NGSI_LD_NULL
    assert inst["sub"][iri("accuracy")][0]["value"] == NGSI_LD_NULL


def test_null_inside_an_object_value_is_accepted_for_merges(terms: Any) -> None:
    got = null_attrs(terms, address={"value": {"city": NGSI_LD_NULL}})
    assert got[iri("address")][0]["value"] == {"city": NGSI_LD_NULL}


def test_location_attribute_core_term_is_expanded_in_the_core_namespace(terms: Any) -> None:
    assert list(entity(terms, location=POINT)["attrs"]) == [CORE + "location"]


# -- simplified fragments merged into an existing entity (clause 5.6.17) ---------------------


def existing_entity(terms: Any) -> dict[str, Any]:
    return expand_entity(
        {
            "id": ID,
            "type": "T",
            "owner": {"object": "urn:p:1"},
            "category": {"vocab": "a"},
            "street": {"languageMap": {"fr": "Grand Place", "nl": "Grote Markt"}},
            "config": {"json": {"a": 1}},
            "route": {"objectList": ["urn:c:1"]},
            "location": POINT,
            "speed": 1,
        },
        terms,
        now=NOW,
    )


def kv_merge(terms: Any, lang: str | None = None, **attrs: Any) -> dict[str, Any]:
    return expand_attrs(attrs, terms, now=NOW, key_values=True, allow_null=True,
                        existing=existing_entity(terms), lang=lang)


def test_simplified_merge_keeps_the_existing_attribute_types(terms: Any) -> None:
    got = kv_merge(terms, owner="urn:p:2", category="b", config=[1], route=["urn:c:2"],
                   speed=2, colour="red")
    assert got[iri("owner")][0] == stamped({"type": "Relationship", "object": "urn:p:2"})
    assert got[iri("category")][0]["vocab"] == iri("b")
    assert got[iri("config")][0] == stamped({"type": "JsonProperty", "json": [1]})
    assert got[iri("route")][0]["objectList"] == ["urn:c:2"]
    assert got[iri("speed")][0]["type"] == "Property"
    assert got[iri("colour")][0]["type"] == "Property"


def test_simplified_merge_string_replaces_one_language_with_lang(terms: Any) -> None:
    got = kv_merge(terms, lang="nl", street="Markt")
    assert got[iri("street")][0]["languageMap"] == {"fr": "Grand Place", "nl": "Markt"}


def test_simplified_merge_string_without_lang_is_the_default_language(terms: Any) -> None:
    got = kv_merge(terms, street="Plaza")
    assert got[iri("street")][0]["languageMap"] == {"@none": "Plaza"}


def test_simplified_merge_value_not_fitting_the_existing_type_is_rejected(terms: Any) -> None:
    with pytest.raises(BadRequestData, match="'object' must be"):
        kv_merge(terms, owner=3)
    with pytest.raises(BadRequestData, match="GeoJSON geometry"):
        kv_merge(terms, location="here")


def test_simplified_merge_null_stays_a_deletion(terms: Any) -> None:
    assert kv_merge(terms, owner=None)[iri("owner")][0]["value"] == NGSI_LD_NULL


def test_expand_attribute_name_gives_the_scope_iri_only_when_allowed(terms: Any) -> None:
    assert expand_attribute_name("scope", terms, allow_scope=True) == CORE + "scope"
    with pytest.raises(BadRequestData, match="reserved"):
        expand_attribute_name("scope", terms)
