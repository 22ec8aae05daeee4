"""Discovery through the entry-point group `agora.adapters` and the manifests."""

from __future__ import annotations

import json
import logging
from importlib.metadata import EntryPoint
from pathlib import Path

import jsonschema
import pytest

from adapters.sdk import GROUP, BrokenAdapter, Manifest, ManifestError, UnknownAdapter, discover

DEMO = EntryPoint(name="demo", value="adapters.demo:plugin", group=GROUP)


def test_the_built_in_demo_is_found_through_the_installed_entry_point() -> None:
    found = discover()
    plugin = found.get("demo")
    assert plugin.manifest.entity_types == ("WeatherObserved", "ParkingSpot")
    assert plugin.manifest.config_schema["properties"]["sensors"]["default"] == 3


def test_a_broken_plugin_is_reported_and_the_others_still_load(
    caplog: pytest.LogCaptureFixture,
) -> None:
    points = [
        EntryPoint(name="missing", value="no_such_vendor.adapter:plugin", group=GROUP),
        EntryPoint(name="notaplugin", value="json:dumps", group=GROUP),
        EntryPoint(name="renamed", value="adapters.demo:plugin", group=GROUP),
        DEMO,
    ]
    with caplog.at_level(logging.ERROR, "agora.adapters"):
        found = discover(points)
    assert list(found.plugins) == ["demo"]
    assert "ModuleNotFoundError" in found.broken["missing"]
    assert "not an AdapterPlugin" in found.broken["notaplugin"]
    assert "manifest names it 'demo'" in found.broken["renamed"]
    assert "missing" in caplog.text
    with pytest.raises(BrokenAdapter, match="'missing' is installed but broken"):
        found.get("missing")


def test_an_unknown_name_lists_what_is_installed() -> None:
    with pytest.raises(UnknownAdapter, match=r"no adapter named 'lora'.*installed: demo"):
        discover([DEMO]).get("lora")


def test_the_demo_schema_accepts_its_defaults_and_rejects_a_wrong_type() -> None:
    schema = discover([DEMO]).get("demo").manifest.config_schema
    jsonschema.validate({"sensors": 2, "kind": "ParkingSpot"}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"sensors": "two"}, schema)


def test_a_manifest_with_a_wrong_member_names_it(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(
        json.dumps({"name": "x", "version": "1", "protocols": "mqtt"})
    )
    with pytest.raises(ManifestError, match="protocols: must be a list of strings"):
        Manifest.from_folder(tmp_path)
    with pytest.raises(ManifestError, match="name: 'Bad Name'"):
        Manifest(name="Bad Name", version="1")
    with pytest.raises(ManifestError, match="cannot read"):
        Manifest.from_folder(tmp_path / "nowhere")


def test_every_built_in_adapter_folder_has_a_manifest_and_is_registered() -> None:
    root = Path(__file__).resolve().parents[2] / "adapters"
    folders = [p for p in root.iterdir()
               if p.is_dir() and p.name not in ("sdk", "runtime", "__pycache__")]
    assert folders
    installed = discover()
    for folder in folders:
        manifest = Manifest.from_folder(folder)
        assert installed.get(manifest.name).manifest.version == manifest.version
