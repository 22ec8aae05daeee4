"""`agora models list|show|validate`: what the command prints and the exit code it returns."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

from data_models.registry import get_model, list_models
from data_models.validate import validate

EXIT_VALID, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2


def list_command(out: TextIO | None = None) -> int:
    """One line per bundled model: type, subject, number of attributes."""
    out = out or sys.stdout
    rows = [(m.type, m.subject, str(len(m.attributes))) for m in list_models()]
    header = ("TYPE", "SUBJECT", "ATTRIBUTES")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(2)]
    for row in [header, *rows]:
        out.write(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}\n")
    return EXIT_VALID


def show_command(
    entity_type: str, part: str = "schema", out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Print one part of a model: `schema`, `context`, `example` or `example-normalized`."""
    out, err = out or sys.stdout, err or sys.stderr
    model = get_model(entity_type)
    if model is None:
        err.write(f"agora: no bundled model for type {entity_type} (see `agora models list`)\n")
        return EXIT_UNREADABLE
    document = {
        "schema": model.schema,
        "context": model.context,
        "example": model.example,
        "example-normalized": model.example_normalized,
    }[part]
    out.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    return EXIT_VALID


def validate_command(path: str, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Validate the entity or array of entities in a JSON file; one line per problem."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        document: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        err.write(f"agora: cannot read {path}: {exc}\n")
        return EXIT_UNREADABLE
    entities = document if isinstance(document, list) else [document]
    results = [validate(entity) for entity in entities]
    problems = [problem for result in results for problem in result]
    for problem in problems:
        out.write(f"{problem}\n")
    invalid = sum(1 for result in results if result)
    noun = "entity" if len(entities) == 1 else "entities"
    if problems:
        err.write(f"{invalid} of {len(entities)} {noun} invalid, {len(problems)} problems\n")
        return EXIT_INVALID
    err.write(f"{len(entities)} {noun} valid\n")
    return EXIT_VALID
