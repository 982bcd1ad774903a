"""Validate the files the harness writes against docs/schema/*.schema.json (jsonschema)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import jsonschema

from harness.schema import SCHEMA_FILES, schema_path

RUN_FILES = {"manifest.json": "manifest", "metrics.json": "metrics", "audit.json": "audit"}
LINE_FILES = {"generations.jsonl": "generation", "grades.jsonl": "grade", "audit.jsonl": "audit-record"}


@lru_cache(maxsize=None)
def validator(name: str) -> jsonschema.protocols.Validator:
    assert name in SCHEMA_FILES, name
    schema = json.loads(schema_path(name).read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def validate(name: str, value, where: str = "") -> None:
    errors = sorted(validator(name).iter_errors(value), key=lambda e: list(e.path))
    assert not errors, f"{where}: {name} schema: " + "; ".join(
        f"{'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors[:5])


def validate_run_dir(path: Path) -> list[str]:
    """Every schema'd file in a run (or stage) directory; returns the names checked."""
    path = Path(path)
    checked = []
    for file_name, schema in RUN_FILES.items():
        if (path / file_name).is_file():
            validate(schema, json.loads((path / file_name).read_text()), str(path / file_name))
            checked.append(file_name)
    for file_name, schema in LINE_FILES.items():
        if (path / file_name).is_file():
            for number, line in enumerate((path / file_name).read_text().splitlines(), start=1):
                if line.strip():
                    validate(schema, json.loads(line), f"{path / file_name}:{number}")
            checked.append(file_name)
    return checked
