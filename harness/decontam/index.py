"""The evaluation side: every n-gram of every suite problem, hashed, with the problems it occurs in.

A word is a 64-bit hash of its bytes and an n-gram a polynomial of its words' hashes (mod 2**64;
`harness.decontam.hashing`), so per-suite indexes merge by concatenation. A hit on an n-gram hash
is confirmed word by word against the stored n-gram, so only a collision of all n 64-bit word
hashes could flag a row wrongly. A problem shorter than n words is indexed as a whole (if it has
at least MIN_SHORT_WORDS words): a row holding all its words in order is flagged, since a 10-gram
rule alone could never see a copy of "How many positive whole-number divisors does 196 have?". Each suite's part is cached under
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
from harness.decontam.hashing import batch_words, ngram_hashes, word_hashes
from harness.errors import HarnessError

INDEX_FORMAT = "5"  # 5: word hashes read 8 bytes at a time, chunks combined as a polynomial
PREFILTER_BITS = 24  # top bits of an n-gram hash that index the membership bitmap
SHORT_PREFILTER_BITS = 16  # the same for the few whole short problems (a bitmap that stays in cache)
MIN_SHORT_WORDS = 5
# only statements matter here: aime25's prompts with `\f` restored (the published bytes hold a form
# feed), and LiveCodeBench data that has public tests only is fine
STATEMENT_OPTIONS = {"repair_prompts": True, "public_tests_only": True}


@dataclass
class SuitePart:
    """One suite's n-grams: occurrence rows (hash, problem number, the word hashes, zero-padded to n)."""

    name: str
    key: dict
    problem_ids: list[str]
    words: list[bytes]  # every distinct word, to show n-grams to users
    word_values: np.ndarray  # uint64 hash of each of `words`
    hashes: np.ndarray  # uint64 (m,)
    problems: np.ndarray  # int32 (m,), into problem_ids
    ngrams: np.ndarray  # uint64 (m, n); a short problem's words, then zeros
    lengths: np.ndarray  # int8 (m,): n, or the word count of a short problem


def build_part(name: str, key: dict, problems: list, n: int) -> SuitePart:
    texts = [problem.statement or "" for problem in problems]
    values, documents = batch_words(texts)
    vocabulary: dict[bytes, int] = {}
    hashes, numbers, rows, lengths = [], [], [], []
    bounds = np.searchsorted(documents, np.arange(len(texts) + 1))
    for number, text in enumerate(texts):
        words = values[bounds[number]:bounds[number + 1]]
        reference = normalize.words(text)
        if not np.array_equal(words, word_hashes(reference)):
            raise RuntimeError(f"{name} {problems[number].problem_id}: batch hashing disagrees with normalize.words")
        vocabulary.update(zip(reference, words.tolist()))
        size = n if len(words) >= n else len(words)
        if size < min(n, MIN_SHORT_WORDS):
            continue
        found = ngram_hashes(words, size)
        windows = np.lib.stride_tricks.sliding_window_view(words, size)
        hashes.append(found)
        numbers.append(np.full(len(found), number, dtype=np.int32))
        rows.append(np.pad(windows, ((0, 0), (0, n - size))))
        lengths.append(np.full(len(found), size, dtype=np.int8))
    empty = np.zeros(0, np.uint64)
    return SuitePart(
        name=name, key=key, problem_ids=[p.problem_id for p in problems], words=list(vocabulary),
        word_values=np.array(list(vocabulary.values()), dtype=np.uint64),
        hashes=np.concatenate(hashes) if hashes else empty,
        problems=np.concatenate(numbers) if numbers else np.zeros(0, np.int32),
        ngrams=np.concatenate(rows) if rows else np.zeros((0, n), np.uint64),
        lengths=np.concatenate(lengths) if lengths else np.zeros(0, np.int8),
    )


def save_part(part: SuitePart, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f"{path.name}.tmp{os.getpid()}.npz")
    np.savez(
        staging, hashes=part.hashes, problems=part.problems, ngrams=part.ngrams, lengths=part.lengths,
        word_values=part.word_values, words=np.frombuffer(b"\n".join(part.words), dtype=np.uint8),
        meta=np.frombuffer(json.dumps({"name": part.name, "key": part.key,
                                       "problem_ids": part.problem_ids}).encode(), dtype=np.uint8),
    )
    os.replace(staging, path)


def load_part(path: Path) -> SuitePart:
    with np.load(path) as data:
        meta = json.loads(data["meta"].tobytes())
        blob = data["words"].tobytes()
        return SuitePart(name=meta["name"], key=meta["key"], problem_ids=meta["problem_ids"],
                         words=blob.split(b"\n") if blob else [], word_values=data["word_values"],
                         hashes=data["hashes"], problems=data["problems"], ngrams=data["ngrams"],
                         lengths=data["lengths"])


