"""The Notification of clause 5.3.1 for one fired subscription, as an HTTP request (clause
6.3.x binding): body, Content-Type, the @context as a `Link` header (application/json,
application/geo+json) or inline (application/ld+json), and the receiverInfo headers.

Entities are rendered with the subscription's `notification.format`, `attributes`,
`sysAttrs` and `lang`, compacted with `jsonldContext` when given, else with the @context the
subscription was created with. A deleted attribute appears with the NGSI-LD Null
(`urn:ngsi-ld:null`, clause 5.2.1); a deleted entity as its id, type and `deletedAt`.
With `showChanges`, updated attributes carry their previous value (`previousValue`,
`previousObject`, `previousLanguageMap`, ...).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from broker.events import ChangeEvent
from broker.jsonld import ContextResolver, TermMap
from broker.model.render import RenderOptions, render_entity, render_feature
from broker.subscriptions.compiled import CompiledSubscription, Fired
from broker.types import DEFAULT_TENANT, VALUE_MEMBER, ExpandedEntity, Instance

NULL_URI = "urn:ngsi-ld:null"
CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
GEO_LOCATION = "https://uri.etsi.org/ngsi-ld/location"
_PREVIOUS = {
    "value": "previousValue",
    "object": "previousObject",
    "languageMap": "previousLanguageMap",
    "vocab": "previousVocab",
    "json": "previousJson",
    "valueList": "previousValueList",
    "objectList": "previousObjectList",
}


_ID_PREFIX = f"urn:ngsi-ld:Notification:{uuid.uuid4().hex[:20]}"
_ids = itertools.count(1)


def next_notification_id() -> str:
    """A notification id unique to this process run (a random prefix and a counter: a fresh
    uuid4 per notification costs a getrandom call each)."""
    return f"{_ID_PREFIX}{next(_ids):012x}"


@dataclass(frozen=True, slots=True)
class Pending:
    """A notification to deliver: built by the worker that sends it, not on the write path.
    A change notification has the `event` and why it `fired`; a periodic one (timeInterval)
    has neither and carries the matching `entities` as they are now."""

    sub: CompiledSubscription
    event: ChangeEvent | None
    fired: Fired | None
    notified_at: str
    entities: tuple[ExpandedEntity, ...] = ()


@dataclass(frozen=True, slots=True)
class Outbound:
    url: str
    body: bytes
    headers: dict[str, str]


class RenderedData:
    """The serialised `data` of recent change notifications, so that the subscriptions that
    show one change the same way (same @context, format, attributes, media type...) render
    it once: ten subscriptions on one entity cost one rendering, not ten."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._entries: dict[tuple[Any, ...], tuple[ChangeEvent, TermMap, bytes]] = {}

    def get(self, key: tuple[Any, ...], event: ChangeEvent, terms: TermMap) -> bytes | None:
        found = self._entries.get(key)
        if found is None or found[0] is not event or found[1] is not terms:
            return None  # the key holds ids: an entry counts only for the very same objects
        return found[2]

    def put(self, key: tuple[Any, ...], event: ChangeEvent, terms: TermMap, data: bytes) -> None:
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[key] = (event, terms, data)


class NotificationBuilder:
    def __init__(self, resolver: ContextResolver, base_url: Callable[[], str]) -> None:
        """`base_url` gives the broker's own URL, for Link headers naming a context it hosts."""
        self._resolver = resolver
        self._base_url = base_url
        self._rendered = RenderedData()

    async def build(self, pending: Pending) -> Outbound:
        record = pending.sub.record
        context = record.get("jsonldContext", record.get("@context"))
        terms = await self._resolver.resolve(context)
        return notification_request(pending, terms, self._link_url(terms), self._rendered)

    def _link_url(self, terms: TermMap) -> str:
        url = terms.link_url
        return self._base_url().rstrip("/") + url if url.startswith("/") else url


def notification_request(
    pending: Pending, terms: TermMap, link_url: str, rendered: RenderedData | None = None
) -> Outbound:
    record = pending.sub.record
    params = record["notification"]
    endpoint = params["endpoint"]
    accept = endpoint.get("accept", "application/json")
    opts = RenderOptions(
        form=params.get("format", "normalized"),
        sys_attrs=bool(params.get("sysAttrs")),
        lang=record.get("lang"),
        attrs=None if "attributes" not in params else frozenset(params["attributes"]),
    )
    data = _serialised_data(pending, accept, terms, opts, rendered)
    body: dict[str, Any] = {
        "id": next_notification_id(),
        "type": "Notification",
        "subscriptionId": record["id"],
        "notifiedAt": pending.notified_at,
        "data": data,
    }
    headers = {"Content-Type": accept}
    if accept == "application/ld+json":
        body = {"@context": terms.context, **body}
    else:
        headers["Link"] = f'<{link_url}>; rel="{CONTEXT_REL}"; type="application/ld+json"'
    if pending.sub.tenant != DEFAULT_TENANT:
        headers["NGSILD-Tenant"] = pending.sub.tenant
    for pair in endpoint.get("receiverInfo", ()):
        headers[pair["key"]] = pair["value"]
    return Outbound(endpoint["uri"], orjson.dumps(body), headers)


