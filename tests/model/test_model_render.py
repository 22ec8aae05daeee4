"""broker.model.render: the wire forms of a stored entity."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from model_support import LATER, LOCATION, NOW, POINT, iri

from broker.model.render import RenderOptions, render_attribute, render_entity, render_feature

ID = "urn:ngsi-ld:Vehicle:A1"
OBSERVED = "2024-05-01T10:00:00.000Z"


def inst(**members: Any) -> dict[str, Any]:
    return {**members, "createdAt": NOW, "modifiedAt": LATER}


def stored() -> dict[str, Any]:
    return {
        "id": ID,
        "type": [iri("Vehicle")],
        "scope": ["/Madrid"],
        "createdAt": NOW,
        "modifiedAt": LATER,
        "attrs": {
            iri("brandName"): [inst(type="Property", value="Mercedes")],
            iri("speed"): [inst(type="Property", value=80, unitCode="KMH", observedAt=OBSERVED,
                                sub={iri("accuracy"): [inst(type="Property", value=0.9)]})],
            iri("isParked"): [inst(type="Relationship", object="urn:ngsi-ld:Park:1",
                                   objectType=iri("Park"))],
            LOCATION: [inst(type="GeoProperty", value=POINT)],
            iri("street"): [inst(type="LanguageProperty",
                                 languageMap={"fr": "Grand Place", "nl": "Grote Markt"})],
            iri("category"): [inst(type="VocabProperty", vocab=iri("commercial"))],
            iri("config"): [inst(type="JsonProperty", json={"mode": "eco"})],
            iri("depths"): [inst(type="ListProperty", valueList=[1, 2])],
            iri("route"): [inst(type="ListRelationship", objectList=["urn:c:1", "urn:c:2"])],
        },
    }


def render(terms: Any, entity: dict[str, Any] | None = None, **opts: Any) -> dict[str, Any]:
    return render_entity(entity or stored(), terms, RenderOptions(**opts))


# -- normalized ----------------------------------------------------------------------------


def test_normalized_form(terms: Any) -> None:
    assert render(terms) == {
        "id": ID,
        "type": "Vehicle",
        "scope": "/Madrid",
        "brandName": {"type": "Property", "value": "Mercedes"},
        "speed": {"type": "Property", "value": 80, "unitCode": "KMH", "observedAt": OBSERVED,
                  "accuracy": {"type": "Property", "value": 0.9}},
        "isParked": {"type": "Relationship", "object": "urn:ngsi-ld:Park:1", "objectType": "Park"},
        "location": {"type": "GeoProperty", "value": POINT},
        "street": {"type": "LanguageProperty",
                   "languageMap": {"fr": "Grand Place", "nl": "Grote Markt"}},
        "category": {"type": "VocabProperty", "vocab": "commercial"},
        "config": {"type": "JsonProperty", "json": {"mode": "eco"}},
        "depths": {"type": "ListProperty", "valueList": [1, 2]},
        "route": {"type": "ListRelationship",
                  "objectList": [{"object": "urn:c:1"}, {"object": "urn:c:2"}]},
    }


def test_several_types_render_as_a_list_and_one_as_a_string(terms: Any) -> None:
    entity = {**stored(), "type": [iri("Vehicle"), "https://example.org/Car"]}
    assert render(terms, entity)["type"] == ["Vehicle", "ex:Car"]


def test_several_scopes_render_as_a_list(terms: Any) -> None:
    entity = {**stored(), "scope": ["/a", "/b"]}
    assert render(terms, entity)["scope"] == ["/a", "/b"]


def test_entity_without_scope_renders_no_scope(terms: Any) -> None:
    entity = stored()
    del entity["scope"]
    assert "scope" not in render(terms, entity)


def test_sys_attrs_adds_timestamps_at_every_level(terms: Any) -> None:
    got = render(terms, sys_attrs=True)
    assert (got["createdAt"], got["modifiedAt"]) == (NOW, LATER)
    assert (got["speed"]["createdAt"], got["speed"]["modifiedAt"]) == (NOW, LATER)
    accuracy = got["speed"]["accuracy"]
    assert (accuracy["createdAt"], accuracy["modifiedAt"]) == (NOW, LATER)


def test_without_sys_attrs_there_are_no_timestamps(terms: Any) -> None:
    assert "createdAt" not in render(terms)
    assert "createdAt" not in render(terms)["speed"]


def test_multi_attribute_renders_as_an_array_with_dataset_ids(terms: Any) -> None:
    entity = stored()
    entity["attrs"][iri("speed")] = [inst(type="Property", value=1),
                                     inst(type="Property", value=2, datasetId="urn:ds:1")]
    assert render(terms, entity)["speed"] == [
        {"type": "Property", "value": 1},
        {"type": "Property", "value": 2, "datasetId": "urn:ds:1"},
    ]


# -- lang ----------------------------------------------------------------------------------


def test_lang_turns_a_language_property_into_a_property_with_lang(terms: Any) -> None:
    got = render(terms, lang="nl")["street"]
    assert got == {"type": "Property", "value": "Grote Markt", "lang": "nl"}


def test_lang_without_match_falls_back_to_any_language(terms: Any) -> None:
    assert render(terms, lang="de")["street"]["lang"] == "fr"


def test_lang_in_concise_and_key_values(terms: Any) -> None:
    assert render(terms, lang="fr", form="concise")["street"] == {"value": "Grand Place",
                                                                  "lang": "fr"}
    assert render(terms, lang="fr", form="keyValues")["street"] == "Grand Place"


def test_lang_leaves_other_kinds_alone(terms: Any) -> None:
    assert render(terms, lang="fr")["brandName"] == render(terms)["brandName"]


# -- concise -------------------------------------------------------------------------------


def test_concise_form(terms: Any) -> None:
    assert render(terms, form="concise") == {
        "id": ID,
        "type": "Vehicle",
        "scope": "/Madrid",
        "brandName": "Mercedes",
        "speed": {"value": 80, "unitCode": "KMH", "observedAt": OBSERVED, "accuracy": 0.9},
        "isParked": {"object": "urn:ngsi-ld:Park:1", "objectType": "Park"},
        "location": POINT,
        "street": {"languageMap": {"fr": "Grand Place", "nl": "Grote Markt"}},
        "category": {"vocab": "commercial"},
        "config": {"json": {"mode": "eco"}},
        "depths": {"valueList": [1, 2]},
        "route": {"objectList": [{"object": "urn:c:1"}, {"object": "urn:c:2"}]},
    }


def test_concise_object_value_keeps_the_value_member(terms: Any) -> None:
    entity = stored()
    entity["attrs"][iri("address")] = [inst(type="Property", value={"city": "X"})]
    assert render(terms, entity, form="concise")["address"] == {"value": {"city": "X"}}


def test_concise_array_of_objects_keeps_the_value_member(terms: Any) -> None:
    entity = stored()
    entity["attrs"][iri("stops")] = [inst(type="Property", value=[{"a": 1}])]
    assert render(terms, entity, form="concise")["stops"] == {"value": [{"a": 1}]}


def test_concise_property_with_geometry_value_keeps_its_type(terms: Any) -> None:
    entity = stored()
    entity["attrs"][iri("shape")] = [inst(type="Property", value=POINT)]
    assert render(terms, entity, form="concise")["shape"] == {"type": "Property", "value": POINT}


def test_concise_geo_property_with_members_is_an_object(terms: Any) -> None:
    entity = stored()
    entity["attrs"][LOCATION] = [inst(type="GeoProperty", value=POINT, observedAt=OBSERVED)]
    got = render(terms, entity, form="concise")["location"]
    assert got == {"value": POINT, "observedAt": OBSERVED}


def test_concise_multi_attribute_instances_are_objects(terms: Any) -> None:
    entity = stored()
    entity["attrs"][iri("speed")] = [inst(type="Property", value=1),
                                     inst(type="Property", value=2, datasetId="urn:ds:1")]
    assert render(terms, entity, form="concise")["speed"] == [
        {"value": 1}, {"value": 2, "datasetId": "urn:ds:1"}]


def test_concise_with_sys_attrs_is_an_object(terms: Any) -> None:
    got = render(terms, form="concise", sys_attrs=True)["brandName"]
    assert got == {"value": "Mercedes", "createdAt": NOW, "modifiedAt": LATER}


# -- keyValues -----------------------------------------------------------------------------


def test_key_values_form(terms: Any) -> None:
    assert render(terms, form="keyValues") == {
        "id": ID,
        "type": "Vehicle",
        "scope": "/Madrid",
        "brandName": "Mercedes",
        "speed": 80,
        "isParked": "urn:ngsi-ld:Park:1",
        "location": POINT,
        "street": {"languageMap": {"fr": "Grand Place", "nl": "Grote Markt"}},
        "category": {"vocab": "commercial"},
        "config": {"json": {"mode": "eco"}},
        "depths": [1, 2],
        "route": ["urn:c:1", "urn:c:2"],
    }


def test_key_values_multi_attribute_uses_dataset(terms: Any) -> None:
    entity = stored()
    entity["attrs"][iri("speed")] = [inst(type="Property", value=1),
                                     inst(type="Property", value=2, datasetId="urn:ds:1")]
    assert render(terms, entity, form="keyValues")["speed"] == {
        "dataset": {"@none": 1, "urn:ds:1": 2}}


def test_key_values_single_instance_with_dataset_id_keeps_it(terms: Any) -> None:
    entity = stored()
    entity["attrs"][iri("speed")] = [inst(type="Property", value=2, datasetId="urn:ds:1")]
    assert render(terms, entity, form="keyValues")["speed"] == {"dataset": {"urn:ds:1": 2}}


def test_key_values_with_sys_attrs_has_entity_timestamps_only(terms: Any) -> None:
    got = render(terms, form="keyValues", sys_attrs=True)
    assert (got["createdAt"], got["modifiedAt"], got["speed"]) == (NOW, LATER, 80)


# -- attrs, pick, omit ---------------------------------------------------------------------


def test_attrs_keeps_only_the_named_attributes(terms: Any) -> None:
    got = render(terms, attrs=frozenset({iri("speed"), iri("nothing")}))
    assert set(got) == {"id", "type", "scope", "speed"}


def test_pick_keeps_only_the_named_members(terms: Any) -> None:
    got = render(terms, pick=frozenset({"id", iri("speed")}))
    assert set(got) == {"id", "speed"}


def test_omit_drops_the_named_members(terms: Any) -> None:
    got = render(terms, omit=frozenset({"type", "scope", iri("speed")}))
    assert "type" not in got and "scope" not in got and "speed" not in got
    assert "brandName" in got and "id" in got


# -- render_attribute and render_feature ---------------------------------------------------


def test_render_attribute_in_each_form(terms: Any) -> None:
    speed = stored()["attrs"][iri("speed")]
    assert render_attribute(speed, terms, RenderOptions())["unitCode"] == "KMH"
    assert render_attribute(speed, terms, RenderOptions(form="keyValues")) == 80
    got = render_attribute(speed, terms, RenderOptions(form="concise"))
    assert got["accuracy"] == 0.9


def test_feature_has_geometry_and_properties(terms: Any) -> None:
    got = render_feature(stored(), terms, RenderOptions(), LOCATION)
    assert got["id"] == ID
    assert got["type"] == "Feature"
    assert got["geometry"] == POINT
    props = got["properties"]
    assert props["type"] == "Vehicle"
    assert props["location"] == {"type": "GeoProperty", "value": POINT}
    assert props["speed"]["value"] == 80
    assert "id" not in props


def test_simplified_feature_has_simplified_properties(terms: Any) -> None:
    got = render_feature(stored(), terms, RenderOptions(form="keyValues"), LOCATION)
    assert got["properties"]["speed"] == 80
    assert got["properties"]["location"] == POINT


def test_feature_geometry_is_null_without_the_geo_property(terms: Any) -> None:
    assert render_feature(stored(), terms, RenderOptions(), iri("nothing"))["geometry"] is None


def test_feature_geometry_is_null_when_the_property_is_not_a_geometry(terms: Any) -> None:
    assert render_feature(stored(), terms, RenderOptions(), iri("speed"))["geometry"] is None


def test_feature_geometry_uses_the_default_or_the_chosen_dataset_instance(terms: Any) -> None:
    other = {"type": "Point", "coordinates": [1, 1]}
    entity = stored()
    entity["attrs"][LOCATION] = [inst(type="GeoProperty", value=other, datasetId="urn:ds:1"),
                                 inst(type="GeoProperty", value=POINT)]
    assert render_feature(entity, terms, RenderOptions(), LOCATION)["geometry"] == POINT
    got = render_feature(entity, terms, RenderOptions(), LOCATION, dataset_id="urn:ds:1")
    assert got["geometry"] == other
    entity["attrs"][LOCATION] = entity["attrs"][LOCATION][:1]
    assert render_feature(entity, terms, RenderOptions(), LOCATION)["geometry"] is None


# -- the stored entity is left alone -------------------------------------------------------


@pytest.mark.parametrize("form", ["normalized", "concise", "keyValues"])
def test_rendering_does_not_mutate_the_stored_entity(terms: Any, form: str) -> None:
    entity = stored()
    before = copy.deepcopy(entity)
    render(terms, entity, form=form, sys_attrs=True, lang="fr")
    render_feature(entity, terms, RenderOptions(form=form), LOCATION)  # type: ignore[arg-type]
    assert entity == before
