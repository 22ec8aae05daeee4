"""The iot-agent adapter's configuration; the defaults are those of the FIWARE IoT Agents."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class IotAgentConfig:
    """Where the agent listens and how measures become entities.

    `mqtt_url` empty turns the MQTT southbound off; `http_port` 0 the HTTP one. `registry`
    is the SQLite file keeping provisioned groups and devices (":memory:" keeps nothing).
    `context` is the @context URL sent with the entities; empty means: the Smart Data Models
    context of the entity's type when the type is a bundled model, else the core context.
    """

    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_client_id: str = ""
    mqtt_qos: int = 0
    provisioning_host: str = "0.0.0.0"
    provisioning_port: int = 4041
    http_host: str = "0.0.0.0"
    http_port: int = 7896
    registry: str = "data/iot-agent.db"
    default_type: str = "Thing"
    timestamp: bool = True
    context: str = ""
    reconnect_max: float = 30.0

    def __post_init__(self) -> None:
        if self.mqtt_url:
            parts = urlsplit(self.mqtt_url)
            if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
                raise ValueError("mqtt_url must be mqtt://host[:port] or mqtts://host[:port]")
        if self.mqtt_qos not in (0, 1, 2):
            raise ValueError("mqtt_qos must be 0, 1 or 2")
        for name in ("provisioning_port", "http_port"):
            port = getattr(self, name)
            if not 0 <= port <= 65535:
                raise ValueError(f"{name} must be a port number (0 turns it off)")
        if self.reconnect_max <= 0:
            raise ValueError("reconnect_max must be positive")
