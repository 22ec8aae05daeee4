"""The provisioning API of the FIWARE IoT Agents (default port 4041).

`/iot/groups` (and the older `/iot/services`, the same groups under another member name) and
`/iot/devices`, scoped by the `Fiware-Service` and `Fiware-ServicePath` headers. Answers and
errors have the IoT Agents' shapes (`{"count": n, "groups": [...]}`, `{"name":
"DUPLICATE_DEVICE_ID", "message": ...}`), so existing provisioning scripts work unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from adapters.iot_agent.provisioning import (
    DEFAULT_SERVICE_PATH,
    Device,
    Group,
    ProvisioningError,
    parse_device,
    parse_group,
    updated_device,
    updated_group,
)
from adapters.iot_agent.registry import Duplicate, Registry

VERSION = "1.0.0"
REGISTRY: web.AppKey[Registry] = web.AppKey("iot_agent_registry", Registry)
MAX_BODY = 16 * 1024 * 1024
"""Bulk provisioning of a province's devices in one request fits well under this."""


def provisioning_app(registry: Registry, port: int) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY, middlewares=[_errors])
    app[REGISTRY] = registry
    app.router.add_get("/iot/about", _about(port))
    for path, member in (("/iot/groups", "groups"), ("/iot/services", "services")):
        app.router.add_post(path, _add_groups(member))
        app.router.add_get(path, _list_groups(member))
        app.router.add_put(path, _update_group)
        app.router.add_delete(path, _delete_group)
    app.router.add_post("/iot/devices", _add_devices)
    app.router.add_get("/iot/devices", _list_devices)
    app.router.add_get("/iot/devices/{device_id}", _get_device)
    app.router.add_put("/iot/devices/{device_id}", _update_device)
    app.router.add_delete("/iot/devices/{device_id}", _delete_device)
    return app


class ApiError(Exception):
    def __init__(self, status: int, name: str, message: str) -> None:
        super().__init__(message)
        self.status, self.name, self.message = status, name, message


@web.middleware
async def _errors(
    request: web.Request, handler: Callable[[web.Request], Any]
) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except ApiError as exc:
        return _error(exc.status, exc.name, exc.message)
    except ProvisioningError as exc:
        return _error(400, "WRONG_SYNTAX", str(exc))
    except Duplicate as exc:
        name = "DUPLICATE_DEVICE_ID" if request.path.startswith("/iot/devices") else (
            "DUPLICATE_GROUP"
        )
        return _error(409, name, str(exc))


def _error(status: int, name: str, message: str) -> web.Response:
    return web.json_response({"name": name, "message": message}, status=status)


def _scope(request: web.Request) -> tuple[str, str]:
    """The tenant (`Fiware-Service`, "" for the default tenant) and service path."""
    service = request.headers.get("Fiware-Service", "").strip()
    path = request.headers.get("Fiware-ServicePath", "").strip() or DEFAULT_SERVICE_PATH
    if not path.startswith("/"):
        raise ApiError(400, "WRONG_SYNTAX", "Fiware-ServicePath must start with '/'")
    return service, path


async def _body(request: web.Request) -> Any:
    try:
        return json.loads(await request.read())
    except ValueError as exc:
        raise ApiError(400, "WRONG_SYNTAX", f"the body is not JSON: {exc}") from None


def _items(body: Any, member: str) -> list[Any]:
    if not isinstance(body, dict) or not isinstance(body.get(member), list):
        raise ApiError(400, "WRONG_SYNTAX", f"the body must be an object with a {member} array")
    items: list[Any] = body[member]
    return items


def _page(request: web.Request, items: list[Any]) -> list[Any]:
    try:
        offset = int(request.query.get("offset", "0"))
        limit = int(request.query.get("limit", str(len(items) or 1)))
    except ValueError:
        raise ApiError(400, "WRONG_SYNTAX", "limit and offset must be integers") from None
    if offset < 0 or limit < 0:
        raise ApiError(400, "WRONG_SYNTAX", "limit and offset must not be negative")
    return items[offset : offset + limit]


def _about(port: int) -> Callable[[web.Request], Any]:
    async def about(request: web.Request) -> web.Response:
        return web.json_response({
            "libVersion": VERSION, "port": str(port), "baseRoot": "/", "version": VERSION,
        })
    return about


