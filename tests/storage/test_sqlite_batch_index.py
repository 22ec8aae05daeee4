"""The SQLite side tables after batch writes: a batch of updates to existing entities (the
bulk path: one statement per table and chunk) leaves exactly the attribute rows, type rows and
geometry boxes that creating the final entities from scratch would have left."""

from __future__ import annotations

import asyncio
import math
import sqlite3
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.model.geojson import GEOMETRY_TYPES
from broker.settings import Settings
from broker.storage.base import BatchWrite
from broker.storage.sqlite import SqliteStore, bulk, index
from broker.types import ExpandedEntity

EX = "https://example.org/"
NOW = "2026-12-03T00:00:00.000Z"

SCALARS = st.one_of(
    st.integers(-1000, 1000), st.floats(-1e3, 1e3, allow_nan=False), st.text(max_size=5),
    st.booleans(), st.lists(st.integers(0, 3), max_size=2),
)
POINTS = st.tuples(st.floats(-10, 10), st.floats(-10, 10)).map(
    lambda p: {"type": "Point", "coordinates": [p[0], p[1]]}
)
SQUARES = st.tuples(st.floats(-10, 10), st.floats(-10, 10)).map(
    lambda p: {"type": "Polygon", "coordinates": [[
        [p[0], p[1]], [p[0] + 1, p[1]], [p[0] + 1, p[1] + 1], [p[0], p[1] + 1], [p[0], p[1]]
    ]]}
)
GEOMETRIES = POINTS | SQUARES
"""Points go to geo_points, other shapes to the R*Tree: both kinds, and moves between them."""


def _prop(value: Any) -> list[dict[str, Any]]:
    return [{"type": "Property", "value": value, "createdAt": NOW, "modifiedAt": NOW}]


@st.composite
def entities(draw: st.DrawFn, entity_id: str) -> ExpandedEntity:
    attrs: dict[str, Any] = {}
    for name in draw(st.sets(st.sampled_from(["a", "b", "c", "d"]), max_size=4)):
        attrs[EX + name] = _prop(draw(SCALARS))
    if draw(st.booleans()):
        attrs[EX + "rel"] = [{"type": "Relationship", "object": draw(
            st.sampled_from(["urn:x:1", "urn:x:2"])), "createdAt": NOW, "modifiedAt": NOW}]
    if draw(st.booleans()):
        attrs["https://uri.etsi.org/ngsi-ld/location"] = [
            {"type": "GeoProperty", "value": geometry, "createdAt": NOW, "modifiedAt": NOW}
            for geometry in draw(st.lists(GEOMETRIES, min_size=1, max_size=2))
        ]
    types = draw(st.sampled_from([[EX + "T"], [EX + "U"], [EX + "T", EX + "U"]]))
    return {"id": entity_id, "type": types, "createdAt": NOW, "modifiedAt": NOW, "attrs": attrs}


def _side_tables(path: Path) -> dict[str, list[Any]]:
    """The side tables keyed by entity id and attribute IRI (eids and aids differ)."""
    conn = sqlite3.connect(path)
    try:
        values = conn.execute(
            "SELECT e.id, n.iri, v.seq, v.dataset, v.atype, v.kind, v.val FROM attr_values v "
            "JOIN entities e ON e.eid = v.eid JOIN attr_names n ON n.aid = v.aid"
        ).fetchall()
        types = conn.execute("SELECT tenant, id, type FROM entity_types").fetchall()
        boxes = conn.execute(
            "SELECT s.id, n.iri, b.min_lon, b.max_lon, b.min_lat, b.max_lat FROM geo_shapes s "
            "JOIN geo_boxes b ON b.rid = s.rid JOIN attr_names n ON n.aid = s.aid"
        ).fetchall()
        points = conn.execute(
            "SELECT p.id, n.iri, p.seq, p.cell, p.lon, p.lat FROM geo_points p "
            "JOIN attr_names n ON n.aid = p.aid"
        ).fetchall()
        docs = conn.execute("SELECT id, doc FROM entities").fetchall()
    finally:
        conn.close()
    return {"values": sorted(values, key=repr), "types": sorted(types),
            "boxes": sorted(boxes), "points": sorted(points), "docs": sorted(docs)}


async def _store(path: Path) -> SqliteStore:
    store = SqliteStore(str(path), Settings())
    await store.start()
    return store


