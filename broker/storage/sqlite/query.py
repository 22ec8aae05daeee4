"""Entity queries on SQLite: the AST compiled to a candidate filter, the rest done exactly.

`compile_query` turns an `EntityQuery` into an SQL condition over `entities e` that keeps
every entity the query matches and, where the side tables allow, few others:

- `ids` → `e.id IN (...)`; `types` → `entity_types` lookups (exact);
- `idPattern` → `agora_search(pattern, e.id)` (the reference's own regex search, registered
  on the reader connection: exact), unless `ids` are given (the reference then ignores it);
- `attrs` and every positive q term → "has an `attr_values` row for the attribute", and a q
  comparison on a top-level value narrows to rows of the literal's kind that compare true,
  *or* rows of any other kind (which only the exact evaluation can judge);
- `geoQ` → a box test (`near` with maxDistance: the box of the distance circle;
  within / contains / intersects / overlaps / equals: the box of the query geometry, since
  each of them implies the two geometries share a point): Points in `geo_points` by the
  Z-order cell ranges covering the box, then their coordinates; other shapes by the R*Tree.

`!=`, `!~=` and paths below the top-level value narrow only to "has the attribute" (every
operator needs its target to exist); `!attr`, `disjoint`, `minDistance`-only `near`, scopeQ
and csf are not narrowed here. Unless the condition alone is exact
(ids and types only), every candidate is then checked with `broker.query.evaluate.matches`,
the reference semantics, so the SQL can make a query slower but never give another answer.
Candidates arrive in id order, so a page without `count` stops as soon as it is full.

Plan shape: ids and the geometry tables give short lists (`e.id IN (...)`, candidate eids);
type and attribute tests are correlated `EXISTS` probes of the (eid, type) key of
`entity_types` and the (eid, aid) key of `attr_values`, so SQLite walks entities in
id order and stops at the page's end. That is what a page of a common query needs (a few
thousand probes); a very selective q term without ids or geo walks the whole tenant
(~175 ms per 100,000 entities on the bench machine) where materialising the term's matches
first would be faster. Choosing between the two per query needs selectivity estimates; not
done yet.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
import regex

from broker.query import evaluate
from broker.query.ast import (
    And,
    AttrPath,
    Comparison,
    EntityQuery,
    Exists,
    GeoQuery,
    Or,
    Q,
    Range,
    TypeAnd,
    TypeExpr,
    TypeName,
    TypeOr,
    Value,
    ValueList,
)
from broker.query.patterns import (
    PatternError,
    PatternTooCostly,
    compile_pattern,
    full_match,
    search,
)
from broker.storage.base import QueryPage
from broker.storage.geobox import geo_box
from broker.storage.sqlite.cells import ranges
from broker.storage.sqlite.index import value_kind
from broker.types import ExpandedEntity

if TYPE_CHECKING:  # the store imports this module to wire it in
    from broker.storage.sqlite.store import SqliteStore

Matcher = Callable[[ExpandedEntity, EntityQuery], bool]

# For a literal of kind K, rows of these kinds are candidates whatever their value: the
# reference compares a literal only with elements of its own kind, so scalar rows of another
# kind never match, while 'x' rows (arrays, json, lists, language maps, vocab) may.
_OTHER_KINDS = {"n": ("x",), "s": ("x",), "b": ("x",)}
_SQL_OPS = {"==": "=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_SEARCH_FUNCTION = "agora_search"
_FULL_MATCH_FUNCTION = "agora_full_match"


@dataclass
class Compiled:
    """An SQL condition over `entities e` (with its parameters) and whether it is exact."""

    where: str
    params: list[Any] = field(default_factory=list)
    exact: bool = True
    source: str = "FROM entities e WHERE e.tenant = ?"
    """What the candidates are walked from, in id order (`order`), with its parameters."""
    source_params: list[Any] = field(default_factory=list)
    order: str = "e.id"
    candidates: tuple[str, list[Any]] | None = None
    """A SELECT of candidate eids in id order (the geometry tables', or a value index's); when
    given, the entities are read by those eids, a chunk at a time, instead of walking
    `source` in id order."""
    tenant: str = ""
    source_where: tuple[str, list[Any]] = ("1", [])
    """What `source` itself tests beyond the tenant (a type it walks), for reading by eid."""


def compile_query(tenant: str, query: EntityQuery) -> Compiled:
    parts: list[str] = []
    params: list[Any] = []
    exact = True

    def add(sql: str | None, values: list[Any], is_exact: bool) -> None:
        nonlocal exact
        exact = exact and is_exact
        if sql is not None:
            parts.append(sql)
            params.extend(values)

    if query.ids is not None:
        marks = ", ".join("?" * len(query.ids))
        add(f"e.id IN ({marks})" if query.ids else "0", list(query.ids), True)
    if query.id_pattern is not None and query.ids is None:  # ids given: idPattern ignored
        add(
            f"{_SEARCH_FUNCTION}(?, e.id)",
            [query.id_pattern],
            _compiled(query.id_pattern) is not None,
        )
    type_driver: str | None = None
    if isinstance(query.types, TypeName) and query.ids is None and query.geo is None:
        # One type, nothing shorter to start from: walk that type's ids in order.
        type_driver = query.types.name
    elif query.types is not None:
        sql, values = _types(tenant, query.types)
        add(sql, values, sql is not None)
    if query.attrs is not None:
        names = sorted(query.attrs)
        marks = ", ".join("?" * len(names))
        add(
            f"EXISTS (SELECT 1 FROM attr_values v WHERE v.eid = e.eid AND v.aid IN "
            f"(SELECT aid FROM attr_names WHERE tenant = ? AND iri IN ({marks})))"
            if names else "0",
            [tenant, *names] if names else [],
            False,
        )
    if query.q is not None:
        sql, values = _q(tenant, query.q)
        add(sql, values, False)
    geo: tuple[str, list[Any]] | None = None
    if query.geo is not None:
        geo = _geo_candidates(tenant, query.geo)
        if geo is None:  # every entity with the GeoProperty is a candidate
            add(*_has_attr(tenant, query.geo.geoproperty), False)
        exact = False
    if query.scope is not None or query.csf is not None:
        exact = False
    compiled = Compiled(" AND ".join(f"({p})" for p in parts) if parts else "1", params, exact)
    compiled.source_params = [tenant]
    compiled.tenant = tenant
    if geo is not None and query.ids is None:
        # The geometry candidates are few and carry their ids: sort them, then read just the
        # entity rows a page needs (walking every id in order to test membership, or
        # reading every candidate's row to sort it, cost milliseconds per query).
        sql, values = geo
        compiled.candidates = (f"{sql} ORDER BY id", values)
    elif geo is not None:
        sql, values = geo
        compiled.where = f"({compiled.where}) AND e.eid IN (SELECT eid FROM ({sql}))"
        compiled.params = [*compiled.params, *values]
    elif type_driver is not None:
        compiled.source = (
            "FROM entity_types t CROSS JOIN entities e ON e.eid = t.eid "
            "WHERE t.tenant = ? AND t.type = ?"
        )
        compiled.source_params = [tenant, type_driver]
        compiled.order = "t.id"
        type_sql, type_values = _types(tenant, TypeName(type_driver))
        assert type_sql is not None
        compiled.source_where = (type_sql, type_values)
    return compiled


# -- types -----------------------------------------------------------------------------------


def _types(tenant: str, expr: TypeExpr) -> tuple[str | None, list[Any]]:
    """The exact condition for a type expression (None for an empty, degenerate one)."""
    if isinstance(expr, TypeName):
        return (
            "EXISTS (SELECT 1 FROM entity_types t WHERE t.eid = e.eid AND t.type = ?)",
            [expr.name],
        )
    assert isinstance(expr, TypeAnd | TypeOr)
    sqls: list[str] = []
    values: list[Any] = []
    for item in expr.items:
        sql, vals = _types(tenant, item)
        if sql is None:
            return None, []
        sqls.append(f"({sql})")
        values.extend(vals)
    if not sqls:
        return None, []
    return (" AND " if isinstance(expr, TypeAnd) else " OR ").join(sqls), values


# -- q ---------------------------------------------------------------------------------------


def _q(tenant: str, q: Q) -> tuple[str | None, list[Any]]:
    """A condition every entity matching `q` meets, or None when none is cheap to state."""
    if isinstance(q, And | Or):
        sqls: list[str] = []
        values: list[Any] = []
        for term in q.terms:
            sql, vals = _q(tenant, term)
            if sql is None:
                if isinstance(q, Or):
                    return None, []
                continue
            sqls.append(f"({sql})")
            values.extend(vals)
        if not sqls:
            return None, []
        return (" AND " if isinstance(q, And) else " OR ").join(sqls), values
    if isinstance(q, Exists):
        return (None, []) if q.negated else _has_attr(tenant, q.path.attr)
    return _comparison(tenant, q)


_AID = "(SELECT aid FROM attr_names WHERE tenant = ? AND iri = ?)"
"""The key of one attribute IRI in the tenant (NULL when it never had it): a constant
subquery, which SQLite evaluates once per statement."""


def _has_attr(tenant: str, attr: str) -> tuple[str, list[Any]]:
    return (
        f"EXISTS (SELECT 1 FROM attr_values v WHERE v.eid = e.eid AND v.aid = {_AID})",
        [tenant, attr],
    )


def _rows(tenant: str, attr: str, condition: str, values: list[Any]) -> tuple[str, list[Any]]:
    return (
        f"EXISTS (SELECT 1 FROM attr_values v WHERE v.eid = e.eid AND v.aid = {_AID} "
        f"AND ({condition}))",
        [tenant, attr, *values],
    )


def _comparison(tenant: str, term: Comparison) -> tuple[str | None, list[Any]]:
    path = term.path
    if term.op in ("!=", "!~=") or not _top_level(path):  # these need the target to exist
        return _has_attr(tenant, path.attr)
    typed = _typed_condition(term)
    if typed is None:
        return _has_attr(tenant, path.attr)
    condition, values = typed
    return _rows(tenant, path.attr, condition, values)


def _top_level(path: AttrPath) -> bool:
    return not path.sub and not path.compound and path.lang is None


def _literal(value: Value) -> tuple[str, Any] | None:
    """(kind, SQL value) of a literal the side table can compare exactly, else None."""
    if value.kind == "number" and not isinstance(value.value, bool):
        kind, val = value_kind(value.value)
        return (kind, val) if kind == "n" else None
    if value.kind in ("string", "uri") and isinstance(value.value, str):
        if value.iri is not None and value.iri != value.value:
            return None  # compared as a term or as an IRI, depending on the target
        return "s", value.value
    if value.kind == "boolean" and isinstance(value.value, bool):
        return "b", int(value.value)
    return None


def _others(kind: str) -> str:
    return ", ".join(f"'{k}'" for k in _OTHER_KINDS[kind])


def _typed_condition(term: Comparison) -> tuple[str, list[Any]] | None:
    """A condition on one attr_values row that every matching instance's row meets."""
    parts = _typed_parts(term)
    if parts is None:
        return None
    kind, condition, values = parts
    return f"(kind = '{kind}' AND {condition}) OR kind IN ({_others(kind)})", values


