"""Model x suite leaderboard of pass@1 from run directories, with published rows beside them.

Rows are sorted by (number of suites the row covers, mean pass@1 over those suites), both
descending: a mean over fewer suites is not ranked above a row that covers more. Within a suite
column, the settings that change what a number means (suite version and data, problem count, n,
max tokens, grader mode, GPQA option order, LCB public tests, think policy) are compared with the
column's most common setting; cells that differ are marked with a warning sign and a footnote
says how. Published cells come from suites/data/papers/<paper>.csv and are marked as such.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Sequence

import pandas as pd

from harness.errors import HarnessError
from reports.markdown import md_table, pct
from reports.runs import SuiteRun
from suites.papers import check_paper, paper_rows

INCOMPARABLE = "\u26a0"  # shown in a cell whose settings differ from its column's


class Footnotes:
    def __init__(self) -> None:
        self.texts: list[str] = []

    def add(self, text: str) -> int:
        if text not in self.texts:
            self.texts.append(text)
        return self.texts.index(text) + 1


@dataclass
class Cell:
    row: str
    suite: str
    source: str  # measured | published
    pass_at_1: float
    protocol: str
    origin: str  # run directory, or the paper and table
    ci95: tuple[float, float] | None = None
    n: int | None = None
    problems: int | None = None
    incomparable: bool = False
    notes: list[int] = field(default_factory=list)
    publisher: float | None = None  # the publisher's pass@1 of the same imported samples
    disagreements: int | None = None
    samples: int | None = None
    seed_blocks: dict[str, Any] | None = None  # metrics.json `seed_blocks`: mean ± std over seed blocks

    def text(self) -> str:
        """Cell text shared by Markdown and HTML."""
        if self.source == "published":
            value = f"{pct(self.pass_at_1)} (published)"
        else:
            low, high = self.ci95 or (None, None)
            value = f"{pct(self.pass_at_1)} [{pct(low)}, {pct(high)}] {self.protocol}"
        if self.publisher is not None:
            value += f"; publisher {pct(self.publisher)}, {self.disagreements} of {self.samples} samples disagree"
        marks = (INCOMPARABLE if self.incomparable else "") + "".join(f"[{k}]" for k in self.notes)
        return f"{value} {marks}".strip()


@dataclass
class Row:
    label: str
    source: str
    cells: dict[str, Cell]

    @property
    def covered(self) -> int:
        return len(self.cells)

    @property
    def mean(self) -> float:
        return sum(cell.pass_at_1 for cell in self.cells.values()) / len(self.cells)


@dataclass
class Leaderboard:
    suites: list[str]
    rows: list[Row]
    footnotes: list[str]

    def markdown(self) -> str:
        headers = ["#", "model", "source", "mean (suites)"] + self.suites
        body = [[rank, row.label, row.source, f"{pct(row.mean)} ({row.covered})"]
                + [row.cells[s].text() if s in row.cells else "" for s in self.suites]
                for rank, row in enumerate(self.rows, start=1)]
        table = md_table(headers, body, [True, False, False, True] + [True] * len(self.suites))
        notes = [f"[{k}] {text}" for k, text in enumerate(self.footnotes, start=1)]
        legend = (f"pass@1 in percent with 95% bootstrap interval and protocol (n samples, max tokens, "
                  f"temperature). {INCOMPARABLE} = settings differ from the rest of the column. Rows sorted by "
                  "suites covered, then mean pass@1.")
        return "\n\n".join([table, legend, "\n".join(notes)]).strip() + "\n"

    def frame(self) -> pd.DataFrame:
        records = []
        for row in self.rows:
            for cell in row.cells.values():
                low, high = cell.ci95 or (None, None)
                records.append({
                    "model": row.label, "source": cell.source, "suite": cell.suite, "pass@1": cell.pass_at_1,
                    "ci95_low": low, "ci95_high": high, "n": cell.n, "problems": cell.problems,
                    "protocol": cell.protocol, "incomparable": cell.incomparable,
                    "notes": " | ".join(self.footnotes[k - 1] for k in cell.notes),
                    "publisher_pass@1": cell.publisher, "disagreements": cell.disagreements,
                    **seed_columns(cell.seed_blocks), "origin": cell.origin})
        return pd.DataFrame.from_records(records)


def seed_columns(blocks: dict[str, Any] | None) -> dict[str, Any]:
    """CSV columns for the seed spread: papers' "mean ± std over seeds" (None when n < 4)."""
    blocks = blocks or {}
    return {"seed_blocks": blocks.get("blocks"), "seed_block_size": blocks.get("block_size"),
            "seed_mean": blocks.get("mean"), "seed_std": blocks.get("std")}


