"""ModelValidation: the modes and their settings, what an update answers for, warnings."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from broker.errors import BadRequestData
from broker.events import EventBus
from broker.metrics import Metrics
from broker.model.expand import ExpandedFragment
from broker.services.batch import BatchService
from broker.services.entities import EntityService, utc_now
from broker.services.validation import ModelValidation, parse_modes
from broker.settings import Settings
from broker.storage.sqlite import SqliteStore

PARKING = "https://smartdatamodels.org/dataModel.Parking/"
CORE = "https://uri.etsi.org/ngsi-ld/"
DEFAULT = "https://uri.etsi.org/ngsi-ld/default-context/"
SPOT_ID = "urn:ngsi-ld:ParkingSpot:1"


def _property(value: Any) -> list[dict[str, Any]]:
    now = utc_now()
    return [{"type": "Property", "value": value, "createdAt": now, "modifiedAt": now}]


def _spot(types: list[str] | None = None, **attrs: list[dict[str, Any]]) -> dict[str, Any]:
    now = utc_now()
    base = {
        CORE + "location": [{"type": "GeoProperty", "value": {"type": "Point",
                                                                "coordinates": [-3.8, 43.4]}}],
        CORE + "status": _property("free"),
        PARKING + "category": _property(["onStreet"]),
        PARKING + "refParkingSite": [{"type": "Relationship",
                                      "object": "urn:ngsi-ld:OnStreetParking:1"}],
    }
    return {"id": SPOT_ID, "type": types or [PARKING + "ParkingSpot"], "createdAt": now,
            "modifiedAt": now, "attrs": base | attrs}


@pytest.fixture
async def store() -> AsyncIterator[SqliteStore]:
    store = SqliteStore(":memory:", Settings())
    await store.start()
    yield store
    await store.close()


def test_modes_are_read_per_tenant_and_bad_ones_name_the_setting() -> None:
    validation = ModelValidation("warn", ["city-a=enforce", " city-b = off "])
    assert [validation.mode(t) for t in ("city-a", "city-b", "", "other")] == [
        "enforce", "off", "warn", "warn"]
    with pytest.raises(ValueError, match="validation must be one of"):
        parse_modes("strict", ())
    with pytest.raises(ValueError, match="validation_tenants: 'city-a'"):
        parse_modes("off", ["city-a"])
    with pytest.raises(ValueError, match="validation_tenants: 'city-a=loud'"):
        parse_modes("off", ["city-a=loud"])


def test_settings_take_the_tenant_modes_from_the_environment() -> None:
    settings = Settings.from_env(
        {"AGORA_VALIDATION": "warn", "AGORA_VALIDATION_TENANTS": "a=enforce,b=off"}
    )
    validation = ModelValidation(settings.validation, settings.validation_tenants)
    assert (validation.mode("a"), validation.mode("b"), validation.mode("")) == (
        "enforce", "off", "warn")


def test_a_valid_entity_passes_and_a_broken_one_names_its_field() -> None:
    validation = ModelValidation("enforce")
    validation.check("", _spot())
    with pytest.raises(BadRequestData) as caught:
        validation.check("", _spot(**{PARKING + "width": _property(-1)}))
    assert caught.value.field == "width"
    assert "below the minimum 0" in caught.value.detail


def test_default_context_names_are_checked_as_the_models_own() -> None:
    validation = ModelValidation("enforce")
    entity = _spot([DEFAULT + "ParkingSpot"], **{DEFAULT + "width": _property("wide")})
    with pytest.raises(BadRequestData) as caught:
        validation.check("", entity)
    assert caught.value.field == "width"


def test_every_bundled_type_of_a_multi_typed_entity_is_checked() -> None:
    validation = ModelValidation("enforce")
    entity = _spot([PARKING + "ParkingSpot", "https://example.org/Thing"])
    validation.check("", entity)
    device = "https://smartdatamodels.org/dataModel.Device/Device"
    with pytest.raises(BadRequestData, match="Device model"):
        validation.check("", _spot([PARKING + "ParkingSpot", device]))


def test_an_update_answers_only_for_the_attributes_it_writes() -> None:
    validation = ModelValidation("enforce")
    stored_before = _spot()
    del stored_before["attrs"][PARKING + "category"]  # stored while validation was off
    validation.check("", stored_before, written=[CORE + "status"])
    with pytest.raises(BadRequestData) as caught:
        validation.check("", stored_before, written=[PARKING + "category"])
    assert caught.value.field == "category"
    with pytest.raises(BadRequestData):
        validation.check("", stored_before, written=None)


def test_warn_mode_logs_and_counts_and_does_not_refuse(caplog: pytest.LogCaptureFixture) -> None:
    metrics = Metrics()
    validation = ModelValidation("off", ["city-a=warn"], metrics)
    broken = _spot(**{PARKING + "width": _property(-1)})
    with caplog.at_level(logging.WARNING, logger="agora.validation"):
        validation.check("city-a", broken)
        validation.check("", broken)
    (record,) = caplog.records
    assert "city-a" in record.getMessage() and "width" in record.getMessage()
    count = metrics.registry.get_sample_value(
        "agora_validation_failures_total", {"model": "ParkingSpot", "outcome": "warned"}
    )
    assert count == 1.0


async def test_a_refused_update_leaves_the_stored_entity_as_it_was(store: SqliteStore) -> None:
    service = EntityService(store, EventBus(), ModelValidation("enforce"))
    await service.create("", _spot())
    fragment = ExpandedFragment(
        entity_id=SPOT_ID, types=None, scope=None, attrs={PARKING + "width": _property(-3)}
    )
    with pytest.raises(BadRequestData):
        await service.append_attrs("", SPOT_ID, fragment, overwrite=True)
    assert PARKING + "width" not in (await service.get("", SPOT_ID))["attrs"]


async def test_a_batch_upsert_warns_once_for_each_entity_it_writes(
    store: SqliteStore, caplog: pytest.LogCaptureFixture
) -> None:
    """An upsert that first writes its elements as creates applies the element of an id it
    finds stored a second time; only that application is written, and only it warns."""
    metrics = Metrics()
    validation = ModelValidation("warn", metrics=metrics)
    batch = BatchService(store, EventBus(), validation=validation)
    await batch.upsert("", [_spot()], replace=False)  # stored: the next upsert guesses wrong
    await batch.upsert("", [{**_spot(), "id": "urn:ngsi-ld:ParkingSpot:0"}], replace=False)
    broken = {**_spot(**{PARKING + "width": _property(-1)})}
    fresh = {**broken, "id": "urn:ngsi-ld:ParkingSpot:2"}
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="agora.validation"):
        result = await batch.upsert("", [broken, fresh], replace=False)
    assert sorted(result.success) == sorted([SPOT_ID, fresh["id"]]) and result.created == [
        fresh["id"]]
    warned = sorted(r.getMessage() for r in caplog.records)
    assert len(warned) == 2
    assert SPOT_ID in warned[0] and fresh["id"] in warned[1]
    count = metrics.registry.get_sample_value(
        "agora_validation_failures_total", {"model": "ParkingSpot", "outcome": "warned"}
    )
    assert count == 2.0
