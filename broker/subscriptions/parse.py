"""A Subscription payload (clause 5.2.12) -> the stored form (record.py), validating.

Names (entity types, watchedAttributes, notification.attributes, the geoproperty and the
attributes in q) are expanded with the request's @context; q and csf are kept as their
expanded AST. Anything wrong is BadRequestData naming the member by its path
(`notification.endpoint.uri`, `entities[0].type`); nothing is stored then.

`parse_members` handles each member on its own, so Create (clause 5.8.1) and Update
(clause 5.8.2, a fragment merged into the stored subscription) share it; `check_whole`
then checks the rules that tie members together.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from broker.errors import BadRequestData, NgsiLdError, OperationNotSupported
from broker.jsonld import TermMap
from broker.model import validate
from broker.model.expand import expand_attribute_name
from broker.model.null import NGSI_LD_NULL
from broker.netguard import UrlNotAllowed, check_public_url
from broker.query import q as qlang
from broker.query.ast import TypeExpr, TypeName
from broker.query.expand import expand_q, expand_types
from broker.query.geoq import parse_geoq
from broker.query.params import Limits, parse_id_pattern
from broker.query.scope import parse_scopeq
from broker.query.types import parse_type_expression, unparse_types
from broker.settings import Settings
from broker.subscriptions.mqtt_endpoint import BadMqttEndpoint, mqtt_endpoint
from broker.subscriptions.qcodec import q_to_json
from broker.subscriptions.record import (
    ACCEPTS,
    DEFAULT_TRIGGERS,
    FORMATS,
    HTTP_SCHEMES,
    ID_PREFIX,
    MQTT_SCHEMES,
    TRIGGERS,
    SubscriptionRecord,
    epoch_of,
)

ENDPOINT_SCHEMES = frozenset(HTTP_SCHEMES + MQTT_SCHEMES)
READ_ONLY = frozenset({"status", "createdAt", "modifiedAt"})
"""Members a client may send back as it read them; they are ignored."""
NOTIFICATION_READ_ONLY = frozenset(
    {"status", "timesSent", "timesFailed", "lastNotification", "lastSuccess", "lastFailure"}
)
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
_FORBIDDEN_HEADERS = frozenset(
    {"content-type", "content-length", "host", "link", "transfer-encoding", "connection"}
)


def bad(field: str, detail: str) -> BadRequestData:
    return BadRequestData(f"{field}: {detail}", field=field)


def _renamed(exc: NgsiLdError, field: str) -> BadRequestData:
    """A parser's error re-addressed to the subscription member it came from."""
    inner = exc.field
    if inner is None or inner == field or field.endswith("." + inner):
        where = field
    else:
        where = f"{field}.{inner}"
    detail = exc.detail
    if inner and detail.startswith(f"{inner}: "):
        detail = detail[len(inner) + 2 :]
    return bad(where, detail)