def build_leaderboard(runs: Sequence[SuiteRun], papers: Sequence[str] = (),
                      paper_models: Sequence[str] | None = None) -> Leaderboard:
    suites = list(dict.fromkeys(run.suite for run in runs))
    notes = Footnotes()
    rows = measured_rows(runs, notes)
    for paper in papers:
        rows += published_rows(paper, suites, paper_models, notes)
    rows.sort(key=lambda row: (-row.covered, -row.mean, row.label))
    return Leaderboard(suites, rows, notes.texts)


def row_labels(runs: Sequence[SuiteRun]) -> list[str]:
    """The model name, plus the run directory when one model has several runs of a suite."""
    repeated = Counter((run.model, run.suite) for run in runs)
    ambiguous = {model for (model, _), count in repeated.items() if count > 1}
    return [f"{run.model} [{run.path.name}]" if run.model in ambiguous else run.model for run in runs]


def measured_rows(runs: Sequence[SuiteRun], notes: Footnotes) -> list[Row]:
    references = column_references(runs)
    rows: dict[str, Row] = {}
    for run, label in zip(runs, row_labels(runs)):
        cell = Cell(row=label, suite=run.suite, source="measured", pass_at_1=run.pass_at_1,
                    protocol=run.protocol(), origin=str(run.path), ci95=run.ci95, n=run.n,
                    problems=int(run.metrics["num_problems"]), publisher=run.published_pass_at_1,
                    disagreements=run.disagreements, samples=sum(n for n, _ in run.counts.values()),
                    seed_blocks=run.metrics.get("seed_blocks"))
        differences = describe_differences(run.comparability(), references[run.suite])
        if differences:
            cell.incomparable = True
            cell.notes.append(notes.add(f"{run.suite}: {label} differs from the column: {differences}"))
        if run.kind == "grade":
            cell.notes.append(notes.add("Generations imported from elsewhere and graded here; their sampling "
                                        "settings (max tokens, temperature) are unknown."))
        if run.metrics.get("deviations"):
            cell.notes.append(notes.add(f"{run.suite}: deviates from the published protocol: "
                                        + "; ".join(run.metrics["deviations"])))
        rows.setdefault(label, Row(label, "measured", {})).cells[run.suite] = cell
    return list(rows.values())


def column_references(runs: Sequence[SuiteRun]) -> dict[str, dict[str, Any]]:
    """Per suite, the settings most of its runs share (ties: the first run's)."""
    keys: dict[str, list[str]] = defaultdict(list)
    for run in runs:
        keys[run.suite].append(json.dumps(run.comparability(), sort_keys=True))
    return {suite: json.loads(Counter(values).most_common(1)[0][0]) for suite, values in keys.items()}


def describe_differences(key: dict[str, Any], reference: dict[str, Any]) -> str:
    def show(value: Any) -> str:
        return "unknown" if value is None else str(value)

    return "; ".join(f"{name} {show(key.get(name))} (column: {show(reference.get(name))})"
                     for name in sorted(key.keys() | reference.keys()) if key.get(name) != reference.get(name))


def published_rows(paper: str, suites: Sequence[str], models: Sequence[str] | None, notes: Footnotes) -> list[Row]:
    check_paper(paper)
    rows: dict[str, Row] = {}
    for record in paper_rows(paper):
        model, suite = record["model"], record["benchmark"]
        if suite not in suites or (models and model not in models):
            continue
        label = f"{model} ({record['params']})" if record.get("params") else model
        row = rows.setdefault(label, Row(label, "published", {}))
        if suite in row.cells:  # the first table a model appears in wins, as in suites.papers
            continue
        note = notes.add(f"Published in {record['source']} ({record['table']}), copied from "
                         f"suites/data/papers/{paper}.csv; not measured here.")
        row.cells[suite] = Cell(row=label, suite=suite, source="published", pass_at_1=float(record["score"]) / 100,
                                protocol="as published", origin=f"{record['source']} {record['table']}",
                                notes=[note])
    if models:
        unknown = set(models) - {record["model"] for record in paper_rows(paper)}
        if unknown:
            raise HarnessError(f"--paper-models: {', '.join(sorted(unknown))} not in paper {paper}")
    return list(rows.values())
