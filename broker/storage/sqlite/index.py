"""Side tables that let SQL narrow a query before any document is parsed.

Every entity row has an integer key `eid` (`entities.eid`, an INTEGER PRIMARY KEY, so it is
stable across VACUUM), and every attribute IRI an integer key `aid` per tenant
(`attr_names`). The side tables are keyed by those integers, not by repeated id and IRI
text: a new entity's rows then land at the end of each index (eids only grow) instead of
being scattered across its pages, and each commit writes a few pages, not dozens per entity.

`attr_values` holds one row per instance of every top-level attribute, keyed by
(eid, aid, seq): the instance's datasetId, its NGSI-LD type in `atype` (Property,
Relationship, GeoProperty...: what discovery reports), a `kind` and, for a scalar, the value
itself in `val` (SQLite's dynamic typing keeps numbers as numbers and text as text):

    kind 'n'  Property value that is a number        val = the number
    kind 's'  Property value that is a string,       val = the string
              or Relationship `object` that is one IRI
    kind 'b'  Property value that is a boolean       val = 0 / 1
    kind 'x'  anything else (objects, arrays, lists, languageMaps, vocab, json, null,
              numbers SQLite cannot hold)           val = NULL

A row exists for every instance whatever its kind (and one for an attribute name with no
instance), so "the entity has attribute A" is one primary-key probe; `seq` numbers an
attribute's instances from 0, so each (eid, aid) pair has exactly one row with `seq` 0 (what
discovery counts for "entities holding A"). The query compiler only ever uses these rows to
build a *superset* of the matches ('x' rows are always candidates), so what the table leaves
out can make a query slower, never wrong.

Discovery reads a summary of these rows instead of the rows (`Census`: `attr_holders`, the
entities holding each attribute key; `attr_kinds`, those of each entity type with an instance
of each attribute type), which every write that adds, changes or removes rows keeps in step
in the same transaction.

Geometry-valued instances go to one of two places. A `Point` (what sensors and vehicles
report) is a `geo_points` row keyed by (aid, cell, eid, seq), `cell` being its Z-order cell
(`cells.py`): a query reads the key ranges of the cells that cover its box, and the rows
there hold the coordinates and entity id it needs, so it looks nothing else up. Deletes find
an entity's Points by the `(eid, aid)` index. Every other geometry has its bounding box in
`geo_boxes` (an R*Tree), keyed by a rowid that `geo_shapes` maps to (eid, aid, entity id).
Both carry the entity id, so a geo-query sorts its candidates into id order without reading
their entity rows. Boxes are widened for the great-circle bulge of long edges, and R*Tree
rounds stored boxes outwards, so a box always contains its geometry whether edges are read
as straight lines in lon/lat or as geodesics.

The rows of an entity come from one walk of it: `entity_rows` gives each attribute's rows
(an update compares them attribute by attribute and rewrites only those that differ), and
`new_rows` writes a batch of creates' parameters straight into one list for one statement per
chunk. The two spell the same rules; a property test holds both to one plain reference.

These functions run inside the store's write savepoints, so the side tables change in the
same transaction as the document they describe.

Attribute keys: `AttrIds` remembers the aids of names whose insertion has committed (the
store tells it after each acknowledged write), so a write looks up only names it has not seen.
A name inserted by a write that is then rolled back never reaches the memory.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from broker.model.geojson import GEOMETRY_TYPES, plain_position
from broker.storage.geobox import WORLD, Box, geometry_box
from broker.storage.sqlite.bulk import NO_VALUE, delete_pairs, insert_flat, insert_rows
from broker.storage.sqlite.cells import cell
from broker.types import ExpandedEntity

_INT64 = 2**63 - 1

ValueRow = tuple[int, Any, Any, str, Any]
"""(seq, datasetId, attribute type, kind, val): one attr_values row's parameters after
(eid, aid), NULL as `bulk.NO_VALUE` (see `_VALUES_ROW`)."""


def value_index_sql(aid: int) -> str:
    """The partial index on one attribute's values (`indexed_attributes`): it lets a q
    comparison on that attribute fetch its few matches instead of walking every entity."""
    return (
        f"CREATE INDEX IF NOT EXISTS attr_values_value_{int(aid)} "
        f"ON attr_values (kind, val, eid) WHERE aid = {int(aid)}"
    )


def create_value_indexes(conn: sqlite3.Connection, indexed: Iterable[str]) -> None:
    """Create the value index of every indexed attribute some tenant already has (start-up;
    `AttrIds` creates the index of a name it inserts)."""
    names = sorted(set(indexed))
    if not names:
        return
    marks = ", ".join("?" * len(names))
    rows = conn.execute(f"SELECT aid FROM attr_names WHERE iri IN ({marks})", names).fetchall()
    for (aid,) in rows:
        conn.execute(value_index_sql(aid))


class AttrIds:
    """Attribute IRI -> aid, per tenant: what is committed (`known`) plus what the write
    under way has learned (`learned`, handed to `commit` once the write is durable).
    Inserting a name listed in `indexed` also creates its value index, in the same
    transaction."""

    def __init__(self, indexed: Iterable[str] = ()) -> None:
        self.known: dict[tuple[str, str], int] = {}
        self.indexed = frozenset(indexed)

    def resolve(
        self,
        conn: sqlite3.Connection,
        tenant: str,
        names: Iterable[str],
        learned: dict[tuple[str, str], int] | None = None,
    ) -> dict[str, int]:
        """The aid of every name, inserting the names the tenant has never had."""
        found: dict[str, int] = {}
        missing: list[str] = []
        for name in names:
            aid = self.known.get((tenant, name))
            if aid is None:
                missing.append(name)
            else:
                found[name] = aid
        if missing:
            for name in dict.fromkeys(missing):
                row = conn.execute(
                    "SELECT aid FROM attr_names WHERE tenant = ? AND iri = ?", (tenant, name)
                ).fetchone()
                if row is None:
                    cursor = conn.execute(
                        "INSERT INTO attr_names (tenant, iri) VALUES (?, ?)", (tenant, name)
                    )
                    aid = int(cursor.lastrowid or 0)
                    if name in self.indexed:
                        conn.execute(value_index_sql(aid))
                else:
                    aid = int(row[0])
                found[name] = aid
                if learned is not None:
                    learned[(tenant, name)] = aid
        return found

    def commit(self, learned: dict[tuple[str, str], int]) -> None:
        self.known.update(learned)


def types_of(entity: ExpandedEntity) -> list[str]:
    """The entity's type IRIs as `entity_types` holds them: in order, each once."""
    types = entity.get("type", [])
    if isinstance(types, str):
        return [types]
    if len(types) == 1 and type(types[0]) is str:  # the common case, without the generator
        return [types[0]]
    return list(dict.fromkeys(t for t in types if isinstance(t, str)))


