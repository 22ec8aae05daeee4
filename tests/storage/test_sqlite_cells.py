"""Z-order cells (`broker/storage/sqlite/cells.py`): a box's ranges hold every position in it."""

from __future__ import annotations

import bisect
import itertools

from hypothesis import given
from hypothesis import strategies as st

from broker.storage.geobox import WORLD, near_box
from broker.storage.sqlite.cells import cell, ranges

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
