"""Shared by the subscription modules: a fresh entity type per test (so no other test's
entities notify it), subscription payloads, and `Subscriptions`, which remembers what a test
created so that the `subscriptions` fixture can delete it."""

from __future__ import annotations

import time
import uuid
from typing import Any

from conformance_tests.client import API, Client, quote

SUBSCRIPTIONS = f"{API}/subscriptions"


def fresh_type() -> str:
    return f"Sensor{uuid.uuid4().hex[:10]}"


def subscription_body(entity_type: str, uri: str, **members: Any) -> dict[str, Any]:
    notification: dict[str, Any] = {"endpoint": {"uri": uri}}
    notification.update(members.pop("notification", {}))
    body: dict[str, Any] = {
        "type": "Subscription",
        "entities": [{"type": entity_type}],
        "notification": notification,
    }
    body.update(members)
    return body


def sensor(entity_type: str, n: int | str = 1, **attrs: Any) -> dict[str, Any]:
    entity: dict[str, Any] = {"id": f"urn:ngsi-ld:{entity_type}:{n}", "type": entity_type}
    for name, value in attrs.items():
        entity[name] = {"type": "Property", "value": value}
    return entity


def shown_notification(c: Client, path: str, status: str, within: float = 15) -> dict[str, Any]:
    """The subscription's `notification` member once its status is `status`."""
    deadline = time.monotonic() + within
    while True:
        shown: dict[str, Any] = c.get(path).json()["notification"]
        if shown.get("status") == status or time.monotonic() > deadline:
            return shown
        time.sleep(0.1)


def subscription_path(subscription_id: str) -> str:
    return f"{SUBSCRIPTIONS}/{quote(subscription_id)}"


class Subscriptions:
    """Creates subscriptions and remembers them, so the fixture can delete them."""

    def __init__(self) -> None:
        self.created: list[tuple[Client, str]] = []

    def create(self, client: Client, body: dict[str, Any], **kw: Any) -> str:
        """POST /subscriptions; asserts 201 and returns the subscription's path."""
        r = client.post(SUBSCRIPTIONS, json=body, **kw)
        assert r.status == 201, f"creating a subscription failed: {r}"
        location = r.header("location")
        assert location, r
        path = location.split("://", 1)[-1]
        path = path[path.index("/"):] if not location.startswith("/") else location
        self.created.append((client, path))
        return path

    def delete_all(self) -> None:
        for client, path in self.created:
            client.delete(path)
