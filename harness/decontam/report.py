"""`harness decontam`: scan a training file, write the report (and a clean copy), summarise.

Report line (interfaces.md): `index` (0-based row), `matches` (one per problem:
`suite`, `problem_id`, `ngram` = the first shared n-gram in normalised words, `shared_ngrams` =
how many distinct n-grams of that problem the row contains, `coverage` = that count over the
problem's distinct n-grams: near 1 for a copy, tiny for a stock phrase such as "the input is given
from standard input in the following format". `min_coverage` > 0 departs from the paper's rule
(any shared n-gram) and flags only rows that cover at least that share of some problem.
"""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.decontam.index import EvalIndex
from harness.decontam.scan import RowMatches, scan_chunks
from harness.errors import HarnessError
from harness.progress import progress

CHUNK_ROWS = 2000
NEAR_COPY = 0.5


def match_records(matches: RowMatches, index: EvalIndex, min_coverage: float = 0.0) -> list[dict]:
    """Report entries, one per problem whose share of n-grams found in the row is >= min_coverage."""
    records = []
    for problem, (ngram, count) in sorted(matches.items()):
        coverage = count / max(int(index.problem_ngrams[problem]), 1)
        if coverage < min_coverage:
            continue
        suite, problem_id = index.problem_refs[problem]
        records.append({"suite": suite, "problem_id": problem_id, "ngram": index.ngram_text(ngram),
                        "shared_ngrams": count, "coverage": round(coverage, 4)})
    return records


@dataclass
class Summary:
    rows_scanned: int = 0
    rows_flagged: int = 0
    rows_near_copy: int = 0  # rows covering at least NEAR_COPY of some problem's n-grams
    rows_flagged_per_suite: dict[str, int] = field(default_factory=dict)
    problems_seen: dict[str, set[str]] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, records: list[dict]) -> None:
        self.rows_flagged += 1
        self.rows_near_copy += any(record["coverage"] >= NEAR_COPY for record in records)
        for suite in {record["suite"] for record in records}:
            self.rows_flagged_per_suite[suite] = self.rows_flagged_per_suite.get(suite, 0) + 1
        for record in records:
            self.problems_seen.setdefault(record["suite"], set()).add(record["problem_id"])

    def as_dict(self, index: EvalIndex) -> dict:
        suites = {}
        for part in index.parts:
            seen = self.problems_seen.get(part.name, set())
            suites[part.name] = {"problems": len(part.problem_ids), "problems_seen": len(seen),
                                 "rows_flagged": self.rows_flagged_per_suite.get(part.name, 0),
                                 "seen_problem_ids": sorted(seen)}
        return {"rows_scanned": self.rows_scanned, "rows_flagged": self.rows_flagged,
                "rows_near_copy": self.rows_near_copy, "suites": suites,
                "seconds": round(self.seconds, 3), "index": index.describe()}

    def lines(self, index: EvalIndex) -> list[str]:
        share = self.rows_flagged / self.rows_scanned if self.rows_scanned else 0.0
        rate = self.rows_scanned / self.seconds if self.seconds else 0.0
        lines = [f"{self.rows_scanned} rows scanned, {self.rows_flagged} flagged ({share:.2%}), "
                 f"{index.n}-grams, {self.seconds:.1f} s ({rate:,.0f} rows/s)",
                 f"  {self.rows_near_copy} of the flagged rows hold >= {NEAR_COPY:.0%} of some problem's n-grams "
                 f"(near copies); the others share only part of a problem (see `coverage` in the report)"]
        for name, info in self.as_dict(index)["suites"].items():
            lines.append(f"  {name}: {info['rows_flagged']} rows flagged; "
                         f"{info['problems_seen']}/{info['problems']} problems seen")
        for name, reason in index.skipped.items():
            lines.append(f"  {name}: skipped ({reason})")
        return lines


def refuse_existing(path: Path | None, flag: str, overwrite: bool) -> None:
    if path is not None and path.exists() and not overwrite:
        raise HarnessError(f"{flag} {path}: already exists (pass --overwrite to replace it)")


def decontaminate(reader, index: EvalIndex, out: Path, clean: Path | None = None, jobs: int = 1,
                  overwrite: bool = False, min_coverage: float = 0.0) -> Summary:
    """Scan every row of `reader`; write the report to `out` (and unflagged rows to `clean`)."""
    from harness.decontam.clean import clean_writer

    for path, flag in ((out, "--out"), (clean, "--write-clean")):
        refuse_existing(path, flag, overwrite)
        if path is not None and Path(reader.path).exists() and path.resolve() == Path(reader.path).resolve():
            raise HarnessError(f"{flag} {path}: is the training file itself")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.with_name(f".{out.name}.partial{os.getpid()}")
    writer = clean_writer(reader, clean) if clean else None
    summary, started = Summary(), time.monotonic()
    try:
        with open(staging, "w", encoding="utf-8") as report, progress(None, "decontam") as bar:
            bar.unit = "row"
            for chunk in scan_chunks(reader.chunks(CHUNK_ROWS), index, reader.extract, jobs):
                flagged = set()
                for offset, matches in chunk.matches:
                    records = match_records(matches, index, min_coverage)
                    if records:
                        flagged.add(offset)
                        report.write(json.dumps({"index": chunk.start + offset, "matches": records}, ensure_ascii=False) + "\n")
                        summary.add(records)
                rows = len(chunk.raw) if isinstance(chunk.raw, list) else _rows_in(chunk.raw)
                summary.rows_scanned += rows
                if writer:
                    writer.write(chunk, flagged)
                bar.update(rows)
        summary.seconds = time.monotonic() - started
        if summary.rows_scanned == 0:  # a clean verdict on nothing would pass a CI check silently
            raise HarnessError(f"--train {reader.path}: no rows to scan (empty input)")
        if writer:
            writer.finish()
        os.replace(staging, out)
    except BaseException:
        staging.unlink(missing_ok=True)
        if writer:
            writer.abandon()
        raise
    return summary


def _rows_in(raw) -> int:
    if isinstance(raw, tuple):  # (start, count) of an Arrow directory slice
        return raw[1]
    return raw.num_rows


def print_summary(summary: Summary, index: EvalIndex, stream=sys.stdout) -> None:
    for line in summary.lines(index):
        print(line, file=stream)
