"""Which representation a read asks for: options, format, attrs, pick, omit, lang,
geometryProperty (clauses 4.5, 6.3.7 and 6.3.18)."""

from __future__ import annotations

from aiohttp import web

from broker.api.http import GEO_JSON, list_param, options_of
from broker.errors import BadRequestData
from broker.jsonld import TermMap
from broker.model import validate
from broker.model.render import Form, RenderOptions

READ_OPTIONS = frozenset({"keyValues", "simplified", "concise", "normalized", "sysAttrs"})
FORMATS: dict[str, Form] = {
    "normalized": "normalized",
    "concise": "concise",
    "keyValues": "keyValues",
    "simplified": "keyValues",
}
ENTITY_MEMBERS = frozenset({"id", "type", "scope"})
GEO_LOCATION = "https://uri.etsi.org/ngsi-ld/location"


def response_media(request: web.Request, negotiated: str) -> str:
    """`format=geojson` asks for GeoJSON whatever Accept says."""
    return GEO_JSON if request.query.get("format") == "geojson" else negotiated


def geometry_property(request: web.Request, terms: TermMap) -> str:
    name = request.query.get("geometryProperty")
    return terms.expand_term(name) if name else GEO_LOCATION


def render_options(request: web.Request, terms: TermMap) -> RenderOptions:
    options = options_of(request, READ_OPTIONS)
    forms = {FORMATS[o] for o in options if o in FORMATS}
    fmt = request.query.get("format")
    if fmt is not None and fmt != "geojson":
        if fmt not in FORMATS:
            raise BadRequestData(
                f"unknown format '{fmt}'; use normalized, concise, keyValues, simplified "
                "or geojson",
                field="format",
            )
        forms.add(FORMATS[fmt])
    if len(forms) > 1:
        raise BadRequestData(
            "conflicting representations requested: " + ", ".join(sorted(forms)), field="options"
        )
    return RenderOptions(
        form=forms.pop() if forms else "normalized",
        sys_attrs="sysAttrs" in options,
        lang=request.query.get("lang"),
        attrs=expanded_set(request, "attrs", terms, members=False),
        pick=expanded_set(request, "pick", terms, members=True),
        omit=expanded_set(request, "omit", terms, members=True),
    )


def expanded_set(
    request: web.Request, name: str, terms: TermMap, *, members: bool
) -> frozenset[str] | None:
    items = list_param(request, name)
    if items is None:
        return None
    out: set[str] = set()
    for item in items:
        if members and item in ENTITY_MEMBERS:
            out.add(item)
        else:
            if not validate.is_valid_name(item):
                raise BadRequestData(f"'{item}' is not a valid attribute name", field=name)
            out.add(terms.expand_term(item))
    return frozenset(out)


