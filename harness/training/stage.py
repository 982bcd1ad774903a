"""A stage's output directory: manifest (config, data decisions, versions), JSONL log, done marker.

A stage directory that holds a finished run of the same config is reused (the recipe can be
re-run); one written from a different config is an error, never silently overwritten. A started
stage holds the directory's lock (harness.rundir.RunLock) until it finishes or its process ends,
so two trainers never write one directory.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.manifest import base_manifest, now
from harness.rundir import JsonlWriter, RunLock, iter_jsonl, read_json, write_json_atomic
from harness.schema import check_schema_version


def set_threads(threads: int | None) -> None:
    """The config's torch threads (1 is much faster for generation on a loaded shared CPU)."""
    if threads:
        import torch

        torch.set_num_threads(threads)


class StageDir:
    def __init__(self, path: Path, stage: str, identity: dict[str, Any]):
        self.path, self.stage, self.identity = Path(path), stage, identity
        self.manifest_path = self.path / "manifest.json"
        self.lock = RunLock(self.path, f"{stage} out")

    def existing(self) -> dict[str, Any] | None:
        if not self.manifest_path.is_file():
            return None
        manifest = check_schema_version(read_json(self.manifest_path), self.manifest_path)
        if manifest.get("identity") != json.loads(json.dumps(self.identity)):
            raise HarnessError(f"{self.path}: holds a {self.stage} run of a different config; "
                               "choose another `out` or delete that directory")
        return manifest

    def is_finished(self) -> bool:
        manifest = self.existing()
        return bool(manifest and manifest.get("finished_at"))

    def start(self, **extra: Any) -> dict[str, Any]:
        if self.lock.fd is None:
            self.lock.acquire()
        manifest = self.existing() or base_manifest(f"train-{self.stage}", self.identity)
        manifest.update(extra)
        manifest.setdefault("sessions", []).append({"started_at": now()})
        self.write(manifest)
        return manifest

    def finish(self, manifest: dict[str, Any], **results: Any) -> None:
        manifest.update(results)
        manifest["finished_at"] = now()
        self.write(manifest)
        self.lock.release()

    def write(self, manifest: dict[str, Any]) -> None:
        write_json_atomic(self.manifest_path, manifest)

    def log(self, record: dict[str, Any], name: str = "log.jsonl") -> None:
        with JsonlWriter(self.path / name) as writer:
            writer.write(record)


def write_jsonl_if_changed(rows: list[dict[str, Any]], path: Path) -> Path:
    """`rows` as JSONL at `path`, rewritten only when the content changes (a re-run or resumed stage
    keeps the file, so its sha256 in a run manifest stays valid)."""
    text = "".join(json.dumps(row) + "\n" for row in rows)
    if not path.is_file() or path.read_text() != text:
        path.write_text(text)
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """A stage log's records (none yet: empty), read through harness.rundir like every JSONL file."""
    return [record for _, record in iter_jsonl(path)] if path.is_file() else []
