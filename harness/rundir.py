"""Run directories: manifest.json, generations.jsonl, grades.jsonl, metrics.json.

JSONL files are appended one flushed line per sample, so a killed run loses at most the line
being written; on reopening, a trailing partial line (no newline) is cut off. Every file written
whole (manifest, metrics, a copied generations file, reports) goes through `write_atomic`: a temp
file, fsync, rename. A kill or a full disk then leaves the old file or none, never a prefix that
a re-run would trust. A run directory is resumed only when the new command's identity
matches the manifest's (harness.identity's rule, which names each differing field).

Writing commands hold `RunLock` (flock on DIR/.lock) while they write: two processes appending to
one directory would duplicate every line, so the second one stops at once with the first's pid.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from harness.errors import HarnessError
from harness.schema import check_schema_version

MANIFEST, GENERATIONS, GRADES, METRICS = "manifest.json", "generations.jsonl", "grades.jsonl", "metrics.json"
LOCK = ".lock"


def sample_key(record: dict[str, Any]) -> tuple[str, str, int]:
    return (record["suite"], record["problem_id"], int(record["sample"]))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
def replace_atomically(path: Path, write: Callable[[Any], Any]) -> Any:
    """`write(handle)` into a temp file beside `path`, fsync, rename over `path`: readers and re-runs
    see the old file or the new one, never a prefix. Returns what `write` returns."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as handle:
            result = write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)
    return result


def write_atomic(path: Path, data: str | bytes) -> None:
    """Replace `path` with `data` all at once (see replace_atomically)."""
    replace_atomically(path, lambda handle: handle.write(data.encode("utf-8") if isinstance(data, str) else data))


def fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_json_atomic(path: Path, value: Any) -> None:
    write_atomic(path, json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")


def write_lines_atomic(path: Path, records: Iterable[dict[str, Any]]) -> int:
    """A whole JSONL file, streamed to a temp file then renamed (as `write_atomic`); returns the
    number of lines. Memory does not depend on how many records there are."""
    def write(handle) -> int:
        count = 0
        for record in records:
            handle.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
            count += 1
        return count

    return replace_atomically(path, write)


def directory_is_empty(path: Path) -> bool:
    """True for a missing or empty directory; our own lock file does not count."""
    return not path.exists() or all(entry.name == LOCK for entry in path.iterdir())


def require_directory(path: Path, flag: str = "--out") -> None:
    """`path` is, or can become, a directory: checked before anything slow (a model load) starts."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise HarnessError(f"{flag} {path}: is a file, not a directory")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise HarnessError(f"{flag} {path}: {parent} is a file, not a directory")
            return


class RunLock:
    """Exclusive flock on DIR/.lock for as long as a command writes into DIR.

    The kernel drops the lock when the process dies (however it dies), so a stale lock file never
    blocks a re-run; the file is left in place (removing it would race with the next locker).
    """

    def __init__(self, directory: Path | str, flag: str = "--out"):
        self.directory, self.flag, self.fd = Path(directory), flag, None

    def acquire(self) -> "RunLock":
        require_directory(self.directory, self.flag)
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise HarnessError(f"{self.flag} {self.directory}: in use by another harness process "
                                   f"(pid {holder})") from None
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HarnessError(f"{path}: not found") from None
    except json.JSONDecodeError as exc:
        raise HarnessError(f"{path}: not valid JSON ({exc})") from exc


def iter_jsonl(path: Path, contains: bytes | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for every line; a malformed line is an error naming file and line."""
    for number, _, _, value in iter_jsonl_offsets(path, contains):
        yield number, value


def iter_jsonl_offsets(path: Path, contains: bytes | None = None) -> Iterator[tuple[int, int, int, dict[str, Any]]]:
    """(line number, byte offset, byte length, object) for every line, read one line at a time.
    `contains`: only lines holding these bytes are decoded (a cheap filter, e.g. for one field)."""
    if Path(path).is_dir():
        raise HarnessError(f"{path}: is a directory, expected a JSONL file")
    offset = 0
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            start, offset = offset, offset + len(raw)
            if contains is not None and contains not in raw:
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise HarnessError(f"{path}:{number}: not UTF-8 (byte 0x{raw[exc.start]:02x} at column "
                                   f"{exc.start + 1})") from None
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise HarnessError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
            if not isinstance(value, dict):
                raise HarnessError(f"{path}:{number}: expected a JSON object")
            yield number, start, len(raw), value


class LinesAt:
    """Records of a JSONL file read back by (offset, length), one at a time, on every iteration:
    a stage's work list that holds positions, not responses."""

    def __init__(self, path: Path, spans: list[tuple[int, int]]):
        self.path, self.spans = Path(path), spans

    def __len__(self) -> int:
        return len(self.spans)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if not self.spans:
            return
        with open(self.path, "rb") as handle:
            for offset, length in self.spans:
                handle.seek(offset)
                yield json.loads(handle.read(length))


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
        require_directory(self.path)
        return self.manifest_path.exists()

    def lock(self) -> RunLock:
        return RunLock(self.path)

    def has_finished_samples(self, stages: Iterable[str] = (GENERATIONS, GRADES)) -> bool:
        """Whether any sample line is on disk (main files or shards): until then a new identity may take over."""
        shards = [path for stage in stages for path in (self.path / "shards").glob(f"{stage.split('.')[0]}-*.jsonl")]
        files = [self.path / name for name in stages] + shards
        return any(path.is_file() and path.stat().st_size > 0 for path in files)

    def manifest(self) -> dict[str, Any]:
        """The manifest; one written by a newer harness (schema_version) is refused."""
        return check_schema_version(read_json(self.manifest_path), self.manifest_path)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.manifest_path, manifest)

    def records(self, name: str) -> list[dict[str, Any]]:
        path = self.path / name
        if not path.exists():
            return []
        cut_partial_last_line(path)
        return [record for _, record in iter_jsonl(path)]

    def iter_records(self, name: str, fields: Iterable[str] | None = None,
                     contains: bytes | None = None) -> Iterator[dict[str, Any]]:
        """The records of DIR/name one at a time (memory independent of the file's size); with
        `fields`, only those keys of each record (e.g. everything but the response); with
        `contains`, only lines that hold those bytes."""
        path = self.path / name
        if not path.exists():
            return
        cut_partial_last_line(path)
        wanted = tuple(fields) if fields is not None else None
        for _, record in iter_jsonl(path, contains):
            yield record if wanted is None else {key: record[key] for key in wanted if key in record}

    def generations(self) -> list[dict[str, Any]]:
        """All generations in memory: small runs and tests only; stages stream (`iter_records`)."""
        return self.records(GENERATIONS)

    def grades(self) -> list[dict[str, Any]]:
        return self.records(GRADES)

    def metrics(self) -> list[dict[str, Any]]:
        value = check_schema_version(read_json(self.metrics_path), self.metrics_path)
        return value if isinstance(value, list) else [value]

    def writer(self, name: str) -> JsonlWriter:
        self.path.mkdir(parents=True, exist_ok=True)
        return JsonlWriter(self.path / name)

    def check_resumable(self) -> None:
        """Refuse a directory that holds other files but no run (whether a run may resume is
        harness.identity's rule)."""
        if not self.exists() and not directory_is_empty(self.path):
            raise HarnessError(f"--out {self.path}: directory exists, is not empty and has no {MANIFEST}")

