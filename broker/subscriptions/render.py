"""A stored subscription -> its wire form in the terms of a request's @context (clause 5.2.12),
with the read-only members: `status`, and under `notification` the delivery counters."""

from __future__ import annotations

from typing import Any

from broker.jsonld import TermMap
from broker.query.q import unparse
from broker.subscriptions.parse import compact_types
from broker.subscriptions.qcodec import compact_q, q_from_json
from broker.subscriptions.record import SubscriptionRecord, subscription_status
from broker.subscriptions.stats import DeliveryStats

_PLAIN = (
    "subscriptionName",
    "description",
    "notificationTrigger",
    "timeInterval",
    "scopeQ",
    "lang",
    "isActive",
    "expiresAt",
    "throttling",
    "jsonldContext",
)


def render_subscription(
    record: SubscriptionRecord,
    stats: DeliveryStats,
    terms: TermMap,
    *,
    sys_attrs: bool = False,
    now: float | None = None,
) -> dict[str, Any]:
    compact = terms.compact_iri
    out: dict[str, Any] = {"id": record["id"], "type": "Subscription"}
    for member in ("subscriptionName", "description"):
        if member in record:
            out[member] = record[member]
    if "entities" in record:
        out["entities"] = [
            {
                **{k: v for k, v in selector.items() if k != "type"},
                **(
                    {"type": compact_types(selector["type"], terms)}
                    if "type" in selector
                    else {}
                ),
            }
            for selector in record["entities"]
        ]
    if "watchedAttributes" in record:
        out["watchedAttributes"] = [compact(n) for n in record["watchedAttributes"]]
    for member in ("q", "csf"):
        if member in record:
            out[member] = unparse(compact_q(q_from_json(record[member]), terms))
    if "geoQ" in record:
        geo = record["geoQ"]
        out["geoQ"] = {**geo, "geoproperty": compact(geo["geoproperty"])}
    for member in _PLAIN:
        if member in record and member not in out:
            out[member] = record[member]
    out["notification"] = _notification(record["notification"], stats, terms)
    out["status"] = subscription_status(record, now)
    if sys_attrs:
        out["createdAt"] = record["createdAt"]
        out["modifiedAt"] = record["modifiedAt"]
    return out


def _notification(
    stored: dict[str, Any], stats: DeliveryStats, terms: TermMap
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "attributes" in stored:
        out["attributes"] = [terms.compact_iri(n) for n in stored["attributes"]]
    for member in ("format", "showChanges", "sysAttrs", "endpoint"):
        if member in stored:
            out[member] = stored[member]
    out.update(stats.as_members())
    return out
