"""TermMap: vocab-relative expansion and compaction of names over core + user context."""

from __future__ import annotations

from typing import Any

import pytest

from broker.errors import BadRequestData
from broker.jsonld import CORE_CONTEXT_URL, TermMap
from broker.jsonld.context import MEMO_LIMIT
from broker.jsonld.processing import ContextProcessingError, process_user_context

NGSI = "https://uri.etsi.org/ngsi-ld/"
DEFAULT = NGSI + "default-context/"
EX = "https://example.org/ns/"


def terms_for(context: Any, documents: dict[str, Any] | None = None) -> TermMap:
    definitions = process_user_context(context, documents or {})
    return TermMap(definitions, context=context, link_url="https://example.org/ctx.jsonld")


CORE = TermMap()


@pytest.mark.parametrize(
    ("term", "iri"),
    [
        ("Property", NGSI + "Property"),
        ("Relationship", NGSI + "Relationship"),
        ("GeoProperty", NGSI + "GeoProperty"),
        ("LanguageProperty", NGSI + "LanguageProperty"),
        ("VocabProperty", NGSI + "VocabProperty"),
        ("JsonProperty", NGSI + "JsonProperty"),
        ("ListProperty", NGSI + "ListProperty"),
        ("ListRelationship", NGSI + "ListRelationship"),
        ("value", NGSI + "hasValue"),
        ("object", NGSI + "hasObject"),
        ("languageMap", NGSI + "hasLanguageMap"),
        ("vocab", NGSI + "hasVocab"),
        ("json", NGSI + "hasJSON"),
        ("valueList", NGSI + "hasValueList"),
        ("objectList", NGSI + "hasObjectList"),
        ("observedAt", NGSI + "observedAt"),
        ("createdAt", NGSI + "createdAt"),
        ("modifiedAt", NGSI + "modifiedAt"),
        ("deletedAt", NGSI + "deletedAt"),
        ("datasetId", NGSI + "datasetId"),
        ("unitCode", NGSI + "unitCode"),
        ("location", NGSI + "location"),
        ("observationSpace", NGSI + "observationSpace"),
        ("operationSpace", NGSI + "operationSpace"),
        ("scope", NGSI + "scope"),
        ("Point", "https://purl.org/geojson/vocab#Point"),
        ("Subscription", NGSI + "Subscription"),
        ("ContextSourceRegistration", NGSI + "ContextSourceRegistration"),
        ("id", "@id"),
        ("type", "@type"),
    ],
)
def test_core_terms_expand_to_their_ngsi_ld_iris(term: str, iri: str) -> None:
    assert CORE.expand_term(term) == iri


def test_undefined_term_gets_the_default_vocabulary() -> None:
    assert CORE.expand_term("speed") == DEFAULT + "speed"


def test_absolute_iri_is_left_unchanged() -> None:
    assert CORE.expand_term("https://example.org/speed") == "https://example.org/speed"
    assert CORE.expand_term("urn:ngsi-ld:Thing:1") == "urn:ngsi-ld:Thing:1"


def test_compact_iri_with_core_prefix_expands_the_prefix() -> None:
    assert CORE.expand_term("ngsi-ld:speed") == NGSI + "speed"
    assert CORE.expand_term("geojson:Point") == "https://purl.org/geojson/vocab#Point"


def test_keywords_expand_to_themselves() -> None:
    assert CORE.expand_term("@id") == "@id"
    assert CORE.expand_term("@type") == "@type"


def test_keyword_lookalike_is_refused() -> None:
    with pytest.raises(BadRequestData):
        CORE.expand_term("@speed")


def test_user_term_expands_to_its_iri() -> None:
    terms = terms_for({"speed": EX + "speed"})
    assert terms.expand_term("speed") == EX + "speed"


def test_user_prefix_expands_compact_iris() -> None:
    terms = terms_for({"ex": EX})
    assert terms.expand_term("ex:colour") == EX + "colour"


def test_user_term_defined_with_a_core_prefix_uses_the_core_prefix() -> None:
    terms = terms_for({"brightness": "ngsi-ld:brightness"})
    assert terms.expand_term("brightness") == NGSI + "brightness"


def test_user_vocab_replaces_the_default_vocabulary() -> None:
    terms = terms_for({"@vocab": EX})
    assert terms.expand_term("speed") == EX + "speed"
    assert terms.compact_iri(EX + "speed") == "speed"


@pytest.mark.parametrize("position", ["before", "after"])
def test_core_terms_cannot_be_overridden_wherever_the_core_is_listed(position: str) -> None:
    user = {"location": EX + "location", "Property": EX + "Property"}
    context = [CORE_CONTEXT_URL, user] if position == "after" else [user, CORE_CONTEXT_URL]
    terms = terms_for(context)
    assert terms.expand_term("location") == NGSI + "location"
    assert terms.expand_term("Property") == NGSI + "Property"
    assert terms.compact_iri(NGSI + "location") == "location"


