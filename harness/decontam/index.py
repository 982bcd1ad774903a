"""The evaluation side: every n-gram of every suite problem, hashed, with the problems it occurs in.

A word is represented by a 64-bit blake2b hash of its bytes and an n-gram by a polynomial of its
words' hashes (mod 2**64), so per-suite indexes merge by concatenation and a scan can hash a whole
batch of documents with a few numpy passes. A hash hit is confirmed word by word against the
stored n-gram, so hash collisions cannot flag a row. Each suite's part is cached under
`cache_dir()/decontam`, keyed by the suite's name, version, data sha256, n and the normalisation
version: a cached suite is not even loaded.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.decontam import normalize
from harness.errors import HarnessError

INDEX_FORMAT = "1"
UNKNOWN = 0  # a word no suite uses; also the separator between documents of a batch
DROP = 1  # a layout-only LaTeX command: removed before n-grams are formed
BASE = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier of the n-gram polynomial
PREFILTER_BITS = 24  # top bits of an n-gram hash that index the membership bitmap


def word_hash(word: bytes) -> int:
    value = int.from_bytes(hashlib.blake2b(word, digest_size=8).digest(), "little")
    return value if value > DROP else value + 2


def ngram_hashes(word_hashes: np.ndarray, n: int) -> np.ndarray:
    """Hash of every window of n consecutive words (len - n + 1 values; empty when shorter)."""
    count = len(word_hashes) - n + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    hashes = word_hashes[:count].copy()
    for offset in range(1, n):
        hashes *= BASE
        hashes += word_hashes[offset:offset + count]
    return hashes


@dataclass
class SuitePart:
    """One suite's n-grams: occurrence rows (hash, problem number, the n word hashes)."""

    name: str
    key: dict
    problem_ids: list[str]
    words: list[bytes]
    hashes: np.ndarray  # uint64 (m,)
    problems: np.ndarray  # int32 (m,), into problem_ids
    ngrams: np.ndarray  # uint64 (m, n)


def build_part(name: str, key: dict, problems: list, n: int) -> SuitePart:
    vocabulary: dict[bytes, int] = {}
    hashes, numbers, windows = [], [], []
    for number, problem in enumerate(problems):
        words = normalize.words(problem.statement or "")
        ids = np.array([vocabulary.setdefault(word, word_hash(word)) for word in words], dtype=np.uint64)
        found = ngram_hashes(ids, n)
        hashes.append(found)
        numbers.append(np.full(len(found), number, dtype=np.int32))
        if len(found):
            windows.append(np.lib.stride_tricks.sliding_window_view(ids, n))
    return SuitePart(
        name=name, key=key, problem_ids=[p.problem_id for p in problems], words=list(vocabulary),
        hashes=np.concatenate(hashes) if hashes else np.zeros(0, np.uint64),
        problems=np.concatenate(numbers) if numbers else np.zeros(0, np.int32),
        ngrams=np.concatenate(windows) if windows else np.zeros((0, n), np.uint64),
    )


def save_part(part: SuitePart, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f"{path.name}.tmp{os.getpid()}.npz")
    np.savez(
        staging, hashes=part.hashes, problems=part.problems, ngrams=part.ngrams,
        words=np.frombuffer(b"\n".join(part.words), dtype=np.uint8),
        meta=np.frombuffer(json.dumps({"name": part.name, "key": part.key,
                                       "problem_ids": part.problem_ids}).encode(), dtype=np.uint8),
    )
    os.replace(staging, path)


def load_part(path: Path) -> SuitePart:
    with np.load(path) as data:
        meta = json.loads(data["meta"].tobytes())
        blob = data["words"].tobytes()
        return SuitePart(name=meta["name"], key=meta["key"], problem_ids=meta["problem_ids"],
                         words=blob.split(b"\n") if blob else [], hashes=data["hashes"],
                         problems=data["problems"], ngrams=data["ngrams"])


