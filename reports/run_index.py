"""Byte-offset index of a run's JSONL files, so the viewer pages a 2.6 GB run without loading it.

One pass over generations.jsonl and grades.jsonl keeps, per line, its byte offset and length and
the few small fields the problem table needs (verdict, reason, finish reason, tokens, think-tag
flags); responses are read back one line at a time with `read_line`. The index is cached beside
the run (`.view-index.json`, or under the user cache directory when the run is read-only) and is
valid while every source file keeps its size and mtime. A file that only grew (a run in progress
appending lines) is indexed from where the cached index stopped. A line that is not a JSON object
becomes an entry with `error`, shown as an error row; a trailing line without its newline is a
write in progress and is left for the next scan.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from harness.graders.answer_region import THINK_CLOSE, THINK_OPEN

INDEX_VERSION = 1
CACHE_NAME = ".view-index.json"
EXTRACTED_CHARS = 200  # the table shows the start of an extracted answer; the sample page all of it
GENERATION_FIELDS = ("suite", "problem_id", "sample", "finish_reason", "num_tokens", "seed", "published_correct")
GRADE_FIELDS = ("suite", "problem_id", "sample", "correct", "reason")


def file_state(path: Path) -> list[int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def generation_entry(record: dict[str, Any]) -> dict[str, Any]:
    entry = {name: record[name] for name in GENERATION_FIELDS if name in record}
    response = record.get("response")
    if isinstance(response, str):
        entry["chars"] = len(response)
        entry["think_open"] = THINK_OPEN in response
        entry["think_close"] = THINK_CLOSE in response
    return entry


def grade_entry(record: dict[str, Any]) -> dict[str, Any]:
    entry = {name: record[name] for name in GRADE_FIELDS if name in record}
    extracted = record.get("extracted")
    entry["extracted"] = extracted[:EXTRACTED_CHARS] if isinstance(extracted, str) else extracted
    return entry


def scan(path: Path, summarise, start: int = 0, first_line: int = 1) -> tuple[list[dict[str, Any]], int, int]:
    """Entries for the complete lines from byte `start`; returns (entries, end offset, next line number)."""
    entries: list[dict[str, Any]] = []
    offset, number = start, first_line
    with open(path, "rb") as handle:
        handle.seek(start)
        for raw in handle:
            if not raw.endswith(b"\n"):
                break  # a line being written: the next scan takes it
            if raw.strip():
                entries.append(line_entry(raw, summarise, offset, number))
            offset += len(raw)
            number += 1
    return entries, offset, number


def line_entry(raw: bytes, summarise, offset: int, number: int) -> dict[str, Any]:
    base = {"offset": offset, "length": len(raw), "line": number}
    try:
        record = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return base | {"error": f"line {number}: not valid JSON ({getattr(exc, 'msg', exc)})"}
    if not isinstance(record, dict):
        return base | {"error": f"line {number}: expected a JSON object"}
    missing = [name for name in ("problem_id", "sample") if name not in record]
    if missing:
        return base | {"error": f"line {number}: missing field '{missing[0]}'"}
    return base | summarise(record)


def read_line(path: Path, entry: dict[str, Any]) -> dict[str, Any]:
    """The full record of one indexed line."""
    with open(path, "rb") as handle:
        handle.seek(entry["offset"])
        return json.loads(handle.read(entry["length"]))


class FileIndex:
    """The index of one JSONL file: entries plus where the scan stopped."""

    def __init__(self, path: Path, summarise, cached: dict[str, Any] | None = None):
        self.path, self.summarise = path, summarise
        self.state = file_state(path)
        if cached and cached.get("state") == self.state:
            self.entries, self.end, self.next_line = cached["entries"], cached["end"], cached["next_line"]
            self.fresh = False
            return
        self.entries, self.end, self.next_line, self.fresh = [], 0, 1, True
        if self.state is None:
            return
        if cached and grew(path, self.state, cached):
            self.entries, self.end, self.next_line = cached["entries"], cached["end"], cached["next_line"]
        more, self.end, self.next_line = scan(path, summarise, self.end, self.next_line)
        self.entries = self.entries + more

    def as_json(self) -> dict[str, Any]:
        return {"state": self.state, "entries": self.entries, "end": self.end, "next_line": self.next_line,
                "tail": tail_digest(self.path, self.end)}


def tail_digest(path: Path, end: int, size: int = 4096) -> str | None:
    """Digest of the bytes just before `end`: an appended file still has them, a rewritten one not."""
    if end <= 0:
        return None
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, end - size))
            return hashlib.sha256(handle.read(min(size, end))).hexdigest()
    except OSError:
        return None


def grew(path: Path, state: list[int], cached: dict[str, Any]) -> bool:
    """The file only had lines appended since the cached scan."""
    old = cached.get("state")
    return bool(old) and state[0] > old[0] and cached.get("end", 0) > 0 \
        and tail_digest(path, cached["end"]) == cached.get("tail")


class RunIndex:
    """generations.jsonl and grades.jsonl of one run, indexed and cached."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        cached = load_cache(self.run_dir)
        self.generations = FileIndex(self.run_dir / "generations.jsonl", generation_entry, cached.get("generations"))
        self.grades = FileIndex(self.run_dir / "grades.jsonl", grade_entry, cached.get("grades"))
        if self.generations.fresh or self.grades.fresh:
            save_cache(self.run_dir, {"version": INDEX_VERSION, "generations": self.generations.as_json(),
                                      "grades": self.grades.as_json()})

    def stale(self) -> bool:
        return (file_state(self.generations.path) != self.generations.state
                or file_state(self.grades.path) != self.grades.state)


def cache_paths(run_dir: Path) -> list[Path]:
    """Beside the run first; the user cache directory for runs we cannot write to."""
    from platformdirs import user_cache_dir

    digest = hashlib.sha256(str(run_dir.resolve()).encode()).hexdigest()[:16]
    return [run_dir / CACHE_NAME, Path(user_cache_dir("ssp-harness")) / "view" / f"{digest}.json"]


def load_cache(run_dir: Path) -> dict[str, Any]:
    for path in cache_paths(run_dir):
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(value, dict) and value.get("version") == INDEX_VERSION:
            return value
    return {}


def save_cache(run_dir: Path, value: dict[str, Any]) -> Path | None:
    text = json.dumps(value, separators=(",", ":"))
    for path in cache_paths(run_dir):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
            return path
        except OSError:
            continue
    return None
