"""Training side: batches of documents -> rows that share an n-gram with the index.

A batch is tokenised in Python (C-level bytes operations per document), its words looked up in
the index vocabulary (unknown words hash to 0, which no suite n-gram contains), and every window
of n words is hashed at once in numpy; a bitmap on the hashes' top bits drops almost all windows
before the exact lookup. Batches go to a process pool with a bounded number in flight, so memory
does not grow with the training file, and come back in order.
"""
from __future__ import annotations

import collections
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from harness.decontam.index import DROP, PREFILTER_BITS, UNKNOWN, EvalIndex, ngram_hashes
from harness.decontam.normalize import raw_tokens

# problem number -> (the first shared n-gram's number, how many distinct n-grams are shared)
RowMatches = dict[int, tuple[int, int]]
TOP_BITS = np.uint64(64 - PREFILTER_BITS)


def match_texts(texts: list[str], index: EvalIndex) -> list[tuple[int, RowMatches]]:
    """(position in `texts`, matches) for every text sharing an n-gram with the index."""
    lookup, n = index.vocabulary.get, index.n
    word_values: list[int] = []
    starts = []
    for text in texts:
        starts.append(len(word_values))
        word_values.extend(map(lookup, raw_tokens(text), repeat(UNKNOWN)))
        word_values.append(UNKNOWN)  # no window spans two documents
    words = np.array(word_values, dtype=np.uint64)
    document_of = np.repeat(np.arange(len(texts)), np.diff(np.append(starts, len(words))))
    dropped = words == DROP
    if dropped.any():
        words, document_of = words[~dropped], document_of[~dropped]
    hashes = ngram_hashes(words, n)
    windows = np.flatnonzero(index.prefilter[hashes >> TOP_BITS])
    if not len(windows) or not len(index.hashes):
        return []
    found = np.minimum(np.searchsorted(index.hashes, hashes[windows]), len(index.hashes) - 1)
    hit = index.hashes[found] == hashes[windows]
    windows, found = windows[hit], found[hit]
    exact = (words[windows[:, None] + np.arange(n)] == index.ngrams[found]).all(axis=1)
    windows, found = windows[exact], found[exact]
    # each (document, n-gram) once, in text order, so `first` is the earliest shared n-gram
    documents = document_of[windows].astype(np.int64)
    _, first_window = np.unique((documents << 32) | found, return_index=True)
    first_window.sort()
    by_document: dict[int, RowMatches] = {}
    for document, ngram in zip(documents[first_window].tolist(), found[first_window].tolist()):
        matches = by_document.setdefault(document, {})
        for problem in index.problems_of(ngram).tolist():
            first, count = matches.get(problem, (ngram, 0))
            matches[problem] = (first, count + 1)
    return sorted(by_document.items())


_WORKER_INDEX: EvalIndex | None = None


def _init_worker(index: EvalIndex) -> None:
    global _WORKER_INDEX
    _WORKER_INDEX = index


def _match_chunk(start: int, payloads: list, extract: Callable[[Any, int], str] | None) -> list[tuple[int, RowMatches]]:
    texts = payloads if extract is None else [extract(p, start + i) for i, p in enumerate(payloads)]
    return match_texts(texts, _WORKER_INDEX)


@dataclass
class Chunk:
    """Consecutive training rows: what a worker needs (payloads) and what a clean writer needs (raw)."""

    start: int
    payloads: list
    raw: Any = None
    matches: list[tuple[int, RowMatches]] = field(default_factory=list)


def scan_chunks(chunks: Iterable[Chunk], index: EvalIndex, extract: Callable[[Any, int], str] | None = None,
                jobs: int = 1) -> Iterator[Chunk]:
    """Each chunk back, in order, with `matches` filled in (row numbers relative to chunk.start)."""
    if jobs <= 1:
        _init_worker(index)
        for chunk in chunks:
            chunk.matches = _match_chunk(chunk.start, chunk.payloads, extract)
            yield chunk
        return
    pending: collections.deque = collections.deque()
    with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(index,)) as pool:
        for chunk in chunks:
            pending.append((chunk, pool.submit(_match_chunk, chunk.start, chunk.payloads, extract)))
            chunk.payloads = []  # the worker has its copy
            if len(pending) >= 2 * jobs:
                yield _finish(*pending.popleft())
        while pending:
            yield _finish(*pending.popleft())


def _finish(chunk: Chunk, future) -> Chunk:
    chunk.matches = future.result()
    return chunk


def default_jobs() -> int:
    return max(1, min(len(os.sched_getaffinity(0)), 8))
