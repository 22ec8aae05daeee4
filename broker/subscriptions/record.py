"""The stored form of a subscription, and what is derived from it without any context.

A stored subscription (`SubscriptionRecord`) is the Subscription data type of clause 5.2.12
with every name expanded, defaults filled in and the request's @context kept::

    {
      "id": "urn:ngsi-ld:Subscription:...", "type": "Subscription",
      "subscriptionName"?: str, "description"?: str,
      "entities"?: [{"id"?: URI, "idPattern"?: regex, "type"?: type expression of IRIs}],
      "watchedAttributes"?: [IRI, ...],
      "notificationTrigger": [trigger, ...],          # default attributeCreated, attributeUpdated
      "q"?: q AST as JSON (qcodec), "csf"?: likewise,
      "geoQ"?: {"georel", "geometry", "coordinates", "geoproperty": IRI},
      "scopeQ"?: str, "lang"?: str,
      "isActive": bool, "expiresAt"?: DateTime, "throttling"?: seconds, "timeInterval"?: seconds,
      "notification": {
        "attributes"?: [IRI, ...], "format": "normalized" | "concise" | "keyValues",
        "showChanges": bool, "sysAttrs": bool,
        "endpoint": {"uri", "accept", "timeout"?: ms, "cooldown"?: ms,
                     "receiverInfo"?: [{"key", "value"}], "notifierInfo"?: [{"key", "value"}]},
      },
      "jsonldContext"?: URI,
      "@context"?: the @context of the request that created (or last patched) it,
      "createdAt": DateTime, "modifiedAt": DateTime,
    }

Delivery counters are kept apart (`DeliveryStats`), see stats.py.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, TypeAlias

SubscriptionRecord: TypeAlias = dict[str, Any]

TRIGGERS = (
    "entityCreated",
    "entityUpdated",
    "entityDeleted",
    "attributeCreated",
    "attributeUpdated",
    "attributeDeleted",
)
DEFAULT_TRIGGERS = ("attributeCreated", "attributeUpdated")
FORMATS = ("normalized", "concise", "keyValues")
ACCEPTS = ("application/json", "application/ld+json", "application/geo+json")
HTTP_SCHEMES = ("http", "https")
MQTT_SCHEMES = ("mqtt", "mqtts")
ID_PREFIX = "urn:ngsi-ld:Subscription:"


def epoch_of(datetime_text: str) -> float:
    """Seconds since the epoch of an NGSI-LD DateTime (UTC, `Z`)."""
    parsed = datetime.strptime(datetime_text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    fraction = datetime_text[19:-1].lstrip(".")
    return parsed.timestamp() + (float("0." + fraction) if fraction else 0.0)


def expires_epoch(record: SubscriptionRecord) -> float | None:
    expires = record.get("expiresAt")
    return None if expires is None else epoch_of(expires)


def subscription_status(record: SubscriptionRecord, now: float | None = None) -> str:
    """`status` of clause 5.2.12: "paused" when isActive is false, "expired" once expiresAt
    has passed, "active" otherwise."""
    if not record.get("isActive", True):
        return "paused"
    expires = expires_epoch(record)
    if expires is not None and expires <= (time.time() if now is None else now):
        return "expired"
    return "active"
