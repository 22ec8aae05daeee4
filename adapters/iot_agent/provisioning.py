"""Provisioned groups and devices, in the JSON form of the FIWARE IoT Agent provisioning API.

A group (`/iot/groups`, formerly `/iot/services`) is keyed by its `apikey` and `resource`
within a service (tenant) and service path; a device (`/iot/devices`) by its `device_id`
within a service and service path. Every parse error names the member, the way an operator
wrote it (`devices[3].attributes[0].object_id`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_SERVICE_PATH = "/"
ULTRALIGHT_RESOURCE = "/iot/d"
JSON_RESOURCE = "/iot/json"


class ProvisioningError(ValueError):
    """A provisioning body that does not fit; `field` is the member's path."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Attribute:
    """A measured attribute: `object_id` is what the device sends, `name` what the entity
    gets (the same when `object_id` is not given)."""

    name: str
    type: str = "Property"
    object_id: str | None = None
    unit_code: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.object_id or self.name

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.object_id is not None:
            out["object_id"] = self.object_id
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        elif self.unit_code is not None:
            out["metadata"] = {"unitCode": {"type": "Text", "value": self.unit_code}}
        return out


@dataclass(frozen=True, slots=True)
class StaticAttribute:
    name: str
    type: str
    value: Any
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "value": self.value}
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        return out


@dataclass(frozen=True, slots=True)
class Group:
    """A group of devices sharing an API key (a "service" in older IoT Agents)."""

    apikey: str
    resource: str = ""
    entity_type: str | None = None
    service: str = ""
    service_path: str = DEFAULT_SERVICE_PATH
    attributes: tuple[Attribute, ...] = ()
    static_attributes: tuple[StaticAttribute, ...] = ()
    timestamp: bool | None = None
    explicit_attrs: bool = False
    autoprovision: bool = True
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.service, self.service_path, self.apikey, self.resource)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        out |= {"apikey": self.apikey, "resource": self.resource}
        if self.entity_type is not None:
            out["entity_type"] = self.entity_type
        out |= {
            "service": self.service,
            "subservice": self.service_path,
            "attributes": [a.to_json() for a in self.attributes],
            "static_attributes": [a.to_json() for a in self.static_attributes],
            "explicitAttrs": self.explicit_attrs,
            "autoprovision": self.autoprovision,
        }
        if self.timestamp is not None:
            out["timestamp"] = self.timestamp
        return out


@dataclass(frozen=True, slots=True)
class Device:
    device_id: str
    service: str = ""
    service_path: str = DEFAULT_SERVICE_PATH
    apikey: str | None = None
    entity_name: str | None = None
    entity_type: str | None = None
    protocol: str | None = None
    transport: str | None = None
    attributes: tuple[Attribute, ...] = ()
    static_attributes: tuple[StaticAttribute, ...] = ()
    timestamp: bool | None = None
    explicit_attrs: bool | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.service, self.service_path, self.device_id)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        out["device_id"] = self.device_id
        out["service"] = self.service
        out["service_path"] = self.service_path
        for member, value in (
            ("apikey", self.apikey),
            ("entity_name", self.entity_name),
            ("entity_type", self.entity_type),
            ("protocol", self.protocol),
            ("transport", self.transport),
            ("timestamp", self.timestamp),
            ("explicitAttrs", self.explicit_attrs),
        ):
            if value is not None:
                out[member] = value
        out["attributes"] = [a.to_json() for a in self.attributes]
        out["static_attributes"] = [a.to_json() for a in self.static_attributes]
        return out


GROUP_MEMBERS = frozenset({
    "apikey", "resource", "entity_type", "attributes", "static_attributes", "timestamp",
    "explicitAttrs", "autoprovision", "service", "subservice", "cbroker", "trust",
    "lazy", "commands", "internal_attributes", "description", "entityNameExp",
    "expressionLanguage", "payloadType", "transport", "defaultEntityNameConjunction",
    "ngsiVersion",
})
DEVICE_MEMBERS = frozenset({
    "device_id", "entity_name", "entity_type", "apikey", "protocol", "transport",
    "attributes", "static_attributes", "timestamp", "explicitAttrs", "timezone", "endpoint",
    "lazy", "commands", "internal_attributes", "service", "service_path", "polling",
    "ngsiVersion", "payloadType", "expressionLanguage",
})


def parse_group(data: Any, where: str, service: str, service_path: str) -> Group:
    body = _object(data, where)
    _known(body, GROUP_MEMBERS, where)
    apikey = _string(body, "apikey", where, required=True)
    assert apikey is not None
    resource = _string(body, "resource", where) or ""
    return Group(
        apikey=apikey,
        resource=resource,
        entity_type=_string(body, "entity_type", where),
        service=service,
        service_path=service_path,
        attributes=_attributes(body, where),
        static_attributes=_static_attributes(body, where),
        timestamp=_bool(body, "timestamp", where),
        explicit_attrs=bool(_bool(body, "explicitAttrs", where)),
        autoprovision=_bool(body, "autoprovision", where) is not False,
        extra=_extra(body, ("cbroker", "trust", "lazy", "commands", "internal_attributes",
                            "description", "payloadType", "transport")),
    )


