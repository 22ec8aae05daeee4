"""The MQTT topics of the IoT Agents' southbound, and what a topic names.

- `/json/{apikey}/{device}/attrs` and `/ul/{apikey}/{device}/attrs`: measures in JSON or
  UltraLight 2.0;
- the same followed by `/{attribute}`: one attribute's value;
- the legacy `/{apikey}/{device}/attrs[/{attribute}]`, whose format is the device's (or its
  group's) protocol.

The leading slash may be left out, as the agents allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SUBSCRIPTIONS = tuple(
    prefix + pattern
    for prefix in ("/", "")
    for pattern in (
        "json/+/+/attrs", "json/+/+/attrs/+", "ul/+/+/attrs", "ul/+/+/attrs/+",
        "+/+/attrs", "+/+/attrs/+",
    )
)
"""Topic filters covering every measures topic (no two match the same topic)."""


@dataclass(frozen=True, slots=True)
class Route:
    apikey: str
    device_id: str
    protocol: Literal["json", "ul"] | None
    attribute: str | None = None


def route_topic(topic: str) -> Route | None:
    """What a measures topic names; None for any other topic."""
    parts = topic[1:].split("/") if topic.startswith("/") else topic.split("/")
    if any(not part for part in parts):
        return None
    head = parts[0]
    if head in ("json", "ul") and len(parts) in (4, 5) and parts[3] == "attrs":
        protocol: Literal["json", "ul"] = "json" if head == "json" else "ul"
        return Route(parts[1], parts[2], protocol, parts[4] if len(parts) == 5 else None)
    if len(parts) in (3, 4) and parts[2] == "attrs":
        return Route(parts[0], parts[1], None, parts[3] if len(parts) == 4 else None)
    return None