def _serialised_data(
    pending: Pending,
    accept: str,
    terms: TermMap,
    opts: RenderOptions,
    rendered: RenderedData | None,
) -> orjson.Fragment:
    event = pending.event
    if rendered is None or event is None:
        return orjson.Fragment(orjson.dumps(_data(pending, accept, terms, opts)))
    sub = pending.sub
    key = (
        id(event),
        id(terms),
        opts,
        accept,
        bool(sub.record["notification"].get("showChanges")),
        "attributeDeleted" in sub.triggers,
        sub.watched,
        pending.notified_at,
    )
    data = rendered.get(key, event, terms)
    if data is None:
        data = orjson.dumps(_data(pending, accept, terms, opts))
        rendered.put(key, event, terms, data)
    return orjson.Fragment(data)


def _data(pending: Pending, accept: str, terms: TermMap, opts: RenderOptions) -> Any:
    event, fired = pending.event, pending.fired
    if event is None or fired is None:
        if accept == "application/geo+json":
            return {
                "type": "FeatureCollection",
                "features": [
                    render_feature(e, terms, opts, GEO_LOCATION) for e in pending.entities
                ],
            }
        return [render_entity(e, terms, opts) for e in pending.entities]
    entity = _entity_to_show(pending.sub, event, fired, pending.notified_at)
    if event.after is None:
        item: dict[str, Any] = {
            "id": event.entity_id,
            "type": _compact_types(entity, terms),
            "deletedAt": pending.notified_at,
        }
        return [item]
    if accept == "application/geo+json":
        return {
            "type": "FeatureCollection",
            "features": [render_feature(entity, terms, opts, GEO_LOCATION)],
        }
    rendered = render_entity(entity, terms, opts)
    if pending.sub.record["notification"].get("showChanges") and event.before is not None:
        _add_previous(rendered, event.before, fired.changes.updated, terms)
    return [rendered]


def _compact_types(entity: ExpandedEntity, terms: TermMap) -> str | list[str]:
    types = [terms.compact_iri(t) for t in entity.get("type", ())]
    return types[0] if len(types) == 1 else types


def _entity_to_show(
    sub: CompiledSubscription, event: ChangeEvent, fired: Fired, notified_at: str
) -> ExpandedEntity:
    """The entity after the change, with each deleted attribute as an NGSI-LD Null when the
    subscription listens to deletions of attributes."""
    if event.after is None:
        assert event.before is not None
        return event.before
    deleted = fired.changes.deleted
    if not deleted or "attributeDeleted" not in sub.triggers or event.before is None:
        return event.after
    watched = sub.watched
    attrs = dict(event.after["attrs"])
    for name in deleted:
        if watched is None or name in watched:
            old = event.before["attrs"][name]
            attrs[name] = [_null_instance(i, notified_at) for i in old]
    return {**event.after, "attrs": attrs}


def _null_instance(old: Instance, now: str) -> Instance:
    kind = old.get("type", "Property")
    if kind in ("Relationship", "ListRelationship"):
        out: Instance = {"type": "Relationship", "object": NULL_URI}
    elif kind == "LanguageProperty":
        out = {"type": "LanguageProperty", "languageMap": {"@none": NULL_URI}}
    else:
        out = {"type": "Property", "value": NULL_URI}
    if "datasetId" in old:
        out["datasetId"] = old["datasetId"]
    out["createdAt"] = old.get("createdAt", now)
    out["modifiedAt"] = now
    return out


def _add_previous(
    rendered: dict[str, Any], before: ExpandedEntity, updated: frozenset[str], terms: TermMap
) -> None:
    """showChanges (clause 5.2.14): the previous value beside the current one."""
    for name in updated:
        key = terms.compact_iri(name)
        if key not in rendered:
            continue
        old_by_dataset = {i.get("datasetId"): i for i in before["attrs"].get(name, ())}
        shown = rendered[key]
        if isinstance(shown, list):
            rendered[key] = [_with_previous(item, old_by_dataset) for item in shown]
        else:
            rendered[key] = _with_previous(shown, old_by_dataset)


def _with_previous(shown: Any, old_by_dataset: dict[Any, Instance]) -> Any:
    item = dict(shown) if isinstance(shown, dict) else {"value": shown}
    old = old_by_dataset.get(item.get("datasetId"))
    if old is None:
        return item
    member = VALUE_MEMBER.get(old.get("type", "Property"), "value")
    if member in old:
        item[_PREVIOUS[member]] = old[member]
    return item
