"""Batches of texts -> 64-bit word hashes and n-gram hashes, all in numpy.

The batch is `prepare`d per text and joined into one byte buffer; a 256-byte table turns every
separator into a space, word boundaries come from one comparison, and each word's hash is a
polynomial of its bytes (mod 2**64, summed with `np.add.reduceat`), passed through a 64-bit
finaliser.
The LaTeX rule is applied to the few words whose hash is a layout command's or an alias's. This replaces a Python
dictionary lookup per word, which cost twice as much as all of this together. The same code hashes
the evaluation side, and `normalize.words` is the readable reference it is checked against.
"""
from __future__ import annotations

import numpy as np

from harness.decontam.normalize import COMMAND_ALIASES, LAYOUT_COMMANDS, WORD_BYTES, prepare

BYTE_BASE = np.uint64(0x100000001B3)
NGRAM_BASE = np.uint64(0x9E3779B97F4A7C15)
BACKSLASH = ord("\\")
# BYTE_BASE**(position in word mod 2**16): a fixed 512 KiB table, whatever the document sizes
POSITION_BITS = 16
POWERS = np.concatenate((np.ones(1, np.uint64), np.cumprod(np.full((1 << POSITION_BITS) - 1, BYTE_BASE, np.uint64))))


def _finalise(values: np.ndarray) -> np.ndarray:
    """splitmix64's mixer: spreads polynomial hashes over all 64 bits."""
    values = values ^ (values >> np.uint64(30))
    values *= np.uint64(0xBF58476D1CE4E5B9)
    values ^= values >> np.uint64(27)
    values *= np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


def _hash_spans(buffer: np.ndarray, is_word: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Hash of each word buffer[start:end]: sum of byte * BASE**(offset in word), finalised."""
    if not len(starts):
        return np.zeros(0, dtype=np.uint64)
    word_start = np.zeros(len(buffer), dtype=np.int64)
    word_start[starts] = starts
    np.maximum.accumulate(word_start, out=word_start)
    offset = np.arange(len(buffer), dtype=np.int64)
    offset -= word_start
    offset &= (1 << POSITION_BITS) - 1
    terms = POWERS[offset]
    terms *= buffer
    terms *= is_word  # separator bytes add nothing
    sums = np.add.reduceat(terms, starts)
    return _finalise(sums + (ends - starts).astype(np.uint64) * NGRAM_BASE)


def word_hashes(words: list[bytes]) -> np.ndarray:
    """Hash of each given word (as the batch hasher computes it)."""
    if not words:
        return np.zeros(0, dtype=np.uint64)
    joined = b" ".join(words)
    lengths = np.array([len(word) for word in words])
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    is_word = np.frombuffer(joined, dtype=np.uint8) != 32
    return _hash_spans(np.frombuffer(joined, dtype=np.uint8), is_word, starts, starts + lengths)


LAYOUT_HASHES = np.sort(word_hashes(sorted(LAYOUT_COMMANDS)))
ALIAS_FROM = word_hashes(list(COMMAND_ALIASES))
ALIAS_TO = word_hashes(list(COMMAND_ALIASES.values()))
RULE_MASK = np.uint64(0xFFFF)
RULE_FILTER = np.zeros(1 << 16, dtype=bool)
RULE_FILTER[np.concatenate((LAYOUT_HASHES, ALIAS_FROM)) & RULE_MASK] = True


def batch_words(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(word hashes, document number of each word) of a batch, the LaTeX rule applied."""
    prepared = [prepare(text) for text in texts]
    joined = b" ".join(prepared)
    raw = np.frombuffer(joined, dtype=np.uint8)
    is_word = np.frombuffer(joined.translate(WORD_BYTES), dtype=np.uint8) != 32
    edges = np.flatnonzero(np.diff(np.concatenate(([False], is_word, [False])).view(np.int8)))
    starts, ends = edges[::2], edges[1::2]
    # a letter followed by a digit inside a word ends one word and starts the next (`cdot3`)
    digit = (raw >= 48) & (raw <= 57)
    cuts = np.flatnonzero(is_word[:-1] & ~digit[:-1] & digit[1:]) + 1
    if len(cuts):
        starts, ends = np.sort(np.concatenate((starts, cuts))), np.sort(np.concatenate((ends, cuts)))
    hashes = _hash_spans(raw, is_word, starts, ends)
    document_starts = np.cumsum([0] + [len(p) + 1 for p in prepared[:-1]])
    documents = np.searchsorted(document_starts, starts, side="right") - 1
    # the LaTeX rule on every word, backslash or not: a 64 K-entry bitmap of the few layout and
    # alias hashes picks candidates, which are then looked up exactly
    candidates = np.flatnonzero(RULE_FILTER[hashes & RULE_MASK])
    if len(candidates):
        rule_hashes = hashes[candidates]
        alias = np.isin(rule_hashes, ALIAS_FROM)
        if alias.any():
            lookup = dict(zip(ALIAS_FROM.tolist(), ALIAS_TO.tolist()))
            hashes[candidates[alias]] = [lookup[value] for value in rule_hashes[alias].tolist()]
        layout = candidates[np.isin(rule_hashes, LAYOUT_HASHES)]
        if len(layout):
            keep = np.ones(len(hashes), dtype=bool)
            keep[layout] = False
            hashes, documents = hashes[keep], documents[keep]
    return hashes, documents


def ngram_hashes(words: np.ndarray, n: int) -> np.ndarray:
    """Hash of every window of n consecutive words (len - n + 1 values; empty when shorter)."""
    count = len(words) - n + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    hashes = words[:count].copy()
    for offset in range(1, n):
        hashes *= NGRAM_BASE
        hashes += words[offset:offset + count]
    return hashes
