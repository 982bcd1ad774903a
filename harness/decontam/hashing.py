"""Batches of texts -> 64-bit word hashes and n-gram hashes, all in numpy.

The batch is `prepare`d as one joined text (`normalize.prepare_batch`); a 256-byte table turns every
separator into a space, word boundaries come from one comparison, and each word's hash is its
bytes read as little-endian 64-bit integers (8 at a time, through an unaligned strided view, so the
work is per word, not per byte: 2.5x faster than a per-byte polynomial), combined as a polynomial,
with its length, through a 64-bit finaliser.
The LaTeX rule is applied to the few words whose hash is a layout command's or an alias's. This replaces a Python
dictionary lookup per word, which cost twice as much as all of this together. The same code hashes
the evaluation side, and `normalize.words` is the readable reference it is checked against.
"""
from __future__ import annotations

import numpy as np

from harness.decontam.normalize import COMMAND_ALIASES, LAYOUT_COMMANDS, WORD_BYTES, prepare_batch

BYTE_BASE = np.uint64(0x100000001B3)
NGRAM_BASE = np.uint64(0x9E3779B97F4A7C15)
BACKSLASH = ord("\\")
# LOW_BYTES[k]: the mask of a uint64's k low bytes (k = 0..8)
LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)


def _finalise(values: np.ndarray) -> np.ndarray:
    """splitmix64's mixer: spreads polynomial hashes over all 64 bits."""
    values = values ^ (values >> np.uint64(30))
    values *= np.uint64(0xBF58476D1CE4E5B9)
    values ^= values >> np.uint64(27)
    values *= np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


def _eight_bytes_at(buffer: np.ndarray) -> np.ndarray:
    """A uint64 view (little-endian, unaligned) of the 8 bytes starting at every offset of buffer."""
    padded = np.concatenate((buffer, np.zeros(8, dtype=np.uint8)))
    return np.ndarray(shape=(len(buffer),), dtype="<u8", buffer=padded, strides=(1,))


def _hash_spans(buffer: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Hash of each word buffer[start:end]: its bytes read as little-endian 8-byte integers c_k,
    sum(c_k * BYTE_BASE**k) mod 2**64, xor its length, through the finaliser.

    Work per word, not per byte: a word of up to 8 bytes (almost all of them) is one unaligned
    load and a mask; the few longer ones add one load per further 8 bytes, all in one pass."""
    if not len(starts):
        return np.zeros(0, dtype=np.uint64)
    eight = _eight_bytes_at(buffer)
    lengths = ends - starts
    values = eight[starts] & LOW_BYTES[np.minimum(lengths, 8)]
    longer = np.flatnonzero(lengths > 8)
    if len(longer):
        extra = (lengths[longer] - 1) >> 3  # chunks after the first
        owner = np.repeat(longer, extra)
        first_of_owner = np.cumsum(extra) - extra
        chunk = np.arange(len(owner)) - np.repeat(first_of_owner, extra) + 1
        offsets = starts[owner] + 8 * chunk
        terms = eight[offsets] & LOW_BYTES[np.minimum(lengths[owner] - 8 * chunk, 8)]
        terms *= _powers(int(chunk.max()))[chunk]
        values[longer] += np.add.reduceat(terms, first_of_owner)
    return _finalise(values ^ (lengths.astype(np.uint64) * NGRAM_BASE))


def _powers(top: int) -> np.ndarray:
    """BYTE_BASE**k mod 2**64 for k = 0..top."""
    return np.concatenate((np.ones(1, np.uint64), np.cumprod(np.full(top, BYTE_BASE, np.uint64))))


def word_hashes(words: list[bytes]) -> np.ndarray:
    """Hash of each given word (as the batch hasher computes it)."""
    if not words:
        return np.zeros(0, dtype=np.uint64)
    joined = b" ".join(words)
    lengths = np.array([len(word) for word in words])
    starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    return _hash_spans(np.frombuffer(joined, dtype=np.uint8), starts, starts + lengths)


LETTER_BYTES = bytes(1 if (97 <= c <= 122 or c >= 128) else 0 for c in range(256))  # after prepare: lower case
DIGIT_BYTES = bytes(1 if 48 <= c <= 57 else 0 for c in range(256))


def _view_bool(flags: bytes) -> np.ndarray:
    return np.frombuffer(flags, dtype=np.bool_)


LAYOUT_HASHES = np.sort(word_hashes(sorted(LAYOUT_COMMANDS)))
ALIAS_FROM = word_hashes(list(COMMAND_ALIASES))
ALIAS_TO = word_hashes(list(COMMAND_ALIASES.values()))
RULE_MASK = np.uint64(0xFFFF)
RULE_FILTER = np.zeros(1 << 16, dtype=bool)
RULE_FILTER[np.concatenate((LAYOUT_HASHES, ALIAS_FROM)) & RULE_MASK] = True


def batch_words(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(word hashes, document number of each word) of a batch, the LaTeX rule applied."""
    joined = prepare_batch(texts)
    raw = np.frombuffer(joined, dtype=np.uint8)
    # word bytes, with a separator on either side (comparing neighbours beats np.diff 3x here)
    padded = np.frombuffer(b" " + joined.translate(WORD_BYTES) + b" ", dtype=np.uint8) != 32
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    starts, ends = edges[::2], edges[1::2]
    # a letter followed by a digit inside a word ends one word and starts the next (`cdot3`)
    cuts = np.flatnonzero(_view_bool(joined.translate(LETTER_BYTES))[:-1] & _view_bool(joined.translate(DIGIT_BYTES))[1:]) + 1
    if len(cuts):  # few: inserted in place rather than by sorting every boundary again
        starts, ends = np.insert(starts, np.searchsorted(starts, cuts), cuts), np.insert(ends, np.searchsorted(ends, cuts), cuts)
    hashes = _hash_spans(raw, starts, ends)
    # NULs separate the texts: each text's first word, then each word's text
    firsts = np.searchsorted(starts, np.flatnonzero(raw == 0))
    documents = np.repeat(np.arange(len(firsts) + 1), np.diff(np.concatenate(([0], firsts, [len(starts)]))))
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
