"""A dict-backed TermMap stand-in for the model tests.

It has the interface of broker.jsonld.TermMap (`expand_term`, `compact_iri`, `context`,
`link_url`): core terms expand under https://uri.etsi.org/ngsi-ld/, `ex:` under
https://example.org/, absolute IRIs stay, anything else goes to the default vocabulary; and
compaction reverses all of that.
"""

from __future__ import annotations

import pytest
from model_support import CORE, CORE_CONTEXT_URL, CORE_TERMS, DEFAULT_VOCAB, PREFIXES


class FakeTermMap:
    def __init__(self, terms: dict[str, str] | None = None) -> None:
        self.context: object = CORE_CONTEXT_URL
        self.link_url = CORE_CONTEXT_URL
        self._terms = {t: CORE + t for t in CORE_TERMS} | (terms or {})
        self._iris = {iri: term for term, iri in self._terms.items()}

    def expand_term(self, term: str) -> str:
        if term in self._terms:
            return self._terms[term]
        prefix, sep, rest = term.partition(":")
        if sep and prefix in PREFIXES:
            return PREFIXES[prefix] + rest
        if sep:
            return term
        return DEFAULT_VOCAB + term

    def compact_iri(self, iri: str) -> str:
        if iri in self._iris:
            return self._iris[iri]
        if iri.startswith(DEFAULT_VOCAB):
            return iri[len(DEFAULT_VOCAB):]
        for prefix, base in PREFIXES.items():
            if iri.startswith(base):
                return f"{prefix}:{iri[len(base):]}"
        return iri


@pytest.fixture(scope="session")
def terms() -> FakeTermMap:
    return FakeTermMap()
