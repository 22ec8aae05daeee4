"""What an MQTT server delivers, read by a paho client in its own thread: every message
published on the server, by topic (a QoS 2 subscription to #)."""

from __future__ import annotations

import threading
import time
from typing import Any

import orjson
import paho.mqtt.client as mqtt


class MqttInbox:
    """Every message published on the server, by topic (a QoS 2 subscription to #)."""

    def __init__(self, port: int) -> None:
        self._cond = threading.Condition()
        self._messages: dict[str, list[tuple[int, Any]]] = {}
        subscribed = threading.Event()
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        client.on_message = self._on_message
        client.on_subscribe = lambda *args: subscribed.set()
        client.connect("127.0.0.1", port)
        client.subscribe("#", qos=2)
        client.loop_start()
        if not subscribed.wait(10):
            raise RuntimeError("the MQTT subscription was not acknowledged")
        self._client = client

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        with self._cond:
            self._messages.setdefault(message.topic, []).append(
                (message.qos, orjson.loads(message.payload))
            )
            self._cond.notify_all()

    def wait_for(self, topic: str, count: int = 1, within: float = 10) -> list[tuple[int, Any]]:
        deadline = time.monotonic() + within
        with self._cond:
            while len(self._messages.get(topic, [])) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no MQTT notification on {topic}")
                self._cond.wait(left)
            return list(self._messages[topic])

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()