IDS = [f"urn:ngsi-ld:T:{i}" for i in range(12)]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    before=st.tuples(*(entities(i) for i in IDS)),
    after=st.tuples(*(entities(i) for i in IDS)),
    data=st.data(),
)
async def test_a_batch_of_updates_indexes_as_creating_the_final_entities_would(
    tmp_path_factory: Any, before: tuple[ExpandedEntity, ...], after: tuple[ExpandedEntity, ...],
    data: st.DataObject,
) -> None:
    small = data.draw(st.booleans(), label="small chunks")
    saved = bulk.MAX_TERMS, bulk.MAX_ROWS
    if small:  # several chunks per statement kind, odd sizes included
        bulk.MAX_TERMS, bulk.MAX_ROWS = 2, 4
    try:
        root = tmp_path_factory.mktemp("index")
        updated, fresh = await _store(root / "updated.db"), await _store(root / "fresh.db")
        try:
            await updated.write_batch("", [BatchWrite.create(e) for e in before])
            replaced = data.draw(st.sets(st.sampled_from(range(len(IDS)))), label="replaced")
            final = [after[i] if i in replaced else before[i] for i in range(len(IDS))]
            outcomes = await updated.write_batch(
                "", [BatchWrite.replace(after[i]) for i in sorted(replaced)]
            )
            assert outcomes == [None] * len(replaced)
            await fresh.write_batch("", [BatchWrite.create(e) for e in final])
        finally:
            await updated.close()
            await fresh.close()
        assert _side_tables(root / "updated.db") == _side_tables(root / "fresh.db")
    finally:
        bulk.MAX_TERMS, bulk.MAX_ROWS = saved


async def test_a_batch_replacing_a_missing_entity_writes_nothing_else_twice(
    tmp_path: Path,
) -> None:
    """One element names an entity that is not there: it alone fails, the others land once."""
    store = await _store(tmp_path / "a.db")
    try:
        one = {"id": IDS[0], "type": [EX + "T"], "attrs": {EX + "a": _prop(1)}}
        two = {"id": IDS[1], "type": [EX + "T"], "attrs": {EX + "a": _prop(2)}}
        await store.write_batch("", [BatchWrite.create(one)])
        changed = {**one, "attrs": {EX + "a": _prop(5)}}
        outcomes = await store.write_batch(
            "", [BatchWrite.replace(changed), BatchWrite.replace(two)]
        )
        assert outcomes[0] is None and outcomes[1] is not None
    finally:
        await store.close()
    tables = _side_tables(tmp_path / "a.db")
    assert [(v[0], v[1], v[6]) for v in tables["values"]] == [(IDS[0], EX + "a", 5)]


async def test_batches_of_creates_grouped_together_fail_only_where_an_id_exists(
    tmp_path: Path,
) -> None:
    """Several create-only batches queued at once go in as one insert; when one of them
    holds an id that exists, that element alone is refused and every other entity lands."""
    store = await _store(tmp_path / "g.db")
    try:
        taken = {"id": "urn:ngsi-ld:T:taken", "type": [EX + "T"], "attrs": {EX + "a": _prop(0)}}
        await store.write_batch("", [BatchWrite.create(taken)])
        batches = [
            [
                BatchWrite.create(
                    {"id": f"urn:ngsi-ld:T:{b}-{i}", "type": [EX + "T"],
                     "attrs": {EX + "a": _prop(i)}}
                )
                for i in range(5)
            ]
            for b in range(6)
        ]
        batches[3][2] = BatchWrite.create({**taken, "attrs": {EX + "a": _prop(9)}})
        groups = store.writer.groups_committed
        outcomes = await asyncio.gather(*(store.write_batch("", b) for b in batches))
        assert store.writer.groups_committed - groups < len(batches)  # they were grouped
        assert [b for b, got in enumerate(outcomes) if any(o is not None for o in got)] == [3]
        assert [i for i, o in enumerate(outcomes[3]) if o is not None] == [2]
    finally:
        await store.close()
    tables = _side_tables(tmp_path / "g.db")
    assert len(tables["docs"]) == 1 + 6 * 5 - 1
    assert (taken["id"], EX + "a", 0) in [(v[0], v[1], v[6]) for v in tables["values"]]