class EvalIndex:
    """All chosen suites' n-grams: sorted unique hashes, one stored n-gram each, and postings."""

    def __init__(self, parts: list[SuitePart], n: int, skipped: dict[str, str] | None = None):
        self.n = n
        self.parts = parts
        self.skipped = skipped or {}
        self.problem_refs = [(part.name, pid) for part in parts for pid in part.problem_ids]
        offsets = np.cumsum([0] + [len(part.problem_ids) for part in parts])
        hashes = np.concatenate([part.hashes for part in parts])
        problems = np.concatenate([part.problems + offset for part, offset in zip(parts, offsets)]).astype(np.int32)
        ngrams = np.concatenate([part.ngrams for part in parts])
        lengths = np.concatenate([part.lengths for part in parts])
        order = np.lexsort((problems, hashes))
        hashes, problems, ngrams, lengths = hashes[order], problems[order], ngrams[order], lengths[order]
        self.hashes, first = np.unique(hashes, return_index=True)
        self.ngrams, self.lengths = ngrams[first], lengths[first]
        # window lengths other than n that some short problem needs
        self.short_lengths = sorted(set(self.lengths.tolist()) - {n})
        pair_start = np.ones(len(hashes), dtype=bool)
        pair_start[1:] = (hashes[1:] != hashes[:-1]) | (problems[1:] != problems[:-1])
        self.posting_problems = problems[pair_start]
        self.posting_starts = np.searchsorted(hashes[pair_start], self.hashes).astype(np.int64)
        self.posting_starts = np.append(self.posting_starts, len(self.posting_problems))
        self.problem_ngrams = np.bincount(self.posting_problems, minlength=len(self.problem_refs))
        self.prefilter = np.zeros(1 << PREFILTER_BITS, dtype=bool)
        self.prefilter[self.hashes >> np.uint64(64 - PREFILTER_BITS)] = True
        self.short_prefilter = np.zeros(1 << SHORT_PREFILTER_BITS, dtype=bool)
        self.short_prefilter[self.hashes[self.lengths < n] >> np.uint64(64 - SHORT_PREFILTER_BITS)] = True
        # the first words of the short problems (low bits): a window shorter than n is only looked up
        # where one of them stands, so each extra window length costs a lookup per candidate, not per word
        self.short_first_words = np.zeros(1 << SHORT_PREFILTER_BITS, dtype=bool)
        self.short_first_words[self.ngrams[self.lengths < n, 0] & np.uint64((1 << SHORT_PREFILTER_BITS) - 1)] = True
        self.word_of = {value: word for part in parts for word, value in zip(part.words, part.word_values.tolist())}

    def problems_of(self, ngram_number: int) -> np.ndarray:
        return self.posting_problems[self.posting_starts[ngram_number]:self.posting_starts[ngram_number + 1]]

    def ngram_text(self, ngram_number: int) -> str:
        words = self.ngrams[ngram_number][:self.lengths[ngram_number]]
        return " ".join(self.word_of[int(h)].decode("utf-8") for h in words)

    def describe(self) -> dict:
        """What a report or manifest records about the index."""
        return {"n": self.n, "normalisation": normalize.VERSION, "min_short_words": MIN_SHORT_WORDS,
                "suites": {part.name: {**part.key, "problems": len(part.problem_ids)} for part in self.parts},
                "skipped": self.skipped}


def index_dir() -> Path:
    from harness.paths import cache_dir

    return cache_dir() / "decontam"


def data_digest(path: Path) -> str:
    """sha256 of a data file, or of a directory's (relative path, file sha256) list."""
    from harness.rundir import sha256_of

    if path.is_file():
        return sha256_of(path)
    listing = [f"{file.relative_to(path)} {sha256_of(file)}" for file in sorted(path.rglob("*")) if file.is_file()]
    return hashlib.sha256("\n".join(listing).encode()).hexdigest()


def suite_part(name: str, n: int, data: Path | None = None) -> SuitePart:
    """One suite's part, from the cache when its key matches; HarnessError if its data is missing."""
    from suites import get_suite

    suite = get_suite(name)
    if data is None:
        digest = suite.sha256
    elif suite.data_digest is not None:  # the suite knows which files of a --data directory it reads
        digest = json.dumps(suite.data_digest(data), sort_keys=True, default=str)
    else:
        digest = data_digest(data)
    key = {"version": suite.version, "data_sha256": digest, "n": n, "normalisation": normalize.VERSION,
           "format": INDEX_FORMAT, "min_short_words": MIN_SHORT_WORDS}
    if data:
        key["data_path"] = str(data)
    cache_name = hashlib.sha256(json.dumps([name, key], sort_keys=True).encode()).hexdigest()[:20]
    path = index_dir() / f"{name}-{cache_name}.npz"
    if path.is_file():
        try:
            cached = load_part(path)
            # hashed by this code? (a hash change that forgot INDEX_FORMAT would silently miss copies)
            if np.array_equal(word_hashes(cached.words), cached.word_values):
                return cached
        except (OSError, ValueError, KeyError):
            pass  # a damaged or stale cache entry is rebuilt
    problems = suite.load_problems(STATEMENT_OPTIONS, data=data)
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
