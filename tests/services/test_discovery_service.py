"""DiscoveryService: tenants, 404s, and what it asks of the store."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from broker.errors import NonexistentTenant, ResourceNotFound
from broker.events import EventBus
from broker.services.discovery import DiscoveryService
from broker.services.entities import EntityService, utc_now
from broker.settings import Settings
from broker.storage.base import AttributeDetails, TypeDetails
from broker.storage.sqlite import SqliteStore

EX = "https://example.org/"


def _entity(entity_id: str, *types: str) -> dict[str, object]:
    now = utc_now()
    return {
        "id": entity_id,
        "type": [EX + t for t in types],
        "createdAt": now,
        "modifiedAt": now,
        "attrs": {EX + "speed": [{"type": "Property", "value": 1}]},
    }


@pytest.fixture
async def services() -> AsyncIterator[tuple[DiscoveryService, EntityService]]:
    store = SqliteStore(":memory:", Settings())
    await store.start()
    entities = EntityService(store, EventBus())
    yield DiscoveryService(store, entities.require_tenant), entities
    await store.close()


async def test_type_names_are_sorted_and_each_given_once(
    services: tuple[DiscoveryService, EntityService],
) -> None:
    discovery, entities = services
    await entities.create("", _entity("urn:e:1", "Van", "Car"))
    await entities.create("", _entity("urn:e:2", "Car"))
    assert await discovery.type_names("") == [EX + "Car", EX + "Van"]


async def test_unknown_tenant_is_nonexistent_tenant_for_every_operation(
    services: tuple[DiscoveryService, EntityService],
) -> None:
    discovery, _ = services
    for call in (
        discovery.type_names("nobody"),
        discovery.types("nobody"),
        discovery.type_info("nobody", EX + "Car", "Car"),
        discovery.attributes("nobody"),
        discovery.attribute_info("nobody", EX + "speed", "speed"),
    ):
        with pytest.raises(NonexistentTenant):
            await call


async def test_unknown_type_and_attribute_are_resource_not_found_naming_the_variable(
    services: tuple[DiscoveryService, EntityService],
) -> None:
    discovery, entities = services
    await entities.create("t", _entity("urn:e:1", "Car"))
    with pytest.raises(ResourceNotFound) as type_error:
        await discovery.type_info("t", EX + "Bus", "Bus")
    assert type_error.value.field == "type" and "'Bus'" in type_error.value.detail
    with pytest.raises(ResourceNotFound) as attr_error:
        await discovery.attribute_info("t", EX + "colour", "colour")
    assert attr_error.value.field == "attrId" and "'colour'" in attr_error.value.detail


async def test_known_type_and_attribute_come_back_in_full(
    services: tuple[DiscoveryService, EntityService],
) -> None:
    discovery, entities = services
    await entities.create("t", _entity("urn:e:1", "Car", "Van"))
    assert await discovery.type_info("t", EX + "Car", "Car") == TypeDetails(
        EX + "Car", 1, {EX + "speed": frozenset({"Property"})}
    )
    assert await discovery.attribute_info("t", EX + "speed", "speed") == AttributeDetails(
        EX + "speed", 1, frozenset({"Property"}), frozenset({EX + "Car", EX + "Van"})
    )
