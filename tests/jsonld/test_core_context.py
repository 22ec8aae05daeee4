"""The bundled core @context (ETSI GS CIM 009 Annex B)."""

from __future__ import annotations

import pytest

from broker.jsonld.core import (
    CORE_CONTEXT_URLS,
    DEFAULT_VOCAB,
    core_context_document,
    is_core_url,
)
from broker.jsonld.processing import core_definitions

NGSI = "https://uri.etsi.org/ngsi-ld/"
GEOJSON = "https://purl.org/geojson/vocab#"

REQUIRED = {
    "Property": NGSI + "Property",
    "Relationship": NGSI + "Relationship",
    "GeoProperty": NGSI + "GeoProperty",
    "LanguageProperty": NGSI + "LanguageProperty",
    "VocabProperty": NGSI + "VocabProperty",
    "JsonProperty": NGSI + "JsonProperty",
    "ListProperty": NGSI + "ListProperty",
    "ListRelationship": NGSI + "ListRelationship",
    "value": NGSI + "hasValue",
    "object": NGSI + "hasObject",
    "languageMap": NGSI + "hasLanguageMap",
    "vocab": NGSI + "hasVocab",
    "json": NGSI + "hasJSON",
    "valueList": NGSI + "hasValueList",
    "objectList": NGSI + "hasObjectList",
    "objectType": NGSI + "hasObjectType",
    "observedAt": NGSI + "observedAt",
    "createdAt": NGSI + "createdAt",
    "modifiedAt": NGSI + "modifiedAt",
    "deletedAt": NGSI + "deletedAt",
    "datasetId": NGSI + "datasetId",
    "instanceId": NGSI + "instanceId",
    "unitCode": NGSI + "unitCode",
    "location": NGSI + "location",
    "observationSpace": NGSI + "observationSpace",
    "operationSpace": NGSI + "operationSpace",
    "scope": NGSI + "scope",
    "Subscription": NGSI + "Subscription",
    "Notification": NGSI + "Notification",
    "ContextSourceRegistration": NGSI + "ContextSourceRegistration",
    "notification": NGSI + "notification",
    "endpoint": NGSI + "endpoint",
    "watchedAttributes": NGSI + "watchedAttributes",
    "timeAt": NGSI + "timeAt",
    "timerel": NGSI + "timerel",
    "information": NGSI + "information",
    "Feature": GEOJSON + "Feature",
    "FeatureCollection": GEOJSON + "FeatureCollection",
    "Point": GEOJSON + "Point",
    "Polygon": GEOJSON + "Polygon",
    "coordinates": GEOJSON + "coordinates",
    "geometry": GEOJSON + "geometry",
    "properties": GEOJSON + "properties",
    "id": "@id",
    "type": "@type",
}


@pytest.mark.parametrize(("term", "iri"), sorted(REQUIRED.items()))
def test_core_context_defines_the_annex_b_term(term: str, iri: str) -> None:
    assert core_definitions().terms[term].iri == iri


def test_core_context_vocab_is_the_default_context() -> None:
    assert core_context_document()["@context"]["@vocab"] == DEFAULT_VOCAB
    assert core_definitions().vocab == DEFAULT_VOCAB


def test_core_context_is_protected_json_ld_1_1() -> None:
    context = core_context_document()["@context"]
    assert context["@version"] == 1.1
    assert context["@protected"] is True


def test_core_context_references_no_remote_document() -> None:
    assert "https://" not in str(core_context_document()).replace(
        "https://uri.etsi.org/ngsi-ld/", ""
    ).replace(GEOJSON, "").replace(DEFAULT_VOCAB, "")


@pytest.mark.parametrize("url", CORE_CONTEXT_URLS)
def test_every_versioned_core_url_is_recognised(url: str) -> None:
    assert is_core_url(url)
    assert is_core_url(url.replace("https://", "http://"))


def test_other_urls_are_not_core() -> None:
    assert not is_core_url("https://uri.etsi.org/ngsi-ld/v1/other.jsonld")


def test_core_context_documents_are_independent_copies() -> None:
    first = core_context_document()
    first["@context"]["Property"] = "changed"
    assert core_context_document()["@context"]["Property"] == "ngsi-ld:Property"
