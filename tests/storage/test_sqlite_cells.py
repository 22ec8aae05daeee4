"""Z-order cells (`broker/storage/sqlite/cells.py`): a box's ranges hold every position in it;
the Points they key are read as the general geometry code reads them."""

from __future__ import annotations

import bisect
import itertools
import math
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from broker.storage.geobox import WORLD, near_box
from broker.storage.sqlite.cells import cell, ranges
from broker.storage.sqlite.index import geo_row, geo_rows

LON = st.floats(-180, 180)
LAT = st.floats(-90, 90)


@st.composite
def boxes(draw: st.DrawFn) -> tuple[float, float, float, float]:
    """Boxes of every size, from a point to the world, and some beyond its edges."""
    lon, lat = draw(LON), draw(LAT)
    width = draw(st.sampled_from([0.0, 1e-9, 1e-5, 0.01, 0.3, 5.0, 90.0, 400.0]))
    height = draw(st.sampled_from([0.0, 1e-9, 1e-5, 0.01, 0.3, 5.0, 90.0, 200.0]))
    return lon, lat, lon + width * draw(st.floats(0, 1)), lat + height * draw(st.floats(0, 1))


def _covered(spans: list[tuple[int, int]], key: int) -> bool:
    at = bisect.bisect_right([first for first, _ in spans], key) - 1
    return at >= 0 and spans[at][0] <= key <= spans[at][1]


@given(boxes(), st.floats(0, 1), st.floats(0, 1), st.sampled_from([4, 16, 48]))
def test_every_position_in_a_box_has_its_cell_in_the_boxs_ranges(
    box: tuple[float, float, float, float], fx: float, fy: float, budget: int
) -> None:
    min_lon, min_lat, max_lon, max_lat = box
    lon = min(max_lon, min_lon + (max_lon - min_lon) * fx)
    lat = min(max_lat, min_lat + (max_lat - min_lat) * fy)
    spans = ranges(box, budget)
    assert 1 <= len(spans) <= budget
    assert all(first <= last for first, last in spans)
    assert all(a[1] + 1 < b[0] for a, b in itertools.pairwise(spans))
    for x, y in ((lon, lat), (min_lon, min_lat), (max_lon, max_lat), (min_lon, max_lat)):
        assert _covered(spans, cell(x, y)), (x, y)


@given(LON, LAT, LON, LAT)
def test_far_apart_positions_have_different_cells(a: float, b: float, c: float, d: float) -> None:
    """Cells are about 3.4e-7 degrees wide: positions further apart never share one."""
    if abs(a - c) > 1e-6 or abs(b - d) > 1e-6:
        assert cell(a, b) != cell(c, d)


def test_a_city_radius_reads_little_more_than_its_box() -> None:
    """A 2 km `near` box is covered by a handful of ranges holding at most two and a half
    times its cells, and the world by one range."""
    box = near_box(-3.70, 40.42, 2_000.0)
    assert box is not None
    spans = ranges(box)
    assert len(spans) <= 16
    width = (box[2] - box[0]) * (1 << 30) / 360.0
    height = (box[3] - box[1]) * (1 << 30) / 180.0
    covered = sum(last - first + 1 for first, last in spans)
    assert covered <= 2.5 * width * height
    assert ranges(WORLD) == [(0, (1 << 60) - 1)]


EDGES = st.sampled_from(
    [180.0, -180.0, 90.0, -90.0, 180.5, -90.5, 181.0, math.nan, math.inf, -0.0, 1e-320]
)
ODD = st.one_of(st.floats(), st.integers(-200, 200), st.booleans(), st.text(max_size=2))
COORDINATE = st.one_of(st.floats(-182, 182), EDGES, EDGES, ODD)
POSITIONS = st.one_of(
    st.tuples(COORDINATE, COORDINATE).map(list),
    st.tuples(COORDINATE, COORDINATE).map(list),
    st.lists(COORDINATE, min_size=0, max_size=3),
)
POINT_LIKE = st.one_of(
    st.builds(lambda c: {"type": "Point", "coordinates": c}, POSITIONS),
    st.builds(lambda c: {"type": "Point", "coordinates": c}, POSITIONS),
    st.builds(lambda c, b: {"type": "Point", "coordinates": c, "bbox": b},
              POSITIONS, st.lists(st.floats(-10, 10), min_size=3, max_size=4)),
)


@settings(max_examples=1500)
@given(POINT_LIKE)
@example({"type": "Point", "coordinates": [180.5, 10.0]})
@example({"type": "Point", "coordinates": [180.0, -90.0]})
@example({"type": "Point", "coordinates": [2, 41]})
@example({"type": "Point", "coordinates": [2.0, 41.0], "bbox": [2.0, 41.0, 2.0, 41.0]})
def test_the_plain_point_path_gives_what_the_general_path_gives(value: dict[str, Any]) -> None:
    """`geo_rows` spares the usual Point (two floats in range) the full geometry check; for
    any Point-like value, valid or not, its row is the one `geo_row` makes."""
    entity = {"id": "urn:x", "type": ["T"], "attrs": {"loc": [{"type": "GeoProperty",
                                                               "value": value}]}}
    assert list(geo_rows(entity)) == [geo_row("loc", value)]
