"""Clause 6.4.3.2 Query Entities with pagination (clause 5.5.9: `limit`, `offset`, `Link`
rel="next"/"prev") and counting (clause 5.5.10: `count=true` gives `NGSILD-Results-Count`).

This broker's page size is 20 by default and at most 1000."""

from __future__ import annotations

import re
import urllib.parse
import uuid
from typing import Any

import pytest

from conformance_tests.client import API, JSON, Client, Response, assert_problem, new_id
from conformance_tests.conftest import Target

ENTITIES = f"{API}/entities"
RESULTS_COUNT = "NGSILD-Results-Count"
DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
TOTAL = 25


@pytest.fixture(scope="module")
def population(target: Target) -> tuple[str, list[str]]:
    """TOTAL entities of a fresh type, speed 0..TOTAL-1: (type, ids). Read-only for tests."""
    client = target.client()
    t = f"Counter{uuid.uuid4().hex[:8]}"
    ids = []
    for i in range(TOTAL):
        entity = {"id": new_id(t), "type": t, "speed": {"type": "Property", "value": i}}
        client.create(entity)
        ids.append(entity["id"])
    return t, ids


def _get(client: Client, **params: Any) -> Response:
    r = client.get(ENTITIES, params=params, accept=JSON)
    assert r.status == 200, f"query {params} failed: {r}"
    assert isinstance(r.json(), list), r
    return r


def _page(client: Client, **params: Any) -> list[str]:
    return [e["id"] for e in _get(client, **params).json()]


def _links(r: Response) -> dict[str, str]:
    """The URL of each `rel` in the response's Link header(s)."""
    out = {}
    for url, params in re.findall(r"<([^>]*)>([^<]*)", r.header("link") or ""):
        m = re.search(r'rel="?([^";,]+)"?', params)
        if m:
            out[m.group(1)] = url
    return out


def _follow(client: Client, url: str) -> Response:
    parts = urllib.parse.urlsplit(url)
    path = parts.path.removeprefix(client.prefix)
    r = client.request("GET", f"{path}?{parts.query}" if parts.query else path, accept=JSON)
    assert r.status == 200, f"following {url} failed: {r}"
    return r


def _count(r: Response) -> int:
    value = r.header(RESULTS_COUNT)
    assert value is not None, f"no {RESULTS_COUNT} header: {r.headers}"
    return int(value)


# -- limit and offset --------------------------------------------------------------------------


def test_query_without_limit_returns_the_default_page_of_20(
    client: Client, population: Any
) -> None:
    t, _ = population
    assert len(_page(client, type=t)) == DEFAULT_LIMIT


def test_limit_caps_the_number_of_entities_returned(client: Client, population: Any) -> None:
    t, ids = population
    page = _page(client, type=t, limit=7)
    assert len(page) == 7
    assert set(page) <= set(ids)


def test_limit_above_the_total_returns_every_match(client: Client, population: Any) -> None:
    t, ids = population
    assert sorted(_page(client, type=t, limit=100)) == sorted(ids)


def test_pages_cover_every_entity_once_without_duplicates_or_gaps(
    client: Client, population: Any
) -> None:
    t, ids = population
    pages = [_page(client, type=t, limit=10, offset=offset) for offset in (0, 10, 20)]
    assert [len(p) for p in pages] == [10, 10, 5]
    seen = [i for p in pages for i in p]
    assert len(seen) == len(set(seen)), "an entity appears on two pages"
    assert set(seen) == set(ids), "some entity appears on no page"


def test_pages_follow_the_order_of_the_full_result(client: Client, population: Any) -> None:
    t, _ = population
    full = _page(client, type=t, limit=TOTAL)
    pages = [_page(client, type=t, limit=4, offset=o) for o in range(0, TOTAL, 4)]
    assert [i for p in pages for i in p] == full


def test_the_same_query_returns_the_same_order_each_time(client: Client, population: Any) -> None:
    t, _ = population
    first = _page(client, type=t, limit=TOTAL)
    for _ in range(3):
        assert _page(client, type=t, limit=TOTAL) == first


def test_offset_skips_that_many_entities(client: Client, population: Any) -> None:
    t, _ = population
    full = _page(client, type=t, limit=TOTAL)
    assert _page(client, type=t, limit=TOTAL, offset=5) == full[5:]


def test_offset_beyond_the_last_match_is_an_empty_array(client: Client, population: Any) -> None:
    t, _ = population
    assert _page(client, type=t, offset=TOTAL) == []
    assert _page(client, type=t, offset=10_000) == []


def test_pagination_applies_after_filtering_by_q(client: Client, population: Any) -> None:
    t, ids = population
    matching = set(ids[10:])  # speed >= 10
    pages = [_page(client, type=t, q="speed>=10", limit=6, offset=o) for o in (0, 6, 12)]
    assert [len(p) for p in pages] == [6, 6, 3]
    assert {i for p in pages for i in p} == matching