def test_protected_user_terms_do_not_block_the_core_context() -> None:
    terms = terms_for({"@protected": True, "type": "@type", "speed": EX + "speed"})
    assert terms.expand_term("speed") == EX + "speed"
    assert terms.expand_term("type") == "@type"


def test_term_mapped_to_null_is_refused() -> None:
    terms = terms_for({"secret": None})
    with pytest.raises(BadRequestData, match="secret"):
        terms.expand_term("secret")


def test_invalid_context_is_a_processing_error() -> None:
    with pytest.raises(ContextProcessingError):
        process_user_context({"speed": {"@id": EX + "speed", "@container": "@bogus"}}, {})


def test_unavailable_remote_context_is_a_processing_error() -> None:
    with pytest.raises(ContextProcessingError):
        process_user_context("https://example.org/never-fetched.jsonld", {})


def test_remote_documents_are_taken_from_the_given_documents() -> None:
    url = "https://example.org/ctx.jsonld"
    terms = terms_for(url, {url: {"@context": {"speed": EX + "speed"}}})
    assert terms.expand_term("speed") == EX + "speed"


def test_compaction_gives_the_term_of_a_user_iri() -> None:
    terms = terms_for({"speed": EX + "speed"})
    assert terms.compact_iri(EX + "speed") == "speed"


def test_compaction_gives_core_terms() -> None:
    assert CORE.compact_iri(NGSI + "hasObject") == "object"
    assert CORE.compact_iri(NGSI + "location") == "location"


def test_compaction_under_the_default_vocabulary_gives_the_suffix() -> None:
    assert CORE.compact_iri(DEFAULT + "speed") == "speed"


def test_compaction_with_a_prefix_gives_a_compact_iri() -> None:
    assert CORE.compact_iri(NGSI + "brandNew") == "ngsi-ld:brandNew"
    terms = terms_for({"ex": EX})
    assert terms.compact_iri(EX + "colour") == "ex:colour"


def test_compaction_of_an_unknown_iri_gives_the_iri() -> None:
    assert CORE.compact_iri("https://other.example/thing") == "https://other.example/thing"


def test_compaction_prefers_a_relationship_term_typed_at_id() -> None:
    terms = terms_for({"owner": EX + "owner", "hasOwner": {"@id": EX + "owner", "@type": "@id"}})
    assert terms.compact_iri(EX + "owner") == "hasOwner"


def test_compaction_prefers_the_shortest_then_first_term() -> None:
    terms = terms_for({"speedy": EX + "speed", "speed": EX + "speed", "sped": EX + "speed"})
    assert terms.compact_iri(EX + "speed") == "sped"


def test_compaction_falls_back_to_a_typed_term_rather_than_the_iri() -> None:
    terms = terms_for({"dateObserved": {"@id": EX + "dateObserved", "@type": "DateTime"}})
    assert terms.compact_iri(EX + "dateObserved") == "dateObserved"
    assert CORE.compact_iri(NGSI + "observedAt") == "observedAt"


def test_compaction_does_not_give_a_suffix_that_would_expand_elsewhere() -> None:
    terms = terms_for({"ex": EX})
    compacted = terms.compact_iri(DEFAULT + "ex:thing")
    assert compacted != "ex:thing"
    assert terms.expand_term(compacted) == DEFAULT + "ex:thing"


def test_compaction_does_not_give_a_suffix_that_is_itself_a_term() -> None:
    terms = terms_for({"speed": EX + "speed"})
    assert terms.compact_iri(DEFAULT + "speed") != "speed"


def test_keyword_compacts_to_its_alias() -> None:
    assert CORE.compact_iri("@id") == "id"
    assert CORE.compact_iri("@type") == "type"


def test_expansion_and_compaction_round_trip() -> None:
    terms = terms_for([{"ex": EX, "speed": EX + "speed"}, CORE_CONTEXT_URL])
    for name in ("speed", "ex:colour", "location", "brandNew", "https://other.example/x"):
        assert terms.compact_iri(terms.expand_term(name)) == name


def test_memo_is_bounded_and_answers_stay_correct() -> None:
    terms = terms_for({"ex": EX})
    for i in range(MEMO_LIMIT + 10):
        terms.expand_term(f"name{i}")
        terms.compact_iri(f"{EX}name{i}")
    assert len(terms._expanded) <= MEMO_LIMIT
    assert len(terms._compacted) <= MEMO_LIMIT
    assert terms.expand_term("name1") == DEFAULT + "name1"
    assert terms.compact_iri(EX + "name1") == "ex:name1"


def test_core_term_map_context_and_link_are_the_core_url() -> None:
    assert CORE.context == CORE_CONTEXT_URL
    assert CORE.link_url == CORE_CONTEXT_URL


def test_link_url_can_be_provided_on_demand() -> None:
    calls: list[int] = []

    def provide() -> str:
        calls.append(1)
        return "/ngsi-ld/v1/jsonldContexts/x"

    terms = TermMap(None, context={}, link_url=None, link_provider=provide)
    assert calls == []
    assert terms.link_url == "/ngsi-ld/v1/jsonldContexts/x"
    assert calls == [1]
