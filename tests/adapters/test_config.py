"""Configuration dataclasses: values from a mapping or a file, errors that name the field."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from adapters.sdk import ConfigError, config_schema, load_config, read_config_file


@dataclass(frozen=True)
class Topic:
    name: str
    qos: int = 0


@dataclass(frozen=True)
class MqttConfig:
    host: str
    port: int = 1883
    keepalive: float = 30.0
    tls: bool = False
    mode: Literal["json", "senml"] = "json"
    topics: list[Topic] = field(default_factory=list)
    username: str | None = None


def test_defaults_fill_what_is_not_given_and_ints_count_as_floats() -> None:
    config = load_config(MqttConfig, {"host": "mqtt.local", "keepalive": 10,
                                      "topics": [{"name": "a/#"}]})
    assert config == MqttConfig(host="mqtt.local", keepalive=10.0, topics=[Topic("a/#")])


@pytest.mark.parametrize(
    ("data", "field_name", "text"),
    [
        ({}, "host", "required field is missing"),
        ({"host": "h", "port": "1883"}, "port", 'expected an integer, got "1883"'),
        ({"host": "h", "port": True}, "port", "expected an integer"),
        ({"host": "h", "tls": "yes"}, "tls", "expected true or false"),
        ({"host": "h", "mode": "xml"}, "mode", "expected one of ['json', 'senml']"),
        ({"host": "h", "topics": [{"name": "a"}, {"qos": 1}]}, "topics[1].name", "missing"),
        ({"host": "h", "prot": 1}, "prot", "unknown field"),
        ({"host": "h", "username": 5}, "username", "expected a string"),
    ],
)
def test_an_error_names_the_field(data: dict[str, object], field_name: str, text: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(MqttConfig, data)
    assert raised.value.field == field_name
    assert text in str(raised.value) and str(raised.value).startswith(field_name + ":")


def test_a_toml_and_a_json_file_give_the_same_mapping(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text('[demo]\nsensors = 2\nkind = "ParkingSpot"\n')
    (tmp_path / "c.json").write_text('{"demo": {"sensors": 2, "kind": "ParkingSpot"}}')
    assert read_config_file(tmp_path / "c.toml") == read_config_file(tmp_path / "c.json")


def test_an_unreadable_config_file_says_which_file(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ConfigError, match=r"bad\.json is not valid json"):
        read_config_file(tmp_path / "bad.json")
    with pytest.raises(ConfigError, match="cannot read"):
        read_config_file(tmp_path / "missing.toml")


def test_the_schema_lists_types_defaults_and_required_fields() -> None:
    schema = config_schema(MqttConfig)
    assert schema["required"] == ["host"]
    assert schema["properties"]["port"] == {"type": "integer", "default": 1883}
    assert schema["properties"]["mode"]["enum"] == ["json", "senml"]
    assert schema["properties"]["topics"]["items"]["required"] == ["name"]
    assert schema["additionalProperties"] is False
