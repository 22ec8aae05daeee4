"""The contract a vendor implements: an `Adapter`, and the `AdapterPlugin` its package
exposes under the entry-point group `agora.adapters`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, runtime_checkable

from adapters.sdk.config import config_schema, load_config
from adapters.sdk.manifest import Manifest

if TYPE_CHECKING:
    from adapters.sdk.context import AdapterContext

C = TypeVar("C")


@runtime_checkable
class Adapter(Protocol):
    """A running adapter. `start` returns once the adapter is running (it starts its own
    tasks: a poller, a subscriber, a listener) and publishes through `ctx`; `stop` ends those
    tasks. What was published is flushed by the runtime after `stop`."""

    async def start(self, ctx: AdapterContext) -> None: ...

    async def stop(self) -> None: ...


@runtime_checkable
class MessageHandler(Protocol):
    """An adapter that takes raw protocol messages (an MQTT payload, an HTTP body) may also
    expose them here, so that recorded payloads can be replayed into it in tests."""

    async def handle_message(self, payload: bytes, topic: str | None = None) -> None: ...


@dataclass(frozen=True, slots=True)
class AdapterPlugin(Generic[C]):
    """What the entry point names: the manifest, the configuration dataclass and the
    factory that builds an adapter from a validated configuration."""

    manifest: Manifest
    config_type: type[C]
    factory: Callable[[C], Adapter]

    @classmethod
    def from_folder(
        cls, folder: str | Path, config_type: type[C], factory: Callable[[C], Adapter]
    ) -> AdapterPlugin[C]:
        """Read `manifest.json` next to `folder` (pass the package's `__file__`); the
        configuration schema is derived from `config_type` unless the manifest writes it."""
        manifest = Manifest.from_folder(folder)
        if not manifest.config_schema:
            manifest = dataclasses.replace(manifest, config_schema=config_schema(config_type))
        return cls(manifest, config_type, factory)

    @property
    def name(self) -> str:
        return self.manifest.name

    def configure(self, data: Mapping[str, Any] | None) -> C:
        """The validated configuration (raises `ConfigError` naming the field)."""
        return load_config(self.config_type, data)

    def create(self, data: Mapping[str, Any] | None) -> Adapter:
        return self.factory(self.configure(data))