class Census:
    """Changes to discovery's summary of the side tables, gathered during a write and
    applied at its end (`apply`): `attr_holders` counts, per attribute key, the entities
    with a row for it; `attr_kinds`, per (attribute key, entity type, attribute type), the
    entities of that type with an instance of that attribute type ('' for a row with none:
    an attribute without instances). Counts that reach 0 stay, as 0; discovery skips them."""

    __slots__ = ("holders", "kinds")

    def __init__(self) -> None:
        self.holders: dict[int, int] = {}
        self.kinds: dict[tuple[str, ...], dict[tuple[int, str], int]] = {}
        """Per tuple of entity types: (aid, attribute type) -> entities."""

    def count(self, aid: int, atypes: Iterable[str], types: tuple[str, ...], sign: int) -> None:
        """One entity (of `types`) holding `aid` with instances of `atypes`, added (sign 1)
        or taken away (-1)."""
        holders = self.holders
        holders[aid] = holders.get(aid, 0) + sign
        kinds = self.kinds.get(types)
        if kinds is None:
            kinds = self.kinds[types] = {}
        for atype in atypes:
            key = (aid, atype)
            kinds[key] = kinds.get(key, 0) + sign

    def apply(self, conn: sqlite3.Connection) -> None:
        holders = [(aid, n) for aid, n in self.holders.items() if n]
        per_type: dict[tuple[int, str, str], int] = {}
        for types, counts in self.kinds.items():
            for (aid, atype), n in counts.items():
                if n:
                    for entity_type in types:
                        key = (aid, entity_type, atype)
                        per_type[key] = per_type.get(key, 0) + n
        kinds = [(*key, n) for key, n in per_type.items() if n]
        if holders:
            insert_rows(conn, "INSERT INTO attr_holders (aid, entities)", 2, holders, _ADD_HOLDERS)
        if kinds:
            insert_rows(
                conn, "INSERT INTO attr_kinds (aid, type, atype, entities)", 4, kinds, _ADD_KINDS
            )


