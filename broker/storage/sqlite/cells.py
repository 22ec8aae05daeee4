"""Z-order cells: the key that lets an ordinary B-tree find Points by place.

The world's longitude and latitude are each cut into 2**BITS steps; a point's cell is the
two step numbers with their bits interleaved (a Morton code), so points close together on
the map mostly have close keys. A box is covered by a few key ranges (`ranges`): the
quadtree nodes, at most `budget` of them, that together hold every step of the box. A query
reads those ranges of the `geo_points` key `(aid, cell, ...)` and then tests the exact
coordinates, so a range that reaches outside the box costs a few rows, never a wrong answer.

Why not the R*Tree for Points: an R*Tree insert rebalances nodes and writes three shadow
tables; a Point's row goes into a B-tree at its key, a third of the cost per entity.
"""

from __future__ import annotations

import math

from broker.storage.geobox import Box

BITS = 30
_STEPS = 1 << BITS
_LAST = _STEPS - 1
_LON_SCALE = _STEPS / 360.0
_LAT_SCALE = _STEPS / 180.0


def _spread_bits(v: int) -> int:
    """The bits of `v` (at most 32) moved to the even bit positions."""
    v = (v | (v << 16)) & 0x0000FFFF0000FFFF
    v = (v | (v << 8)) & 0x00FF00FF00FF00FF
    v = (v | (v << 4)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v << 2)) & 0x3333333333333333
    return (v | (v << 1)) & 0x5555555555555555


_SPREAD_10 = tuple(_spread_bits(v) for v in range(1024))


def _spread(v: int) -> int:
    """The 30 bits of `v` moved to the even bit positions of a 60-bit number: three
    look-ups of 10 bits each (every Point written computes two)."""
    table = _SPREAD_10
    return table[v & 1023] | (table[(v >> 10) & 1023] << 20) | (table[v >> 20] << 40)


def _steps(lon: float, lat: float) -> tuple[int, int]:
    """The (longitude, latitude) step numbers of a position; outside the world's range a
    coordinate takes the nearest edge step. The mapping never decreases, so a position
    inside a box has steps inside the box's steps."""
    x = math.floor((lon + 180.0) * _LON_SCALE)
    y = math.floor((lat + 90.0) * _LAT_SCALE)
    return min(max(x, 0), _LAST), min(max(y, 0), _LAST)


def cell(lon: float, lat: float) -> int:
    """The cell key of a position with finite coordinates (`_steps` and `_spread` spelled
    out: every Point written computes one)."""
    x = min(max(math.floor((lon + 180.0) * _LON_SCALE), 0), _LAST)
    y = min(max(math.floor((lat + 90.0) * _LAT_SCALE), 0), _LAST)
    t = _SPREAD_10
    return (
        t[x & 1023] | (t[(x >> 10) & 1023] << 20) | (t[x >> 20] << 40)
        | (t[y & 1023] << 1) | (t[(y >> 10) & 1023] << 21) | (t[y >> 20] << 41)
    )


def ranges(box: Box, budget: int = 16) -> list[tuple[int, int]]:
    """Sorted, disjoint (first, last) cell ranges holding every cell a position in `box`
    can have: quadtree nodes inside the box, and the nodes on its edge at the deepest level
    whose nodes still number at most `budget`. Adjacent ranges are merged."""
    min_lon, min_lat, max_lon, max_lat = box
    x0, y0 = _steps(min_lon, min_lat)
    x1, y1 = _steps(max_lon, max_lat)
    # Start at the smallest node holding the whole box: its steps' common leading bits.
    level = BITS - max((x0 ^ x1).bit_length(), (y0 ^ y1).bit_length())
    whole: list[tuple[int, int, int]] = []  # (level, qx, qy): nodes inside the box
    # Nodes of `level` that meet the box's edge.
    edge: list[tuple[int, int]] = [(x0 >> (BITS - level), y0 >> (BITS - level))]
    while edge and level < BITS:
        shift = BITS - level - 1
        inside: list[tuple[int, int, int]] = []
        crossing: list[tuple[int, int]] = []
        for qx, qy in edge:
            for cx in (qx * 2, qx * 2 + 1):
                lo_x, hi_x = cx << shift, ((cx + 1) << shift) - 1
                if hi_x < x0 or lo_x > x1:
                    continue
                for cy in (qy * 2, qy * 2 + 1):
                    lo_y, hi_y = cy << shift, ((cy + 1) << shift) - 1
                    if hi_y < y0 or lo_y > y1:
                        continue
                    if x0 <= lo_x and hi_x <= x1 and y0 <= lo_y and hi_y <= y1:
                        inside.append((level + 1, cx, cy))
                    else:
                        crossing.append((cx, cy))
        if len(whole) + len(inside) + len(crossing) > budget:
            break  # the edge nodes of this level are kept whole
        whole.extend(inside)
        edge = crossing
        level += 1
    whole.extend((level, qx, qy) for qx, qy in edge)
    spans = sorted(_span(*node) for node in whole)
    merged: list[tuple[int, int]] = []
    for first, last in spans:
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def _span(level: int, qx: int, qy: int) -> tuple[int, int]:
    """The cell range of one quadtree node: its prefix followed by every suffix."""
    width = 2 * (BITS - level)
    first = (_spread(qx) | (_spread(qy) << 1)) << width
    return first, first + (1 << width) - 1
