"""Text -> word tokens, the one normalisation both sides of the n-gram comparison go through.

The rule (VERSION is part of the index cache key; bump it when the rule changes):
1. Unicode NFKC (full-width digits, ligatures, `ℝ` -> `R`, non-breaking spaces -> spaces), then
   `str.casefold` (lower case that also folds `ß` -> `ss`).
2. LaTeX: layout-only commands are deleted (`\\left`, `\\right`, `\\big..`, `\\displaystyle`,
   `\\quad`, `\\text..`, `\\math..` font wrappers, `\\operatorname`, `\\mbox`, `\\limits`), so
   `\\left( \\dfrac{1}{2} \\right)` and `(\\frac12)`-style re-typesetting keep their words;
   `\\dfrac`/`\\tfrac` become `frac` and `\\le`/`\\ge`/`\\ne` become `leq`/`geq`/`neq`. Every other
   command keeps its name as a word (`\\frac{1}{2}` -> `frac 1 2`, `\\sqrt{x}` -> `sqrt x`): names
   carry meaning, and dropping them would let formula-heavy text of different problems collide on
   bare digits and single letters.
3. Everything that is not a letter or a digit (punctuation, symbols, `_`, whitespace, the
   backslash and braces of LaTeX) separates words. A word is a maximal run of letters and digits:
   `2x` stays one word (splitting letter/digit runs made the tokeniser five times slower, and
   LaTeX source spells `2x` that way far more often than `2 x`).

Written here rather than taken from a library: lm-evaluation-harness's Janitor only lower-cases
and strips ASCII punctuation, and no normaliser we know treats LaTeX spacing; the work is split so
that a scan pays only for C-level bytes operations per document (`raw_tokens`: lower, replace,
translate, split); the LaTeX rule is applied per distinct word, in the index's vocabulary
(`command_word`), not per occurrence.
"""

from __future__ import annotations

import re
import unicodedata

VERSION = "1"

LAYOUT_COMMANDS = frozenset(
    b"left right big bigl bigr bigm bigg biggl biggr biggm displaystyle textstyle scriptstyle quad qquad "
    b"text textbf textit textrm texttt textsf textnormal mathrm mathbf mathit mathsf mathtt mathcal mathbb "
    b"mathfrak mathscr operatorname mbox boldsymbol bm limits nolimits".split()
)
COMMAND_ALIASES = {b"dfrac": b"frac", b"tfrac": b"frac", b"le": b"leq", b"ge": b"geq", b"ne": b"neq"}
# non-ASCII path: keep letters, digits and the backslash that marks a LaTeX command
NOT_WORD = re.compile(r"[^\w\\]|_")
# ASCII fast path: one table lookup per byte instead of a regex (5-10x faster on 1 KB documents)
ASCII_WORD_BYTES = bytes(c if chr(c).isalnum() and c < 128 or c == ord("\\") else 32 for c in range(256))


def raw_tokens(text: str) -> list[bytes]:
    """Words of `text` before the LaTeX rule: LaTeX commands are still `\\name` (a lone `\\` for `\\,`)."""
    if text.isascii():
        data = text.encode("ascii").lower().replace(b"\\", b" \\").translate(ASCII_WORD_BYTES)
    else:
        folded = unicodedata.normalize("NFKC", text).casefold().replace("\\", " \\")
        data = NOT_WORD.sub(" ", folded).encode("utf-8")
    return data.split()


def command_word(token: bytes) -> bytes | None:
    """The word a raw token stands for: None for layout-only commands and bare backslashes."""
    if not token.startswith(b"\\"):
        return token
    name = token[1:]
    if not name or name in LAYOUT_COMMANDS:
        return None
    return COMMAND_ALIASES.get(name, name)


def words(text: str) -> list[bytes]:
    """The words of `text` under the full rule, as UTF-8 bytes (what the index stores)."""
    return [word for word in map(command_word, raw_tokens(text)) if word is not None]


def normalize(text: str) -> list[str]:
    """The words of `text` as strings."""
    return [word.decode("utf-8") for word in words(text)]


def normalized_text(text: str) -> str:
    """The words joined by single spaces, for showing users what was compared."""
    return " ".join(normalize(text))
