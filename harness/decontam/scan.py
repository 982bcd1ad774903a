"""Training side: batches of documents -> rows that share an n-gram with the index.

A batch's words are hashed at once (`hashing.batch_words`) and so is every window of n words; a
bitmap on the hashes' top bits drops almost all windows before the sorted-array lookup, and a hit
is confirmed word by word. Batches go to a process pool with a bounded number in flight, so memory
does not grow with the training file, and come back in order.
"""
from __future__ import annotations

import collections
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from harness.decontam.hashing import NGRAM_BASE, batch_words
from harness.decontam.index import PREFILTER_BITS, SHORT_PREFILTER_BITS, EvalIndex

# problem number -> (the first shared n-gram's number, how many distinct n-grams are shared)
RowMatches = dict[int, tuple[int, int]]
TOP_BITS = np.uint64(64 - PREFILTER_BITS)
SHORT_TOP_BITS = np.uint64(64 - SHORT_PREFILTER_BITS)
SHORT_LOW_BITS = np.uint64((1 << SHORT_PREFILTER_BITS) - 1)


def match_texts(texts: list[str], index: EvalIndex) -> list[tuple[int, RowMatches]]:
    """(position in `texts`, matches) for every text sharing an n-gram with the index."""
    words, documents = batch_words(texts)
    n = index.n
    # padding, so that windows shorter than n (short problems) also start in the last n words
    words = np.concatenate((words, np.zeros(n, dtype=np.uint64)))
    documents = np.concatenate((documents, np.full(n, -1)))
    count = len(words) - n + 1
    hashes = words[:count].copy()
    short_candidates = np.flatnonzero(index.short_first_words[words[:count] & SHORT_LOW_BITS]) if index.short_lengths else None
    windows, found = [], []
    for length in range(1, n + 1):
        if length > 1:  # hashes of the windows of `length` words, built up one word at a time
            hashes *= NGRAM_BASE
            hashes += words[length - 1:length - 1 + count]
        if length == n or length in index.short_lengths:
            starts, ngrams = _hits(hashes, words, documents, length, index, short_candidates)
            windows.append(starts)
            found.append(ngrams)
    windows, found = np.concatenate(windows), np.concatenate(found)
    if not len(windows):
        return []
    # each (document, n-gram) once, in text order, so `first` is the earliest shared n-gram
    order = np.argsort(windows, kind="stable")
    windows, found = windows[order], found[order]
    document_of = documents[windows].astype(np.int64)
    _, first_window = np.unique((document_of << 32) | found, return_index=True)
    first_window.sort()
    documents_hit, ngrams_hit = document_of[first_window], found[first_window]
    # expand each (document, n-gram) into (document, problem) for every problem holding the n-gram
    starts, ends = index.posting_starts[ngrams_hit], index.posting_starts[ngrams_hit + 1]
    sizes = ends - starts
    pair = np.repeat(np.arange(len(ngrams_hit)), sizes)
    problems = index.posting_problems[np.repeat(starts - np.cumsum(sizes) + sizes, sizes) + np.arange(sizes.sum())]
    keys, first, counts = np.unique((documents_hit[pair] << 32) | problems, return_index=True, return_counts=True)
    by_document: dict[int, RowMatches] = {}
    for key, ngram, count in zip(keys.tolist(), ngrams_hit[pair[first]].tolist(), counts.tolist()):
        by_document.setdefault(key >> 32, {})[key & 0xFFFFFFFF] = (ngram, count)
    return sorted(by_document.items())


def _hits(hashes: np.ndarray, words: np.ndarray, documents: np.ndarray, length: int,
          index: EvalIndex, short_candidates: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Start of each window of `length` words that is an indexed n-gram, and that n-gram's number."""
    if length == index.n:
        windows = np.flatnonzero(index.prefilter[hashes >> TOP_BITS])
    else:  # a short problem's whole text: only where its first word stands
        windows = short_candidates[index.short_prefilter[hashes[short_candidates] >> SHORT_TOP_BITS]]
    if len(windows):
        found = np.minimum(np.searchsorted(index.hashes, hashes[windows]), len(index.hashes) - 1)
        hit = index.hashes[found] == hashes[windows]
        windows, found = windows[hit], found[hit]
    if not len(windows):
        return windows, windows
    same_document = documents[windows] == documents[windows + length - 1]
    exact = same_document & (index.lengths[found] == length) & (
        words[windows[:, None] + np.arange(length)] == index.ngrams[found][:, :length]).all(axis=1)
    return windows[exact], found[exact]


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
    # fork shares the index with the workers instead of pickling it to each (where fork exists)
    fork = "fork" in multiprocessing.get_all_start_methods()
    _init_worker(index)
    context = multiprocessing.get_context("fork" if fork else None)
    options = {} if fork else {"initializer": _init_worker, "initargs": (index,)}
    with ProcessPoolExecutor(jobs, mp_context=context, **options) as pool:
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
