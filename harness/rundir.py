"""Run directories: manifest.json, generations.jsonl, grades.jsonl, metrics.json.

JSONL files are appended one flushed line per sample, so a killed run loses at most the line
being written; on reopening, a trailing partial line (no newline) is cut off. A run directory is
resumed only when the new command's identity matches the manifest's (harness.identity).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Iterable, Iterator

from harness.errors import HarnessError

MANIFEST, GENERATIONS, GRADES, METRICS = "manifest.json", "generations.jsonl", "grades.jsonl", "metrics.json"


def sample_key(record: dict[str, Any]) -> tuple[str, str, int]:
    return (record["suite"], record["problem_id"], int(record["sample"]))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_json_atomic(path: Path, value: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HarnessError(f"{path}: not found") from None
    except json.JSONDecodeError as exc:
        raise HarnessError(f"{path}: not valid JSON ({exc})") from exc


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for every line; a malformed line is an error naming file and line."""
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise HarnessError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
            if not isinstance(value, dict):
                raise HarnessError(f"{path}:{number}: expected a JSON object")
            yield number, value


def cut_partial_last_line(path: Path) -> None:
    """A kill during a write leaves a line without its newline: drop it so the file stays valid."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb+") as handle:
        handle.seek(-1, os.SEEK_END)
        if handle.read(1) == b"\n":
            return
        handle.seek(0)
        data = handle.read()
        handle.truncate(data.rfind(b"\n") + 1)


class JsonlWriter:
    """Appends one JSON object per line and flushes it, so readers and resumes see whole lines."""

    def __init__(self, path: Path):
        cut_partial_last_line(path)
        self._handle = open(path, "a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> "JsonlWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class RunDir:
    def __init__(self, path: Path | str):
        self.path = Path(path)

    manifest_path = property(lambda self: self.path / MANIFEST)
    generations_path = property(lambda self: self.path / GENERATIONS)
    grades_path = property(lambda self: self.path / GRADES)
    metrics_path = property(lambda self: self.path / METRICS)

    def exists(self) -> bool:
        return self.manifest_path.exists()

    def manifest(self) -> dict[str, Any]:
        return read_json(self.manifest_path)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.manifest_path, manifest)

    def records(self, name: str) -> list[dict[str, Any]]:
        path = self.path / name
        if not path.exists():
            return []
        cut_partial_last_line(path)
        return [record for _, record in iter_jsonl(path)]

    def generations(self) -> list[dict[str, Any]]:
        return self.records(GENERATIONS)

    def grades(self) -> list[dict[str, Any]]:
        return self.records(GRADES)

    def metrics(self) -> list[dict[str, Any]]:
        value = read_json(self.metrics_path)
        return value if isinstance(value, list) else [value]

    def writer(self, name: str) -> JsonlWriter:
        self.path.mkdir(parents=True, exist_ok=True)
        return JsonlWriter(self.path / name)

    def check_resumable(self) -> None:
        """Refuse a directory that holds other files but no run (whether a run may resume is
        harness.identity's rule)."""
        if not self.exists() and self.path.exists() and any(self.path.iterdir()):
            raise HarnessError(f"--out {self.path}: directory exists, is not empty and has no {MANIFEST}")


def dump_lines(records: Iterable[dict[str, Any]], path: Path) -> None:
    with JsonlWriter(path) as writer:
        for record in records:
            writer.write(record)
