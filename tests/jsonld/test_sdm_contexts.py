"""The bundled Smart Data Models contexts: the broker's own URLs, the official URLs answered
offline, their /jsonldContexts records, and the core context's precedence over them."""

from __future__ import annotations

from typing import Any

import pytest
from jsonld_support import FakePersistence, MakeResolver

from broker.errors import BadRequestData
from broker.jsonld.fetch import ContextFetcher
from broker.jsonld.records import CONTEXTS_PATH
from broker.jsonld.sdm import (
    ALL_MODELS_LOCAL_ID,
    ALL_MODELS_URLS,
    model_local_id,
    subject_local_id,
    subject_urls,
)
from data_models.contexts import SHARED_NAMESPACE, subjects
from data_models.registry import get_model, list_models

NGSI = "https://uri.etsi.org/ngsi-ld/"
DEFAULT = NGSI + "default-context/"
SDM = "https://smartdatamodels.org/"
WEATHER = SDM + "dataModel.Weather/"
PARKING = SDM + "dataModel.Parking/"
WEATHER_URL = subject_urls("Weather")[0]
CORE_LOCAL_ID = "urn:ngsi-ld:JsonLdContext:core"

OFFICIAL_URLS = [
    *ALL_MODELS_URLS,
    *(url.replace("https://", "http://", 1) for url in ALL_MODELS_URLS),
    *(url for subject in subjects() for url in subject_urls(subject)),
]


def _bundled(resolver: Any) -> list[Any]:
    return [r for r in resolver.list_records("Hosted") if (r.extra_info or {}).get("bundled")]


@pytest.mark.parametrize("url", OFFICIAL_URLS)
async def test_official_url_resolves_with_the_network_unreachable(
    make_resolver: MakeResolver, no_network: None, no_fetch: None, url: str
) -> None:
    resolver = await make_resolver(allow_private_urls=False)
    terms = await resolver.resolve(url)
    assert terms.link_url == url
    assert terms.expand_term("location") == NGSI + "location"
    named = [m.type for m in list_models() if terms.expand_term(m.type) == m.type_iri]
    assert named, f"{url} names no bundled type"
    assert resolver.list_records("Cached") == [resolver.get_record(CORE_LOCAL_ID)]


async def test_global_url_gives_every_bundled_type(
    make_resolver: MakeResolver, no_fetch: None
) -> None:
    resolver = await make_resolver()
    terms = await resolver.resolve("https://smartdatamodels.org/context.jsonld")
    for model in list_models():
        assert terms.expand_term(model.type) == model.type_iri
    assert terms.expand_term("atmosphericPressure") == WEATHER + "atmosphericPressure"
    assert terms.expand_term("temperature") == SHARED_NAMESPACE + "temperature"


async def test_subject_url_gives_that_subjects_bundled_models_only(
    make_resolver: MakeResolver, no_fetch: None
) -> None:
    resolver = await make_resolver()
    terms = await resolver.resolve(WEATHER_URL)
    assert terms.expand_term("WeatherObserved") == WEATHER + "WeatherObserved"
    assert terms.expand_term("temperature") == WEATHER + "temperature"
    assert terms.compact_iri(WEATHER + "temperature") == "temperature"
    assert terms.expand_term("ParkingSpot") == DEFAULT + "ParkingSpot"


