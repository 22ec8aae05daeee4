"""SQLite discovery reads the side tables, not the documents: every statement's plan searches
indexes (no table scan), and the answers do not change when the documents are blanked."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from broker.settings import Settings
from broker.storage.base import BatchWrite
from broker.storage.sqlite import SqliteStore, discovery
from broker.types import ExpandedEntity

EX = "https://example.org/"


def entity(i: int) -> ExpandedEntity:
    types = [EX + "A"] if i % 3 else [EX + "A", EX + "B"]
    attrs: dict[str, list[dict[str, object]]] = {
        EX + "n": [{"type": "Property", "value": i}],
        EX + "r": [{"type": "Relationship", "object": "urn:x"}],
    }
    if i % 2:
        attrs[EX + "n"].append({"type": "Relationship", "object": "urn:y", "datasetId": "urn:d"})
        attrs[EX + "empty"] = []
    return {"id": f"urn:e:{i}", "type": types, "attrs": attrs}


@pytest.fixture
async def db(tmp_path: Path) -> Path:
    path = tmp_path / "d.db"
    store = SqliteStore(str(path), Settings())
    await store.start()
    await store.write_batch("", [BatchWrite.create(entity(i)) for i in range(12)])
    await store.write_batch("other", [BatchWrite.create(entity(i)) for i in range(2)])
    await store.close()
    return path


def answers(conn: sqlite3.Connection) -> list[object]:
    found: list[object] = [
        discovery.count_entities_by_type(conn, ""),
        discovery.attribute_names(conn, ""),
        discovery.describe_types(conn, "", None),
        discovery.describe_attributes(conn, "", None),
    ]
    found += [discovery.describe_types(conn, "", t) for t in (EX + "A", EX + "B", EX + "C")]
    found += [discovery.describe_attributes(conn, "", a) for a in (EX + "n", EX + "empty", "x")]
    return found


def test_the_answers_do_not_depend_on_the_documents(db: Path) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    before = answers(conn)
    (n,) = discovery.describe_attributes(conn, "", EX + "n")
    assert (n.entity_count, n.kinds, n.types) == (
        12,
        {"Property", "Relationship"},
        {EX + "A", EX + "B"},
    )
    (empty,) = discovery.describe_attributes(conn, "", EX + "empty")
    assert (empty.entity_count, empty.kinds) == (6, frozenset())
    conn.execute("UPDATE entities SET doc = '{}'")
    assert answers(conn) == before


@pytest.mark.parametrize(
    ("sql", "params"),
    [
        (discovery._TYPE_COUNTS, ("",)),
        (discovery._TYPE_COUNT, ("", "t")),
        (discovery._NAMES, ("",)),
        (discovery._COMBINATIONS.format(only_type=""), ("",)),
        (discovery._COMBINATIONS.format(only_type=discovery._ONLY_TYPE), ("", "t")),
        (discovery._ONE_ATTRIBUTE, ("", "a")),
        (discovery._ENTITY_COUNTS.format(only_attribute=""), ("",)),
        (discovery._ENTITY_COUNTS.format(only_attribute=discovery._ONLY_ATTRIBUTE), ("", "a")),
    ],
)
def test_no_statement_scans_a_table(db: Path, sql: str, params: tuple[str, ...]) -> None:
    conn = sqlite3.connect(db, isolation_level=None)
    plan = [str(row[3]) for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
    # `SCAN c` walks the few combinations the DISTINCT subquery materialised.
    scans = [step for step in plan if step.startswith("SCAN") and step != "SCAN c"]
    assert scans == [], plan
    entity_steps = [step for step in plan if " e " in f"{step} "]
    assert all(
        "COVERING INDEX entities_by_id" in step or "INTEGER PRIMARY KEY" in step
        for step in entity_steps
    ), plan