_ADD = " DO UPDATE SET entities = entities + excluded.entities"
_ADD_HOLDERS = " ON CONFLICT (aid)" + _ADD
_ADD_KINDS = " ON CONFLICT (aid, type, atype)" + _ADD
_ADD_TYPES = " ON CONFLICT (tenant, type)" + _ADD
"""Counts added to those stored (SQLite before 3.35 needs the conflict target named)."""


def count_types(conn: sqlite3.Connection, tenant: str, counts: dict[str, int]) -> None:
    """Move discovery's entities-per-type counts (`type_counts`) by `counts` (type ->
    entities gained, negative for entities lost). Called wherever `entity_types` rows are
    written or deleted, in the same transaction."""
    rows = [(tenant, t, n) for t, n in counts.items() if n]
    if rows:
        insert_rows(conn, "INSERT INTO type_counts (tenant, type, entities)", 3, rows, _ADD_TYPES)


def entity_key(conn: sqlite3.Connection, tenant: str, entity_id: str) -> int | None:
    row = conn.execute(
        "SELECT eid FROM entities WHERE tenant = ? AND id = ?", (tenant, entity_id)
    ).fetchone()
    return None if row is None else int(row[0])


def index_entity(
    conn: sqlite3.Connection, tenant: str, entity: ExpandedEntity, ids: AttrIds | None = None
) -> None:
    """Write the side-table rows of a stored entity, replacing any it had (back-filling)."""
    eid = entity_key(conn, tenant, entity["id"])
    if eid is None:
        return
    unindex(conn, eid)
    index_new(conn, tenant, eid, entity, ids or AttrIds())


def index_entities(
    conn: sqlite3.Connection, tenant: str, entities: Iterable[ExpandedEntity]
) -> None:
    """`index_entity` for many stored entities."""
    ids = AttrIds()
    for entity in entities:
        index_entity(conn, tenant, entity, ids)


def unindex_entity(conn: sqlite3.Connection, tenant: str, entity_id: str) -> None:
    """Remove every side-table row of one stored entity."""
    eid = entity_key(conn, tenant, entity_id)
    if eid is not None:
        unindex(conn, eid)


def index_new(
    conn: sqlite3.Connection,
    tenant: str,
    eid: int,
    entity: ExpandedEntity,
    ids: AttrIds,
    learned: dict[tuple[str, str], int] | None = None,
) -> None:
    """Write the side-table rows of an entity row that has none yet (a fresh row)."""
    index_new_rows(conn, tenant, [(eid, entity)], ids, learned, types=[types_of(entity)])


def index_new_rows(
    conn: sqlite3.Connection,
    tenant: str,
    entities: list[tuple[int, ExpandedEntity]],
    ids: AttrIds,
    learned: dict[tuple[str, str], int] | None = None,
    *,
    types: Sequence[list[str]] | None = None,
    attributes: bool = True,
    geometry: bool = True,
) -> None:
    """`index_new` for many fresh rows, in one statement per table: a batch of creates
    crosses from Python into SQLite a handful of times, not a few times per entity.
    `types` (each entity's, as `types_of` gives them) counts the entities in discovery's
    summary (`Census`); schema migrations that ran before the summary existed leave it out.
    `attributes` / `geometry` False leave out the attr_values / geometry rows (schema
    migrations that fill one kind of table).

    The rows come from `new_rows`: one walk of each entity, parameters built flat."""
    aids: dict[str, int] = {}

    def aid_of(attr: str) -> int:
        aid = aids[attr] = ids.resolve(conn, tenant, (attr,), learned)[attr]
        return aid

    # Only rows written are counted: a migration filling geometry alone counts nothing.
    census = Census() if types is not None and attributes else None
    values, shapes = new_rows(entities, aids, aid_of, geometry=geometry, census=census, types=types)
    if not values:
        return
    if attributes:
        insert_flat(conn, _VALUES_HEAD, 7, values, _VALUES_ROW)
    _insert_geometry(conn, aids, shapes)
    if census is not None:
        census.apply(conn)


