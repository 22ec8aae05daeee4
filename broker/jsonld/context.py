"""TermMap: one active context (user context + core context), reduced to dict lookups.

Every request expands and compacts attribute names and types, so both directions are a
memo-dict hit after the first use of a name. The first use runs the JSON-LD 1.1 rules by
hand over the definitions pyld produced (see `processing`); property tests keep the two in
agreement with pyld's own `expand` and `compact`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from broker.errors import BadRequestData
from broker.jsonld.core import CORE_CONTEXT_URL, CORE_CONTEXT_URLS
from broker.jsonld.processing import KEYWORDS, Definitions, TermDefinition, core_definitions

__all__ = ["CORE_CONTEXT_URL", "CORE_CONTEXT_URLS", "TermMap"]

MEMO_LIMIT = 20_000
"""Most names remembered per direction; the memo starts afresh beyond (names are user input)."""

_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+\-.]*|_):[^\s]*$")
_KEYWORD_FORM = re.compile(r"^@[a-zA-Z]+$")

# JSON-LD term selection for a node-object value (what an NGSI-LD attribute is in expanded
# form): containers in order of preference, then the `@type` preference @id before @none.
_CONTAINER_RANK = {
    container: rank
    for rank, container in enumerate(
        ("@id", "@id@set", "@type", "@set@type", "@set", "@none", "@index", "@index@set")
    )
}


def _node_preference(definition: TermDefinition) -> int | None:
    """0 when JSON-LD prefers the term for a node value, 1 when it accepts it, else None."""
    if definition.reverse:
        return None
    if definition.type_mapping == "@id":
        return 0
    if definition.type_mapping == "@none":
        return 1
    if definition.type_mapping is not None or definition.language_or_direction:
        return None
    return 1


class TermMap:
    """Term expansion/compaction for one active context (user context + core context).

    Attributes the rest of the broker reads:
      - `context`: the user @context as it should be echoed in an application/ld+json
        response body (a URL string, a list, or an object; the core URL when none was given).
      - `link_url`: the single URL to put in a `Link` header on application/json responses:
        the user's context URL when it was one URL, the path
        ``/ngsi-ld/v1/jsonldContexts/{localId}`` of an ImplicitlyCreated record for an inline
        context (callers prefix scheme and host to values starting with "/"), the core URL
        when there is no user context.
    """

    __slots__ = (
        "_compacted",
        "_core",
        "_expanded",
        "_link_provider",
        "_link_url",
        "_user",
        "_vocab",
        "context",
    )

    def __init__(
        self,
        user: Definitions | None = None,
        *,
        context: Any = CORE_CONTEXT_URL,
        link_url: str | None = CORE_CONTEXT_URL,
        link_provider: Callable[[], str] | None = None,
    ) -> None:
        """`link_provider` gives the Link URL on demand when `link_url` is None (it
        registers the ImplicitlyCreated record only when a response needs the URL)."""
        if link_url is None and link_provider is None:
            raise ValueError("TermMap needs a link_url or a link_provider")
        self._core = core_definitions()
        self._user = user if user is not None else Definitions({}, None)
        self._vocab = self._user.vocab or self._core.vocab
        self.context = context
        self._link_url = link_url
        self._link_provider = link_provider
        self._expanded: dict[str, str] = {}
        self._compacted: dict[str, str] = {}

    @property
    def link_url(self) -> str:
        url = self._link_url
        if url is None:
            assert self._link_provider is not None
            url = self._link_provider()
        return url

    @property
    def vocab(self) -> str | None:
        """The effective default vocabulary (@vocab) of this context."""
        return self._vocab

    def expand_term(self, term: str) -> str:
        """Vocab-relative expansion of an attribute name, entity type or vocab value.

        Terms defined by the context map to their IRI; `prefix:suffix` expands the prefix;
        absolute IRIs stay; anything else gets the default vocabulary
        (https://uri.etsi.org/ngsi-ld/default-context/) or the user's @vocab.
        Raises BadRequestData for a term the context maps to null (JSON-LD would drop it).
        """
        iri = self._expanded.get(term)
        if iri is None:
            iri = self._expand_uncached(term)
            if len(self._expanded) >= MEMO_LIMIT:
                self._expanded = {}
            self._expanded[term] = iri
        return iri

    def compact_iri(self, iri: str) -> str:
        """The term (or compact IRI) the context gives for an IRI; the IRI itself otherwise.

        In order: a term mapping to the IRI (chosen as JSON-LD term selection chooses for a
        node-object value, i.e. an NGSI-LD attribute; when only typed or container terms map
        to it, the shortest, then alphabetically first, of those); the suffix after @vocab;
        a compact IRI `prefix:suffix` (shortest, then alphabetically first); the IRI. A
        suffix or compact IRI is only used when it expands back to the same IRI.
        """
        compacted = self._compacted.get(iri)
        if compacted is None:
            compacted = self._compact_uncached(iri)
            if len(self._compacted) >= MEMO_LIMIT:
                self._compacted = {}
            self._compacted[iri] = compacted
        return compacted

    # -- the JSON-LD rules, run once per name ------------------------------------------

    def _definition(self, term: str) -> TermDefinition | None:
        definition = self._core.terms.get(term)
        if definition is None:
            definition = self._user.terms.get(term)
        return definition

    def _expand_uncached(self, term: str) -> str:
        if term in KEYWORDS:
            return term
        if _KEYWORD_FORM.match(term):
            raise BadRequestData(f"{term!r} has the form of a JSON-LD keyword and cannot be used")
        definition = self._definition(term)
        if definition is not None:
            if definition.iri is None:
                raise BadRequestData(f"the @context maps {term!r} to null: it cannot be used")
            return definition.iri
        colon = term.find(":")
        if colon > 0:
            prefix, suffix = term[:colon], term[colon + 1 :]
            if prefix == "_" or suffix.startswith("//"):
                return term
            prefix_definition = self._definition(prefix)
            if prefix_definition is not None and prefix_definition.prefix:
                return (prefix_definition.iri or "") + suffix
            if _ABSOLUTE_IRI.match(term):
                return term
        if self._vocab is not None:
            return self._vocab + term
        return term

    def _expands_to(self, candidate: str, iri: str) -> bool:
        try:
            return self.expand_term(candidate) == iri
        except BadRequestData:
            return False

    def _compact_uncached(self, iri: str) -> str:
        if iri in KEYWORDS:
            return self._keyword_alias(iri)
        term = self._select_term(iri)
        if term is not None:
            return term
        vocab = self._vocab
        if vocab and iri.startswith(vocab) and iri != vocab:
            suffix = iri[len(vocab) :]
            if self._definition(suffix) is None and self._expands_to(suffix, iri):
                return suffix
        best: str | None = None
        for layer in (self._core, self._user):
            for prefix, prefix_iri in layer.prefixes:
                if prefix_iri == iri or not iri.startswith(prefix_iri):
                    continue
                if layer is self._user and prefix in self._core.terms:
                    continue
                candidate = f"{prefix}:{iri[len(prefix_iri) :]}"
                if self._definition(candidate) is not None:
                    continue
                if best is None or (len(candidate), candidate) < (len(best), best):
                    best = candidate
        if best is not None and self._expands_to(best, iri):
            return best
        return iri

    def _candidates(self, iri: str) -> list[tuple[str, TermDefinition]]:
        found = list(self._core.by_iri.get(iri, ()))
        core_terms = self._core.terms
        found.extend(
            (term, definition)
            for term, definition in self._user.by_iri.get(iri, ())
            if term not in core_terms
        )
        return found

    def _select_term(self, iri: str) -> str | None:
        candidates = self._candidates(iri)
        if not candidates:
            return None
        best: tuple[int, int, int, str] | None = None
        for term, definition in candidates:
            rank = _CONTAINER_RANK.get(definition.container)
            preference = _node_preference(definition)
            if rank is None or preference is None:
                continue
            key = (rank, preference, len(term), term)
            if best is None or key < best:
                best = key
        if best is not None:
            return best[3]
        usable = [term for term, definition in candidates if not definition.reverse]
        return min(usable, key=lambda t: (len(t), t)) if usable else None

    def _keyword_alias(self, keyword: str) -> str:
        aliases = [
            term
            for term, definition in self._candidates(keyword)
            if definition.container == "@none" and _node_preference(definition) == 1
        ]
        return min(aliases, key=lambda t: (len(t), t)) if aliases else keyword
