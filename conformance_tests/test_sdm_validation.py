"""Writes of the bundled Smart Data Models types checked per tenant: `enforce` refuses what
does not fit the model with 400 naming the field and changes nothing, `warn` stores it and
counts it, `off` (every other tenant) checks nothing.

Agora-specific (the bundled models and the setting are Agora's): skipped when the suite is
pointed at another broker with AGORA_URL."""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any

import pytest

from conformance_tests.client import API, JSON, Client, assert_problem, attrs_path, entity_path
from conformance_tests.conftest import VALIDATED_TENANT, WARNED_TENANT, Target
from data_models.registry import get_model

PARKING_URL = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Parking/master/context.jsonld"
)
GLOBAL_URL = "https://smartdatamodels.org/context.jsonld"


@pytest.fixture(autouse=True)
def _agora_only(target: Target) -> None:
    if target.broker is None:
        pytest.skip("the bundled Smart Data Models and the validation setting are Agora's")


@pytest.fixture
def enforced(target: Target) -> Client:
    return target.client(VALIDATED_TENANT)


@pytest.fixture
def warned(target: Target) -> Client:
    return target.client(WARNED_TENANT)


def _spot(**changes: Any) -> dict[str, Any]:
    model = get_model("ParkingSpot")
    assert model is not None
    entity = copy.deepcopy(dict(model.example_normalized))
    entity["id"] = f"urn:ngsi-ld:ParkingSpot:{uuid.uuid4().hex}"
    for name, value in changes.items():
        entity[name] = value
    return entity


def _failures(client: Client, model: str, outcome: str) -> float:
    r = client.get("/metrics")
    assert r.status == 200, r
    pattern = re.compile(
        r'^agora_validation_failures_total\{(?=[^}]*model="' + model + r'")(?=[^}]*outcome="'
        + outcome + r'")[^}]*\}\s+([0-9.e+]+)$', re.M
    )
    found = pattern.search(r.body.decode())
    return float(found.group(1)) if found else 0.0


def test_a_valid_smart_data_model_entity_is_accepted_in_an_enforcing_tenant(
    enforced: Client,
) -> None:
    entity = _spot()
    enforced.create(entity, context=PARKING_URL)
    assert enforced.entity(entity["id"], context=PARKING_URL) == entity


def test_create_with_a_value_outside_the_models_enum_is_refused_naming_the_field(
    enforced: Client,
) -> None:
    entity = _spot(status={"type": "Property", "value": "parked"})
    r = enforced.post(f"{API}/entities", json=entity, context=PARKING_URL)
    problem = assert_problem(r, 400, "BadRequestData")
    assert problem.get("field") == "status", problem
    assert "parked" in problem["detail"] and "ParkingSpot" in problem["detail"], problem
    assert enforced.retrieve(entity["id"], context=PARKING_URL).status == 404


def test_create_missing_a_required_attribute_is_refused(enforced: Client) -> None:
    entity = _spot()
    del entity["refParkingSite"]
    r = enforced.post(f"{API}/entities", json=entity, context=PARKING_URL)
    problem = assert_problem(r, 400, "BadRequestData")
    assert problem.get("field") == "refParkingSite", problem
    assert "required" in problem["detail"]


def test_an_entity_written_with_the_core_context_only_is_checked_by_its_type_name(
    enforced: Client,
) -> None:
    entity = _spot(width={"type": "Property", "value": -2.5})
    r = enforced.post(f"{API}/entities", json=entity)
    problem = assert_problem(r, 400, "BadRequestData")
    assert problem.get("field") == "width", problem
    assert "minimum" in problem["detail"]


def test_the_all_models_context_is_checked_too(enforced: Client) -> None:
    entity = _spot(category={"type": "Property", "value": ["somewhere"]})
    r = enforced.post(f"{API}/entities", json=entity, context=GLOBAL_URL)
    problem = assert_problem(r, 400, "BadRequestData")
    assert problem.get("field") == "category[0]", problem


def test_an_update_that_breaks_the_model_is_refused_and_changes_nothing(
    enforced: Client,
) -> None:
    entity = _spot()
    enforced.create(entity, context=PARKING_URL)
    r = enforced.patch(
        attrs_path(entity["id"]),
        json={"width": {"type": "Property", "value": "wide"}},
        context=PARKING_URL,
    )
    problem = assert_problem(r, 400, "BadRequestData")
    assert problem.get("field") == "width", problem
    assert enforced.entity(entity["id"], context=PARKING_URL)["width"] == entity["width"]
    r = enforced.patch(
        attrs_path(entity["id"]),
        json={"status": {"type": "Property", "value": "occupied"}},
        context=PARKING_URL,
    )
    assert r.status == 204, r
    assert enforced.entity(entity["id"], context=PARKING_URL)["status"]["value"] == "occupied"


