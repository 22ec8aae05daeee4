"""broker.model.operations: the update rules, on stored entities built by expansion."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from model_support import LATER, NOW, iri

from broker.errors import BadRequestData, ResourceNotFound
from broker.model.expand import expand_attribute, expand_entity, expand_fragment
from broker.model.null import NGSI_LD_NULL
from broker.model.operations import (
    UpdateResult,
    append_attrs,
    delete_attr,
    merge_entity,
    partial_update_attr,
    replace_attr,
    replace_entity,
    update_attrs,
)

ID = "urn:ngsi-ld:Vehicle:A1"
GPS = "urn:ngsi-ld:Dataset:gps"
OBSERVED = "2024-05-01T10:00:00.000Z"
SPEED = iri("speed")


@pytest.fixture
def vehicle(terms: Any) -> dict[str, Any]:
    return expand_entity(
        {
            "id": ID,
            "type": "Vehicle",
            "scope": "/Madrid",
            "brandName": "Mercedes",
            "speed": {"type": "Property", "value": 80, "unitCode": "KMH", "observedAt": OBSERVED,
                      "accuracy": {"type": "Property", "value": 0.9}},
            "address": {"value": {"street": "Gran Via", "city": "Madrid", "zip": "28013"}},
        },
        terms,
        now=NOW,
    )


def fragment(terms: Any, allow_null: bool = False, **attrs: Any) -> dict[str, Any]:
    return expand_fragment(attrs, terms, now=LATER, allow_null=allow_null).attrs


def speed(entity: dict[str, Any]) -> dict[str, Any]:
    instances = entity["attrs"][SPEED]
    assert len(instances) == 1
    return dict(instances[0])


# -- append --------------------------------------------------------------------------------


def test_append_adds_a_new_attribute(terms: Any, vehicle: dict[str, Any]) -> None:
    new, result = append_attrs(vehicle, fragment(terms, colour="red"), now=LATER, overwrite=True)
    assert new["attrs"][iri("colour")][0]["value"] == "red"
    assert result == UpdateResult(updated=[iri("colour")])
    assert (new["createdAt"], new["modifiedAt"]) == (NOW, LATER)


def test_append_overwrites_an_existing_instance_keeping_created_at(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    new, result = append_attrs(vehicle, fragment(terms, speed=90), now=LATER, overwrite=True)
    assert speed(new) == {"type": "Property", "value": 90, "createdAt": NOW, "modifiedAt": LATER}
    assert result.updated == [SPEED]


def test_append_no_overwrite_keeps_existing_and_reports_it(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    new, result = append_attrs(vehicle, fragment(terms, speed=90, colour="red"), now=LATER,
                               overwrite=False)
    assert speed(new) == speed(vehicle)
    assert result.updated == [iri("colour")]
    assert result.not_updated == [(SPEED, "attribute exists and noOverwrite was requested")]


def test_append_instance_with_new_dataset_id_keeps_the_default(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    new, _ = append_attrs(vehicle, fragment(terms, speed={"value": 81, "datasetId": GPS}),
                          now=LATER, overwrite=False)
    assert [i.get("datasetId") for i in new["attrs"][SPEED]] == [None, GPS]


def test_append_adds_types_and_replaces_scope_when_overwriting(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    new, _ = append_attrs(vehicle, {}, now=LATER, overwrite=True, types=[iri("Car")],
                          scope=["/Sevilla"])
    assert new["type"] == [iri("Vehicle"), iri("Car")]
    assert new["scope"] == ["/Sevilla"]
    assert new["modifiedAt"] == LATER


def test_append_without_overwrite_adds_scopes(terms: Any, vehicle: dict[str, Any]) -> None:
    new, _ = append_attrs(vehicle, {}, now=LATER, overwrite=False, scope=["/Sevilla", "/Madrid"])
    assert new["scope"] == ["/Madrid", "/Sevilla"]


def test_append_rejects_the_ngsi_ld_null(terms: Any, vehicle: dict[str, Any]) -> None:
    with pytest.raises(BadRequestData, match="cannot be appended"):
        append_attrs(vehicle, fragment(terms, True, speed=NGSI_LD_NULL), now=LATER,
                     overwrite=True)


def test_append_beyond_max_attributes_is_rejected(terms: Any, vehicle: dict[str, Any]) -> None:
    with pytest.raises(BadRequestData, match="at most 3"):
        append_attrs(vehicle, fragment(terms, colour="red"), now=LATER, overwrite=True,
                     max_attributes=3)


# -- update (v1.8) -------------------------------------------------------------------------


def test_update_replaces_the_whole_existing_instance(terms: Any, vehicle: dict[str, Any]) -> None:
    new, result = update_attrs(
        vehicle, fragment(terms, speed={"type": "Property", "value": 100}), now=LATER
    )
    assert speed(new) == {"type": "Property", "value": 100, "createdAt": NOW, "modifiedAt": LATER}
    assert result == UpdateResult(updated=[SPEED])
    assert new["modifiedAt"] == LATER


def test_update_of_a_missing_attribute_is_reported_not_updated(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    new, result = update_attrs(vehicle, fragment(terms, colour="red"), now=LATER)
    assert iri("colour") not in new["attrs"]
    assert result.not_updated == [(iri("colour"), "attribute does not exist")]
    assert new["modifiedAt"] == NOW


def test_update_of_a_missing_dataset_instance_is_reported_not_updated(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    _, result = update_attrs(vehicle, fragment(terms, speed={"value": 1, "datasetId": GPS}),
                             now=LATER)
    assert result.not_updated == [(SPEED, f"attribute has no instance with datasetId {GPS!r}")]


def test_update_with_null_deletes_the_attribute(terms: Any, vehicle: dict[str, Any]) -> None:
    new, result = update_attrs(
        vehicle, fragment(terms, True, speed={"type": "Property", "value": NGSI_LD_NULL}),
        now=LATER
    )
    assert SPEED not in new["attrs"]
    assert result.updated == [SPEED]


def test_update_replaces_scope_only_when_the_entity_has_one(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    new, _ = update_attrs(vehicle, {}, now=LATER, scope=["/x"])
    assert new["scope"] == ["/x"]
    del vehicle["scope"]
    new, _ = update_attrs(vehicle, {}, now=LATER, scope=["/x"])
    assert "scope" not in new


# -- merge ---------------------------------------------------------------------------------


def test_merge_keeps_members_and_sub_attributes_not_in_the_fragment(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    new, result = merge_entity(vehicle, fragment(terms, speed={"type": "Property", "value": 90}),
                               now=LATER)
    got = speed(new)
    assert (got["value"], got["unitCode"], got["observedAt"]) == (90, "KMH", OBSERVED)
    assert got["sub"][iri("accuracy")][0]["value"] == 0.9
    assert (got["createdAt"], got["modifiedAt"]) == (NOW, LATER)
    assert result.updated == [SPEED]


def test_merge_adds_new_attributes(terms: Any, vehicle: dict[str, Any]) -> None:
    new, _ = merge_entity(vehicle, fragment(terms, colour="red"), now=LATER)
    assert new["attrs"][iri("colour")][0]["value"] == "red"


def test_merge_merges_sub_attributes_recursively(terms: Any, vehicle: dict[str, Any]) -> None:
    frag = fragment(terms, speed={"value": 90, "accuracy": {"value": 0.5}, "source": "gps"})
    new, _ = merge_entity(vehicle, frag, now=LATER)
    sub = speed(new)["sub"]
    assert sub[iri("accuracy")][0]["value"] == 0.5
    assert sub[iri("accuracy")][0]["createdAt"] == NOW
    assert sub[iri("source")][0]["value"] == "gps"


def test_merge_null_deletes_the_attribute(terms: Any, vehicle: dict[str, Any]) -> None:
    new, result = merge_entity(vehicle, fragment(terms, True, speed=NGSI_LD_NULL), now=LATER)
    assert SPEED not in new["attrs"]
    assert result.updated == [SPEED]


def test_merge_null_sub_attribute_deletes_only_it(terms: Any, vehicle: dict[str, Any]) -> None:
    new, _ = merge_entity(vehicle, fragment(terms, True, speed={"value": 81,
                                                               "accuracy": NGSI_LD_NULL}),
                          now=LATER)
    got = speed(new)
    assert "sub" not in got
    assert (got["value"], got["unitCode"]) == (81, "KMH")


def test_merge_null_member_removes_the_member(terms: Any, vehicle: dict[str, Any]) -> None:
    new, _ = merge_entity(vehicle, fragment(terms, True, speed={"value": 81,
                                                               "observedAt": NGSI_LD_NULL}),
                          now=LATER)
    assert "observedAt" not in speed(new)
    assert speed(new)["unitCode"] == "KMH"


def test_merge_object_values_as_json_merge_patch(terms: Any, vehicle: dict[str, Any]) -> None:
    frag = fragment(terms, True, address={"value": {"street": "Pariser Platz",
                                                    "city": NGSI_LD_NULL}})
    new, _ = merge_entity(vehicle, frag, now=LATER)
    assert new["attrs"][iri("address")][0]["value"] == {"street": "Pariser Platz",
                                                        "zip": "28013"}


def test_merge_with_another_attribute_type_replaces_the_instance(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    new, _ = merge_entity(vehicle, fragment(terms, speed={"object": "urn:a:1"}), now=LATER)
    assert speed(new) == {"type": "Relationship", "object": "urn:a:1", "createdAt": NOW,
                          "modifiedAt": LATER}


def test_merge_null_of_a_missing_attribute_is_reported(terms: Any, vehicle: dict[str, Any]) -> None:
    new, result = merge_entity(vehicle, fragment(terms, True, colour=NGSI_LD_NULL), now=LATER)
    assert result.updated == []
    assert result.not_updated == [(iri("colour"), "attribute has no default instance")]
    assert new["modifiedAt"] == NOW


def test_merge_new_attribute_drops_null_members(terms: Any, vehicle: dict[str, Any]) -> None:
    frag = fragment(terms, True, colour={"value": {"a": 1, "b": NGSI_LD_NULL},
                                         "unitCode": NGSI_LD_NULL, "x": NGSI_LD_NULL})
    new, _ = merge_entity(vehicle, frag, now=LATER)
    assert new["attrs"][iri("colour")] == [
        {"type": "Property", "value": {"a": 1}, "createdAt": LATER, "modifiedAt": LATER}]


def test_merge_adds_types_and_replaces_or_removes_scope(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    new, _ = merge_entity(vehicle, {}, now=LATER, types=[iri("Car")], scope=["/x"])
    assert (new["type"], new["scope"]) == ([iri("Vehicle"), iri("Car")], ["/x"])
    new, _ = merge_entity(vehicle, {}, now=LATER, scope=[])
    assert "scope" not in new


def test_merge_deletes_one_dataset_instance(terms: Any, vehicle: dict[str, Any]) -> None:
    two, _ = append_attrs(vehicle, fragment(terms, speed={"value": 1, "datasetId": GPS}),
                          now=LATER, overwrite=True)
    new, _ = merge_entity(two, fragment(terms, True, speed={"value": None, "datasetId": GPS}),
                          now=LATER)
    assert new["attrs"][SPEED] == vehicle["attrs"][SPEED]


# -- partial attribute update --------------------------------------------------------------


def body(terms: Any, value: Any, allow_null: bool = True) -> list[dict[str, Any]]:
    return expand_attribute("speed", value, terms, now=LATER, allow_null=allow_null)


def test_partial_update_replaces_given_members_and_keeps_the_others(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    new = partial_update_attr(
        vehicle, SPEED, body(terms, {"type": "Property", "value": 100,
                                     "observedAt": "2024-05-02T00:00:00Z"}), now=LATER
    )
    got = speed(new)
    assert (got["value"], got["unitCode"], got["observedAt"]) == (
        100, "KMH", "2024-05-02T00:00:00Z")
    assert got["sub"] == speed(vehicle)["sub"]
    assert (got["createdAt"], got["modifiedAt"], new["modifiedAt"]) == (NOW, LATER, LATER)


def test_partial_update_replaces_object_values_without_merging(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    address = iri("address")
    new = partial_update_attr(vehicle, address, expand_attribute(
        "address", {"value": {"city": "X"}}, terms, now=LATER), now=LATER)
    assert new["attrs"][address][0]["value"] == {"city": "X"}


def test_partial_update_deletes_null_sub_attributes_and_members(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    new = partial_update_attr(
        vehicle, SPEED, body(terms, {"value": 1, "accuracy": None, "unitCode": NGSI_LD_NULL}),
        now=LATER,
    )
    got = speed(new)
    assert "sub" not in got and "unitCode" not in got


def test_partial_update_of_a_missing_attribute_is_not_found(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    with pytest.raises(ResourceNotFound):
        partial_update_attr(vehicle, iri("colour"), body(terms, {"value": 1}), now=LATER)


def test_partial_update_of_a_missing_dataset_instance_is_not_found(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    with pytest.raises(ResourceNotFound, match="datasetId"):
        partial_update_attr(vehicle, SPEED, body(terms, {"value": 1, "datasetId": GPS}),
                            now=LATER)


def test_partial_update_cannot_delete_the_attribute(terms: Any, vehicle: dict[str, Any]) -> None:
    with pytest.raises(BadRequestData, match="cannot delete"):
        partial_update_attr(vehicle, SPEED, body(terms, NGSI_LD_NULL), now=LATER)


def test_partial_update_cannot_change_the_attribute_type(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    with pytest.raises(BadRequestData, match="cannot change"):
        partial_update_attr(vehicle, SPEED, body(terms, {"object": "urn:a:1"}), now=LATER)


# -- replace and delete attribute ----------------------------------------------------------


def test_replace_attribute_replaces_everything_but_created_at(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    new = replace_attr(vehicle, SPEED, body(terms, {"value": 5}, False), now=LATER)
    assert speed(new) == {"type": "Property", "value": 5, "createdAt": NOW, "modifiedAt": LATER}


def test_replace_missing_attribute_is_not_found(terms: Any, vehicle: dict[str, Any]) -> None:
    with pytest.raises(ResourceNotFound):
        replace_attr(vehicle, iri("colour"), body(terms, {"value": 5}, False), now=LATER)


def with_gps(terms: Any, vehicle: dict[str, Any]) -> dict[str, Any]:
    return append_attrs(vehicle, fragment(terms, speed={"value": 1, "datasetId": GPS}),
                        now=LATER, overwrite=True)[0]


def test_delete_attribute_removes_the_default_instance_only(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    new = delete_attr(with_gps(terms, vehicle), SPEED, now=LATER)
    assert [i.get("datasetId") for i in new["attrs"][SPEED]] == [GPS]
    assert new["modifiedAt"] == LATER


def test_delete_attribute_with_dataset_id_removes_that_instance(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    new = delete_attr(with_gps(terms, vehicle), SPEED, dataset_id=GPS, now=LATER)
    assert new["attrs"][SPEED] == vehicle["attrs"][SPEED]
    new = delete_attr(with_gps(terms, vehicle), SPEED, dataset_id="@none", now=LATER)
    assert [i.get("datasetId") for i in new["attrs"][SPEED]] == [GPS]


def test_delete_all_removes_every_instance(terms: Any, vehicle: dict[str, Any]) -> None:
    new = delete_attr(with_gps(terms, vehicle), SPEED, delete_all=True, now=LATER)
    assert SPEED not in new["attrs"]


def test_deleting_the_last_instance_removes_the_attribute(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    assert SPEED not in delete_attr(vehicle, SPEED, now=LATER)["attrs"]


def test_delete_missing_attribute_or_instance_is_not_found(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    with pytest.raises(ResourceNotFound):
        delete_attr(vehicle, iri("colour"), now=LATER)
    with pytest.raises(ResourceNotFound):
        delete_attr(vehicle, SPEED, dataset_id=GPS, now=LATER)


def test_delete_scope_removes_the_scope(terms: Any, vehicle: dict[str, Any]) -> None:
    new = delete_attr(vehicle, "https://uri.etsi.org/ngsi-ld/scope", now=LATER)
    assert "scope" not in new
    with pytest.raises(ResourceNotFound):
        delete_attr(new, "scope", now=LATER)


# -- replace entity ------------------------------------------------------------------------


def test_replace_entity_keeps_id_and_created_at(terms: Any, vehicle: dict[str, Any]) -> None:
    other = expand_entity({"id": "urn:x:other", "type": "Car", "colour": "red"}, terms, now=LATER)
    new = replace_entity(vehicle, other, now=LATER)
    assert new == {"id": ID, "type": [iri("Car")], "createdAt": NOW, "modifiedAt": LATER,
                   "attrs": other["attrs"]}


# -- inputs are never mutated --------------------------------------------------------------


def test_no_operation_mutates_its_inputs(terms: Any, vehicle: dict[str, Any]) -> None:
    before = copy.deepcopy(vehicle)
    frag = fragment(terms, True, speed={"value": 1, "accuracy": NGSI_LD_NULL},
                    address={"value": {"city": NGSI_LD_NULL}}, colour="red")
    frag_before = copy.deepcopy(frag)
    merge_entity(vehicle, frag, now=LATER)
    update_attrs(vehicle, fragment(terms, True, speed={"value": 1, "accuracy": None}),
                 now=LATER)
    append_attrs(vehicle, fragment(terms, speed=3), now=LATER, overwrite=True)
    partial_update_attr(vehicle, SPEED, body(terms, {"value": 2, "accuracy": None}), now=LATER)
    replace_attr(vehicle, SPEED, body(terms, {"value": 2}, False), now=LATER)
    delete_attr(vehicle, SPEED, now=LATER)
    replace_entity(vehicle, vehicle, now=LATER)
    assert vehicle == before
    assert frag == frag_before


def test_merge_common_observed_at_updates_instances_that_had_one(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    common = "2024-06-01T00:00:00Z"
    frag = fragment(terms, speed=5, brandName="Seat")
    new, _ = merge_entity(vehicle, frag, now=LATER, observed_at=common)
    assert speed(new)["observedAt"] == common
    assert "observedAt" not in new["attrs"][iri("brandName")][0]
    own = fragment(terms, speed={"value": 5, "observedAt": "2024-07-01T00:00:00Z"})
    new, _ = merge_entity(vehicle, own, now=LATER, observed_at=common)
    assert speed(new)["observedAt"] == "2024-07-01T00:00:00Z"


def test_null_inside_an_object_value_is_only_for_merges(
    terms: Any, vehicle: dict[str, Any]
) -> None:
    address = iri("address")
    frag = fragment(terms, True, address={"value": {"city": NGSI_LD_NULL}})
    with pytest.raises(BadRequestData, match="only allowed in merges"):
        update_attrs(vehicle, frag, now=LATER)
    with pytest.raises(BadRequestData, match="only allowed in merges"):
        partial_update_attr(vehicle, address, frag[address], now=LATER)
