"""Round trip (issue "Must show"): an entity posted in normalized form comes back identical in
normalized form, and correct in concise, keyValues and GeoJSON — under a user @context (Link
header or inline) and under the core @context alone. Clauses 4.4, 4.5, 6.3.5."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from conformance_tests.client import (
    API,
    CORE_CONTEXTS,
    GEOJSON,
    JSON,
    JSONLD,
    Client,
    context_list,
    without_context,
)
from conformance_tests.samples import (
    POINT,
    expected_concise,
    expected_key_values,
    full_vehicle,
    object_list,
    unwrap,
)

ROUTE = ["urn:ngsi-ld:City:Antwerp", "urn:ngsi-ld:City:Rotterdam"]


@dataclass
class Mode:
    name: str
    context: str | None  # the Link header used to read back, None for the core context
    create: Callable[[Client, dict[str, Any]], None]


@pytest.fixture(params=["core_context", "user_context_link_header", "user_context_inline"])
def mode(request: pytest.FixtureRequest, user_context_url: str) -> Mode:
    def core(c: Client, e: dict[str, Any]) -> None:
        c.create(e)

    def link(c: Client, e: dict[str, Any]) -> None:
        c.create(e, context=user_context_url)

    def inline(c: Client, e: dict[str, Any]) -> None:
        r = c.post(f"{API}/entities", json={**e, "@context": user_context_url}, content_type=JSONLD)
        assert r.status == 201, r

    if request.param == "core_context":
        return Mode(request.param, None, core)
    if request.param == "user_context_link_header":
        return Mode(request.param, user_context_url, link)
    return Mode(request.param, user_context_url, inline)


@pytest.fixture
def posted(client: Client, mode: Mode) -> dict[str, Any]:
    entity = full_vehicle()
    mode.create(client, entity)
    return entity


def test_round_trip_normalized_is_identical(
    client: Client, mode: Mode, posted: dict[str, Any]
) -> None:
    assert client.entity(posted["id"], context=mode.context) == posted


def test_round_trip_normalized_ld_json_is_identical_and_names_its_context(
    client: Client, mode: Mode, posted: dict[str, Any]
) -> None:
    r = client.retrieve(posted["id"], context=mode.context, accept=JSONLD)
    assert r.status == 200, r
    body = r.json()
    assert without_context(body) == posted
    contexts = context_list(body.get("@context"))
    if mode.context is None:
        assert any(c in CORE_CONTEXTS for c in contexts), contexts
    else:
        assert mode.context in contexts, contexts


def test_round_trip_concise_is_correct(client: Client, mode: Mode, posted: dict[str, Any]) -> None:
    got = client.entity(posted["id"], context=mode.context, params={"options": "concise"})
    exact = expected_concise(posted)
    assert {k: got.get(k) for k in exact} == exact
    assert unwrap(got["category"], "vocab") == "non-commercial"
    assert got["config"] == {"json": posted["config"]["json"]}
    assert unwrap(got["tyreTreadDepths"], "valueList") == posted["tyreTreadDepths"]["valueList"]
    assert object_list(got["route"]) == ROUTE
    assert set(got) == set(posted)


def test_round_trip_key_values_is_correct(
    client: Client, mode: Mode, posted: dict[str, Any]
) -> None:
    got = client.entity(posted["id"], context=mode.context, params={"options": "keyValues"})
    exact = expected_key_values(posted)
    assert {k: got.get(k) for k in exact} == exact
    assert unwrap(got["street"], "languageMap") == posted["street"]["languageMap"]
    assert unwrap(got["category"], "vocab") == "non-commercial"
    assert unwrap(got["config"], "json") == posted["config"]["json"]
    assert unwrap(got["tyreTreadDepths"], "valueList") == posted["tyreTreadDepths"]["valueList"]
    assert object_list(got["route"]) == ROUTE
    assert set(got) == set(posted)


def test_round_trip_geojson_is_correct(client: Client, mode: Mode, posted: dict[str, Any]) -> None:
    r = client.retrieve(posted["id"], context=mode.context, accept=GEOJSON)
    assert r.status == 200, r
    assert r.content_type == GEOJSON
    feature = r.json()
    assert feature["type"] == "Feature"
    assert feature["id"] == posted["id"]
    assert feature["geometry"] == POINT
    assert feature["properties"] == {
        k: v for k, v in posted.items() if k != "id"
    }


def test_round_trip_geojson_key_values_is_correct(
    client: Client, mode: Mode, posted: dict[str, Any]
) -> None:
    r = client.retrieve(
        posted["id"], context=mode.context, accept=GEOJSON, params={"options": "keyValues"}
    )
    assert r.status == 200, r
    feature = r.json()
    assert feature["geometry"] == POINT
    props = feature["properties"]
    exact = {k: v for k, v in expected_key_values(posted).items() if k != "id"}
    assert {k: props.get(k) for k in exact} == exact


def test_round_trip_survives_an_attribute_update(
    client: Client, mode: Mode, posted: dict[str, Any]
) -> None:
    speed = {"type": "Property", "value": 12.5, "unitCode": "KMH"}
    r = client.patch(
        f"{API}/entities/{posted['id']}/attrs",
        json={"speed": speed},
        context=mode.context,
        content_type=JSON,
    )
    assert r.status == 204, r
    assert client.entity(posted["id"], context=mode.context) == {**posted, "speed": speed}
