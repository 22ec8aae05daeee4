"""JSON-LD handling: the bundled core context, context resolution, term expansion/compaction.

Public surface (used by model/, services/, api/):

- `CORE_CONTEXT_URL`, `CORE_CONTEXT_URLS`: the official core context URLs served offline.
- `TermMap`: an active context reduced to what the broker needs; built once per distinct
  @context and cached.
- `ContextResolver`: turns a request's @context (Link header URL, inline string/list/object,
  or none) into a TermMap, fetching remote contexts with timeout, size cap, cache and the
  private-address guard; keeps the /jsonldContexts registry (`ContextRecord`), whose Hosted
  records outlive the process through a `ContextPersistence`.
"""

from broker.jsonld.context import CORE_CONTEXT_URL, CORE_CONTEXT_URLS, TermMap
from broker.jsonld.records import ContextPersistence, ContextRecord
from broker.jsonld.resolver import ContextResolver

__all__ = [
    "CORE_CONTEXT_URL",
    "CORE_CONTEXT_URLS",
    "ContextPersistence",
    "ContextRecord",
    "ContextResolver",
    "TermMap",
]
