"""The NGSI-LD core @context, bundled so it is never fetched over the network.

The bundled document is ETSI GS CIM 009 Annex B ("Core NGSI-LD @context definition") as
published in V1.9.1, a superset of the v1.8 terms, and it answers for every URL in
`CORE_CONTEXT_URLS`. One deliberate difference: Annex B gives the `ngsildproof` term a scoped
@context that also imports https://w3id.org/security/data-integrity/v2; that remote import is
left out so that processing the core context never needs the network. Only the two terms
defined inline for `ngsildproof` are kept.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import orjson

CORE_CONTEXT_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"
CORE_CONTEXT_URLS: tuple[str, ...] = (
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.7.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld",
)
CORE_URL_SET = frozenset(CORE_CONTEXT_URLS) | frozenset(
    url.replace("https://", "http://", 1) for url in CORE_CONTEXT_URLS
)
"""Core URLs as clients write them; the http:// spellings are served offline too."""

DEFAULT_VOCAB = "https://uri.etsi.org/ngsi-ld/default-context/"

_RESOURCE = "ngsi-ld-core-context-v1.8.jsonld"


@cache
def _core_bytes() -> bytes:
    return resources.files("broker.jsonld").joinpath("contexts", _RESOURCE).read_bytes()


def core_context_document() -> dict[str, Any]:
    """A fresh copy of the core context document (``{"@context": {...}}``), safe to mutate."""
    document: dict[str, Any] = orjson.loads(_core_bytes())
    return document


def is_core_url(url: str) -> bool:
    return url in CORE_URL_SET
