"""The one place adapters are found: the entry-point group `agora.adapters`.

Built-in adapters are registered there too (in Agora's own `pyproject.toml`), so they load
exactly as a vendor's do. A plugin that fails to import, names something that is not an
`AdapterPlugin`, or whose manifest name differs from its entry-point name is reported as
broken; the others still load.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from adapters.sdk.contract import AdapterPlugin

GROUP = "agora.adapters"
log = logging.getLogger("agora.adapters")


class UnknownAdapter(LookupError):
    """No installed adapter has this name."""


class BrokenAdapter(RuntimeError):
    """An installed adapter that cannot be loaded; the text says why."""


@dataclass(slots=True)
class Discovery:
    """The installed adapters by name, and the broken ones with the reason."""

    plugins: dict[str, AdapterPlugin[Any]] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> AdapterPlugin[Any]:
        if name in self.plugins:
            return self.plugins[name]
        if name in self.broken:
            raise BrokenAdapter(f"adapter '{name}' is installed but broken: {self.broken[name]}")
        known = ", ".join(sorted(self.plugins)) or "none"
        raise UnknownAdapter(f"no adapter named '{name}' is installed (installed: {known})")


def discover(found: Iterable[EntryPoint] | None = None) -> Discovery:
    """Load every entry point of the group (or the ones given, for tests)."""
    result = Discovery()
    for point in entry_points(group=GROUP) if found is None else found:
        try:
            plugin = _load(point)
        except Exception as exc:  # a broken plugin must never stop the others
            reason = f"{type(exc).__name__}: {exc}"
            log.error("adapter '%s' (%s) cannot be loaded: %s", point.name, point.value, reason)
            result.broken[point.name] = reason
            continue
        result.plugins[point.name] = plugin
    return result


def _load(point: EntryPoint) -> AdapterPlugin[Any]:
    plugin = point.load()
    if not isinstance(plugin, AdapterPlugin):
        raise TypeError(f"{point.value} is a {type(plugin).__name__}, not an AdapterPlugin")
    if plugin.name != point.name:
        raise ValueError(
            f"the manifest names it '{plugin.name}' but the entry point is '{point.name}'"
        )
    return plugin
