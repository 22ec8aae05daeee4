"""The selection of GET /entities (and DELETE /entities) from its query parameters.

ETSI GS CIM 009 clause 6.4.3.2 / 5.7.2: `id` (comma-separated URIs), `idPattern`, `type`
(clause 4.17), `attrs`, `q` (4.9), `georel` + `geometry` + `coordinates` [+ `geoproperty`]
(4.10), `scopeQ` (4.19), `csf` (4.9 over registration properties). At least one of id,
idPattern, type, attrs, q or a geo-query must be given, or the request is BadRequestData.
Names are expanded with the request's @context; the result is what stores evaluate.

Limits come from settings: `query_max_length` (q, scopeQ, type, csf text),
`query_max_depth` (parenthesis nesting), `regex_max_length` (idPattern, `~=` patterns).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from broker.errors import BadRequestData
from broker.jsonld.context import TermMap
from broker.model.validate import is_uri, is_valid_name
from broker.query import q as qlang
from broker.query.ast import EntityQuery, GeoQuery, Q
from broker.query.expand import expand_geo, expand_name, expand_q, expand_types
from broker.query.geoq import parse_geoq
from broker.query.patterns import PatternError, compile_pattern
from broker.query.scope import parse_scopeq
from broker.query.types import parse_type_expression
from broker.settings import Settings

SELECTING = ("id", "idPattern", "type", "attrs", "q", "georel")
ENTITY_MEMBERS = frozenset({"id", "type", "scope", "createdAt", "modifiedAt"})
"""Names `pick`/`omit` may use for the entity's own members; never expanded."""


@dataclass(frozen=True)
class Limits:
    max_length: int = qlang.DEFAULT_MAX_LENGTH
    max_depth: int = qlang.DEFAULT_MAX_DEPTH
    max_regex_length: int = qlang.DEFAULT_MAX_REGEX_LENGTH

    @classmethod
    def from_settings(cls, settings: Settings | None) -> Limits:
        if settings is None:
            return cls()
        return cls(
            max_length=settings.query_max_length,
            max_depth=settings.query_max_depth,
            max_regex_length=settings.regex_max_length,
        )


@dataclass(frozen=True)
class Projection:
    """Which attributes a response carries (clause 4.21 pick/omit; `attrs` as pick)."""

    pick: frozenset[str] | None = None
    omit: frozenset[str] | None = None


def _bad(field: str, detail: str) -> BadRequestData:
    return BadRequestData(f"{field}: {detail}", field=field)


def _present(params: Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if value == "":
        raise _bad(name, "must not be empty")
    return value


def parse_ids(text: str, field: str = "id") -> tuple[str, ...]:
    ids = tuple(text.split(","))
    for i, entity_id in enumerate(ids):
        if not is_uri(entity_id):
            raise _bad(field, f"item {i + 1} ({entity_id!r}) is not a URI")
    return ids


def parse_id_pattern(text: str, limits: Limits, field: str = "idPattern") -> str:
    if len(text) > limits.max_regex_length:
        raise _bad(field, f"longer than the {limits.max_regex_length} characters allowed")
    try:
        compile_pattern(text)
    except PatternError as exc:
        where = "" if exc.pos is None else f" at position {exc.pos + 1}"
        raise _bad(field, f"invalid regular expression ({exc.msg}){where}") from None
    return text


def parse_names(text: str, terms: TermMap, field: str) -> frozenset[str]:
    names = text.split(",")
    out = set()
    for i, name in enumerate(names):
        if not is_valid_name(name):
            raise _bad(field, f"item {i + 1} ({name!r}) is not a valid attribute name")
        out.add(expand_name(terms, name, field))
    return frozenset(out)


def parse_geo_params(params: Mapping[str, str], terms: TermMap) -> GeoQuery | None:
    if not any(params.get(k) is not None for k in ("georel", "geometry", "coordinates")):
        return None
    geo = parse_geoq(
        params.get("georel"),
        params.get("geometry"),
        params.get("coordinates"),
        params.get("geoproperty"),
    )
    return expand_geo(geo, terms)


def parse_entity_query(
    params: Mapping[str, str],
    terms: TermMap,
    settings: Settings | None = None,
    *,
    require_selection: bool = True,
) -> EntityQuery:
    """The whole entity selection of a query string, expanded with `terms`."""
    limits = Limits.from_settings(settings)
    ids_text = _present(params, "id")
    pattern_text = _present(params, "idPattern")
    type_text = _present(params, "type")
    attrs_text = _present(params, "attrs")
    q_text = _present(params, "q")
    scope_text = _present(params, "scopeQ")
    csf_text = _present(params, "csf")
    geo = parse_geo_params(params, terms)
    if require_selection and not (
        ids_text or pattern_text or type_text or attrs_text or q_text or geo
    ):
        raise BadRequestData(
            "a query needs at least one of id, idPattern, type, attrs, q or a geo-query "
            "(georel, geometry, coordinates) (clause 6.4.3.2)"
        )
    return EntityQuery(
        ids=None if ids_text is None else parse_ids(ids_text),
        id_pattern=None if pattern_text is None else parse_id_pattern(pattern_text, limits),
        types=None
        if type_text is None
        else expand_types(
            parse_type_expression(type_text, max_length=limits.max_length), terms
        ),
        attrs=None if attrs_text is None else parse_names(attrs_text, terms, "attrs"),
        q=None if q_text is None else expand_q(_parse_q(q_text, limits, "q"), terms, "q"),
        geo=geo,
        scope=None
        if scope_text is None
        else parse_scopeq(scope_text, max_length=limits.max_length),
        csf=None
        if csf_text is None
        else expand_q(_parse_q(csf_text, limits, "csf"), terms, "csf"),
    )


def _parse_q(text: str, limits: Limits, field: str) -> Q:
    return qlang.parse_q(
        text,
        field=field,
        max_length=limits.max_length,
        max_depth=limits.max_depth,
        max_regex_length=limits.max_regex_length,
    )


def parse_projection(params: Mapping[str, str], terms: TermMap) -> Projection | None:
    """`pick` (or its older spelling `attrs`) and `omit`; they exclude each other."""
    pick_text = _present(params, "pick")
    if pick_text is None:
        pick_text = _present(params, "attrs")
    omit_text = _present(params, "omit")
    if pick_text is not None and omit_text is not None:
        raise _bad("omit", "pick (or attrs) and omit cannot be used together")
    if pick_text is None and omit_text is None:
        return None

    def names(text: str, field: str) -> frozenset[str]:
        out = set()
        for i, name in enumerate(text.split(",")):
            if name in ENTITY_MEMBERS:
                out.add(name)
            elif is_valid_name(name):
                out.add(expand_name(terms, name, field))
            else:
                raise _bad(field, f"item {i + 1} ({name!r}) is not a valid attribute name")
        return frozenset(out)

    return Projection(
        pick=None if pick_text is None else names(pick_text, "pick"),
        omit=None if omit_text is None else names(omit_text, "omit"),
    )
