"""The dependency rule of docs/architecture.md, checked on every import in the tree."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Lower number = lower layer. A module may import its own layer and the ones below.
LAYERS: dict[str, int] = {
    "broker.errors": 0,
    "broker.settings": 0,
    "broker.types": 0,
    "broker.metrics": 0,
    "broker.netguard": 0,
    # imports nothing of broker (checked below), so any layer may use the bundled models
    "data_models": 0,
    "broker.jsonld": 1,
    "broker.model": 1,
    "broker.query": 1,
    "broker.storage": 2,
    "broker.services": 3,
    "broker.events": 3,
    "broker.subscriptions": 4,
    "broker.temporal": 4,
    "broker.federation": 4,
    "broker.api": 5,
    "broker.app": 6,
    "broker.cli": 6,
}
CONCRETE_STORES = ("broker.storage.sqlite", "broker.storage.mongo")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def _layer(module: str) -> int | None:
    for prefix, layer in LAYERS.items():
        if module == prefix or module.startswith(prefix + "."):
            return layer
    return None


def _python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", _python_files("broker"), ids=lambda p: str(p.relative_to(ROOT)))
def test_broker_module_imports_only_its_own_or_lower_layers(path: Path) -> None:
    module = _module_name(path)
    own = _layer(module)
    if own is None:
        return  # the package root (broker/__init__.py) imports nothing of its own
    for imported in _imports(path):
        layer = _layer(imported)
        if layer is None:
            continue
        assert layer <= own, f"{module} (layer {own}) imports {imported} (layer {layer})"
        if imported.startswith(CONCRETE_STORES) and not module.startswith("broker.storage"):
            assert module == "broker.app", f"{module} imports the concrete store {imported}"


ADAPTER_RUNNERS = ("broker.cli",)
"""The one broker module that may import `adapters`: `agora adapters …` and
`agora serve --adapters` start them (they still reach the broker over HTTP)."""


@pytest.mark.parametrize("path", _python_files("broker"), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_cli_of_the_broker_imports_adapters(path: Path) -> None:
    module = _module_name(path)
    if module in ADAPTER_RUNNERS:
        return
    for imported in _imports(path):
        assert not imported.startswith("adapters"), f"{module} imports {imported}"


def test_the_cli_imports_only_the_adapter_runtime() -> None:
    imported = [i for i in _imports(ROOT / "broker" / "cli.py") if i.startswith("adapters")]
    assert imported, "broker.cli runs adapters through adapters.runtime"
    assert all(i.startswith("adapters.runtime") for i in imported), imported


@pytest.mark.parametrize("package", ["adapters", "data_models", "conformance_tests"])
def test_outer_packages_never_import_the_broker(package: str) -> None:
    for path in _python_files(package):
        for imported in _imports(path):
            assert not imported.startswith("broker"), f"{path} imports {imported}"
            if package == "data_models":
                assert not imported.startswith("adapters"), f"{path} imports {imported}"