class _Parser:
    def __init__(self, terms: TermMap, settings: Settings) -> None:
        self.terms = terms
        self.settings = settings
        self.limits = Limits.from_settings(settings)

    # -- scalars -----------------------------------------------------------------------------

    @staticmethod
    def string(value: Any, field: str) -> str:
        if not isinstance(value, str) or not value:
            raise bad(field, "must be a non-empty string")
        return value

    @staticmethod
    def boolean(value: Any, field: str) -> bool:
        if not isinstance(value, bool):
            raise bad(field, "must be true or false")
        return value

    @staticmethod
    def positive(value: Any, field: str) -> int | float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            raise bad(field, "must be a number greater than 0")
        return value

    @staticmethod
    def uri(value: Any, field: str) -> str:
        if not validate.is_uri(value):
            raise bad(field, "must be a URI")
        return str(value)

    def names(self, value: Any, field: str) -> list[str]:
        if not isinstance(value, list) or not value:
            raise bad(field, "must be a non-empty array of attribute names")
        out: list[str] = []
        for i, name in enumerate(value):
            try:
                iri = expand_attribute_name(name, self.terms) if isinstance(name, str) else None
            except NgsiLdError:
                iri = None
            if iri is None:
                raise bad(f"{field}[{i}]", f"{name!r} is not a valid attribute name")
            if iri not in out:
                out.append(iri)
        return out

    # -- members -----------------------------------------------------------------------------

    def entities(self, value: Any) -> list[dict[str, str]]:
        if not isinstance(value, list) or not value:
            raise bad("entities", "must be a non-empty array of entity selectors")
        return [self.selector(item, f"entities[{i}]") for i, item in enumerate(value)]

    def selector(self, item: Any, field: str) -> dict[str, str]:
        if not isinstance(item, dict):
            raise bad(field, "must be an object with id, idPattern and/or type")
        unknown = sorted(set(item) - {"id", "idPattern", "type"})
        if unknown:
            raise bad(f"{field}.{unknown[0]}", "is not a member of an entity selector")
        if "type" not in item:
            raise bad(f"{field}.type", "an entity selector needs a type (clause 5.2.33)")
        out: dict[str, str] = {}
        if "id" in item:
            out["id"] = self.uri(item["id"], f"{field}.id")
        if "idPattern" in item:
            pattern = self.string(item["idPattern"], f"{field}.idPattern")
            try:
                out["idPattern"] = parse_id_pattern(pattern, self.limits, f"{field}.idPattern")
            except BadRequestData as exc:
                raise _renamed(exc, f"{field}.idPattern") from None
        text = self.string(item["type"], f"{field}.type")
        try:
            expr = expand_types(
                parse_type_expression(text, field="type", max_length=self.limits.max_length),
                self.terms,
            )
        except NgsiLdError as exc:
            raise _renamed(exc, f"{field}.type") from None
        out["type"] = unparse_types(expr)
        return out

    def triggers(self, value: Any) -> list[str]:
        if not isinstance(value, list) or not value:
            raise bad("notificationTrigger", "must be a non-empty array")
        out: list[str] = []
        for i, trigger in enumerate(value):
            if trigger not in TRIGGERS:
                raise bad(
                    f"notificationTrigger[{i}]",
                    f"{trigger!r} is not one of {', '.join(TRIGGERS)}",
                )
            if trigger not in out:
                out.append(trigger)
        return out

    def q(self, value: Any, field: str) -> dict[str, Any]:
        text = self.string(value, field)
        ast = qlang.parse_q(
            text,
            field=field,
            max_length=self.limits.max_length,
            max_depth=self.limits.max_depth,
            max_regex_length=self.limits.max_regex_length,
        )
        return q_to_json(expand_q(ast, self.terms, field))

    def geoq(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise bad("geoQ", "must be an object with georel, geometry and coordinates")
        unknown = sorted(set(value) - {"georel", "geometry", "coordinates", "geoproperty"})
        if unknown:
            raise bad(f"geoQ.{unknown[0]}", "is not a member of a GeoQuery")
        prop = value.get("geoproperty", "location")
        try:
            if not isinstance(prop, str):
                raise bad("geoproperty", "must be an attribute name")
            geoproperty = expand_attribute_name(prop, self.terms)
            parse_geoq(
                _text(value.get("georel"), "georel"),
                _text(value.get("geometry"), "geometry"),
                value.get("coordinates"),
                geoproperty,
            )
        except NgsiLdError as exc:
            raise _renamed(exc, "geoQ") from None
        return {
            "georel": value["georel"],
            "geometry": value["geometry"],
            "coordinates": value["coordinates"],
            "geoproperty": geoproperty,
        }

    def scopeq(self, value: Any) -> str:
        text = self.string(value, "scopeQ")
        parse_scopeq(text, max_length=self.limits.max_length)
        return text

    def lang(self, value: Any) -> str:
        text = self.string(value, "lang")
        tags = [t.strip() for t in text.split(",")]
        if not all(t == "*" or validate.is_language_tag(t.split(";")[0]) for t in tags):
            raise bad("lang", f"{text!r} is not a language tag, a list of them or *")
        return text

    def expires_at(self, value: Any) -> str:
        text = validate.normalize_datetime(value)
        if text is None:
            raise bad("expiresAt", "must be a DateTime (YYYY-MM-DDThh:mm:ss[.fff]Z)")
        if epoch_of(text) <= time.time():
            raise bad("expiresAt", f"{text} is not in the future")
        return text

    def notification(self, value: Any, *, partial: bool) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise bad("notification", "must be an object (NotificationParams, clause 5.2.14)")
        out: dict[str, Any] = {}
        for member, item in value.items():
            field = f"notification.{member}"
            if member in NOTIFICATION_READ_ONLY:
                continue
            if member == "attributes":
                out["attributes"] = self.names(item, field)
            elif member == "format":
                if item not in FORMATS:
                    raise bad(field, f"{item!r} is not one of {', '.join(FORMATS)}")
                out["format"] = item
            elif member in ("showChanges", "sysAttrs"):
                out[member] = self.boolean(item, field)
            elif member == "endpoint":
                out["endpoint"] = self.endpoint(item)
            else:
                raise bad(field, "is not a member of NotificationParams (clause 5.2.14)")
        if not partial:
            if "endpoint" not in out:
                raise bad("notification.endpoint", "is required")
            out.setdefault("format", "normalized")
            out.setdefault("showChanges", False)
            out.setdefault("sysAttrs", False)
        return out

    def endpoint(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise bad("notification.endpoint", "must be an object (Endpoint, clause 5.2.15)")
        out: dict[str, Any] = {}
        for member, item in value.items():
            field = f"notification.endpoint.{member}"
            if member == "uri":
                out["uri"] = self.endpoint_uri(item)
            elif member == "accept":
                if item not in ACCEPTS:
                    raise bad(field, f"{item!r} is not one of {', '.join(ACCEPTS)}")
                out["accept"] = item
            elif member in ("timeout", "cooldown"):
                out[member] = self.positive(item, field)
            elif member == "receiverInfo":
                out[member] = self.key_values(item, field, headers=True)
            elif member == "notifierInfo":
                out[member] = self.key_values(item, field, headers=False)
            else:
                raise bad(field, "is not a member of Endpoint (clause 5.2.15)")
        if "uri" not in out:
            raise bad("notification.endpoint.uri", "is required")
        out.setdefault("accept", "application/json")
        if out["uri"].partition(":")[0].lower() in MQTT_SCHEMES:
            try:
                mqtt_endpoint(out)
            except BadMqttEndpoint as exc:
                raise bad(exc.field, str(exc)) from None
        return out

    def endpoint_uri(self, value: Any) -> str:
        field = "notification.endpoint.uri"
        uri = self.uri(value, field)
        scheme = uri.partition(":")[0].lower()
        if scheme not in HTTP_SCHEMES and scheme not in MQTT_SCHEMES:
            raise bad(
                field, f"the scheme {scheme!r} is not supported; use http, https, mqtt or mqtts"
            )
        return uri

    @staticmethod
    def key_values(value: Any, field: str, *, headers: bool) -> list[dict[str, str]]:
        if not isinstance(value, list) or not value:
            raise bad(field, "must be a non-empty array of {key, value} objects")
        out: list[dict[str, str]] = []
        for i, item in enumerate(value):
            where = f"{field}[{i}]"
            if (
                not isinstance(item, dict)
                or set(item) != {"key", "value"}
                or not isinstance(item["key"], str)
                or not isinstance(item["value"], str)
            ):
                raise bad(where, "must be an object with a string key and a string value")
            if headers:
                if not _HEADER_NAME.match(item["key"]):
                    raise bad(f"{where}.key", f"{item['key']!r} is not an HTTP header name")
                if item["key"].lower() in _FORBIDDEN_HEADERS:
                    raise bad(f"{where}.key", f"{item['key']!r} is set by the notifier itself")
                if any(ch in item["value"] for ch in "\r\n\x00"):
                    raise bad(f"{where}.value", "must not contain line breaks")
            out.append({"key": item["key"], "value": item["value"]})
        return out


def _text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad(field, "must be a string")
    return value


MemberParser = Callable[[_Parser, Any], Any]

_MEMBERS: dict[str, MemberParser] = {
    "subscriptionName": lambda p, v: p.string(v, "subscriptionName"),
    "description": lambda p, v: p.string(v, "description"),
    "entities": lambda p, v: p.entities(v),
    "watchedAttributes": lambda p, v: p.names(v, "watchedAttributes"),
    "notificationTrigger": lambda p, v: p.triggers(v),
    "timeInterval": lambda p, v: p.positive(v, "timeInterval"),
    "q": lambda p, v: p.q(v, "q"),
    "csf": lambda p, v: p.q(v, "csf"),
    "geoQ": lambda p, v: p.geoq(v),
    "scopeQ": lambda p, v: p.scopeq(v),
    "lang": lambda p, v: p.lang(v),
    "isActive": lambda p, v: p.boolean(v, "isActive"),
    "expiresAt": lambda p, v: p.expires_at(v),
    "throttling": lambda p, v: p.positive(v, "throttling"),
    "jsonldContext": lambda p, v: p.uri(v, "jsonldContext"),
}


def parse_members(
    body: Any, terms: TermMap, settings: Settings, *, partial: bool
) -> SubscriptionRecord:
    """Every member of a Subscription (or, `partial`, of a fragment of one) in stored form.
    `id`, `type` and `@context` are left to the caller."""
    if not isinstance(body, dict):
        raise bad("body", "must be a JSON object (a Subscription)")
    if body.get("type", "Subscription") != "Subscription":
        raise bad("type", "must be 'Subscription'")
    parser = _Parser(terms, settings)
    out: SubscriptionRecord = {}
    for member, value in body.items():
        if member in ("id", "type", "@context") or member in READ_ONLY:
            continue
        if member == "notification":
            out["notification"] = parser.notification(value, partial=partial)
        elif member == "temporalQ":
            raise OperationNotSupported(
                "temporalQ: temporal subscriptions are not supported", field="temporalQ"
            )
        elif member in _MEMBERS:
            out[member] = _MEMBERS[member](parser, value)
        else:
            raise bad(member, "is not a member of Subscription (clause 5.2.12)")
    return out


def subscription_id(body: dict[str, Any]) -> str:
    """The id a new subscription gets: the body's, or a fresh urn:ngsi-ld:Subscription:<uuid>."""
    if "id" not in body:
        return ID_PREFIX + str(uuid.uuid4())
    value = body["id"]
    if not validate.is_uri(value):
        raise bad("id", f"{value!r} is not a URI")
    return str(value)


def new_record(
    body: Any, terms: TermMap, settings: Settings, *, context: Any, now: str
) -> SubscriptionRecord:
    """The stored form of a new subscription (Create Subscription, clause 5.8.1)."""
    members = parse_members(body, terms, settings, partial=False)
    record: SubscriptionRecord = {"id": subscription_id(body), "type": "Subscription"}
    record.update(members)
    if "notification" not in record:
        raise bad("notification", "is required")
    record.setdefault("notificationTrigger", list(DEFAULT_TRIGGERS))
    record.setdefault("isActive", True)
    if context is not None:
        record["@context"] = context
    record["createdAt"] = now
    record["modifiedAt"] = now
    check_whole(record)
    return record


def patched_record(
    stored: SubscriptionRecord,
    fragment: Any,
    terms: TermMap,
    settings: Settings,
    *,
    context: Any,
    now: str,
) -> SubscriptionRecord:
    """The stored subscription with a fragment merged in (Update Subscription, clause
    5.8.2): members given replace the stored ones, `notification` member by member. A
    fragment that carries an @context makes it the subscription's context."""
    if isinstance(fragment, dict) and "id" in fragment and fragment["id"] != stored["id"]:
        raise bad("id", "differs from the subscription id in the URL")
    removed = _removed_members(fragment)
    if removed:
        fragment = {k: v for k, v in fragment.items() if k not in removed}
    members = parse_members(fragment, terms, settings, partial=True) if fragment else {}
    if not members and not removed:
        raise bad("body", "names no member of the subscription to update")
    record = {k: v for k, v in stored.items() if k not in removed}
    for member, value in members.items():
        if member == "notification":
            record["notification"] = {**stored["notification"], **value}
        else:
            record[member] = value
    if context is not None:
        record["@context"] = context
    record["modifiedAt"] = now
    check_whole(record)
    return record


def _removed_members(fragment: Any) -> set[str]:
    """The members a fragment sets to the NGSI-LD Null (or JSON null): removed by the merge
    (clause 5.2.1). Only optional members may go; `notification` and `entities` stay subject
    to the rules of the whole subscription."""
    if not isinstance(fragment, dict):
        return set()
    removed = {k for k, v in fragment.items() if v is None or v == NGSI_LD_NULL}
    for member in removed:
        if member not in _MEMBERS:
            raise bad(member, "cannot be removed (only optional members can)")
    return removed


def check_whole(record: SubscriptionRecord) -> None:
    """The rules of clause 5.2.12 that tie members together."""
    if "entities" not in record and "watchedAttributes" not in record:
        raise bad("entities", "a subscription needs entities or watchedAttributes (or both)")
    if "timeInterval" in record:
        if "watchedAttributes" in record:
            raise bad("timeInterval", "cannot be combined with watchedAttributes")
        if "throttling" in record:
            raise bad("timeInterval", "cannot be combined with throttling")
    notification = record["notification"]
    if notification.get("showChanges") and notification.get("format") == "keyValues":
        raise bad("notification.showChanges", "cannot be true with the keyValues format")


async def check_endpoint(record: SubscriptionRecord, *, allow_private: bool) -> None:
    """The notification endpoint must be a public address unless `allow_private_urls`."""
    uri = record["notification"]["endpoint"]["uri"]
    field = "notification.endpoint.uri"
    try:
        await check_public_url(uri, allow_private=allow_private, schemes=ENDPOINT_SCHEMES)
    except UrlNotAllowed as exc:
        raise bad(field, str(exc)) from None
    except OSError as exc:
        raise bad(field, f"the host of {uri!r} does not resolve ({exc})") from None


def compact_types(text: str, terms: TermMap) -> str:
    """A stored type expression (IRIs) in the terms of `terms`."""
    return unparse_types(_map_types(parse_type_expression(text), terms.compact_iri))


def _map_types(expr: TypeExpr, rename: Callable[[str], str]) -> TypeExpr:
    if isinstance(expr, TypeName):
        return TypeName(rename(expr.name))
    items = tuple(_map_types(i, rename) for i in expr.items)
    return type(expr)(items)
