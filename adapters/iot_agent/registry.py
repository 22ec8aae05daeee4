"""The provisioned groups and devices: held in memory for the southbound look-ups, written
through to a SQLite file so that a restart finds them again.

Each row keeps the provisioning JSON (`Group.to_json()` / `Device.to_json()`), so the file
is readable with any SQLite client and survives changes to the dataclasses.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from adapters.iot_agent.provisioning import Device, Group, parse_device, parse_group

SCHEMA = """
CREATE TABLE IF NOT EXISTS groups (
    service TEXT NOT NULL, service_path TEXT NOT NULL, apikey TEXT NOT NULL,
    resource TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (service, service_path, apikey, resource)
);
CREATE TABLE IF NOT EXISTS devices (
    service TEXT NOT NULL, service_path TEXT NOT NULL, device_id TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (service, service_path, device_id)
);
"""


class Duplicate(Exception):
    """A group or device with the same key is provisioned already."""


class Registry:
    """Groups by (service, service path, apikey, resource); devices by (service, service
    path, device id). `path` is a SQLite file (its folder is created) or ":memory:"."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._groups: dict[tuple[str, str, str, str], Group] = {}
        self._by_apikey: dict[str, list[Group]] = {}
        self._devices: dict[tuple[str, str, str], Device] = {}
        self._device_by_apikey: dict[tuple[str, str], Device] = {}
        for service, path_, body in self._db.execute(
            "SELECT service, service_path, body FROM groups ORDER BY rowid"
        ):
            self._index_group(parse_group(json.loads(body), "", service, path_))
        for service, path_, body in self._db.execute(
            "SELECT service, service_path, body FROM devices ORDER BY rowid"
        ):
            self._index_device(parse_device(json.loads(body), "", service, path_))

    def close(self) -> None:
        self._db.close()

    # -- groups ---------------------------------------------------------------------------

    def groups(self, service: str, service_path: str | None = None) -> list[Group]:
        """A service's groups (all its service paths when `service_path` is None or "/*")."""
        return [
            g for g in self._groups.values()
            if g.service == service and service_path in (None, "/*", g.service_path)
        ]

    def group(self, service: str, service_path: str, apikey: str, resource: str) -> Group | None:
        return self._groups.get((service, service_path, apikey, resource))

    def group_for(self, apikey: str, resource: str | None = None) -> Group | None:
        """The group a southbound message's API key names; with several (other resources or
        services), the one for `resource`, else the first provisioned."""
        found = self._by_apikey.get(apikey)
        if not found:
            return None
        if resource is not None:
            for group in found:
                if group.resource == resource:
                    return group
        return found[0]

    def add_groups(self, groups: Iterable[Group]) -> None:
        """All or none: a duplicate (here or within `groups`) adds nothing."""
        new = list(groups)
        keys = [g.key for g in new]
        for group in new:
            if group.key in self._groups or keys.count(group.key) > 1:
                raise Duplicate(
                    f"a group with apikey {group.apikey!r} and resource {group.resource!r} "
                    "exists already"
                )
        with self._db:
            self._db.executemany(
                "INSERT INTO groups VALUES (?, ?, ?, ?, ?)",
                [(*g.key, json.dumps(g.to_json())) for g in new],
            )
        for group in new:
            self._index_group(group)

    def replace_group(self, group: Group) -> None:
        self._db.execute(
            "UPDATE groups SET body = ? WHERE service = ? AND service_path = ? AND apikey = ? "
            "AND resource = ?",
            (json.dumps(group.to_json()), *group.key),
        )
        old = self._groups[group.key]
        self._unindex_group(old)
        self._index_group(group)

    def remove_group(self, group: Group) -> None:
        self._db.execute(
            "DELETE FROM groups WHERE service = ? AND service_path = ? AND apikey = ? "
            "AND resource = ?",
            group.key,
        )
        self._unindex_group(group)

    def _index_group(self, group: Group) -> None:
        self._groups[group.key] = group
        self._by_apikey.setdefault(group.apikey, []).append(group)

    def _unindex_group(self, group: Group) -> None:
        self._groups.pop(group.key, None)
        siblings = [g for g in self._by_apikey.get(group.apikey, []) if g.key != group.key]
        if siblings:
            self._by_apikey[group.apikey] = siblings
        else:
            self._by_apikey.pop(group.apikey, None)

    # -- devices --------------------------------------------------------------------------

    def devices(self, service: str, service_path: str | None = None) -> list[Device]:
        return [
            d for d in self._devices.values()
            if d.service == service and service_path in (None, "/*", d.service_path)
        ]

    def device(self, service: str, service_path: str, device_id: str) -> Device | None:
        return self._devices.get((service, service_path, device_id))

    def device_for(self, apikey: str, device_id: str, group: Group | None) -> Device | None:
        """The device a southbound message names: in its group's service, or provisioned
        with that API key."""
        if group is not None:
            device = self._devices.get((group.service, group.service_path, device_id))
            if device is not None and device.apikey in (None, apikey):
                return device
        return self._device_by_apikey.get((apikey, device_id))

    def add_devices(self, devices: Iterable[Device]) -> None:
        """All or none: a duplicate (here or within `devices`) adds nothing."""
        new = list(devices)
        seen: set[tuple[str, str, str]] = set()
        for device in new:
            if device.key in self._devices or device.key in seen:
                raise Duplicate(f"a device with id {device.device_id!r} exists already")
            seen.add(device.key)
        with self._db:
            self._db.executemany(
                "INSERT INTO devices VALUES (?, ?, ?, ?)",
                [(*d.key, json.dumps(d.to_json())) for d in new],
            )
        for device in new:
            self._index_device(device)

    def replace_device(self, device: Device) -> None:
        self._db.execute(
            "UPDATE devices SET body = ? WHERE service = ? AND service_path = ? "
            "AND device_id = ?",
            (json.dumps(device.to_json()), *device.key),
        )
        self._unindex_device(self._devices[device.key])
        self._index_device(device)

    def remove_device(self, device: Device) -> None:
        self._db.execute(
            "DELETE FROM devices WHERE service = ? AND service_path = ? AND device_id = ?",
            device.key,
        )
        self._unindex_device(device)

    def _index_device(self, device: Device) -> None:
        self._devices[device.key] = device
        if device.apikey is not None:
            self._device_by_apikey[(device.apikey, device.device_id)] = device

    def _unindex_device(self, device: Device) -> None:
        self._devices.pop(device.key, None)
        if device.apikey is not None:
            self._device_by_apikey.pop((device.apikey, device.device_id), None)
