"""Text -> word tokens, the one normalisation both sides of the n-gram comparison go through.

The rule (VERSION is part of the index cache key; bump it when the rule changes):
1. Unicode NFKC (full-width digits, ligatures, `ℝ` -> `R`, non-breaking spaces -> spaces), then
   `str.casefold` (lower case that also folds `ß` -> `ss`).
2. LaTeX: layout-only commands are deleted (`\\left`, `\\right`, `\\big..`, `\\displaystyle`,
   `\\quad`, `\\text..`, `\\math..` font wrappers, `\\operatorname`, `\\mbox`, `\\limits`), so
   `\\left( \\dfrac{1}{2} \\right)` and `(\\frac12)`-style re-typesetting keep their words;
   `\\dfrac`/`\\tfrac` become `frac` and `\\le`/`\\ge`/`\\ne` become `leq`/`geq`/`neq`. Every other
   command keeps its name as a word (`\\frac{1}{2}` -> `frac 1 2`, `\\sqrt{x}` -> `sqrt x`; a name
   ends at the first non-letter, as in TeX: `x\\le3` -> `x leq 3`): names
   carry meaning, and dropping them would let formula-heavy text of different problems collide on
   bare digits and single letters. The layout and alias rules also apply to the bare word (no
   backslash): a copy whose punctuation was stripped (`\\left(` -> `left`, `\\text{cm}` ->
   `text cm`, `\\dfrac` -> `dfrac`) must still meet the normalised problem n-gram for n-gram.
   Applied to both sides, this only ever removes a few words (`left`, `right`, `text`, `big`,
   `quad`...) from ordinary English as well, which cannot make unrelated text share n words.
3. Everything that is not a letter or a digit (punctuation, symbols, `_`, whitespace, the
   backslash and braces of LaTeX) separates words. A word is a maximal run of letters and digits,
   cut where a letter is followed by a digit: `cdot3` (`\\cdot3` stripped of its backslash) is
   `cdot 3`, as `\\cdot3` itself is. `2x` stays one word (LaTeX source spells `2x` that way far
   more often than `2 x`); the cut is one vectorised comparison in the batch hasher.

Written here rather than taken from a library: lm-evaluation-harness's Janitor only lower-cases
and strips ASCII punctuation, and no normaliser we know treats LaTeX spacing; a scan pays only
for `prepare` (C-level string calls) per document; word splitting, the LaTeX rule and hashing
run over whole batches in numpy (`harness.decontam.hashing`).
"""

from __future__ import annotations

import re
import unicodedata

VERSION = "3"

LAYOUT_COMMANDS = frozenset(
    b"left right big bigl bigr bigm bigg biggl biggr biggm displaystyle textstyle scriptstyle quad qquad "
    b"text textbf textit textrm texttt textsf textnormal mathrm mathbf mathit mathsf mathtt mathcal mathbb "
    b"mathfrak mathscr operatorname mbox boldsymbol bm limits nolimits".split()
)
COMMAND_ALIASES = {b"dfrac": b"frac", b"tfrac": b"frac", b"le": b"leq", b"ge": b"geq", b"ne": b"neq"}
# after `prepare`, a word is a run of these bytes: ASCII letters/digits and any byte of a non-ASCII letter
WORD_BYTES = bytes(c if chr(c).isalnum() and c < 128 or c >= 128 else 32 for c in range(256))
WORD = re.compile(rb"(\\)?([0-9a-z\x80-\xff]+)")
COMMAND_BEFORE_DIGIT = re.compile(rb"(\\[a-z]+)(?=[0-9])")
LETTER_THEN_DIGIT = re.compile(rb"(?<=[a-z\x80-\xff])(?=[0-9])")


# non-ASCII characters that are not letters or digits (`\\w` on str is isalnum() plus `_`, which is ASCII)
NON_ASCII_SEPARATOR = re.compile(r"[^\x00-\x7f\w]")


def prepare(text: str) -> bytes:
    """NFKC + case folding, non-ASCII punctuation and symbols -> spaces; ASCII separators stay for later."""
    if text.isascii():
        data = text.encode("ascii").lower()
    else:
        data = NON_ASCII_SEPARATOR.sub(" ", unicodedata.normalize("NFKC", text).casefold()).encode("utf-8")
    if b"\\" in data:  # a command name ends at the first non-letter: `x\le3` is `x \le 3`
        data = COMMAND_BEFORE_DIGIT.sub(rb"\1 ", data)
    return data


DOCUMENT_SEPARATOR = "\x00"  # a separator under the rule, so a NUL inside a text changes none of its words


def prepare_batch(texts: list[str]) -> bytes:
    """`prepare` of every text, joined by NUL bytes, in a few whole-batch calls instead of a few per text.

    Equal to b"\\x00".join(map(prepare, texts)) with NULs inside texts turned into spaces: none of the
    steps acts across a NUL. ASCII texts (lower-cased as one buffer) and the others (NFKC, casefold
    and one regex for non-ASCII separators, as one string) go apart, since casefold costs ~10 ns
    per character, which ASCII text need not pay."""
    joined = DOCUMENT_SEPARATOR.join(texts)
    if joined.count(DOCUMENT_SEPARATOR) != len(texts) - 1:
        texts = [text.replace(DOCUMENT_SEPARATOR, " ") for text in texts]
        joined = DOCUMENT_SEPARATOR.join(texts)
    if joined.isascii():
        data = joined.encode("ascii").lower()
    else:
        is_ascii = [text.isascii() for text in texts]
        ascii_parts = iter(DOCUMENT_SEPARATOR.join(t for t, a in zip(texts, is_ascii) if a)
                           .encode("ascii").lower().split(b"\x00"))
        other = DOCUMENT_SEPARATOR.join(t for t, a in zip(texts, is_ascii) if not a)
        other_parts = iter(NON_ASCII_SEPARATOR.sub(" ", unicodedata.normalize("NFKC", other).casefold())
                           .encode("utf-8").split(b"\x00"))
        data = b"\x00".join([next(ascii_parts) if a else next(other_parts) for a in is_ascii])
    if b"\\" in data:
        data = COMMAND_BEFORE_DIGIT.sub(rb"\1 ", data)
    return data


def words(text: str) -> list[bytes]:
    """The words of `text` under the full rule, as UTF-8 bytes.

    The reference implementation: `harness.decontam.hashing` applies the same rule to whole
    batches with numpy, and the index checks on every build that both agree.
    """
    found = []
    for match in WORD.finditer(prepare(text)):
        for word in LETTER_THEN_DIGIT.split(match.group(2)):
            if word in LAYOUT_COMMANDS:  # with or without its backslash (rule 2)
                continue
            found.append(COMMAND_ALIASES.get(word, word))
    return found


def normalize(text: str) -> list[str]:
    """The words of `text` as strings."""
    return [word.decode("utf-8") for word in words(text)]


def normalized_text(text: str) -> str:
    """The words joined by single spaces, for showing users what was compared."""
    return " ".join(normalize(text))