def reindex(
    conn: sqlite3.Connection,
    tenant: str,
    eid: int,
    old: ExpandedEntity,
    new: ExpandedEntity,
    ids: AttrIds,
    learned: dict[tuple[str, str], int] | None = None,
) -> None:
    """Bring the side tables from `old` to `new`, touching only the attributes whose rows or
    boxes differ: an update of one value rewrites that attribute's rows and leaves every
    other row, and the R*Tree, alone (a full re-index cost half of an update)."""
    reindex_rows(conn, tenant, [(eid, old, new)], ids, learned)


def reindex_rows(
    conn: sqlite3.Connection,
    tenant: str,
    changes: Sequence[tuple[int, ExpandedEntity, ExpandedEntity]],
    ids: AttrIds,
    learned: dict[tuple[str, str], int] | None = None,
) -> None:
    """`reindex` for many rows (eid, old, new): the attribute rows and Points of all of them
    are deleted and inserted with a statement per chunk; other shapes, which seldom move, are
    deleted row by row."""
    deleted: list[tuple[int, str]] = []
    inserted: list[tuple[int, str, list[ValueRow]]] = []
    moved_points: list[tuple[int, str]] = []
    moved_shapes: list[tuple[int, str]] = []
    placed: list[tuple[int, str, GeoRow]] = []
    names: set[str] = set()
    counted: list[tuple[str, set[str], tuple[str, ...], int]] = []
    for eid, old, new in changes:
        was_rows, now_rows = entity_rows(old), entity_rows(new)
        was_types, now_types = tuple(types_of(old)), tuple(types_of(new))
        retyped = was_types != now_types
        for attr in was_rows.keys() | now_rows.keys():
            old_values, old_geo = was_rows.get(attr, _NO_ROWS)
            new_values, new_geo = now_rows.get(attr, _NO_ROWS)
            if retyped or (
                old_values != new_values
                and [row[2] for row in old_values] != [row[2] for row in new_values]
            ):
                # discovery's summary: the entity counted again where its types or this
                # attribute's kinds changed
                was_kinds = _kinds(old_values) if attr in was_rows else None
                now_kinds = _kinds(new_values) if attr in now_rows else None
                if was_kinds != now_kinds or retyped:
                    if was_kinds is not None:
                        counted.append((attr, was_kinds, was_types, -1))
                    if now_kinds is not None:
                        counted.append((attr, now_kinds, now_types, 1))
                    names.add(attr)
            if old_values != new_values:
                deleted.append((eid, attr))
                inserted.append((eid, attr, new_values))
                names.add(attr)
            if old_geo != new_geo:
                if any(point is not None for _, _, point in old_geo):
                    moved_points.append((eid, attr))
                if any(point is None for _, _, point in old_geo):
                    moved_shapes.append((eid, attr))
                placed.extend((eid, new["id"], row) for row in new_geo)
                names.add(attr)
    if not names:
        return
    aids = ids.resolve(conn, tenant, names, learned)
    delete_pairs(conn, "attr_values", ("eid", "aid"), [(eid, aids[a]) for eid, a in deleted])
    values: list[Any] = []
    for eid, attr, rows in inserted:
        aid = aids[attr]
        for row in rows:
            values += (eid, aid)
            values += row
    insert_flat(conn, _VALUES_HEAD, 7, values, _VALUES_ROW)
    delete_pairs(conn, "geo_points", ("eid", "aid"), [(eid, aids[a]) for eid, a in moved_points])
    for eid, attr in moved_shapes:
        _delete_shapes(conn, eid, aids[attr])
    _insert_geometry(conn, aids, placed)
    if counted:
        census = Census()
        for attr, kinds, types, sign in counted:
            census.count(aids[attr], kinds, types, sign)
        census.apply(conn)


