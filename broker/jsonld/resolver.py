"""ContextResolver: a request's @context -> TermMap, plus the /jsonldContexts operations.

Resolution happens once per distinct @context; afterwards `resolve` is a dict lookup (the
context itself is the key: a URL string as is, anything else as canonical JSON). Building a
TermMap first gathers every document the context references (core URLs from the bundle,
``/ngsi-ld/v1/jsonldContexts/{id}`` URLs from the registry, the official Smart Data Models
URLs the bundle covers from the bundled records (`sdm.py`), anything else over HTTP through
the guarded fetcher, cached as Cached records), then lets pyld process the whole context
offline with those documents.

Rules from ETSI GS CIM 009 relied on here:
- 5.5.5 / 5.5.7: the core context always applies and takes precedence; a user @context may
  not contain scoped contexts (BadRequestData).
- 5.13: Hosted, Cached and ImplicitlyCreated records; Serve gives OperationNotSupported for
  Cached records; Delete with reload re-fetches Cached records (LdContextNotAvailable when
  that fails) and is BadRequestData for the other kinds. The core and the bundled Smart Data
  Models records are BadRequestData for both.
- 6.3.5 / LdContextNotAvailable: a remote context that cannot be had is a 503.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from pyld.iri_resolver import resolve as resolve_iri

from broker.errors import (
    BadRequestData,
    LdContextNotAvailable,
    OperationNotSupported,
    ResourceNotFound,
)
from broker.jsonld.context import TermMap
from broker.jsonld.core import CORE_CONTEXT_URL, core_context_document, is_core_url
from broker.jsonld.fetch import ContextFetcher
from broker.jsonld.processing import ContextProcessingError, Definitions, process_user_context
from broker.jsonld.records import (
    CACHED,
    CONTEXTS_PATH,
    HOSTED,
    KINDS,
    ContextPersistence,
    ContextRecord,
)
from broker.jsonld.registry import ContextRegistry
from broker.settings import Settings

__all__ = ["ContextPersistence", "ContextRecord", "ContextResolver"]

log = logging.getLogger(__name__)

LOCAL_BASE = "http://jsonldcontexts.invalid"
"""Relative ``/ngsi-ld/v1/jsonldContexts/{id}`` references are made absolute under this
never-resolvable host (RFC 2606), so pyld sees absolute URLs and the registry answers."""
MAX_CONTEXT_URLS = 32
"""Most distinct documents one @context may pull in (remote, stored or core)."""
MAX_DEPTH = 8
"""Deepest chain of remote contexts referencing remote contexts."""
IMPLICIT_LIMIT = 1000
"""Most ImplicitlyCreated records kept (least recently used out first)."""

_ABSOLUTE_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+\-.]*:")


@dataclass(slots=True)
class _Entry:
    terms: TermMap
    expires: float
    records: tuple[ContextRecord, ...]


@dataclass(slots=True)
class _Gathered:
    """Everything one @context references, fetched and ready for offline processing."""

    documents: dict[str, Any] = field(default_factory=dict)
    records: list[ContextRecord] = field(default_factory=list)
    remote: list[str] = field(default_factory=list)
    expires: float = math.inf


def _canonical(context: Any) -> bytes:
    try:
        return orjson.dumps(context, option=orjson.OPT_SORT_KEYS)
    except TypeError as exc:
        raise BadRequestData(f"the @context is not JSON: {exc}") from None


def _consume(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


class ContextResolver:
    """Turns request @contexts into TermMaps and keeps the /jsonldContexts registry.

    `clock` (monotonic seconds) drives cache expiry and `wall_clock` (epoch seconds) the
    timestamps shown in the registry; both are injectable for tests.
    """

    def __init__(
        self,
        settings: Settings,
        persistence: ContextPersistence | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._persistence = persistence
        self._clock = clock
        self._wall = wall_clock
        self._fetcher = ContextFetcher(settings)
        self._registry = ContextRegistry(
            cached_limit=settings.context_cache_size,
            implicit_limit=IMPLICIT_LIMIT,
            ttl=settings.context_cache_ttl,
            clock=clock,
            wall_clock=wall_clock,
        )
        self._core = TermMap()
        self._maps: OrderedDict[str | bytes, _Entry] = OrderedDict()
        self._map_limit = max(64, settings.context_cache_size)
        self._inflight: dict[str, asyncio.Future[Any]] = {}

    async def start(self) -> None:
        """Reload the Hosted records kept by the persistence."""
        if self._persistence is None:
            return
        for saved in await self._persistence.load_contexts():
            try:
                record = ContextRecord.from_persisted(saved)
            except (KeyError, TypeError, ValueError) as exc:
                log.warning("skipping a stored @context that cannot be read: %s", exc)
                continue
            if record.kind == HOSTED:
                self._registry.restore(record)

    async def close(self) -> None:
        await self._fetcher.close()

    @property
    def core(self) -> TermMap:
        """The TermMap of the core context alone (requests without a user context)."""
        return self._core

    # -- resolution -----------------------------------------------------------------------

    async def resolve(self, context: Any) -> TermMap:
        """The TermMap for a request's @context: None, a URL, a list, or an inline object.

        Raises LdContextNotAvailable (503) when a referenced context cannot be retrieved and
        BadRequestData (400) when the context, or a document it references, is not valid.
        """
        if context is None:
            return self._core
        key: str | bytes = context if type(context) is str else _canonical(context)
        entry = self._maps.get(key)
        if entry is not None and entry.expires > self._clock():
            self._maps.move_to_end(key)
            now = self._wall()
            for record in entry.records:
                record.touch(now)
            return entry.terms
        return await self._build(key, context)

    async def _build(self, key: str | bytes, context: Any) -> TermMap:
        if not isinstance(context, str):
            # The cached TermMap outlives the request: keep a copy the caller cannot change.
            context = orjson.loads(orjson.dumps(context))
        items = context if isinstance(context, list) else [context]
        user = [item for item in items if not (isinstance(item, str) and is_core_url(item))]
        if not user:
            link = context if isinstance(context, str) else CORE_CONTEXT_URL
            terms = TermMap(None, context=context, link_url=link)
            self._registry.core.touch(self._wall())
            self._remember(key, terms, math.inf, (self._registry.core,))
            return terms
        gathered = _Gathered()
        local = await self._gather(user if isinstance(context, list) else user[0], gathered)
        definitions = self._process(local, gathered)
        if len(user) == 1 and isinstance(user[0], str):
            terms = TermMap(definitions, context=context, link_url=user[0])
        else:
            assert isinstance(key, bytes)
            terms = TermMap(
                definitions,
                context=context,
                link_url=None,
                link_provider=self._implicit_link(key, context),
            )
        now = self._wall()
        for record in gathered.records:
            record.touch(now)
        self._remember(key, terms, gathered.expires, tuple(gathered.records))
        return terms

    def _implicit_link(self, key: bytes, body: Any) -> Callable[[], str]:
        registry = self._registry

        def link() -> str:
            return registry.ensure_implicit(key, body).url

        return link

    def _remember(
        self, key: str | bytes, terms: TermMap, expires: float, records: tuple[ContextRecord, ...]
    ) -> None:
        self._maps[key] = _Entry(terms, expires, records)
        self._maps.move_to_end(key)
        while len(self._maps) > self._map_limit:
            self._maps.popitem(last=False)

    async def _gather(self, value: Any, found: _Gathered) -> Any:
        """Fetch what `value` references; return it with relative registry paths absolute."""
        return await self._collect(value, None, found, 0, "the @context")

    async def _collect(
        self, value: Any, base: str | None, found: _Gathered, depth: int, origin: str
    ) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            url = self._absolute(value, base, origin)
            await self._load(url, found, depth)
            return url
        if isinstance(value, list):
            return [await self._collect(item, base, found, depth, origin) for item in value]
        if isinstance(value, dict):
            return await self._collect_object(value, base, found, depth, origin)
        raise BadRequestData(
            f"{origin} contains {orjson.dumps(value).decode()}: an @context entry must be "
            "a URL, an object or an array"
        )

    async def _collect_object(
        self, value: dict[str, Any], base: str | None, found: _Gathered, depth: int, origin: str
    ) -> dict[str, Any]:
        if "@context" in value:
            inner = await self._collect(value["@context"], base, found, depth, origin)
            return {**value, "@context": inner}
        for term, definition in value.items():
            if isinstance(definition, dict) and "@context" in definition:
                raise BadRequestData(
                    f"{origin} gives the term {term!r} a scoped @context, which a user "
                    "@context may not contain (ETSI GS CIM 009 clause 5.5.7)"
                )
        imported = value.get("@import")
        if isinstance(imported, str):
            url = self._absolute(imported, base, origin)
            await self._load(url, found, depth)
            return {**value, "@import": url}
        return value

    def _absolute(self, reference: str, base: str | None, origin: str) -> str:
        if base is not None:
            try:
                return str(resolve_iri(reference, base))
            except ValueError as exc:
                raise BadRequestData(f"{origin} references {reference!r}: {exc}") from None
        if _ABSOLUTE_URL.match(reference):
            return reference
        if reference.startswith(CONTEXTS_PATH):
            return LOCAL_BASE + reference
        raise BadRequestData(f"{origin} references {reference!r}, which is not an absolute URL")

    async def _load(self, url: str, found: _Gathered, depth: int) -> None:
        if url in found.documents:
            return
        if len(found.documents) >= MAX_CONTEXT_URLS:
            raise BadRequestData(f"the @context references more than {MAX_CONTEXT_URLS} documents")
        if depth >= MAX_DEPTH:
            raise BadRequestData(f"the @context nests remote contexts deeper than {MAX_DEPTH}")
        if is_core_url(url):
            found.documents[url] = core_context_document()
            found.records.append(self._registry.core)
            return
        stored = self._registry.served_at(url) or self._registry.offline_copy(url)
        if stored is None and url.startswith(LOCAL_BASE):
            raise LdContextNotAvailable(
                f"@context {url[len(LOCAL_BASE) :]} could not be retrieved: no such @context "
                "is stored"
            )
        if stored is not None:
            found.documents[url] = stored.document()
            found.records.append(stored)
            await self._collect(stored.body, url, found, depth + 1, f"the @context at {url}")
            return
        cached = self._registry.cached(url)
        if cached is None:
            body = self._context_member(url, await self._fetch_shared(url))
            cached = self._registry.put_cached(url, body)
        record, deadline = cached
        found.documents[url] = record.document()
        found.records.append(record)
        found.remote.append(url)
        found.expires = min(found.expires, deadline)
        await self._collect(record.body, url, found, depth + 1, f"the @context at {url}")

    async def _fetch_shared(self, url: str) -> Any:
        """One fetch per URL at a time, however many requests wait for it."""
        task = self._inflight.get(url)
        if task is None:
            task = asyncio.ensure_future(self._fetcher.fetch(url))
            self._inflight[url] = task
            task.add_done_callback(_consume)
            task.add_done_callback(lambda _: self._inflight.pop(url, None))
        return await asyncio.shield(task)

    @staticmethod
    def _context_member(url: str, document: Any) -> Any:
        if not isinstance(document, dict) or "@context" not in document:
            raise BadRequestData(
                f"{url} is not a JSON-LD context document: it is not a JSON object with an "
                "@context member"
            )
        return document["@context"]

    def _process(self, local: Any, found: _Gathered) -> Definitions:
        try:
            return process_user_context(local, found.documents)
        except ContextProcessingError as exc:
            for url in reversed(found.remote):
                try:
                    process_user_context(url, found.documents)
                except ContextProcessingError as inner:
                    record = self._registry.get(url)
                    if record is not None:
                        self._registry.remove(record)
                    raise BadRequestData(
                        f"the @context document at {url} is not a valid JSON-LD context: {inner}"
                    ) from None
            raise BadRequestData(f"invalid @context: {exc}") from None

    async def _validate(self, value: Any, base: str | None = None) -> None:
        found = _Gathered()
        local = await self._collect(value, base, found, 0, "the @context")
        self._process(local, found)

    # -- the /jsonldContexts operations (clause 5.13) -----------------------------------

    async def add_hosted(self, document: Any) -> ContextRecord:
        """Add @context (5.13.2): store `document["@context"]` as a Hosted record.

        Anything outside the @context member is discarded. The context must be valid
        (BadRequestData) and whatever it references must be retrievable
        (LdContextNotAvailable).
        """
        if not isinstance(document, dict) or "@context" not in document:
            raise BadRequestData(
                "the @context to store must be a JSON object with an @context member"
            )
        body = document["@context"]
        await self._validate(body)
        record = self._registry.add_hosted(body)
        if self._persistence is not None:
            try:
                await self._persistence.save_context(record.to_persisted())
            except BaseException:
                self._registry.remove(record)
                raise
        return record

    def list_records(self, kind: str | None = None) -> list[ContextRecord]:
        """List @contexts (5.13.3), optionally only those of one kind."""
        if kind is not None and kind not in KINDS:
            raise BadRequestData(
                f"kind must be one of {', '.join(sorted(KINDS))}, not {kind!r}", field="kind"
            )
        return [r for r in self._registry.records() if kind is None or r.kind == kind]

    def get_record(self, local_id: str) -> ContextRecord:
        """A record by local id (Cached ones and the core also by their original URL)."""
        record = self._registry.get(local_id)
        if record is None:
            raise ResourceNotFound(f"no stored @context has the id {local_id!r}")
        return record

    def serve(self, local_id: str) -> dict[str, Any]:
        """Serve @context (5.13.4) without details: the stored document.

        Cached records are not served (OperationNotSupported), except the core context,
        which the broker holds as its own bundled copy.
        """
        record = self.get_record(local_id)
        if record is self._registry.core:
            return self.core_document()
        if record.kind == CACHED:
            raise OperationNotSupported(
                f"@context {local_id} is a Cached copy of {record.url}; fetch it from there"
            )
        document: dict[str, Any] = orjson.loads(orjson.dumps(record.document()))
        return document

    def core_document(self) -> dict[str, Any]:
        """The bundled core @context document (a fresh copy)."""
        return core_context_document()

    async def delete(self, local_id: str, reload: bool = False) -> None:
        """Delete and Reload @context (5.13.5)."""
        if not local_id:
            raise BadRequestData("the id of the @context to delete is missing")
        record = self.get_record(local_id)
        if record is self._registry.core:
            raise BadRequestData("the core @context cannot be deleted or reloaded")
        if self._registry.is_builtin(record):
            raise BadRequestData(
                f"@context {record.local_id} is bundled with the broker: it cannot be deleted "
                "or reloaded"
            )
        if reload:
            if record.kind != CACHED:
                raise BadRequestData(
                    f"only Cached @contexts can be reloaded; {local_id} is {record.kind}"
                )
            await self._reload(record)
        else:
            self._registry.remove(record)
            if record.kind == HOSTED and self._persistence is not None:
                await self._persistence.delete_context(record.local_id)
        self._maps.clear()

    async def _reload(self, record: ContextRecord) -> None:
        url = record.url
        try:
            body = self._context_member(url, await self._fetcher.fetch(url))
            await self._validate(body, url)
        except BadRequestData as exc:
            raise LdContextNotAvailable(f"@context {url} was not reloaded: {exc.detail}") from None
        self._registry.put_cached(url, body)
