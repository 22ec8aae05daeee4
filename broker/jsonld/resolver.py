"""ContextResolver: request @context -> TermMap, plus the /jsonldContexts registry. (stub)"""

from __future__ import annotations

from typing import Any

from broker.jsonld.context import TermMap


class ContextRecord(dict[str, Any]):
    """One /jsonldContexts entry (see clause 5.13)."""


class ContextResolver:
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    @property
    def core(self) -> TermMap:
        raise NotImplementedError

    async def resolve(self, context: Any) -> TermMap:
        raise NotImplementedError
