"""The broker's @context store (clause 5.13): Hosted, Cached and ImplicitlyCreated records.

Plain, synchronous bookkeeping; fetching, validation and persistence live in the resolver.

- Hosted: added by clients (POST /jsonldContexts), kept until deleted, persisted.
- Cached: remote contexts the broker fetched; the record *is* the document cache, bounded
  (least recently used out first) and expiring after a time-to-live.
- ImplicitlyCreated: inline contexts that needed a URL (a Link header on an
  application/json response). Their id is derived from the context's content, so the same
  context gets the same URL again after eviction or a restart; bounded like the cache.
- The core context is listed as a Cached record of its official URL and can be served, but
  neither deleted nor reloaded.
- The bundled Smart Data Models contexts (`broker.jsonld.sdm`) are Hosted records that are
  there from the start, are not persisted and can be neither deleted nor reloaded; each also
  answers the official Smart Data Models URLs it stands for.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

from broker.jsonld.core import CORE_CONTEXT_URL, core_context_document, is_core_url
from broker.jsonld.records import (
    CACHED,
    CONTEXTS_PATH,
    HOSTED,
    ID_PREFIX,
    IMPLICITLY_CREATED,
    ContextRecord,
)
from broker.jsonld.sdm import bundled_records

CORE_LOCAL_ID = ID_PREFIX + "core"


def local_id_in_path(url: str) -> str | None:
    """The {contextId} of a ``.../ngsi-ld/v1/jsonldContexts/{contextId}`` URL (any host)."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    if not path.startswith(CONTEXTS_PATH):
        return None
    local_id = unquote(path[len(CONTEXTS_PATH) :])
    return local_id or None


class ContextRegistry:
    def __init__(
        self,
        *,
        cached_limit: int,
        implicit_limit: int,
        ttl: float,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
    ) -> None:
        self._cached_limit = max(1, cached_limit)
        self._implicit_limit = max(1, implicit_limit)
        self._ttl = ttl
        self._clock = clock
        self._wall = wall_clock
        self._hosted: dict[str, ContextRecord] = {}
        self._cached: OrderedDict[str, ContextRecord] = OrderedDict()  # by URL
        self._cached_expiry: dict[str, float] = {}  # URL -> monotonic deadline
        self._implicit: OrderedDict[str, ContextRecord] = OrderedDict()  # by local id
        self.core = ContextRecord(
            local_id=CORE_LOCAL_ID,
            url=CORE_CONTEXT_URL,
            kind=CACHED,
            body=core_context_document()["@context"],
            created_at=wall_clock(),
            extra_info={"bundled": True, "note": "served offline for every core @context URL"},
        )
        self._bundled: dict[str, ContextRecord] = {}  # by local id
        self._offline: dict[str, ContextRecord] = {}  # official URL -> bundled record
        for record, urls in bundled_records(wall_clock()):
            self._bundled[record.local_id] = record
            self._offline.update(dict.fromkeys(urls, record))

    # -- lookups ------------------------------------------------------------------------

    def get(self, identifier: str) -> ContextRecord | None:
        """A record by local id; Cached and bundled records (and the core) also by the URLs
        they stand for."""
        if identifier == CORE_LOCAL_ID or is_core_url(identifier):
            return self.core
        record = (
            self._bundled.get(identifier)
            or self._offline.get(identifier)
            or self._hosted.get(identifier)
            or self._implicit.get(identifier)
        )
        if record is not None:
            return record
        record = self._cached.get(identifier)
        if record is not None:
            return record
        for cached in self._cached.values():
            if cached.local_id == identifier:
                return cached
        return None

    def served_at(self, url: str) -> ContextRecord | None:
        """The record a ``/ngsi-ld/v1/jsonldContexts/{id}`` URL names, whatever its host."""
        local_id = local_id_in_path(url)
        return None if local_id is None else self.get(local_id)

    def offline_copy(self, url: str) -> ContextRecord | None:
        """The bundled record that answers an official Smart Data Models URL, or None."""
        return self._offline.get(url)

    def is_builtin(self, record: ContextRecord) -> bool:
        """The core and the bundled records: part of the broker, never deleted or reloaded."""
        return record is self.core or self._bundled.get(record.local_id) is record

    def records(self) -> list[ContextRecord]:
        return [
            self.core,
            *self._bundled.values(),
            *self._hosted.values(),
            *self._cached.values(),
            *self._implicit.values(),
        ]

    # -- Hosted ---------------------------------------------------------------------------

    def add_hosted(self, body: Any) -> ContextRecord:
        local_id = ID_PREFIX + str(uuid.uuid4())
        record = ContextRecord(
            local_id=local_id,
            url=CONTEXTS_PATH + local_id,
            kind=HOSTED,
            body=body,
            created_at=self._wall(),
        )
        self._hosted[local_id] = record
        return record

    def restore(self, record: ContextRecord) -> None:
        """Put back a record loaded from persistence."""
        self._hosted[record.local_id] = record

    # -- Cached ---------------------------------------------------------------------------

    def cached(self, url: str) -> tuple[ContextRecord, float] | None:
        """The fresh Cached record of `url` and its monotonic deadline, or None."""
        record = self._cached.get(url)
        if record is None:
            return None
        deadline = self._cached_expiry[url]
        if deadline <= self._clock():
            return None
        self._cached.move_to_end(url)
        return record, deadline

    def put_cached(self, url: str, body: Any) -> tuple[ContextRecord, float]:
        """Store (or refresh) the fetched @context of `url`; the local id stays the same."""
        now = self._wall()
        deadline = self._clock() + self._ttl
        record = self._cached.get(url)
        if record is None:
            record = ContextRecord(
                local_id=ID_PREFIX + str(uuid.uuid5(uuid.NAMESPACE_URL, url)),
                url=url,
                kind=CACHED,
                body=body,
                created_at=now,
            )
            self._cached[url] = record
            while len(self._cached) > self._cached_limit:
                evicted, _ = self._cached.popitem(last=False)
                del self._cached_expiry[evicted]
        else:
            record.body = body
            record.created_at = now
            self._cached.move_to_end(url)
        record.expires_at = now + self._ttl
        self._cached_expiry[url] = deadline
        return record, deadline

    # -- ImplicitlyCreated ----------------------------------------------------------------

    def ensure_implicit(self, key: bytes, body: Any) -> ContextRecord:
        """The ImplicitlyCreated record of an inline context (`key`: its canonical JSON)."""
        digest = hashlib.sha256(key).digest()
        local_id = ID_PREFIX + str(uuid.UUID(bytes=digest[:16]))
        record = self._implicit.get(local_id)
        if record is None:
            record = ContextRecord(
                local_id=local_id,
                url=CONTEXTS_PATH + local_id,
                kind=IMPLICITLY_CREATED,
                body=body,
                created_at=self._wall(),
            )
            self._implicit[local_id] = record
            while len(self._implicit) > self._implicit_limit:
                self._implicit.popitem(last=False)
        else:
            self._implicit.move_to_end(local_id)
        return record

    # -- removal --------------------------------------------------------------------------

    def remove(self, record: ContextRecord) -> None:
        if record.kind == HOSTED:
            self._hosted.pop(record.local_id, None)
        elif record.kind == IMPLICITLY_CREATED:
            self._implicit.pop(record.local_id, None)
        elif record is not self.core:
            self._cached.pop(record.url, None)
            self._cached_expiry.pop(record.url, None)
