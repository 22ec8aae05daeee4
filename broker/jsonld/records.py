"""The /jsonldContexts records (ETSI GS CIM 009 clause 5.13) and their persistence seam."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal, Protocol

ContextKind = Literal["Hosted", "Cached", "ImplicitlyCreated"]
HOSTED: Final = "Hosted"
CACHED: Final = "Cached"
IMPLICITLY_CREATED: Final = "ImplicitlyCreated"
KINDS: frozenset[str] = frozenset({HOSTED, CACHED, IMPLICITLY_CREATED})

CONTEXTS_PATH = "/ngsi-ld/v1/jsonldContexts/"
"""Hosted and ImplicitlyCreated records are served at CONTEXTS_PATH + localId."""
ID_PREFIX = "urn:ngsi-ld:JsonLdContext:"
"""Every record's localId starts with this."""


def iso_time(epoch: float) -> str:
    """An NGSI-LD DateTime (UTC, milliseconds, `Z`)."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso_time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass(slots=True, eq=False)
class ContextRecord:
    """One stored @context.

    `url` is where it can be had: the original URL for Cached records, the broker's own
    path (CONTEXTS_PATH + local_id, to be prefixed with scheme and host) for the others.
    `body` is the @context value itself (what follows "@context" in the document).
    Times are epoch seconds; `details()` renders them as DateTime strings.
    """

    local_id: str
    url: str
    kind: ContextKind
    body: Any
    created_at: float
    expires_at: float | None = None
    last_usage: float | None = None
    number_of_hits: int = 0
    extra_info: dict[str, Any] | None = field(default=None)

    def document(self) -> dict[str, Any]:
        """The document served for this record: ``{"@context": body}``."""
        return {"@context": self.body}

    def details(self) -> dict[str, Any]:
        """The metadata object of clause 5.13.3.5 (List @contexts / Serve with details)."""
        info: dict[str, Any] = {
            "URL": self.url,
            "localId": self.local_id,
            "kind": self.kind,
            "createdAt": iso_time(self.created_at),
        }
        if self.expires_at is not None:
            info["expiresAt"] = iso_time(self.expires_at)
        if self.last_usage is not None:
            info["lastUsage"] = iso_time(self.last_usage)
        info["numberOfHits"] = self.number_of_hits
        if self.extra_info is not None:
            info["extraInfo"] = self.extra_info
        return info

    def touch(self, now: float) -> None:
        self.number_of_hits += 1
        self.last_usage = now

    def to_persisted(self) -> dict[str, Any]:
        """The form handed to `ContextPersistence.save_context`."""
        return {
            "id": self.local_id,
            "kind": self.kind,
            "url": self.url,
            "createdAt": iso_time(self.created_at),
            "context": self.body,
        }

    @classmethod
    def from_persisted(cls, saved: dict[str, Any]) -> ContextRecord:
        kind = saved.get("kind", HOSTED)
        if kind not in KINDS:
            raise ValueError(f"unknown @context kind {kind!r}")
        local_id = str(saved["id"])
        return cls(
            local_id=local_id,
            url=str(saved.get("url") or CONTEXTS_PATH + local_id),
            kind=kind,
            body=saved["context"],
            created_at=parse_iso_time(str(saved["createdAt"])),
        )


class ContextPersistence(Protocol):
    """Where Hosted @contexts outlive the process (implemented by the store).

    Records are plain dicts as made by `ContextRecord.to_persisted`:
    ``{"id", "kind", "url", "createdAt", "context"}``; `id` is the key.
    """

    async def save_context(self, record: dict[str, Any]) -> None: ...

    async def load_contexts(self) -> list[dict[str, Any]]: ...

    async def delete_context(self, id: str) -> bool: ...
