from pathlib import Path

import pytest

from broker.settings import Settings, settings_table

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_every_setting_is_documented_in_docs_configuration() -> None:
    assert settings_table() in DOC.read_text(), "regenerate docs/configuration.md"


def test_environment_variables_override_defaults() -> None:
    s = Settings.from_env({"AGORA_PORT": "2000", "AGORA_ALLOW_PRIVATE_URLS": "true"})
    assert s.port == 2000
    assert s.allow_private_urls is True


def test_explicit_overrides_win_over_environment() -> None:
    s = Settings.from_env({"AGORA_PORT": "2000"}, port=3000, store=None)
    assert s.port == 3000
    assert s.store == Settings().store


def test_invalid_environment_value_names_the_variable() -> None:
    with pytest.raises(SystemExit, match="AGORA_PORT"):
        Settings.from_env({"AGORA_PORT": "many"})


def test_list_settings_are_comma_separated_in_the_environment() -> None:
    s = Settings.from_env({"AGORA_INDEXED_ATTRIBUTES": "https://e.org/a, https://e.org/b,"})
    assert s.indexed_attributes == ("https://e.org/a", "https://e.org/b")


def test_agora_serve_validation_flag_overrides_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from broker.cli import build_parser, serve_settings

    monkeypatch.setenv("AGORA_VALIDATION", "warn")
    monkeypatch.setenv("AGORA_VALIDATION_TENANTS", "city-a=off")
    assert serve_settings(build_parser().parse_args(["serve"])).validation == "warn"
    settings = serve_settings(build_parser().parse_args(["serve", "--validation", "enforce"]))
    assert (settings.validation, settings.validation_tenants) == ("enforce", ("city-a=off",))
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--validation", "strict"])