def test_deleting_a_required_attribute_is_refused(enforced: Client) -> None:
    entity = _spot()
    enforced.create(entity, context=PARKING_URL)
    r = enforced.delete(attrs_path(entity["id"], "status"), context=PARKING_URL)
    problem = assert_problem(r, 400, "BadRequestData")
    assert problem.get("field") == "status", problem
    assert "status" in enforced.entity(entity["id"], context=PARKING_URL)


def test_a_replace_that_breaks_the_model_is_refused(enforced: Client) -> None:
    entity = _spot()
    enforced.create(entity, context=PARKING_URL)
    broken = {k: v for k, v in entity.items() if k != "location"}
    r = enforced.put(entity_path(entity["id"]), json=broken, context=PARKING_URL)
    problem = assert_problem(r, 400, "BadRequestData")
    assert problem.get("field") == "location", problem
    assert "location" in enforced.entity(entity["id"], context=PARKING_URL)


def test_batch_upsert_refuses_only_the_entities_that_do_not_fit(enforced: Client) -> None:
    good, bad = _spot(), _spot(status={"type": "Property", "value": "parked"})
    r = enforced.post(
        f"{API}/entityOperations/upsert", json=[good, bad], context=PARKING_URL,
        params={"options": "update"},
    )
    assert r.status == 207, r
    body = r.json()
    assert body["success"] == [good["id"]], body
    (error,) = body["errors"]
    assert error["entityId"] == bad["id"], body
    assert error["error"]["type"].endswith("BadRequestData"), body
    assert error["error"].get("field") == "status", body
    assert enforced.exists(good["id"]) and not enforced.exists(bad["id"])


def test_batch_update_with_options_update_checks_the_attributes_it_writes(
    enforced: Client,
) -> None:
    entity = _spot()
    enforced.create(entity, context=PARKING_URL)
    fragment = {"id": entity["id"], "type": "ParkingSpot",
                "width": {"type": "Property", "value": -1}}
    r = enforced.post(
        f"{API}/entityOperations/upsert", json=[fragment], context=PARKING_URL,
        params={"options": "update"},
    )
    assert r.status == 207, r
    assert r.json()["errors"][0]["error"].get("field") == "width", r
    fragment["width"] = {"type": "Property", "value": 3.1}
    r = enforced.post(
        f"{API}/entityOperations/upsert", json=[fragment], context=PARKING_URL,
        params={"options": "update"},
    )
    assert r.status == 204, r
    assert enforced.entity(entity["id"], context=PARKING_URL)["width"]["value"] == 3.1


def test_types_without_a_bundled_model_are_not_checked(enforced: Client) -> None:
    entity = {"id": f"urn:ngsi-ld:Gizmo:{uuid.uuid4().hex}", "type": "Gizmo",
              "status": {"type": "Property", "value": "parked"}}
    enforced.create(entity)


def test_a_warning_tenant_stores_what_does_not_fit_and_counts_it(warned: Client) -> None:
    before = _failures(warned, "ParkingSpot", "warned")
    entity = _spot(status={"type": "Property", "value": "parked"})
    warned.create(entity, context=PARKING_URL)
    assert warned.entity(entity["id"], context=PARKING_URL)["status"]["value"] == "parked"
    assert _failures(warned, "ParkingSpot", "warned") == before + 1


def test_refusals_are_counted(enforced: Client) -> None:
    before = _failures(enforced, "ParkingSpot", "refused")
    entity = _spot(status={"type": "Property", "value": "parked"})
    r = enforced.post(f"{API}/entities", json=entity, context=PARKING_URL)
    assert r.status == 400, r
    assert _failures(enforced, "ParkingSpot", "refused") == before + 1


def test_tenants_without_a_mode_check_nothing(client: Client) -> None:
    before = _failures(client, "ParkingSpot", "warned") + _failures(
        client, "ParkingSpot", "refused"
    )
    entity = _spot(status={"type": "Property", "value": "parked"})
    client.create(entity, context=PARKING_URL)
    r = client.get(entity_path(entity["id"]), accept=JSON, context=PARKING_URL)
    assert r.json()["status"]["value"] == "parked"
    after = _failures(client, "ParkingSpot", "warned") + _failures(
        client, "ParkingSpot", "refused"
    )
    assert after == before
