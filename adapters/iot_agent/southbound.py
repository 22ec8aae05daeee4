"""The two ways devices reach the agent: MQTT topics and the HTTP southbound (port 7896).

HTTP: `POST /iot/json?k={apikey}&i={device}` with a JSON body, and UltraLight
`GET /iot/d?k=&i=&d={measures}` or `POST /iot/d?k=&i=` with the measures as the body; `t`
gives a timestamp for measures that carry none. Errors have the IoT Agents' shape
(`{"name": ..., "message": ...}`).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import uuid
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import aiomqtt
from aiohttp import web

from adapters.iot_agent.measures import MeasureError
from adapters.iot_agent.topics import SUBSCRIPTIONS, route_topic
from adapters.sdk import AdapterContext

if TYPE_CHECKING:
    from adapters.iot_agent.agent import IotAgent, Protocol

log = logging.getLogger("agora.adapters.iot-agent")
AGENT: web.AppKey[IotAgent] = web.AppKey("iot_agent", object)  # type: ignore[arg-type]
MAX_BODY = 1024 * 1024


# -- HTTP ---------------------------------------------------------------------------------


def http_app(agent: IotAgent) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY)
    app[AGENT] = agent
    app.router.add_post("/iot/json", _json)
    app.router.add_get("/iot/d", _ultralight)
    app.router.add_post("/iot/d", _ultralight)
    return app


def _error(status: int, name: str, message: str) -> web.Response:
    return web.json_response({"name": name, "message": message}, status=status)


async def _json(request: web.Request) -> web.Response:
    return await _southbound(request, "json", await request.read())


async def _ultralight(request: web.Request) -> web.Response:
    if request.method == "GET":
        payload = request.query.get("d", "").encode()
    else:
        payload = await request.read()
    return await _southbound(request, "ul", payload)


async def _southbound(request: web.Request, protocol: Protocol, payload: bytes) -> web.Response:
    from adapters.iot_agent.agent import Unplaced

    agent = request.app[AGENT]
    ctx = agent.ctx
    assert ctx is not None
    apikey, device_id = request.query.get("k"), request.query.get("i")
    if not apikey or not device_id:
        ctx.message_received()
        ctx.error("HTTP %s %s without the k (API key) and i (device) parameters",
                  request.method, request.path)
        return _error(400, "MANDATORY_PARAMS_NOT_FOUND",
                      "the k (API key) and i (device id) query parameters are required")
    ctx.message_received()
    await ctx.wait_for_room()
    try:
        agent.measure(apikey, device_id, protocol, payload, timestamp=request.query.get("t"))
    except Unplaced as exc:
        ctx.error("HTTP %s for device %s: %s", request.path, device_id, exc)
        return _error(404, "DEVICE_GROUP_NOT_FOUND", str(exc))
    except MeasureError as exc:
        ctx.error("HTTP %s for device %s: %s", request.path, device_id, exc)
        return _error(400, "BAD_REQUEST", str(exc))
    return web.Response(status=200)


# -- MQTT ---------------------------------------------------------------------------------


def mqtt_client(url: str, client_id: str) -> aiomqtt.Client:
    parts = urlsplit(url)
    tls = parts.scheme == "mqtts"
    return aiomqtt.Client(
        parts.hostname or "127.0.0.1",
        parts.port or (8883 if tls else 1883),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        identifier=client_id or f"agora-iot-agent-{uuid.uuid4().hex[:8]}",
        tls_context=ssl.create_default_context() if tls else None,
    )


async def run_mqtt(agent: IotAgent, ctx: AdapterContext) -> None:
    """Subscribe to the measures topics and ingest what arrives; reconnect with backoff."""
    config = agent.config
    delay = 0.5
    shown = urlsplit(config.mqtt_url)._replace(netloc=urlsplit(config.mqtt_url).hostname or "")
    while True:
        try:
            async with mqtt_client(config.mqtt_url, config.mqtt_client_id) as client:
                await client.subscribe([(topic, config.mqtt_qos) for topic in SUBSCRIPTIONS])
                log.info("iot-agent subscribed to the measures topics on %s", shown.geturl())
                agent.mqtt_ready.set()
                delay = 0.5
                async for message in client.messages:
                    topic = message.topic.value
                    payload = message.payload
                    if not isinstance(payload, bytes | bytearray):
                        payload = str(payload).encode()
                    route = route_topic(topic)
                    if route is None:
                        ctx.message_received()
                        ctx.error("a message on topic %s, which is not a measures topic", topic)
                        continue
                    await agent.ingest(route, bytes(payload), f"topic {topic}")
        except aiomqtt.MqttError as exc:
            agent.mqtt_ready.clear()
            ctx.error("MQTT broker %s: %s; reconnecting in %.1fs", shown.geturl(), exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, config.reconnect_max)