def _typed_parts(term: Comparison) -> tuple[str, str, list[Any]] | None:
    """(kind, condition on `val`, its parameters): rows of that kind that meet the
    condition, plus the rows of `_OTHER_KINDS`, hold every instance that can match."""
    operand = term.value
    if term.op == "~=":
        if not isinstance(operand, Value) or not isinstance(operand.value, str):
            return None
        if _compiled(operand.value) is None:
            return None
        return "s", f"{_FULL_MATCH_FUNCTION}(?, val)", [operand.value]
    if isinstance(operand, Value):
        literal = _literal(operand)
        if literal is None:
            return None
        kind, val = literal
        return kind, f"val {_SQL_OPS[term.op]} ?", [val]
    if term.op != "==":
        return None
    if isinstance(operand, Range):
        low, high = _literal(operand.low), _literal(operand.high)
        if low is None or high is None or low[0] != high[0]:
            return None
        return low[0], "val BETWEEN ? AND ?", [low[1], high[1]]
    assert isinstance(operand, ValueList)
    literals = [_literal(item) for item in operand.items]
    if not literals or any(lit is None for lit in literals):
        return None
    kinds = {lit[0] for lit in literals if lit is not None}
    if len(kinds) != 1:
        return None
    marks = ", ".join("?" * len(literals))
    return kinds.pop(), f"val IN ({marks})", [lit[1] for lit in literals if lit is not None]


