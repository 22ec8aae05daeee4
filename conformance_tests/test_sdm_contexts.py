"""Agora's bundled Smart Data Models @contexts: served at the broker's own
/jsonldContexts URLs, answering the official Smart Data Models URLs offline, listed as
Hosted, neither deleted nor reloaded nor persisted; the core terms keep their core meaning.

Agora-specific (the bundle, its URLs and the offline rule are Agora's): skipped when the
suite is pointed at another broker with AGORA_URL."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from conformance_tests.client import (
    API,
    CORE_CONTEXT,
    JSON,
    JSONLD,
    Client,
    assert_problem,
    quote,
)
from conformance_tests.conftest import Target
from conformance_tests.context_server import ContextServer
from conformance_tests.samples import USER_TERMS
from data_models.registry import get_model

CONTEXTS = f"{API}/jsonldContexts"
ENTITIES = f"{API}/entities"
SDM_ID = "urn:ngsi-ld:JsonLdContext:sdm"
WEATHER_ID = SDM_ID + ":WeatherObserved"
WEATHER_SUBJECT_ID = SDM_ID + ":dataModel.Weather"
PARKING_SUBJECT_ID = SDM_ID + ":dataModel.Parking"
WEATHER = "https://smartdatamodels.org/dataModel.Weather/"
PARKING = "https://smartdatamodels.org/dataModel.Parking/"

GLOBAL_URL = "https://smartdatamodels.org/context.jsonld"
WEATHER_URL = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Weather/master/context.jsonld"
)
PARKING_URL = (
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Parking/master/context.jsonld"
)
OFFICIAL_URLS = {
    GLOBAL_URL: SDM_ID,
    "https://raw.githubusercontent.com/smart-data-models/data-models/master/context.jsonld": SDM_ID,
    "https://smart-data-models.github.io/data-models/context.jsonld": SDM_ID,
    WEATHER_URL: WEATHER_SUBJECT_ID,
    "https://smart-data-models.github.io/dataModel.Weather/context.jsonld": WEATHER_SUBJECT_ID,
}
OWN_IDS = (WEATHER_ID, WEATHER_SUBJECT_ID, SDM_ID)
CORE_TERMS = ("location", "observedAt", "unitCode")


@pytest.fixture(autouse=True)
def _agora_only(target: Target) -> None:
    if target.broker is None:
        pytest.skip("the bundled Smart Data Models contexts are Agora's")


def _example(entity_type: str) -> dict[str, Any]:
    model = get_model(entity_type)
    assert model is not None, entity_type
    entity = copy.deepcopy(dict(model.example_normalized))
    entity["id"] = f"urn:ngsi-ld:{entity_type}:{uuid.uuid4().hex}"
    return entity


def _own_url(target: Target, local_id: str) -> str:
    return f"{target.url}{CONTEXTS}/{local_id}"


def _served_terms(client: Client, local_id: str) -> dict[str, str]:
    r = client.get(f"{CONTEXTS}/{quote(local_id)}", accept=JSONLD)
    assert r.status == 200, r
    terms = r.json()["@context"]
    assert isinstance(terms, dict), terms
    return terms


def _expanded_keys(entity: dict[str, Any], terms: dict[str, str]) -> set[str]:
    """The member names a core-only reader sees: SDM terms as IRIs, core terms as they are."""
    return {terms.get(key, key) for key in entity}


def _details(client: Client, **params: Any) -> list[dict[str, Any]]:
    r = client.get(CONTEXTS, params={"details": "true", **params}, accept=JSON)
    assert r.status == 200, r
    body = r.json()
    assert isinstance(body, list), body
    return body


def _entity_round_trips(client: Client, url: str, served: dict[str, str]) -> None:
    entity = _example("WeatherObserved")
    client.create(entity, context=url)
    assert client.entity(entity["id"], context=url) == entity
    core_view = client.entity(entity["id"])
    assert core_view["type"] == WEATHER + "WeatherObserved"
    assert set(core_view) == _expanded_keys(entity, served)
    assert WEATHER + "atmosphericPressure" in core_view
    assert core_view["location"] == entity["location"]
    pressure = core_view[WEATHER + "atmosphericPressure"]
    assert pressure == entity["atmosphericPressure"], "unitCode and observedAt stay as sent"


@pytest.mark.parametrize("local_id", OWN_IDS)
def test_weather_observed_round_trips_with_the_brokers_own_url(
    client: Client, target: Target, local_id: str
) -> None:
    _entity_round_trips(client, _own_url(target, local_id), _served_terms(client, local_id))


@pytest.mark.parametrize("url", list(OFFICIAL_URLS))
def test_weather_observed_round_trips_with_an_official_url(client: Client, url: str) -> None:
    _entity_round_trips(client, url, _served_terms(client, OFFICIAL_URLS[url]))


def test_subject_and_model_urls_give_the_subjects_iris(client: Client, target: Target) -> None:
    entity = _example("WeatherObserved")
    client.create(entity, context=WEATHER_URL)
    core_view = client.entity(entity["id"])
    assert WEATHER + "temperature" in core_view
    own = client.entity(entity["id"], context=_own_url(target, WEATHER_ID))
    assert own == entity, "the subject URL and the model's own URL agree"


def test_all_models_context_maps_terms_subjects_define_differently_to_one_shared_iri(
    client: Client,
) -> None:
    entity = _example("WeatherObserved")
    client.create(entity, context=GLOBAL_URL)
    core_view = client.entity(entity["id"])
    assert core_view["https://smartdatamodels.org/temperature"] == entity["temperature"]
    info = next(d for d in _details(client) if d["localId"] == SDM_ID)["extraInfo"]
    assert "temperature" in info["sharedTerms"]


@pytest.mark.parametrize("reference", ["own", "official"])
def test_sdm_url_inside_an_inline_context_resolves(
    client: Client, target: Target, reference: str
) -> None:
    url = _own_url(target, WEATHER_ID) if reference == "own" else WEATHER_URL
    entity = _example("WeatherObserved")
    r = client.post(
        ENTITIES, json={**entity, "@context": [url, CORE_CONTEXT]}, content_type=JSONLD
    )
    assert r.status == 201, r
    assert client.entity(entity["id"], context=url) == entity
    assert WEATHER + "windDirection" in client.entity(entity["id"])


@pytest.fixture
def offline_broker(spawn_broker: Any, context_server: ContextServer) -> Iterator[Client]:
    """A broker on which every remote @context fetch fails (no time allowed for one)."""
    broker = spawn_broker({"AGORA_CONTEXT_FETCH_TIMEOUT": "0"})
    offline = Client(broker.url)
    path = f"/contexts/{uuid.uuid4().hex}.jsonld"
    reachable = context_server.publish(path, {"@context": USER_TERMS})
    r = offline.post(ENTITIES, json=_example("WeatherObserved"), context=reachable)
    assert_problem(r, 503, "LdContextNotAvailable")
    assert context_server.hit_count(path) == 0, "this broker must not manage any fetch"
    yield offline


def test_sdm_urls_resolve_on_a_broker_that_cannot_fetch(offline_broker: Client) -> None:
    own = offline_broker.base_url + f"{CONTEXTS}/{WEATHER_ID}"
    for url in (own, *OFFICIAL_URLS):
        entity = _example("WeatherObserved")
        offline_broker.create(entity, context=url)
        assert offline_broker.entity(entity["id"], context=url) == entity
    cached = [d["URL"] for d in _details(offline_broker, kind="Cached")]
    assert not set(OFFICIAL_URLS) & set(cached), "no official URL was fetched and cached"


def test_an_official_url_counts_as_a_use_of_its_bundled_context(client: Client) -> None:
    def hits() -> int:
        r = client.get(f"{CONTEXTS}/{quote(WEATHER_SUBJECT_ID)}", params={"details": "true"})
        assert r.status == 200, r
        count: int = r.json()["numberOfHits"]
        return count

    before = hits()
    client.create(_example("WeatherObserved"), context=WEATHER_URL)
    assert hits() > before


def test_bundled_contexts_are_listed_as_hosted_with_their_models(
    client: Client, target: Target
) -> None:
    hosted = {d["localId"]: d for d in _details(client, kind="Hosted")}
    for local_id in (*OWN_IDS, PARKING_SUBJECT_ID):
        assert local_id in hosted, local_id
        assert hosted[local_id]["kind"] == "Hosted"
        assert hosted[local_id]["extraInfo"]["bundled"] is True
        assert hosted[local_id]["URL"] == _own_url(target, local_id)
    assert hosted[WEATHER_ID]["extraInfo"]["models"] == ["WeatherObserved"]
    assert "WeatherObserved" in hosted[SDM_ID]["extraInfo"]["models"]
    assert GLOBAL_URL in hosted[SDM_ID]["extraInfo"]["servedOfflineFor"]
    assert WEATHER_URL in hosted[WEATHER_SUBJECT_ID]["extraInfo"]["servedOfflineFor"]
    r = client.get(CONTEXTS, accept=JSON)
    assert r.status == 200, r
    assert _own_url(target, SDM_ID) in r.json()


def test_model_context_is_served_with_and_without_details(client: Client) -> None:
    terms = _served_terms(client, WEATHER_ID)
    assert terms["WeatherObserved"] == WEATHER + "WeatherObserved"
    assert not set(CORE_TERMS) & set(terms)
    r = client.get(f"{CONTEXTS}/{quote(WEATHER_ID)}", params={"details": "true"}, accept=JSON)
    assert r.status == 200, r
    assert r.json()["localId"] == WEATHER_ID and r.json()["kind"] == "Hosted"


@pytest.mark.parametrize("local_id", [SDM_ID, WEATHER_SUBJECT_ID, WEATHER_ID])
@pytest.mark.parametrize("reload", [False, True], ids=["delete", "reload"])
def test_bundled_context_cannot_be_deleted_or_reloaded(
    client: Client, local_id: str, reload: bool
) -> None:
    params = {"reload": "true"} if reload else None
    r = client.delete(f"{CONTEXTS}/{quote(local_id)}", params=params)
    assert_problem(r, 400, "BadRequestData")
    assert client.get(f"{CONTEXTS}/{quote(local_id)}", accept=JSONLD).status == 200


def test_bundled_contexts_are_not_persisted(spawn_broker: Any) -> None:
    broker = spawn_broker({})
    restarted = Client(broker.url)
    restarted.create(_example("WeatherObserved"), context=GLOBAL_URL)
    broker.restart()
    listed = [d["localId"] for d in _details(restarted, kind="Hosted")]
    for local_id in OWN_IDS:
        assert listed.count(local_id) == 1, local_id


def test_core_terms_keep_their_core_meaning_with_an_sdm_context(client: Client) -> None:
    entity = _example("ParkingSpot")
    client.create(entity, context=PARKING_URL)
    core_view = client.entity(entity["id"])
    for term in ("location", "status"):
        assert core_view[term] == entity[term], term
    assert PARKING + "width" in core_view
    assert core_view["status"]["observedAt"] == entity["status"]["observedAt"]


def test_core_terms_win_over_an_inline_context_that_redefines_them(client: Client) -> None:
    # The published subject contexts map `status` (and others) under their own namespace.
    redefined = {"status": PARKING + "status", "location": PARKING + "location"}
    entity = _example("ParkingSpot")
    r = client.post(
        ENTITIES, json={**entity, "@context": [PARKING_URL, redefined]}, content_type=JSONLD
    )
    assert r.status == 201, r
    core_view = client.entity(entity["id"])
    assert core_view["status"] == entity["status"]
    assert core_view["location"] == entity["location"]
    assert PARKING + "status" not in core_view
