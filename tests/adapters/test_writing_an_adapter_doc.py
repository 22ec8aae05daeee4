"""docs/writing-an-adapter.md shows the demo adapter's real code and real configuration."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from adapters.demo import plugin
from adapters.sdk import PublishSettings, load_config

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "writing-an-adapter.md").read_text()
BLOCK = re.compile(r"```(\w+)\n# (\S+)\n(.*?)\n```", re.S)
BLOCKS = {path: (lang, body) for lang, path, body in BLOCK.findall(DOC)}
FILES = [p for p in BLOCKS if p != "adapters.toml"]


def test_the_page_shows_every_file_of_the_demo_and_a_test() -> None:
    demo = {str(p.relative_to(ROOT)) for p in (ROOT / "adapters" / "demo").iterdir()
            if p.suffix in (".py", ".json")}
    assert demo <= set(BLOCKS)
    assert "tests/adapters/test_demo_kit_example.py" in BLOCKS


@pytest.mark.parametrize("path", FILES)
def test_a_code_block_is_the_file_it_names(path: str) -> None:
    assert BLOCKS[path][1] == (ROOT / path).read_text().rstrip("\n")


def test_the_configuration_example_is_valid() -> None:
    config = tomllib.loads(BLOCKS["adapters.toml"][1])
    assert plugin.configure(config["demo"]).kind == "ParkingSpot"
    assert load_config(PublishSettings, config["publish"]).batch_size == 200


def test_the_packaging_example_is_how_agora_registers_the_demo() -> None:
    snippet = re.search(r'```toml\n(\[project\.entry-points\."agora\.adapters"\]\n.*?)\n```',
                        DOC, re.S)
    assert snippet is not None
    assert snippet.group(1) in (ROOT / "pyproject.toml").read_text()


def test_the_publish_defaults_in_the_page_are_the_real_ones() -> None:
    d = PublishSettings()
    assert f"| `batch_size` | {d.batch_size} |" in DOC
    assert f"| `flush_interval` | {d.flush_interval} s |" in DOC
    assert f"| `max_buffered` | {d.max_buffered} |" in DOC
    assert f"| `retry_initial` / `retry_max` | {d.retry_initial} s / {d.retry_max:g} s |" in DOC
    assert f"| `close_timeout` | {d.close_timeout:g} s |" in DOC