def _kinds(rows: list[ValueRow]) -> set[str]:
    """The attribute types of an attribute's rows ('' for a row without one)."""
    return {row[2] if type(row[2]) is str else "" for row in rows}


def unindex(conn: sqlite3.Connection, eid: int) -> tuple[str, ...]:
    """Remove every side-table row of the entity row `eid` (delete, and before re-indexing),
    and take it out of discovery's summary: call it while its `entity_types` rows are still
    there. Returns the entity's types, as read from them."""
    types = tuple(t for (t,) in conn.execute("SELECT type FROM entity_types WHERE eid = ?", (eid,)))
    held: dict[int, set[str]] = {}
    for aid, atype in conn.execute("SELECT aid, atype FROM attr_values WHERE eid = ?", (eid,)):
        held.setdefault(aid, set()).add(atype if isinstance(atype, str) else "")
    if held:
        census = Census()
        for aid, kinds in held.items():
            census.count(aid, kinds, types, -1)
        census.apply(conn)
    conn.execute("DELETE FROM attr_values WHERE eid = ?", (eid,))
    conn.execute("DELETE FROM geo_points WHERE eid = ?", (eid,))
    rids = [(row[0],) for row in conn.execute("SELECT rid FROM geo_shapes WHERE eid = ?", (eid,))]
    if rids:
        conn.executemany("DELETE FROM geo_boxes WHERE rid = ?", rids)
        conn.execute("DELETE FROM geo_shapes WHERE eid = ?", (eid,))
    return types


_VALUES_HEAD = "INSERT INTO attr_values (eid, aid, seq, dataset, atype, kind, val)"
_VALUES_ROW = "(?, ?, ?, nullif(?, X''), nullif(?, X''), ?, nullif(?, X''))"
"""An attr_values row; its nullable columns are bound as bulk.NO_VALUE for NULL."""


def new_rows(
    entities: Iterable[tuple[int, ExpandedEntity]],
    aids: dict[str, int],
    aid_of: Callable[[str], int],
    *,
    geometry: bool = True,
    census: Census | None = None,
    types: Sequence[list[str]] | None = None,
) -> tuple[list[Any], list[tuple[int, str, GeoRow]]]:
    """The side-table rows of fresh entities (eid, entity) in one walk of each: the
    attr_values parameters, flat (`_VALUES_ROW`, seven per row), and the (eid, entity id,
    GeoRow) triples for `_insert_geometry`. `aids` holds the keys known so far; `aid_of` is
    asked for the others (and adds them to `aids`). With `census` (and `types`, each
    entity's), every entity is counted in it as holding its attributes: counted here, in
    the walk, because a set of kinds per attribute handed to `Census.count` cost a batch of
    creates 10,000 instructions per entity more.

    The rows of `entity_rows`, spelled out again for the create path: that one builds a
    list per attribute for updates to compare, which costs a batch of creates 14,000
    instructions per entity more than writing each row's parameters straight into one
    list (tests/storage/test_sqlite_batch_index.py holds both to one reference)."""
    values: list[Any] = []
    shapes: list[tuple[int, str, GeoRow]] = []
    holders = kinds = None
    if census is not None:
        holders = census.holders
    for k, (eid, entity) in enumerate(entities):
        attrs = entity.get("attrs")
        if not isinstance(attrs, dict):
            continue
        if census is not None and types is not None:
            entity_types = tuple(types[k])
            kinds = census.kinds.get(entity_types)
            if kinds is None:
                kinds = census.kinds[entity_types] = {}
        for attr, instances in attrs.items():
            aid = aids.get(attr)
            if aid is None:
                aid = aid_of(attr)
            if holders is not None:
                holders[aid] = holders.get(aid, 0) + 1
            if not isinstance(instances, list) or not instances:
                values += (eid, aid, 0, NO_VALUE, NO_VALUE, "x", NO_VALUE)
                if kinds is not None:
                    kinds[aid, ""] = kinds.get((aid, ""), 0) + 1
                continue
            counted: set[str] | None = set() if len(instances) > 1 else None
            for seq, instance in enumerate(instances):
                if not isinstance(instance, dict):
                    values += (eid, aid, seq, NO_VALUE, NO_VALUE, "x", NO_VALUE)
                    if kinds is not None and (counted is None or "" not in counted):
                        kinds[aid, ""] = kinds.get((aid, ""), 0) + 1
                        if counted is not None:
                            counted.add("")
                    continue
                atype = instance.get("type")
                value = instance.get("value")
                kind, val = _indexed(instance, atype, value)
                dataset = instance.get("datasetId")
                values += (
                    eid,
                    aid,
                    seq,
                    dataset if isinstance(dataset, str) else NO_VALUE,
                    atype if isinstance(atype, str) else NO_VALUE,
                    kind,
                    val,
                )
                if kinds is not None:
                    named = atype if isinstance(atype, str) else ""
                    if counted is None or named not in counted:
                        key = (aid, named)
                        kinds[key] = kinds.get(key, 0) + 1
                        if counted is not None:
                            counted.add(named)
                if (
                    geometry
                    and isinstance(value, dict)
                    and value.get("type") in GEOMETRY_TYPES
                ):
                    point = _plain_point(value)
                    row: GeoRow
                    if point is not None:
                        row = attr, (point[0], point[1], point[0], point[1]), point
                    else:
                        row = geo_row(attr, value)
                    shapes.append((eid, entity["id"], row))
    return values, shapes


