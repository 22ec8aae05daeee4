"""TermMap: one active context, reduced to fast term <-> IRI lookups. (interface stub)"""

from __future__ import annotations

from typing import Any

CORE_CONTEXT_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
CORE_CONTEXT_URLS: tuple[str, ...] = (
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.7.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld",
)


class TermMap:
    """Term expansion/compaction for one active context (user context + core context).

    Attributes the rest of the broker reads:
      - `context`: the user @context as it should be echoed in an application/ld+json
        response body (a URL string, a list, or an object; the core URL when none was given).
      - `link_url`: the single URL to put in a `Link` header on application/json responses.
    """

    context: Any
    link_url: str

    def expand_term(self, term: str) -> str:
        """Vocab-relative expansion of an attribute name, entity type or vocab value.

        Terms defined by the context map to their IRI; `prefix:suffix` expands the prefix;
        absolute IRIs stay; anything else gets the default vocabulary
        (https://uri.etsi.org/ngsi-ld/default-context/).
        """
        raise NotImplementedError

    def compact_iri(self, iri: str) -> str:
        """The term (or compact IRI) the context gives for an IRI; the IRI itself otherwise."""
        raise NotImplementedError
