"""EntityService: timestamps, change events, tenants."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from broker.errors import AlreadyExists, NonexistentTenant, ResourceNotFound
from broker.events import ChangeEvent, EventBus
from broker.model.expand import ExpandedFragment
from broker.services.entities import EntityService, utc_now
from broker.settings import Settings
from broker.storage.sqlite import SqliteStore

SPEED = "https://example.org/speed"


def _entity(entity_id: str) -> dict[str, object]:
    now = utc_now()
    return {
        "id": entity_id,
        "type": ["https://example.org/Vehicle"],
        "createdAt": now,
        "modifiedAt": now,
        "attrs": {SPEED: [{"type": "Property", "value": 1, "createdAt": now, "modifiedAt": now}]},
    }


@pytest.fixture
async def service() -> AsyncIterator[tuple[EntityService, list[ChangeEvent]]]:
    store = SqliteStore(":memory:", Settings())
    await store.start()
    bus = EventBus()
    events: list[ChangeEvent] = []
    bus.subscribe(events.append)
    yield EntityService(store, bus), events
    await store.close()


def test_utc_now_is_an_ngsi_ld_datetime_close_to_the_clock() -> None:
    text = utc_now()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", text)
    parsed = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs(parsed.timestamp() - time.time()) < 1.0


def test_utc_now_advances_with_the_clock() -> None:
    first = utc_now()
    time.sleep(0.005)
    assert utc_now() > first


async def test_create_then_update_publishes_created_then_updated_events(
    service: tuple[EntityService, list[ChangeEvent]],
) -> None:
    svc, events = service
    await svc.create("", _entity("urn:ngsi-ld:Vehicle:1"))
    attrs = {SPEED: [{"type": "Property", "value": 2, "createdAt": "x", "modifiedAt": "x"}]}
    result = await svc.update_attrs("", "urn:ngsi-ld:Vehicle:1", ExpandedFragment(attrs=attrs))
    assert result.updated == [SPEED]
    assert [e.trigger for e in events] == ["entityCreated", "entityUpdated"]
    assert events[1].before is not None and events[1].after is not None
    assert events[1].before["attrs"][SPEED][0]["value"] == 1
    assert events[1].after["attrs"][SPEED][0]["value"] == 2


async def test_duplicate_create_is_already_exists_and_publishes_nothing(
    service: tuple[EntityService, list[ChangeEvent]],
) -> None:
    svc, events = service
    await svc.create("", _entity("urn:ngsi-ld:Vehicle:1"))
    with pytest.raises(AlreadyExists):
        await svc.create("", _entity("urn:ngsi-ld:Vehicle:1"))
    assert len(events) == 1


async def test_reading_an_unknown_tenant_is_nonexistent_tenant(
    service: tuple[EntityService, list[ChangeEvent]],
) -> None:
    svc, _ = service
    with pytest.raises(NonexistentTenant):
        await svc.get("nobody", "urn:ngsi-ld:Vehicle:1")
    await svc.create("somebody", _entity("urn:ngsi-ld:Vehicle:1"))
    with pytest.raises(ResourceNotFound) as info:
        await svc.get("somebody", "urn:ngsi-ld:Vehicle:2")
    assert not isinstance(info.value, NonexistentTenant)


async def test_delete_publishes_the_deleted_entity(
    service: tuple[EntityService, list[ChangeEvent]],
) -> None:
    svc, events = service
    await svc.create("", _entity("urn:ngsi-ld:Vehicle:1"))
    await svc.delete("", "urn:ngsi-ld:Vehicle:1")
    assert events[-1].trigger == "entityDeleted"
    assert events[-1].before is not None and events[-1].before["id"] == "urn:ngsi-ld:Vehicle:1"
    with pytest.raises(ResourceNotFound):
        await svc.delete("", "urn:ngsi-ld:Vehicle:1")