def _insert_geometry(
    conn: sqlite3.Connection, aids: dict[str, int], rows: list[tuple[int, str, GeoRow]]
) -> None:
    """The geometry rows of (eid, entity id, row) triples: Points into `geo_points`,
    numbered from 0 within their (eid, aid); other shapes into `geo_shapes` and the R*Tree,
    with rowids handed out in order from the largest there is."""
    points: list[tuple[int, int, int, int, float, float, str]] = []
    shapes: list[tuple[int, int, str, Box]] = []
    seqs: dict[tuple[int, int], int] = {}
    for eid, entity_id, (attr, box, point) in rows:
        aid = aids[attr]
        if point is None:
            shapes.append((eid, aid, entity_id, box))
            continue
        seq = seqs.get((eid, aid), 0)
        seqs[(eid, aid)] = seq + 1
        lon, lat = point
        points.append((eid, aid, seq, cell(lon, lat), lon, lat, entity_id))
    # In key order: each chunk then walks the key's pages once, left to right.
    points.sort(key=lambda row: (row[1], row[3]))
    insert_rows(conn, "INSERT INTO geo_points (eid, aid, seq, cell, lon, lat, id)", 7, points)
    if not shapes:
        return
    first = int(conn.execute("SELECT coalesce(max(rid), 0) + 1 FROM geo_shapes").fetchone()[0])
    insert_rows(
        conn,
        "INSERT INTO geo_shapes (rid, eid, aid, id)",
        4,
        [(first + k, eid, aid, entity_id) for k, (eid, aid, entity_id, _) in enumerate(shapes)],
    )
    insert_rows(
        conn,
        "INSERT INTO geo_boxes (rid, min_lon, max_lon, min_lat, max_lat)",
        5,
        [
            (first + k, min_lon, max_lon, min_lat, max_lat)
            for k, (_, _, _, (min_lon, min_lat, max_lon, max_lat)) in enumerate(shapes)
        ],
    )


def _delete_shapes(conn: sqlite3.Connection, eid: int, aid: int) -> None:
    rids = [
        (row[0],)
        for row in conn.execute(
            "SELECT rid FROM geo_shapes WHERE eid = ? AND aid = ?", (eid, aid)
        )
    ]
    conn.executemany("DELETE FROM geo_boxes WHERE rid = ?", rids)
    conn.execute("DELETE FROM geo_shapes WHERE eid = ? AND aid = ?", (eid, aid))


# -- attribute values ------------------------------------------------------------------------


