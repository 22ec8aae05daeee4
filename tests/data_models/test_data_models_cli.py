"""`agora models list|show|validate` as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from broker.cli import main
from data_models.registry import get_model, list_models


def _write(tmp_path: Path, document: Any) -> str:
    path = tmp_path / "entities.json"
    path.write_text(json.dumps(document))
    return str(path)


def _example(entity_type: str, normalized: bool = False) -> dict[str, Any]:
    model = get_model(entity_type)
    assert model is not None
    return json.loads(json.dumps(model.example_normalized if normalized else model.example))


def test_list_prints_type_subject_and_attribute_count(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["TYPE", "SUBJECT", "ATTRIBUTES"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert len(rows) == len(list_models())
    parking = get_model("ParkingSpot")
    assert parking is not None
    assert rows["ParkingSpot"] == ["Parking", str(len(parking.attributes))]
    assert rows["WeatherObserved"][0] == "Weather"


@pytest.mark.parametrize(
    ("flags", "expected"),
    [([], "schema"), (["--context"], "context"), (["--example"], "example"),
     (["--example-normalized"], "example_normalized")],
)
def test_show_prints_the_chosen_document(
    capsys: pytest.CaptureFixture[str], flags: list[str], expected: str
) -> None:
    assert main(["models", "show", "AirQualityObserved", *flags]) == 0
    model = get_model("AirQualityObserved")
    assert json.loads(capsys.readouterr().out) == getattr(model, expected)


def test_show_of_an_unknown_type_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "show", "Bench"]) == 2
    assert "no bundled model for type Bench" in capsys.readouterr().err


def test_validate_valid_array_of_both_forms_exits_0(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = _write(tmp_path, [_example("ParkingSpot"), _example("Device", normalized=True)])
    assert main(["models", "validate", path]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "2 entities valid" in captured.err


def test_validate_single_entity_exits_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["models", "validate", _write(tmp_path, _example("Streetlight"))]) == 0
    assert "1 entity valid" in capsys.readouterr().err


def test_validate_invalid_prints_each_problem_and_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad_spot = _example("ParkingSpot", normalized=True)
    bad_spot["status"]["value"] = "parked"
    bad_spot["width"]["value"] = -1
    unknown = {"id": "urn:ngsi-ld:Bench:1", "type": "Bench"}
    path = _write(tmp_path, [_example("WasteContainer"), bad_spot, unknown])
    assert main(["models", "validate", path]) == 1
    captured = capsys.readouterr()
    spot = "urn:ngsi-ld:ParkingSpot:santander-daoiz-velarde-1-5"
    assert captured.out.splitlines() == [
        f'{spot}: status: "parked" is not one of: "closed", "free", "occupied", "unknown"',
        f"{spot}: width: -1 is below the minimum 0",
        "urn:ngsi-ld:Bench:1: type: no bundled model for type Bench",
    ]
    assert "2 of 3 entities invalid, 3 problems" in captured.err


@pytest.mark.parametrize("content", ["{not json", ""])
def test_validate_unreadable_json_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str
) -> None:
    path = tmp_path / "broken.json"
    path.write_text(content)
    assert main(["models", "validate", str(path)]) == 2
    assert f"cannot read {path}" in capsys.readouterr().err


def test_validate_missing_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["models", "validate", str(tmp_path / "absent.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