# -- groups -------------------------------------------------------------------------------


def _add_groups(member: str) -> Callable[[web.Request], Any]:
    async def add_groups(request: web.Request) -> web.Response:
        service, path = _scope(request)
        body = await _body(request)
        if member == "groups" and isinstance(body, dict) and "services" in body:
            member_used = "services"
        else:
            member_used = member
        groups = [
            parse_group(item, f"{member_used}[{i}]", service, path)
            for i, item in enumerate(_items(body, member_used))
        ]
        request.app[REGISTRY].add_groups(groups)
        return web.Response(status=201)
    return add_groups


def _list_groups(member: str) -> Callable[[web.Request], Any]:
    async def list_groups(request: web.Request) -> web.Response:
        service, path = _scope(request)
        asked = request.headers.get("Fiware-ServicePath", "").strip() or None
        groups = request.app[REGISTRY].groups(service, asked and path)
        if "apikey" in request.query:
            groups = [g for g in groups if g.apikey == request.query["apikey"]]
        if "resource" in request.query:
            groups = [g for g in groups if g.resource == request.query["resource"]]
        return web.json_response({
            "count": len(groups), member: [g.to_json() for g in _page(request, groups)],
        })
    return list_groups


def _named_group(request: web.Request) -> Group:
    service, path = _scope(request)
    apikey = request.query.get("apikey")
    if not apikey:
        raise ApiError(400, "MISSING_PARAMETERS", "the apikey query parameter is required")
    registry = request.app[REGISTRY]
    resource = request.query.get("resource")
    if resource is not None:
        group = registry.group(service, path, apikey, resource)
    else:
        group = next((g for g in registry.groups(service, path) if g.apikey == apikey), None)
    if group is None:
        raise ApiError(
            404, "DEVICE_GROUP_NOT_FOUND",
            f"no group with apikey {apikey!r}"
            + (f" and resource {resource!r}" if resource is not None else "")
            + f" in service {service!r}, path {path!r}",
        )
    return group


async def _update_group(request: web.Request) -> web.Response:
    group = _named_group(request)
    body = await _body(request)
    changed = updated_group(group, body, "")
    registry = request.app[REGISTRY]
    if changed.key != group.key:
        registry.add_groups([changed])
        registry.remove_group(group)
    else:
        registry.replace_group(changed)
    return web.Response(status=204)


async def _delete_group(request: web.Request) -> web.Response:
    group = _named_group(request)
    registry = request.app[REGISTRY]
    if request.query.get("device", "").lower() == "true":
        for device in registry.devices(group.service, group.service_path):
            if device.apikey in (None, group.apikey):
                registry.remove_device(device)
    registry.remove_group(group)
    return web.Response(status=204)


# -- devices ------------------------------------------------------------------------------


async def _add_devices(request: web.Request) -> web.Response:
    service, path = _scope(request)
    body = await _body(request)
    devices = [
        parse_device(item, f"devices[{i}]", service, path)
        for i, item in enumerate(_items(body, "devices"))
    ]
    request.app[REGISTRY].add_devices(devices)
    return web.Response(status=201)


async def _list_devices(request: web.Request) -> web.Response:
    service, path = _scope(request)
    asked = request.headers.get("Fiware-ServicePath", "").strip() or None
    devices = request.app[REGISTRY].devices(service, asked and path)
    return web.json_response({
        "count": len(devices), "devices": [d.to_json() for d in _page(request, devices)],
    })


def _named_device(request: web.Request) -> Device:
    service, path = _scope(request)
    device_id = request.match_info["device_id"]
    device = request.app[REGISTRY].device(service, path, device_id)
    if device is None:
        raise ApiError(
            404, "DEVICE_NOT_FOUND",
            f"no device with id {device_id!r} in service {service!r}, path {path!r}",
        )
    return device


async def _get_device(request: web.Request) -> web.Response:
    return web.json_response(_named_device(request).to_json())


async def _update_device(request: web.Request) -> web.Response:
    device = _named_device(request)
    request.app[REGISTRY].replace_device(updated_device(device, await _body(request), ""))
    return web.Response(status=204)


async def _delete_device(request: web.Request) -> web.Response:
    request.app[REGISTRY].remove_device(_named_device(request))
    return web.Response(status=204)