AttrRows = tuple[list[ValueRow], list["GeoRow"]]
"""One attribute's attr_values rows and geometry rows."""

_NO_ROWS: AttrRows = ([], [])


def entity_rows(entity: ExpandedEntity, *, geometry: bool = True) -> dict[str, AttrRows]:
    """For each top-level attribute, its attr_values rows (one per instance, and one for a
    name with no instance, which `attrs=` still selects on) and the GeoRow of each instance
    whose value is a geometry. One walk of the entity: creates write these rows, updates
    compare them attribute by attribute."""
    found: dict[str, AttrRows] = {}
    attrs = entity.get("attrs")
    if not isinstance(attrs, dict):
        return found
    for attr, instances in attrs.items():
        values: list[ValueRow] = []
        shapes: list[GeoRow] = []
        found[attr] = (values, shapes)
        if not isinstance(instances, list) or not instances:
            values.append((0, NO_VALUE, NO_VALUE, "x", NO_VALUE))
            continue
        for seq, instance in enumerate(instances):
            if not isinstance(instance, dict):
                values.append((seq, NO_VALUE, NO_VALUE, "x", NO_VALUE))
                continue
            atype = instance.get("type")
            value = instance.get("value")
            kind, val = _indexed(instance, atype, value)
            dataset = instance.get("datasetId")
            values.append((
                seq,
                dataset if isinstance(dataset, str) else NO_VALUE,
                atype if isinstance(atype, str) else NO_VALUE,
                kind,
                val,
            ))
            if geometry and isinstance(value, dict) and value.get("type") in GEOMETRY_TYPES:
                point = _plain_point(value)
                if point is not None:
                    shapes.append((attr, (point[0], point[1], point[0], point[1]), point))
                else:
                    shapes.append(geo_row(attr, value))
    return found


def _indexed(instance: dict[str, Any], atype: Any, value: Any) -> tuple[str, Any]:
    """The (kind, val) of an instance's row (see the module docstring), NULL as NO_VALUE:
    a Property's scalar value, a Relationship's one object IRI, else kind 'x'."""
    if atype == "Property":
        if type(value) is str:
            return "s", value
        kind, val = value_kind(value)  # no value at all is indexed as a null one: 'x'
        return kind, NO_VALUE if val is None else val
    if atype == "Relationship":
        target = instance.get("object")
        if isinstance(target, str):
            return "s", target
    return "x", NO_VALUE


def value_kind(value: Any) -> tuple[str, Any]:
    if isinstance(value, bool):
        return "b", int(value)
    if isinstance(value, int):
        return ("n", value) if -_INT64 <= value <= _INT64 else ("x", None)
    if isinstance(value, float):
        return ("n", value) if math.isfinite(value) else ("x", None)
    if isinstance(value, str):
        return "s", value
    return "x", None


# -- geometry boxes --------------------------------------------------------------------------


GeoRow = tuple[str, Box, tuple[float, float] | None]
"""(attribute IRI, box, (lon, lat) when the value is a Point): one geometry instance."""


def geo_rows(entity: ExpandedEntity) -> Iterator[GeoRow]:
    """A GeoRow for every instance of a top-level attribute whose value is a geometry. A
    geometry-like value whose box cannot be computed gets the whole world, so it is a
    candidate for every geo-query and the exact evaluation decides."""
    for _, shapes in entity_rows(entity).values():
        yield from shapes


def geo_row(attr: str, geometry: dict[str, Any]) -> GeoRow:
    """The GeoRow of one geometry-like value."""
    box = geometry_box(geometry)
    if box is None:
        return attr, WORLD, None
    if geometry["type"] == "Point":  # valid, so its coordinates are finite and in range
        return attr, box, (box[0], box[1])
    return attr, box, None


def _plain_point(value: dict[str, Any]) -> tuple[float, float] | None:
    """(lon, lat) of the Point sensors send (two floats in range, no bbox), the shape
    `geo_row` is spared for; None for anything else, which `geo_row` then judges."""
    if value.get("type") != "Point" or "bbox" in value:
        return None
    return plain_position(value.get("coordinates"))