def parse_device(data: Any, where: str, service: str, service_path: str) -> Device:
    body = _object(data, where)
    _known(body, DEVICE_MEMBERS, where)
    device_id = _string(body, "device_id", where, required=True)
    assert device_id is not None
    return Device(
        device_id=device_id,
        service=service,
        service_path=service_path,
        apikey=_string(body, "apikey", where),
        entity_name=_string(body, "entity_name", where),
        entity_type=_string(body, "entity_type", where),
        protocol=_string(body, "protocol", where),
        transport=_string(body, "transport", where),
        attributes=_attributes(body, where),
        static_attributes=_static_attributes(body, where),
        timestamp=_bool(body, "timestamp", where),
        explicit_attrs=_bool(body, "explicitAttrs", where),
        extra=_extra(body, ("timezone", "endpoint", "lazy", "commands", "internal_attributes",
                            "polling", "payloadType")),
    )


def updated_group(group: Group, data: Any, where: str) -> Group:
    """`group` with the members `data` gives (PUT /iot/groups)."""
    merged = group.to_json() | dict(_object(data, where))
    merged.pop("service", None)
    merged.pop("subservice", None)
    return parse_group(merged, where, group.service, group.service_path)


def updated_device(device: Device, data: Any, where: str) -> Device:
    """`device` with the members `data` gives (PUT /iot/devices/{id}); the id stays."""
    changes = dict(_object(data, where))
    if "device_id" in changes and changes["device_id"] != device.device_id:
        raise ProvisioningError(_join(where, "device_id"), "a device's id cannot be changed")
    merged = device.to_json() | changes
    merged.pop("service", None)
    merged.pop("service_path", None)
    return parse_device(merged, where, device.service, device.service_path)


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _object(data: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ProvisioningError(where, "must be a JSON object")
    return data


def _known(body: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    for name in body:
        if name not in allowed:
            raise ProvisioningError(_join(where, name), "unknown member")


def _string(
    body: Mapping[str, Any], name: str, where: str, *, required: bool = False
) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise ProvisioningError(_join(where, name), "is required")
        return None
    if not isinstance(value, str) or (required and not value):
        raise ProvisioningError(_join(where, name), "must be a non-empty string")
    return value


def _bool(body: Mapping[str, Any], name: str, where: str) -> bool | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise ProvisioningError(_join(where, name), "must be true or false")
    return value


def _list(body: Mapping[str, Any], name: str, where: str) -> list[Any]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ProvisioningError(_join(where, name), "must be an array")
    return value


def _extra(body: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: body[name] for name in names if name in body}


def _unit_code(metadata: Mapping[str, Any], where: str) -> str | None:
    unit = metadata.get("unitCode")
    if unit is None:
        return None
    if isinstance(unit, Mapping):
        unit = unit.get("value")
    if not isinstance(unit, str) or not unit:
        raise ProvisioningError(_join(where, "metadata.unitCode"), "must be a unit code string")
    return unit


def _attributes(body: Mapping[str, Any], where: str) -> tuple[Attribute, ...]:
    found: list[Attribute] = []
    path = _join(where, "attributes")
    for index, item in enumerate(_list(body, "attributes", where)):
        at = f"{path}[{index}]"
        entry = _object(item, at)
        object_id = _string(entry, "object_id", at)
        name = _string(entry, "name", at) or object_id
        if name is None:
            raise ProvisioningError(_join(at, "name"), "is required")
        metadata = entry.get("metadata") or {}
        if not isinstance(metadata, Mapping):
            raise ProvisioningError(_join(at, "metadata"), "must be a JSON object")
        unit = _string(entry, "unitCode", at) or _unit_code(metadata, at)
        found.append(Attribute(
            name=name,
            type=_string(entry, "type", at) or "Property",
            object_id=object_id,
            unit_code=unit,
            metadata=dict(metadata),
        ))
    return tuple(found)


def _static_attributes(body: Mapping[str, Any], where: str) -> tuple[StaticAttribute, ...]:
    found: list[StaticAttribute] = []
    path = _join(where, "static_attributes")
    for index, item in enumerate(_list(body, "static_attributes", where)):
        at = f"{path}[{index}]"
        entry = _object(item, at)
        name = _string(entry, "name", at, required=True)
        assert name is not None
        if "value" not in entry:
            raise ProvisioningError(_join(at, "value"), "is required")
        metadata = entry.get("metadata") or {}
        if not isinstance(metadata, Mapping):
            raise ProvisioningError(_join(at, "metadata"), "must be a JSON object")
        found.append(StaticAttribute(
            name=name,
            type=_string(entry, "type", at) or "Property",
            value=entry["value"],
            metadata=dict(metadata),
        ))
    return tuple(found)
