"""What an adapter declares about itself: `manifest.json` in its folder, or a `Manifest`
built in code."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_FILE = "manifest.json"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_-]*$")


class ManifestError(ValueError):
    """A manifest that is missing, unreadable or has a wrong member (named in the text)."""


@dataclass(frozen=True, slots=True)
class Manifest:
    """An adapter's identity and promises.

    `name` is what `agora adapters run NAME` takes and must equal the entry point's name;
    `protocols` are the southbound protocols it speaks (mqtt, http, lorawan, simulated …);
    `entity_types` the NGSI-LD types it produces; `config_schema` the JSON Schema of its
    configuration (derived from the configuration dataclass when not written out);
    `owners` who maintains it.
    """

    name: str
    version: str
    description: str = ""
    protocols: tuple[str, ...] = ()
    entity_types: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    config_schema: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not NAME_PATTERN.match(self.name):
            raise ManifestError(
                f"name: {self.name!r} must be lower case letters, digits, '-' or '_'"
            )
        if not self.version:
            raise ManifestError("version: must not be empty")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Manifest:
        known = {"name", "version", "description", "protocols", "entity_types", "owners",
                 "config_schema"}
        for key in data:
            if key not in known:
                raise ManifestError(f"{key}: unknown manifest member")
        for key in ("name", "version"):
            if not isinstance(data.get(key), str):
                raise ManifestError(f"{key}: a string is required")
        lists = {}
        for key in ("protocols", "entity_types", "owners"):
            value = data.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ManifestError(f"{key}: must be a list of strings")
            lists[key] = tuple(value)
        description = data.get("description", "")
        if not isinstance(description, str):
            raise ManifestError("description: must be a string")
        schema = data.get("config_schema", {})
        if not isinstance(schema, dict):
            raise ManifestError("config_schema: must be a JSON Schema object")
        return cls(
            name=data["name"], version=data["version"], description=description,
            protocols=lists["protocols"], entity_types=lists["entity_types"],
            owners=lists["owners"], config_schema=schema,
        )

    @classmethod
    def from_folder(cls, folder: str | Path) -> Manifest:
        """The `manifest.json` of an adapter's folder (pass `__file__` or the folder)."""
        folder = Path(folder)
        path = (folder.parent if folder.is_file() else folder) / MANIFEST_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ManifestError(f"cannot read {path}: {exc.strerror}") from exc
        except json.JSONDecodeError as exc:
            raise ManifestError(f"{path} is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ManifestError(f"{path} must hold a JSON object")
        try:
            return cls.from_mapping(data)
        except ManifestError as exc:
            raise ManifestError(f"{path}: {exc}") from exc

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "version": self.version, "description": self.description,
            "protocols": list(self.protocols), "entity_types": list(self.entity_types),
            "owners": list(self.owners), "config_schema": dict(self.config_schema),
        }