def test_limit_at_the_maximum_is_accepted(client: Client, population: Any) -> None:
    t, ids = population
    assert sorted(_page(client, type=t, limit=MAX_LIMIT)) == sorted(ids)


def test_limit_above_the_maximum_is_rejected(client: Client, population: Any) -> None:
    t, _ = population
    r = client.get(ENTITIES, params={"type": t, "limit": MAX_LIMIT + 1}, accept=JSON)
    assert r.status in (400, 403), r
    assert_problem(r, r.status, ("BadRequestData", "TooManyResults"))


@pytest.mark.parametrize(
    ("name", "value"),
    [("limit", "-1"), ("limit", "ten"), ("limit", "2.5"), ("offset", "-1"), ("offset", "x")],
)
def test_invalid_limit_or_offset_is_400_bad_request_data(
    client: Client, name: str, value: str
) -> None:
    r = client.get(ENTITIES, params={"type": "Vehicle", name: value}, accept=JSON)
    assert_problem(r, 400, "BadRequestData")


# -- count -------------------------------------------------------------------------------------


def test_count_true_gives_the_total_in_ngsild_results_count(
    client: Client, population: Any
) -> None:
    t, _ = population
    r = _get(client, type=t, limit=5, count="true")
    assert len(r.json()) == 5
    assert _count(r) == TOTAL


def test_count_is_the_number_of_matches_not_of_entities(client: Client, population: Any) -> None:
    t, _ = population
    r = _get(client, type=t, q="speed<3", count="true")
    assert len(r.json()) == 3
    assert _count(r) == 3


def test_count_is_the_same_on_every_page(client: Client, population: Any) -> None:
    t, _ = population
    for offset in (0, 10, 20, 30):
        assert _count(_get(client, type=t, limit=10, offset=offset, count="true")) == TOTAL


def test_count_of_no_match_is_zero(client: Client) -> None:
    r = _get(client, type=f"Nothing{uuid.uuid4().hex[:8]}", count="true")
    assert r.json() == []
    assert _count(r) == 0


def test_without_count_there_is_no_results_count_header(client: Client, population: Any) -> None:
    t, _ = population
    assert _get(client, type=t).header(RESULTS_COUNT) is None
    assert _get(client, type=t, count="false").header(RESULTS_COUNT) is None


def test_limit_zero_with_count_gives_only_the_count(client: Client, population: Any) -> None:
    t, _ = population
    r = _get(client, type=t, limit=0, count="true")
    assert r.json() == []
    assert _count(r) == TOTAL


def test_limit_zero_without_count_is_400_bad_request_data(
    client: Client, population: Any
) -> None:
    t, _ = population
    r = client.get(ENTITIES, params={"type": t, "limit": 0}, accept=JSON)
    assert_problem(r, 400, "BadRequestData")


# -- Link rel="next" / rel="prev" --------------------------------------------------------------


def test_first_page_links_to_the_next_page_and_not_to_a_previous_one(
    client: Client, population: Any
) -> None:
    t, _ = population
    links = _links(_get(client, type=t, limit=10))
    assert "next" in links, links
    assert "prev" not in links, links


def test_middle_page_links_to_both_neighbours(client: Client, population: Any) -> None:
    t, _ = population
    links = _links(_get(client, type=t, limit=10, offset=10))
    assert {"next", "prev"} <= set(links), links


def test_last_page_links_back_but_not_forward(client: Client, population: Any) -> None:
    t, _ = population
    links = _links(_get(client, type=t, limit=10, offset=20))
    assert "prev" in links, links
    assert "next" not in links, links


def test_a_single_page_result_has_no_next_link(client: Client, population: Any) -> None:
    t, _ = population
    links = _links(_get(client, type=t, limit=100))
    assert "next" not in links and "prev" not in links, links


def test_following_next_links_walks_every_entity_once(client: Client, population: Any) -> None:
    t, ids = population
    r = _get(client, type=t, limit=10)
    seen = [e["id"] for e in r.json()]
    for _ in range(5):
        nxt = _links(r).get("next")
        if nxt is None:
            break
        r = _follow(client, nxt)
        seen += [e["id"] for e in r.json()]
    assert len(seen) == TOTAL
    assert set(seen) == set(ids)


def test_prev_link_leads_back_to_the_previous_page(client: Client, population: Any) -> None:
    t, _ = population
    first = _page(client, type=t, limit=10)
    second = _get(client, type=t, limit=10, offset=10)
    back = _follow(client, _links(second)["prev"])
    assert [e["id"] for e in back.json()] == first


def test_next_link_keeps_the_query_filters(client: Client, population: Any) -> None:
    t, ids = population
    r = _get(client, type=t, q="speed>=10", limit=10)
    after = _follow(client, _links(r)["next"])
    assert {e["id"] for e in after.json()} == set(ids[10:]) - {e["id"] for e in r.json()}