# -- geo -------------------------------------------------------------------------------------


def _geo_candidates(tenant: str, geo: GeoQuery) -> tuple[str, list[Any]] | None:
    """A SELECT of the distinct (eid, id) whose geoproperty meets the query's box: Points
    from `geo_points`, a search of its key per range of cells covering the box, then their
    coordinates tested; other shapes from the R*Tree. None when the query has no box
    to test (disjoint, minDistance alone)."""
    box = geo_box(geo)
    if box is None:
        return None
    min_lon, min_lat, max_lon, max_lat = box
    spans = ranges(box)
    marks = ", ".join(["(?, ?)"] * len(spans))
    return (
        "SELECT eid, id FROM ("
        # CROSS JOIN fixes the order: the ranges drive, each one search of the key.
        f"SELECT p.eid, p.id FROM (VALUES {marks}) r CROSS JOIN geo_points p "
        f"ON p.aid = {_AID} AND p.cell BETWEEN r.column1 AND r.column2 "
        "AND p.lon BETWEEN ? AND ? AND p.lat BETWEEN ? AND ? "
        "UNION "
        # Here the R*Tree search drives and geo_shapes is probed by rid.
        "SELECT s.eid, s.id FROM geo_boxes b CROSS JOIN geo_shapes s ON s.rid = b.rid "
        "WHERE b.max_lon >= ? AND b.min_lon <= ? AND b.max_lat >= ? AND b.min_lat <= ? "
        f"AND s.aid = {_AID})",
        [
            *(bound for span in spans for bound in span),
            tenant, geo.geoproperty, min_lon, max_lon, min_lat, max_lat,
            min_lon, max_lon, min_lat, max_lat, tenant, geo.geoproperty,
        ],
    )


