"""n-gram decontamination of training data against every evaluation suite (VibeThinker-1.5B rule).

Python API for the training stages (the CLI is `harness decontam`):

    check_texts(texts, suites="all", n=10) -> [(row index, [match, ...]), ...]
    filter_rows(rows, text_of=..., suites="all", n=10, policy="drop") -> (kept rows, decision record)

A match is `{"suite", "problem_id", "ngram", "shared_ngrams"}`; the decision record goes into a
training run's manifest. See docs/decontamination.md for the normalisation rule.
"""
from __future__ import annotations

from itertools import islice
from typing import Any, Callable, Iterable, Sequence, TypeVar

from harness.decontam.index import EvalIndex, build_index
from harness.decontam.normalize import normalize, normalized_text
from harness.decontam.scan import Chunk, scan_chunks
from harness.errors import HarnessError

Row = TypeVar("Row")
POLICIES = ("drop", "error", "keep")
RECORDED_ROWS = 1000  # flagged rows listed in a decision record; the count is always complete


def check_texts(texts: Iterable[str], suites: str | Sequence[str] = "all", n: int = 10,
                index: EvalIndex | None = None, min_coverage: float = 0.0) -> list[tuple[int, list[dict]]]:
    """(row index, matches) for every text that shares a normalised n-gram with a suite problem.

    min_coverage > 0 flags a text only when it holds at least that share of a problem's n-grams.
    """
    from harness.decontam.report import match_records

    index = index or build_index(suites if isinstance(suites, str) else list(suites), n, quiet=True)
    found = []
    for chunk in scan_chunks(_chunks(iter(texts)), index):
        for offset, matches in chunk.matches:
            if records := match_records(matches, index, min_coverage):
                found.append((chunk.start + offset, records))
    return found


def _chunks(texts, size: int = 2000):
    start = 0
    while batch := list(islice(texts, size)):
        yield Chunk(start, batch)
        start += len(batch)


def default_text(row: Any) -> str:
    """A row's text: a string itself, or a dict's prompt/problem/messages/text... fields joined."""
    import json

    from harness.decontam.fields import NotText, as_text

    def text(value: Any) -> str:  # every row of an in-memory list is scanned, whatever its shape
        try:
            return as_text(value)
        except NotText:
            return json.dumps(value, ensure_ascii=False, default=str)

    if isinstance(row, str):
        return row
    if isinstance(row, dict):
        return "\n".join(text(value) for value in row.values() if isinstance(value, (str, list, dict)))
    return text(row)


def filter_rows(rows: Sequence[Row], text_of: Callable[[Row], str] = default_text,
                suites: str | Sequence[str] = "all", n: int = 10, policy: str = "drop",
                index: EvalIndex | None = None, min_coverage: float = 0.0) -> tuple[list[Row], dict]:
    """The rows that share no n-gram with any suite, and the decision record for the manifest.

    policy: `drop` removes flagged rows (the default: training refuses contaminated data),
    `error` raises HarnessError naming the first flagged rows, `keep` only records them.
    """
    if policy not in POLICIES:
        raise HarnessError(f"decontamination policy {policy!r}: expected one of {', '.join(POLICIES)}")
    index = index or build_index(suites if isinstance(suites, str) else list(suites), n, quiet=True)
    flagged = check_texts((text_of(row) for row in rows), index=index, min_coverage=min_coverage)
    record = {
        "check": "ngram_overlap", "policy": policy, "min_coverage": min_coverage, **index.describe(),
        "rows_checked": len(rows), "rows_flagged": len(flagged),
        "flagged": [{"index": i, "matches": [{key: m[key] for key in ("suite", "problem_id", "coverage")} for m in matches]}
                    for i, matches in flagged[:RECORDED_ROWS]],
        "flagged_listed": min(len(flagged), RECORDED_ROWS),
    }
    if policy == "error" and flagged:
        first = ", ".join(f"row {i} ({matches[0]['suite']} {matches[0]['problem_id']})" for i, matches in flagged[:3])
        raise HarnessError(f"training data: {len(flagged)} rows share a {index.n}-gram with an evaluation suite: {first}")
    if policy == "keep":
        return list(rows), record
    drop = {i for i, _ in flagged}
    return [row for i, row in enumerate(rows) if i not in drop], record


__all__ = ["EvalIndex", "build_index", "check_texts", "default_text", "filter_rows", "normalize", "normalized_text"]
