"""An MQTT notification endpoint (clause 7.2): `mqtt[s]://[user[:password]@]host[:port]/topic`
and the `notifierInfo` keys `MQTT-Version` (`mqtt3.1.1` | `mqtt5.0`, default `mqtt5.0`) and
`MQTT-QoS` (`0` | `1` | `2`, default `0`).

`MqttBroker` names one connection: subscriptions whose endpoints share scheme, host, port,
credentials and protocol version publish through the same one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

VERSIONS = ("mqtt3.1.1", "mqtt5.0")
DEFAULT_VERSION = "mqtt5.0"
QOS_LEVELS = ("0", "1", "2")
DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
VERSION_KEY = "MQTT-Version"
QOS_KEY = "MQTT-QoS"


class BadMqttEndpoint(ValueError):
    """The endpoint cannot be published to; `field` names the member at fault."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field


@dataclass(frozen=True, slots=True)
class MqttBroker:
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None
    version: str

    @property
    def tls(self) -> bool:
        return self.scheme == "mqtts"

    @property
    def key(self) -> str:
        """A name for the connection's queue that does not show the password."""
        user = ""
        if self.username is not None:
            secret = hashlib.sha256((self.password or "").encode()).hexdigest()[:8]
            user = f"{self.username}:{secret}@"
        return f"{self.scheme}://{user}{self.host}:{self.port}#{self.version}"


@dataclass(frozen=True, slots=True)
class MqttEndpoint:
    broker: MqttBroker
    topic: str
    qos: int


def mqtt_endpoint(endpoint: dict[str, Any]) -> MqttEndpoint:
    """The MQTT endpoint of a stored (or parsed) `notification.endpoint`."""
    uri = endpoint["uri"]
    field = "notification.endpoint.uri"
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError as exc:
        raise BadMqttEndpoint(field, f"{uri!r} is not a valid MQTT URI ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise BadMqttEndpoint(field, f"{uri!r} is not an mqtt or mqtts URI")
    if not parts.hostname:
        raise BadMqttEndpoint(field, f"{uri!r} has no host")
    topic = unquote(parts.path[1:]) if parts.path.startswith("/") else ""
    if not topic:
        raise BadMqttEndpoint(field, f"{uri!r} names no topic (mqtt://host:port/topic)")
    if "+" in topic or "#" in uri:
        raise BadMqttEndpoint(field, f"the topic {topic!r} must not hold the wildcards + or #")
    if parts.query:
        raise BadMqttEndpoint(field, f"{uri!r} must not have a query")
    info = {pair["key"]: pair["value"] for pair in endpoint.get("notifierInfo", ())}
    version = info.get(VERSION_KEY, DEFAULT_VERSION)
    if version not in VERSIONS:
        raise BadMqttEndpoint(
            "notification.endpoint.notifierInfo",
            f"{VERSION_KEY} {version!r} is not one of {', '.join(VERSIONS)}",
        )
    qos = info.get(QOS_KEY, "0")
    if qos not in QOS_LEVELS:
        raise BadMqttEndpoint(
            "notification.endpoint.notifierInfo",
            f"{QOS_KEY} {qos!r} is not one of {', '.join(QOS_LEVELS)}",
        )
    broker = MqttBroker(
        scheme=scheme,
        host=parts.hostname.lower(),
        port=port or DEFAULT_PORTS[scheme],
        username=None if parts.username is None else unquote(parts.username),
        password=None if parts.password is None else unquote(parts.password),
        version=version,
    )
    return MqttEndpoint(broker, topic, int(qos))