_ABSENT = object()
ODD_INSTANCES = st.one_of(
    st.builds(
        lambda kind, value, dataset: {
            k: v for k, v in (("type", kind), ("value", value), ("datasetId", dataset))
            if v is not _ABSENT
        },
        st.sampled_from(["Property", "GeoProperty", "LanguageProperty", 7, _ABSENT]),
        st.one_of(SCALARS, GEOMETRIES, st.none(), st.just({"type": "Point"}),
                  st.sampled_from([2**64, -(2**63), float("inf"), float("nan")]),
                  st.just({"type": "Point", "coordinates": [1, 2]}), st.just(_ABSENT)),
        st.sampled_from(["urn:ds:1", 3, _ABSENT]),
    ),
    st.builds(
        lambda target: {"type": "Relationship", "object": target},
        st.sampled_from(["urn:x:1", ["urn:x:1", "urn:x:2"], None]),
    ),
    st.sampled_from(["not an instance", 5, None]),
)
"""Instances of every shape the index walks meet, well-formed or not (datasetIds, values
missing or of no kind, geometry under another attribute type, a Point the short path
declines, a Relationship to several objects)."""


def _reference_rows(entity: ExpandedEntity) -> dict[str, Any]:
    """The side-table rows of an entity as index.py's docstring spells them out, written
    plainly: per attribute, a row per instance (kind n/s/b/x with its value), one row for a
    name with no instance, and a GeoRow per geometry value."""
    none = bulk.NO_VALUE
    found: dict[str, Any] = {}
    for attr, instances in entity["attrs"].items():
        rows: list[Any] = []
        shapes: list[Any] = []
        if not isinstance(instances, list) or not instances:
            rows.append((0, none, none, "x", none))
        else:
            for seq, inst in enumerate(instances):
                if not isinstance(inst, dict):
                    rows.append((seq, none, none, "x", none))
                    continue
                kind, val = "x", none
                value = inst.get("value")
                if inst.get("type") == "Property" and "value" in inst:
                    if isinstance(value, bool):
                        kind, val = "b", int(value)
                    elif isinstance(value, int) and abs(value) < 2**63:
                        kind, val = "n", value
                    elif isinstance(value, float) and math.isfinite(value):
                        kind, val = "n", value
                    elif isinstance(value, str):
                        kind, val = "s", value
                elif inst.get("type") == "Relationship" and isinstance(inst.get("object"), str):
                    kind, val = "s", inst["object"]
                dataset, atype = inst.get("datasetId"), inst.get("type")
                rows.append((
                    seq,
                    dataset if isinstance(dataset, str) else none,
                    atype if isinstance(atype, str) else none,
                    kind,
                    val,
                ))
                if isinstance(value, dict) and value.get("type") in GEOMETRY_TYPES:
                    shapes.append(index.geo_row(attr, value))
        found[attr] = (rows, shapes)
    return found


@given(st.lists(
    st.dictionaries(
        st.sampled_from([EX + "a", EX + "b", EX + "loc"]),
        st.one_of(st.lists(ODD_INSTANCES, max_size=3), st.sampled_from([{}, "x", None])),
        max_size=3,
    ),
    max_size=4,
))
def test_the_one_walk_gives_the_rows_the_index_describes(attr_maps: list[Any]) -> None:
    """`entity_rows` (one walk of an entity, with shortcuts for the usual shapes: what
    creates write and updates compare) against the plain reference above, on well-formed
    and odd instances alike; and `new_rows` lays those rows out for one insert, every name's
    key asked for once."""
    entities = [
        (eid, {"id": f"urn:ngsi-ld:T:{eid}", "type": [EX + "T"], "attrs": attrs})
        for eid, attrs in enumerate(attr_maps, start=1)
    ]
    for _, entity in entities:
        assert index.entity_rows(entity) == _reference_rows(entity)
        assert all(geo == [] for _, geo in index.entity_rows(entity, geometry=False).values())
    known = {EX + "a": 10}
    asked: list[str] = []

    def aid_of(attr: str) -> int:
        asked.append(attr)
        aid = known[attr] = 10 + len(known)
        return aid

    values, shapes = index.new_rows(entities, known, aid_of)
    expected: list[Any] = []
    expected_shapes: list[Any] = []
    for eid, entity in entities:
        for attr, (rows, geo) in _reference_rows(entity).items():
            expected += [v for row in rows for v in (eid, known[attr], *row)]
            expected_shapes += [(eid, entity["id"], g) for g in geo]
    assert values == expected and shapes == expected_shapes
    assert len(asked) == len(set(asked)) and EX + "a" not in asked


