"""JSON-LD context processing with pyld, reduced to plain term definitions.

pyld runs the JSON-LD 1.1 Context Processing algorithm once per distinct @context; what the
broker keeps is the result as immutable `Definitions` that `TermMap` turns into dict lookups.
pyld never touches the network here: every remote document must already have been fetched
and is handed over in `documents` (core context URLs are answered from the bundle); the
loader refuses anything else.

How the core context is combined with a user context (ETSI GS CIM 009 clauses 5.5.5 and
5.5.7): the core @context is protected and "has absolute precedence, regardless of its
position in the @context array". The user context is therefore processed *on top of* the
core context (so `ngsi-ld:` prefixes and the core terms are available while it is processed),
with protection overridden so that a user context that redefines a core term is not an error;
then every core term definition is put back over the result. The user's `@vocab`, if any,
applies: @vocab is not a term and the core cannot protect it.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from pyld import jsonld
from pyld.context_resolver import ContextResolver as PyldContextResolver

from broker.jsonld.core import core_context_document, is_core_url

# JSON-LD 1.1 keywords as pyld knows them; a term equal to one of these expands to itself.
KEYWORDS = frozenset(jsonld.KEYWORDS)


class ContextProcessingError(ValueError):
    """The @context is not a valid JSON-LD context (the message says why)."""


@dataclass(frozen=True, slots=True)
class TermDefinition:
    """What compaction and expansion need from one JSON-LD term definition."""

    iri: str | None
    """The IRI mapping (or keyword); None when the context maps the term to null."""
    prefix: bool = False
    """The term may be used as the prefix of a compact IRI (JSON-LD prefix flag)."""
    container: str = "@none"
    """Container mapping, in the form the JSON-LD inverse context keys it (`@id@set`)."""
    type_mapping: str | None = None
    language_or_direction: bool = False
    reverse: bool = False


class Definitions:
    """The term definitions of a processed context, with the indexes compaction needs."""

    __slots__ = ("by_iri", "prefixes", "terms", "vocab")

    def __init__(self, terms: Mapping[str, TermDefinition], vocab: str | None) -> None:
        self.terms: dict[str, TermDefinition] = dict(terms)
        self.vocab = vocab
        by_iri: dict[str, list[tuple[str, TermDefinition]]] = {}
        prefixes: list[tuple[str, str]] = []
        for term, definition in self.terms.items():
            if not definition.iri:
                continue
            by_iri.setdefault(definition.iri, []).append((term, definition))
            if definition.prefix and ":" not in term:
                prefixes.append((term, definition.iri))
        self.by_iri: dict[str, tuple[tuple[str, TermDefinition], ...]] = {
            iri: tuple(entries) for iri, entries in by_iri.items()
        }
        self.prefixes: tuple[tuple[str, str], ...] = tuple(prefixes)


Loader = Callable[..., dict[str, Any]]


def _loader(documents: Mapping[str, Any]) -> Loader:
    def load(url: str, options: Any = None) -> dict[str, Any]:
        document = documents.get(url)
        if document is None and is_core_url(url):
            document = core_context_document()
        if document is None:
            raise jsonld.JsonLdError(
                f"{url} is not available offline",
                "jsonld.LoadDocumentError",
                code="loading remote context failed",
            )
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            # pyld mutates documents it imports (@import); hand it a copy.
            "document": copy.deepcopy(document),
        }

    return load


def _options(documents: Mapping[str, Any]) -> dict[str, Any]:
    loader = _loader(documents)
    # A private resolver cache per call: pyld's shared cache would keep remote documents
    # beyond the broker's own TTL.
    return {
        "base": "",
        "documentLoader": loader,
        "contextResolver": PyldContextResolver({}, loader),
    }


_processor = jsonld.JsonLdProcessor()


def _definition(mapping: Mapping[str, Any]) -> TermDefinition:
    container = mapping.get("@container") or ["@none"]
    return TermDefinition(
        iri=mapping.get("@id"),
        prefix=bool(mapping.get("_prefix")),
        container="".join(sorted(container)),
        type_mapping=mapping.get("@type"),
        language_or_direction="@language" in mapping or "@direction" in mapping,
        reverse=bool(mapping.get("reverse")),
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, jsonld.JsonLdError):
        message = str(exc.args[0]) if exc.args else "invalid JSON-LD context"
        code = f" ({exc.code})" if exc.code else ""
        cause = exc.__cause__
        if isinstance(cause, jsonld.JsonLdError) and cause.args:
            message += f": {cause.args[0]}"
        return message + code
    return f"{type(exc).__name__}: {exc}"


def _process(active: Any, local: Any, documents: Mapping[str, Any], override: bool) -> Any:
    options = _options(documents)
    try:
        with warnings.catch_warnings():
            # pyld warns about terms that look like keywords and ignores them; so do we.
            warnings.simplefilter("ignore")
            return _processor._process_context(active, local, options, override_protected=override)
    except RecursionError:
        raise ContextProcessingError("the @context is nested too deeply") from None
    except Exception as exc:  # pyld raises many types on malformed input
        raise ContextProcessingError(_describe(exc)) from exc


@cache
def _core_active() -> Any:
    initial = _processor._get_initial_context({})
    return _process(initial, core_context_document(), {}, False)


@cache
def core_definitions() -> Definitions:
    """The core context's definitions (processed once, shared by every TermMap)."""
    active = _core_active()
    terms = {
        term: _definition(mapping)
        for term, mapping in active["mappings"].items()
        if mapping is not None and not term.startswith("@")
    }
    return Definitions(terms, active.get("@vocab"))


def process_user_context(context: Any, documents: Mapping[str, Any]) -> Definitions:
    """The definitions a user @context adds to the core context.

    Terms the core context defines are left out (the core definition always wins); `vocab`
    is the effective vocabulary mapping (the user's @vocab, else the core one). Remote
    contexts referenced by `context` must be in `documents` (URL -> JSON document).
    Raises `ContextProcessingError` when the context is not valid JSON-LD.
    """
    core_active = _core_active()
    active = _process(core_active, context, documents, True)
    core_mappings = core_active["mappings"]
    terms: dict[str, TermDefinition] = {}
    for term, mapping in active["mappings"].items():
        if term in core_mappings or term.startswith("@"):
            continue
        terms[term] = TermDefinition(iri=None) if mapping is None else _definition(mapping)
    vocab = active.get("@vocab") or core_active.get("@vocab")
    return Definitions(terms, vocab)