class EvalIndex:
    """All chosen suites' n-grams: sorted unique hashes, one stored n-gram each, and postings."""

    def __init__(self, parts: list[SuitePart], n: int, skipped: dict[str, str] | None = None):
        self.n = n
        self.parts = parts
        self.skipped = skipped or {}
        self.problem_refs = [(part.name, pid) for part in parts for pid in part.problem_ids]
        offsets = np.cumsum([0] + [len(part.problem_ids) for part in parts])
        hashes = np.concatenate([part.hashes for part in parts] or [np.zeros(0, np.uint64)])
        problems = np.concatenate([part.problems + offset for part, offset in zip(parts, offsets)]
                                  or [np.zeros(0, np.int64)]).astype(np.int32)
        ngrams = np.concatenate([part.ngrams for part in parts] or [np.zeros((0, n), np.uint64)])
        order = np.lexsort((problems, hashes))
        hashes, problems, ngrams = hashes[order], problems[order], ngrams[order]
        self.hashes, first = np.unique(hashes, return_index=True)
        self.ngrams = ngrams[first]
        pair_start = np.ones(len(hashes), dtype=bool)
        pair_start[1:] = (hashes[1:] != hashes[:-1]) | (problems[1:] != problems[:-1])
        self.posting_problems = problems[pair_start]
        self.posting_starts = np.searchsorted(hashes[pair_start], self.hashes).astype(np.int64)
        self.posting_starts = np.append(self.posting_starts, len(self.posting_problems))
        self.problem_ngrams = np.bincount(self.posting_problems, minlength=len(self.problem_refs))
        self.prefilter = np.zeros(1 << PREFILTER_BITS, dtype=bool)
        self.prefilter[self.hashes >> np.uint64(64 - PREFILTER_BITS)] = True
        self.vocabulary = scan_vocabulary({word for part in parts for word in part.words})
        self.word_of = {value: word for word, value in self.vocabulary.items() if not word.startswith(b"\\")}

    def problems_of(self, ngram_number: int) -> np.ndarray:
        return self.posting_problems[self.posting_starts[ngram_number]:self.posting_starts[ngram_number + 1]]

    def ngram_text(self, ngram_number: int) -> str:
        return " ".join(self.word_of[int(h)].decode("utf-8") for h in self.ngrams[ngram_number])

    def describe(self) -> dict:
        """What a report or manifest records about the index."""
        return {"n": self.n, "normalisation": normalize.VERSION,
                "suites": {part.name: {**part.key, "problems": len(part.problem_ids)} for part in self.parts},
                "skipped": self.skipped}


def scan_vocabulary(words: set[bytes]) -> dict[bytes, int]:
    """Raw token -> word hash: each word also as `\\word`, LaTeX aliases, and layout commands -> DROP."""
    vocabulary = {}
    for word in words:
        value = word_hash(word)
        vocabulary[word] = value
        vocabulary[b"\\" + word] = value
    for alias, target in normalize.COMMAND_ALIASES.items():
        vocabulary[b"\\" + alias] = vocabulary.get(target, UNKNOWN)
    for command in normalize.LAYOUT_COMMANDS:
        vocabulary[b"\\" + command] = DROP
    vocabulary[b"\\"] = DROP
    return vocabulary


def index_dir() -> Path:
    from harness.models import cache_dir

    return cache_dir() / "decontam"


def data_digest(path: Path) -> str:
    """sha256 of a data file, or of a directory's (relative path, file sha256) list."""
    from suites.base import sha256_of

    if path.is_file():
        return sha256_of(path)
    listing = [f"{file.relative_to(path)} {sha256_of(file)}" for file in sorted(path.rglob("*")) if file.is_file()]
    return hashlib.sha256("\n".join(listing).encode()).hexdigest()


def suite_part(name: str, n: int, data: Path | None = None) -> SuitePart:
    """One suite's part, from the cache when its key matches; HarnessError if its data is missing."""
    from suites import get_suite

    suite = get_suite(name)
    digest = data_digest(data) if data else suite.sha256
    key = {"version": suite.version, "data_sha256": digest, "n": n, "normalisation": normalize.VERSION,
           "format": INDEX_FORMAT}
    if data:
        key["data_path"] = str(data)
    cache_name = hashlib.sha256(json.dumps([name, key], sort_keys=True).encode()).hexdigest()[:20]
    path = index_dir() / f"{name}-{cache_name}.npz"
    if path.is_file():
        try:
            return load_part(path)
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache entry is rebuilt
    # repair_prompts: aime25's published prompts hold a form feed where `\f` of `\frac` was meant
    problems = suite.load_problems({"repair_prompts": True}, data=data)
    part = build_part(name, key, problems, n)
    try:
        save_part(part, path)
    except OSError as exc:
        print(f"note: could not cache the {name} index in {path.parent} ({exc})", file=sys.stderr)
    return part


def build_index(suites: str | list[str] = "all", n: int = 10, data: dict[str, Path] | None = None,
                quiet: bool = False) -> EvalIndex:
    """The index of the named suites ("all" = every registered suite whose data is available)."""
    from suites import suite_names

    if n < 1:
        raise HarnessError(f"--ngram {n}: must be >= 1")
    names = suite_names() if suites == "all" else [s.strip() for s in (suites.split(",") if isinstance(suites, str) else suites) if s.strip()]
    if not names:
        raise HarnessError("--suites: no suite named")
    data = data or {}
    for name in data:
        if name not in names:
            raise HarnessError(f"--suite-data {name}=...: {name} is not among the suites scanned")
    parts, skipped = [], {}
    for name in names:
        try:
            parts.append(suite_part(name, n, data.get(name)))
        except HarnessError as exc:
            if suites != "all":
                raise
            skipped[name] = str(exc)
            if not quiet:
                print(f"note: skipping suite {name}: {exc}", file=sys.stderr)
    if not parts:
        raise HarnessError("--suites: no suite could be loaded")
    return EvalIndex(parts, n, skipped)