def _summary(path: Path) -> tuple[dict[Any, int], dict[Any, int], dict[Any, int], dict[Any, int]]:
    """Discovery's summary as the writes kept it, and as the side tables say it should be."""
    conn = sqlite3.connect(path)
    try:
        holders = {a: n for a, n in conn.execute("SELECT aid, entities FROM attr_holders") if n}
        kinds = {
            (a, t, k): n
            for a, t, k, n in conn.execute("SELECT aid, type, atype, entities FROM attr_kinds")
            if n
        }
        negative = conn.execute(
            "SELECT (SELECT count(*) FROM attr_holders WHERE entities < 0) "
            "+ (SELECT count(*) FROM attr_kinds WHERE entities < 0)"
        ).fetchone()[0]
        assert negative == 0
        want_holders = dict(conn.execute(
            "SELECT aid, count(*) FROM attr_values WHERE seq = 0 GROUP BY aid"
        ).fetchall())
        want_kinds = {
            (a, t, k): n
            for a, t, k, n in conn.execute(
                "SELECT v.aid, t.type, coalesce(v.atype, ''), count(DISTINCT v.eid) "
                "FROM attr_values v JOIN entity_types t ON t.eid = v.eid GROUP BY 1, 2, 3"
            )
        }
        types = {
            (tenant, t): n
            for tenant, t, n in conn.execute("SELECT tenant, type, entities FROM type_counts")
            if n
        }
        assert not conn.execute("SELECT 1 FROM type_counts WHERE entities < 0").fetchall()
        want_types = {
            (tenant, t): n
            for tenant, t, n in conn.execute(
                "SELECT tenant, type, count(*) FROM entity_types GROUP BY 1, 2"
            )
        }
        assert types == want_types
    finally:
        conn.close()
    return holders, want_holders, kinds, want_kinds


@st.composite
def _odd_entities(draw: st.DrawFn, entity_id: str) -> ExpandedEntity:
    """`entities`, sometimes with an attribute of no instance or one whose instances are of
    two attribute types (a datasetId each), which discovery lists with both kinds."""
    entity = draw(entities(entity_id))
    attrs = dict(entity["attrs"])
    if draw(st.booleans()):
        attrs[EX + "empty"] = []
    if draw(st.booleans()):
        attrs[EX + "mixed"] = [
            {"type": "Property", "value": 1, "datasetId": "urn:ds:1"},
            {"type": draw(st.sampled_from(["Property", "Relationship"])), "object": "urn:x:1",
             "value": 2, "datasetId": "urn:ds:2"},
        ]
    return {**entity, "attrs": attrs}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
async def test_discoverys_summary_follows_every_kind_of_write(
    tmp_path_factory: Any, data: st.DataObject
) -> None:
    """After any sequence of creates, replaces (types changing too), conditional rewrites
    and deletes, single or in batches, the summary discovery reads holds what the side
    tables hold: entities per type, per attribute, and per (attribute, entity type, attribute
    type)."""
    path = tmp_path_factory.mktemp("census") / "c.db"
    store = await _store(path)
    ids = IDS[:6]
    try:
        for _ in range(data.draw(st.integers(1, 6), label="steps")):
            step = data.draw(st.sampled_from(
                ["batch", "create", "replace", "modify", "delete", "batch delete"]
            ), label="step")
            chosen = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=4, unique=True))
            if step == "batch":
                writes = []
                for entity_id in chosen:
                    entity = data.draw(_odd_entities(entity_id))
                    stored = await store.get_entity("", entity_id) is not None
                    write = BatchWrite.replace if stored else BatchWrite.create
                    writes.append(write(entity))
                await store.write_batch("", writes)
            elif step == "batch delete":
                await store.write_batch("", [BatchWrite.delete(i) for i in chosen])
            else:
                entity_id = chosen[0]
                entity = data.draw(_odd_entities(entity_id))
                if step == "create":
                    if await store.get_entity("", entity_id) is None:
                        await store.create_entity("", entity)
                elif step == "replace":
                    await store.replace_entity("", entity)
                elif step == "modify":
                    await store.modify_entity("", entity_id, lambda old, new=entity: (new, None))
                else:
                    await store.delete_entity("", entity_id)
    finally:
        await store.close()
    holders, want_holders, kinds, want_kinds = _summary(path)
    assert holders == want_holders
    assert kinds == want_kinds
