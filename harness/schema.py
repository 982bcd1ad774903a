"""The version of the files a run directory holds (`schema_version` in manifest.json and metrics.json).

`SCHEMA_VERSION` is bumped on any incompatible change to manifest, metrics, generation, grade or
audit records; their JSON Schemas are `docs/schema/*.schema.json`. A file without the field was
written before it existed and is version 1. Readers call `check_schema_version`: a file newer than
this code is refused with a clear error (upgrade the harness), an older one is read as it is
(`migrate` is the place for any future change of shape).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.errors import HarnessError

SCHEMA_VERSION = 1
SCHEMA_FILES = ("manifest", "metrics", "generation", "grade", "audit", "audit-record")


def schema_version_of(value: Any) -> int:
    """The version a manifest or metrics object (or a list of metrics objects) was written with."""
    if isinstance(value, list):
        return max((schema_version_of(item) for item in value), default=1)
    if isinstance(value, dict):
        version = value.get("schema_version", 1)
        return version if isinstance(version, int) and not isinstance(version, bool) else -1
    return 1


def check_schema_version(value: Any, path: Path | str) -> Any:
    """`value` (read from `path`) when this code can read it; a newer or malformed version is an error."""
    version = schema_version_of(value)
    if version == -1:
        raise HarnessError(f"{path}: schema_version must be an integer")
    if version > SCHEMA_VERSION:
        raise HarnessError(f"{path}: written with schema_version {version}, but this harness reads up to "
                           f"{SCHEMA_VERSION}; upgrade ssp-harness to read this run")
    return migrate(value, version)


def migrate(value: Any, version: int) -> Any:
    """An older file in the current shape. Version 1 is the first: nothing to change yet."""
    return value


def schema_path(name: str) -> Path:
    """docs/schema/NAME.schema.json in the source tree."""
    return Path(__file__).resolve().parent.parent / "docs" / "schema" / f"{name}.schema.json"
