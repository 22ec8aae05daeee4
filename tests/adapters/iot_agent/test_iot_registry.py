"""The registry of provisioned groups and devices: look-ups, duplicates, persistence."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.iot_agent.provisioning import Device, Group, parse_device, parse_group
from adapters.iot_agent.registry import Duplicate, Registry


def group(apikey: str = "key1", resource: str = "/iot/json", service: str = "city") -> Group:
    return parse_group(
        {"apikey": apikey, "resource": resource, "entity_type": "WeatherObserved",
         "attributes": [{"object_id": "t", "name": "temperature", "type": "Number"}]},
        "", service, "/",
    )


def device(device_id: str = "dev1", service: str = "city", apikey: str | None = None) -> Device:
    return parse_device({"device_id": device_id, "apikey": apikey}, "", service, "/")


def test_groups_and_devices_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "registry" / "iot-agent.db"
    registry = Registry(path)
    registry.add_groups([group()])
    registry.add_devices([device("dev1"), device("dev2", apikey="key1")])
    registry.close()

    reopened = Registry(path)
    assert reopened.groups("city") == [group()]
    assert reopened.device("city", "/", "dev1") == device("dev1")
    assert reopened.device_for("key1", "dev2", None) == device("dev2", apikey="key1")
    reopened.close()


def test_a_duplicate_in_a_bulk_request_adds_none_of_it() -> None:
    registry = Registry()
    registry.add_devices([device("dev1")])
    with pytest.raises(Duplicate, match="dev1"):
        registry.add_devices([device("dev2"), device("dev1")])
    with pytest.raises(Duplicate, match="dev3"):
        registry.add_devices([device("dev3"), device("dev3")])
    assert [d.device_id for d in registry.devices("city")] == ["dev1"]


def test_services_are_apart() -> None:
    registry = Registry()
    registry.add_groups([group(service="a"), group(service="b")])
    registry.add_devices([device("dev1", service="a")])
    assert registry.devices("b") == []
    assert [g.service for g in registry.groups("a")] == ["a"]


def test_an_api_key_with_several_resources_picks_the_protocol_s_group() -> None:
    registry = Registry()
    registry.add_groups([group(resource="/iot/json"), group(resource="/iot/d")])
    chosen = registry.group_for("key1", "/iot/d")
    assert chosen is not None and chosen.resource == "/iot/d"
    first = registry.group_for("key1")
    assert first is not None and first.resource == "/iot/json"
    assert registry.group_for("other") is None


def test_a_device_with_another_api_key_is_not_found_through_a_group() -> None:
    registry = Registry()
    registry.add_groups([group("key1")])
    registry.add_devices([device("dev1", apikey="key2")])
    assert registry.device_for("key1", "dev1", registry.group_for("key1")) is None
    assert registry.device_for("key2", "dev1", None) == device("dev1", apikey="key2")


def test_removed_and_replaced_entries_are_gone_after_reopening(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    registry = Registry(path)
    registry.add_groups([group("key1"), group("key2")])
    registry.add_devices([device("dev1"), device("dev2")])
    registry.remove_group(group("key1"))
    registry.remove_device(device("dev1"))
    renamed = parse_device({"device_id": "dev2", "entity_name": "urn:ngsi-ld:X:2"}, "", "city", "/")
    registry.replace_device(renamed)
    registry.close()
    reopened = Registry(path)
    assert [g.apikey for g in reopened.groups("city")] == ["key2"]
    assert reopened.group_for("key1") is None
    assert reopened.devices("city") == [renamed]