# -- running ---------------------------------------------------------------------------------


def _compiled(pattern: str) -> regex.Pattern[str] | None:
    try:
        return compile_pattern(pattern)
    except (PatternError, RecursionError, OverflowError):
        return None


class _PatternGuard:
    """What stopped a statement: a pattern match that ran out of time (`regex_timeout`)."""

    __slots__ = ("error",)

    def __init__(self) -> None:
        self.error: PatternTooCostly | None = None


def _regex_function(full: bool, guard: _PatternGuard) -> Callable[[object, object], int]:
    def run(pattern: object, text: object) -> int:
        """1 when `text` is a string the pattern matches (anywhere, or whole when `full`),
        and also when the pattern does not compile (the exact evaluation then decides).
        A match that runs out of time is kept in `guard` and stops the statement."""
        if not isinstance(pattern, str) or _compiled(pattern) is None:
            return 1
        if not isinstance(text, str):
            return 0
        try:
            found = full_match(pattern, text) if full else search(pattern, text)
        except PatternTooCostly as exc:
            guard.error = exc
            raise
        return 1 if found else 0

    return run


def prepare(conn: sqlite3.Connection) -> _PatternGuard:
    """Register the functions the compiled SQL uses (cheap; idempotent), reporting a
    pattern that runs out of time to the returned guard."""
    guard = _PatternGuard()
    conn.create_function(_SEARCH_FUNCTION, 2, _regex_function(False, guard), deterministic=True)
    conn.create_function(
        _FULL_MATCH_FUNCTION, 2, _regex_function(True, guard), deterministic=True
    )
    return guard


@contextmanager
def _patterns_checked(conn: sqlite3.Connection) -> Iterator[None]:
    """`prepare`, and a statement stopped by a pattern too costly to match raises that
    PatternTooCostly (400) rather than sqlite3's error."""
    guard = prepare(conn)
    try:
        yield
    except sqlite3.OperationalError:
        if guard.error is not None:
            raise guard.error from None
        raise


def run_query(
    conn: sqlite3.Connection,
    tenant: str,
    query: EntityQuery,
    *,
    limit: int,
    offset: int,
    count: bool,
    matches: Matcher | None = None,
    indexed: frozenset[str] = frozenset(),
) -> QueryPage:
    """The query on one connection (a reader thread's): the whole job of `query_entities`.
    `indexed`: the attributes with value indexes (`indexed_attributes`). A pattern too
    costly to match raises PatternTooCostly (400)."""
    with _patterns_checked(conn):
        compiled = compile_query(tenant, query)
        if indexed and compiled.candidates is None and not compiled.exact:
            compiled.candidates = _value_candidates(conn, tenant, query, indexed)
        base = f"{compiled.source} AND ({compiled.where})"
        params = [*compiled.source_params, *compiled.params]
        order = compiled.order
        offset, limit = max(offset, 0), max(limit, 0)
        if compiled.exact:
            assert compiled.candidates is None  # a geo-query is never exact in SQL
            total: int | None = None
            if count:
                total = int(conn.execute(f"SELECT count(*) {base}", params).fetchone()[0])
            entities: list[ExpandedEntity] = []
            if limit > 0:
                rows = conn.execute(
                    f"SELECT e.doc {base} ORDER BY {order} LIMIT ? OFFSET ?",
                    [*params, limit, offset],
                )
                entities = [orjson.loads(row[0]) for row in rows]
            return QueryPage(entities, total)
        check = matches if matches is not None else evaluate.matches
        page: list[ExpandedEntity] = []
        seen = 0
        if limit == 0 and not count:
            return QueryPage(page, None)
        for doc in _documents(conn, compiled, base, params):
            entity = orjson.loads(doc)
            if not check(entity, query):
                continue
            if offset <= seen < offset + limit:
                page.append(entity)
            seen += 1
            if not count and len(page) >= limit:
                break
        return QueryPage(page, seen if count else None)