async def test_subject_url_of_a_subject_without_bundled_models_is_fetched(
    make_resolver: MakeResolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    fetched: list[str] = []

    async def fetch(self: ContextFetcher, url: str) -> Any:
        fetched.append(url)
        return {"@context": {"soilTemperature": SDM + "dataModel.Agrifood/soilTemperature"}}

    monkeypatch.setattr(ContextFetcher, "fetch", fetch)
    url = subject_urls("Agrifood")[0]
    resolver = await make_resolver()
    terms = await resolver.resolve(url)
    assert fetched == [url]
    assert terms.expand_term("soilTemperature") == SDM + "dataModel.Agrifood/soilTemperature"


@pytest.mark.parametrize("host", ["http://broker.example:1026", "https://elsewhere.example", ""])
async def test_own_model_url_resolves_on_any_host(
    make_resolver: MakeResolver, no_fetch: None, host: str
) -> None:
    resolver = await make_resolver()
    url = host + CONTEXTS_PATH + model_local_id("WeatherObserved")
    terms = await resolver.resolve([url] if not host else url)
    assert terms.expand_term("windSpeed") == WEATHER + "windSpeed"
    assert terms.expand_term("temperature") == WEATHER + "temperature"


async def test_own_url_inside_an_inline_context_resolves(
    make_resolver: MakeResolver, no_fetch: None
) -> None:
    resolver = await make_resolver()
    own = "http://broker.example" + CONTEXTS_PATH + ALL_MODELS_LOCAL_ID
    terms = await resolver.resolve([own, {"speed": "https://example.org/speed"}])
    assert terms.expand_term("ParkingSpot") == PARKING + "ParkingSpot"
    assert terms.expand_term("speed") == "https://example.org/speed"


async def test_bundled_contexts_are_listed_as_hosted_with_their_models(
    make_resolver: MakeResolver,
) -> None:
    resolver = await make_resolver()
    listed = {r.local_id: r for r in resolver.list_records("Hosted")}
    everything = listed[ALL_MODELS_LOCAL_ID].details()
    assert everything["URL"] == CONTEXTS_PATH + ALL_MODELS_LOCAL_ID
    assert everything["extraInfo"]["bundled"] is True
    assert everything["extraInfo"]["models"] == sorted(m.type for m in list_models())
    assert everything["extraInfo"]["servedOfflineFor"] == list(ALL_MODELS_URLS)
    assert "temperature" in everything["extraInfo"]["sharedTerms"]
    weather = listed[subject_local_id("Weather")].details()["extraInfo"]
    assert weather["models"] == ["WeatherObserved"]
    assert weather["servedOfflineFor"] == list(subject_urls("Weather"))
    device = listed[model_local_id("Device")].details()["extraInfo"]
    assert device == {"bundled": True, "subject": "Device", "models": ["Device"]}
    assert listed[subject_local_id("Device")].extra_info["models"] == [  # type: ignore[index]
        "Device",
        "DeviceMeasurement",
    ]


async def test_model_record_serves_the_bundled_context(make_resolver: MakeResolver) -> None:
    resolver = await make_resolver()
    model = get_model("WeatherObserved")
    assert model is not None
    assert resolver.serve(model_local_id("WeatherObserved")) == dict(model.context)


async def test_official_url_names_its_bundled_record(make_resolver: MakeResolver) -> None:
    resolver = await make_resolver()
    assert resolver.get_record(WEATHER_URL).local_id == subject_local_id("Weather")
    assert resolver.get_record(ALL_MODELS_URLS[0]).local_id == ALL_MODELS_LOCAL_ID


async def test_use_through_an_official_url_counts_as_a_hit_of_its_record(
    make_resolver: MakeResolver, no_fetch: None
) -> None:
    resolver = await make_resolver()
    await resolver.resolve(WEATHER_URL)
    await resolver.resolve(WEATHER_URL)
    record = resolver.get_record(subject_local_id("Weather"))
    assert record.number_of_hits == 2
    assert record.last_usage is not None


@pytest.mark.parametrize("reload", [False, True])
@pytest.mark.parametrize(
    "local_id", [ALL_MODELS_LOCAL_ID, subject_local_id("Weather"), model_local_id("ParkingSpot")]
)
async def test_bundled_context_cannot_be_deleted_or_reloaded(
    make_resolver: MakeResolver, local_id: str, reload: bool
) -> None:
    resolver = await make_resolver()
    with pytest.raises(BadRequestData, match="bundled"):
        await resolver.delete(local_id, reload=reload)
    assert resolver.serve(local_id)["@context"]


async def test_bundled_contexts_are_not_persisted(
    make_resolver: MakeResolver, no_fetch: None
) -> None:
    persistence = FakePersistence()
    resolver = await make_resolver(persistence)
    await resolver.resolve(ALL_MODELS_URLS[0])
    assert persistence.saved == {}
    restarted = await make_resolver(persistence)
    assert len(_bundled(restarted)) == len(_bundled(resolver)) == 1 + len(subjects()) + len(
        list_models()
    )


@pytest.mark.parametrize("url", [WEATHER_URL, CONTEXTS_PATH + model_local_id("WeatherObserved")])
async def test_core_terms_keep_their_core_meaning_with_a_bundled_context(
    make_resolver: MakeResolver, no_fetch: None, url: str
) -> None:
    resolver = await make_resolver()
    terms = await resolver.resolve([url])
    for term in ("location", "observedAt", "unitCode", "description", "status", "value"):
        iri = terms.expand_term(term)
        assert iri == resolver.core.expand_term(term), term
        assert iri.startswith(NGSI) or iri.startswith("http://purl.org/dc/terms/"), iri
        assert terms.compact_iri(iri) == term


async def test_core_terms_win_over_an_sdm_context_that_redefines_them(
    make_resolver: MakeResolver, no_fetch: None
) -> None:
    # As the published subject contexts do: they map location, description and the
    # model's status under their own namespaces.
    redefinitions = {
        "location": "ngsi-ld:location-of-something-else",
        "description": SDM + "dataModel.Parking/description",
        "status": PARKING + "status",
        "observedAt": SDM + "observedAt",
    }
    resolver = await make_resolver()
    terms = await resolver.resolve([subject_urls("Parking")[0], redefinitions])
    for term in redefinitions:
        assert terms.expand_term(term) == resolver.core.expand_term(term), term
    assert terms.expand_term("ParkingSpot") == PARKING + "ParkingSpot"
