"""The iot-agent adapter: provisioning API, MQTT and HTTP southbound, measures to entities.

Every southbound message goes through `IotAgent.measure`: find the group by API key and the
device by id (provisioning one when the group allows it), parse the payload, build one
entity per measure group and publish it. A message that cannot be placed or parsed is
counted as an error and logged with where it came from; it never stops the agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal

from aiohttp import web

from adapters.iot_agent.config import IotAgentConfig
from adapters.iot_agent.entities import build_entity
from adapters.iot_agent.measures import (
    MeasureError,
    Measures,
    parse_json,
    parse_single,
    parse_ultralight,
)
from adapters.iot_agent.northbound import provisioning_app
from adapters.iot_agent.provisioning import JSON_RESOURCE, ULTRALIGHT_RESOURCE, Device, Group
from adapters.iot_agent.registry import Duplicate, Registry
from adapters.iot_agent.topics import Route, route_topic
from adapters.sdk import AdapterContext
from data_models.registry import get_model

Protocol = Literal["json", "ul"]
SDM_CONTEXT = "https://raw.githubusercontent.com/smart-data-models/dataModel.{subject}/master/context.jsonld"
"""The Smart Data Models context of a subject, as the models' own examples cite it."""

log = logging.getLogger("agora.adapters.iot-agent")


class Unplaced(Exception):
    """A message whose API key or device is not provisioned (and not auto-provisioned)."""


class IotAgent:
    def __init__(self, config: IotAgentConfig) -> None:
        self.config = config
        self.registry: Registry | None = None
        self.ctx: AdapterContext | None = None
        self._runners: list[web.AppRunner] = []
        self._mqtt: asyncio.Task[None] | None = None
        self.ports: dict[str, int] = {}
        self.mqtt_ready = asyncio.Event()
        """Set while subscribed to the measures topics."""

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self, ctx: AdapterContext) -> None:
        from adapters.iot_agent.southbound import http_app, run_mqtt

        self.ctx = ctx
        self.registry = Registry(self.config.registry)
        if self.config.provisioning_port:
            await self._listen(
                "provisioning",
                provisioning_app(self.registry, self.config.provisioning_port),
                self.config.provisioning_host, self.config.provisioning_port,
            )
        if self.config.http_port:
            await self._listen("http", http_app(self), self.config.http_host,
                               self.config.http_port)
        if self.config.mqtt_url:
            self._mqtt = asyncio.create_task(run_mqtt(self, ctx))

    async def _listen(self, name: str, app: web.Application, host: str, port: int) -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runners.append(runner)
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.ports[name] = sockets[0].getsockname()[1] if sockets else port
        log.info("iot-agent %s API on http://%s:%s", name, host, self.ports[name])

    async def stop(self) -> None:
        if self._mqtt is not None:
            self._mqtt.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._mqtt
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()
        if self.registry is not None:
            self.registry.close()

    async def handle_message(self, payload: bytes, topic: str | None = None) -> None:
        """An MQTT message as the broker delivers it (the test kit replays these)."""
        if topic is None:
            raise ValueError("the iot-agent needs the MQTT topic of a message")
        route = route_topic(topic)
        if route is None:
            self._error("a message on topic %s, which is not a measures topic", topic)
            return
        await self.ingest(route, payload, f"topic {topic}")

    # -- measures -------------------------------------------------------------------------

    async def ingest(self, route: Route, payload: bytes, origin: str) -> None:
        ctx = self.ctx
        assert ctx is not None, "start the adapter first"
        ctx.message_received()
        await ctx.wait_for_room()
        try:
            self.measure(route.apikey, route.device_id, route.protocol, payload,
                         attribute=route.attribute)
        except (Unplaced, MeasureError) as exc:
            self._error("%s: %s", origin, exc)

    def measure(
        self,
        apikey: str,
        device_id: str,
        protocol: Protocol | None,
        payload: bytes,
        *,
        attribute: str | None = None,
        timestamp: str | None = None,
    ) -> int:
        """Publish the entities of one message; returns how many. `protocol` None: by the
        device's or group's protocol, else by the payload's first character."""
        ctx = self.ctx
        assert ctx is not None and self.registry is not None, "start the adapter first"
        group, device = self._place(apikey, device_id, protocol)
        kind = protocol or _protocol_of(device, group, payload)
        if attribute is not None:
            updates = [parse_single(payload, attribute, kind == "ul")]
        elif kind == "ul":
            try:
                text = payload.decode()
            except UnicodeDecodeError:
                raise MeasureError("an UltraLight payload must be UTF-8 text") from None
            updates = parse_ultralight(text)
        else:
            updates = parse_json(payload)
        received = _now()
        for update in updates:
            if timestamp is not None and update.timestamp is None:
                update = Measures(update.values, timestamp)
            entity = build_entity(
                device, group, update, received,
                default_type=self.config.default_type, timestamp=self.config.timestamp,
            )
            _date_observed(entity, received)
            ctx.publish(entity, tenant=device.service or None,
                        context=self._context(entity["type"]))
        return len(updates)

    def _place(
        self, apikey: str, device_id: str, protocol: Protocol | None
    ) -> tuple[Group | None, Device]:
        assert self.registry is not None
        resource = {"ul": ULTRALIGHT_RESOURCE, "json": JSON_RESOURCE}.get(protocol or "")
        group = self.registry.group_for(apikey, resource)
        device = self.registry.device_for(apikey, device_id, group)
        if device is not None:
            return group, device
        if group is None:
            raise Unplaced(f"no group is provisioned with API key {apikey!r}")
        if not group.autoprovision:
            raise Unplaced(
                f"device {device_id!r} is not provisioned and group {apikey!r} does not "
                "provision devices on first message"
            )
        device = Device(device_id=device_id, service=group.service,
                        service_path=group.service_path, apikey=apikey,
                        entity_type=group.entity_type)
        with contextlib.suppress(Duplicate):
            self.registry.add_devices([device])
            log.info("provisioned device %s of group %s on its first message",
                     device_id, apikey)
        return group, device

    def _context(self, entity_type: str) -> str | None:
        if self.config.context:
            return self.config.context
        model = get_model(entity_type)
        return SDM_CONTEXT.format(subject=model.subject) if model is not None else None

    def _error(self, message: str, *args: object) -> None:
        if self.ctx is not None:
            self.ctx.error(message, *args)
        else:
            log.error(message, *args)


def _protocol_of(device: Device, group: Group | None, payload: bytes) -> Protocol:
    named = (device.protocol or "").lower()
    if "ul" in named or "ultralight" in named:
        return "ul"
    if "json" in named:
        return "json"
    if group is not None and group.resource in (ULTRALIGHT_RESOURCE, JSON_RESOURCE):
        return "ul" if group.resource == ULTRALIGHT_RESOURCE else "json"
    return "json" if payload.lstrip()[:1] in (b"{", b"[") else "ul"


@cache
def _observes(entity_type: str) -> bool:
    model = get_model(entity_type)
    return model is not None and "dateObserved" in model.attributes


def _date_observed(entity: dict[str, Any], received: str) -> None:
    """A model with `dateObserved` (and most require it) gets the update's time there, the
    latest `observedAt` of its measures, unless a measure or static attribute set it."""
    if "dateObserved" in entity or not _observes(entity["type"]):
        return
    times = [a["observedAt"] for a in entity.values()
             if isinstance(a, dict) and isinstance(a.get("observedAt"), str)]
    when = max(times) if times else received
    entity["dateObserved"] = {"type": "Property", "value": {"@type": "DateTime", "@value": when}}


def _now() -> str:
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