_FIRST_CHUNK, _MAX_CHUNK = 32, 512
VALUE_CANDIDATES_MAX = 2000
"""A value index drives a query only when its term has at most this many matching rows;
beyond that, walking the entities in id order until the page is full is cheaper."""


def _value_candidates(
    conn: sqlite3.Connection, tenant: str, query: EntityQuery, indexed: frozenset[str]
) -> tuple[str, list[Any]] | None:
    """The candidates of the most selective q term on an indexed attribute, when few.

    A term counts when it is a conjunct of q (q itself, or a member of its top-level `;`),
    compares a top-level value, and has a typed condition (==, <, <=, >, >=, ranges and
    lists of one kind): every match of the query then has a row that meets it.
    """
    if query.q is None or query.ids is not None or query.geo is not None:
        return None
    terms = query.q.terms if isinstance(query.q, And) else (query.q,)
    usable: list[tuple[str, str, str, list[Any]]] = []
    for term in terms:
        if not isinstance(term, Comparison) or term.path.attr not in indexed:
            continue
        if term.op in ("!=", "!~=", "~=") or not _top_level(term.path):
            continue
        parts = _typed_parts(term)
        if parts is not None:
            usable.append((term.path.attr, *parts))
    best: tuple[int, str, list[Any]] | None = None
    for attr, kind, condition, values in usable:
        row = conn.execute(
            "SELECT aid FROM attr_names WHERE tenant = ? AND iri = ?", (tenant, attr)
        ).fetchone()
        if row is None:  # the tenant never had it: nothing matches
            return "SELECT NULL WHERE 0", []
        # The aid is written into the SQL (an integer from the file) so that SQLite can
        # see that the partial index `WHERE aid = N` applies; the two halves are two
        # ranges of that index, (kind, val) and (kind).
        aid = int(row[0])
        sql = (
            f"SELECT eid FROM attr_values WHERE aid = {aid} AND kind = '{kind}' AND {condition} "
            f"UNION ALL SELECT eid FROM attr_values WHERE aid = {aid} "
            f"AND kind IN ({_others(kind)})"
        )
        found = conn.execute(
            f"SELECT count(*) FROM ({sql} LIMIT {VALUE_CANDIDATES_MAX + 1})", values
        ).fetchone()[0]
        if found <= VALUE_CANDIDATES_MAX and (best is None or found < best[0]):
            best = (found, sql, values)
    if best is None:
        return None
    _, sql, values = best
    return (
        f"SELECT c.eid FROM (SELECT DISTINCT eid FROM ({sql})) c "
        "CROSS JOIN entities e ON e.eid = c.eid ORDER BY e.id",
        values,
    )



def _documents(
    conn: sqlite3.Connection, compiled: Compiled, base: str, params: list[Any]
) -> Iterator[str]:
    """The candidates' documents in id order (`base` and `params`: the walk in id order)."""
    if compiled.candidates is None:
        for (doc,) in conn.execute(f"SELECT e.doc {base} ORDER BY {compiled.order}", params):
            yield doc
        return
    sql, values = compiled.candidates
    eids = [row[0] for row in conn.execute(sql, values)]
    start, size = 0, _FIRST_CHUNK
    while start < len(eids):
        chunk = eids[start : start + size]
        marks = ", ".join("?" * len(chunk))
        # `+e.tenant`: look the rows up by eid, never by walking the tenant's index.
        source_sql, source_values = compiled.source_where
        found = dict(
            conn.execute(
                f"SELECT e.eid, e.doc FROM entities e WHERE e.eid IN ({marks}) "
                f"AND +e.tenant = ? AND ({source_sql}) AND ({compiled.where})",
                [*chunk, compiled.tenant, *source_values, *compiled.params],
            )
        )
        for eid in chunk:
            doc = found.get(eid)
            if doc is not None:
                yield doc
        start, size = start + size, min(size * 2, _MAX_CHUNK)


async def query_entities(
    store: SqliteStore,
    tenant: str,
    query: EntityQuery,
    *,
    limit: int,
    offset: int = 0,
    count: bool = False,
) -> QueryPage:
    """`EntityStore.query_entities` for `SqliteStore`: one job on a reader thread."""
    indexed = store.indexed_attributes
    return await store.readers.run(
        lambda conn: run_query(
            conn, tenant, query, limit=limit, offset=offset, count=count, indexed=indexed
        )
    )
