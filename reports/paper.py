"""Paper-table reproduction: measured pass@1 against a paper's published number, suite by suite.

Verdicts: `reproduced` when the published value lies inside the measured 95% interval, `below` /
`above` when the whole interval is below / above it. Each line lists the protocol differences
that could explain a gap: the run's recorded deviations (samples, max tokens, sampling, problem
subset, suite options such as GPQA option order or LCB public tests), plus the inference engine and
grader against suites/data/papers/<paper>.protocol.yaml (optional, per paper).

Two numbers of spread are shown and only one decides. The verdict uses the 95% bootstrap interval
of the measured pass@1, with the `interval` method chosen (harness.metrics.bootstrap_ci_counts):
`problems` (default; a population of problems like these), `two-level` (the same, with the
within-problem sampling made explicit), or `samples` (a fixed benchmark: the paper measured the
same problems, so only sampling noise separates its number from ours). Beside it, `mean ± std over
K seed blocks` (metrics.json `seed_blocks`) is what papers report as "mean ± std over seeds": the
spread of one run of block_size samples per problem on these problems. It is not an interval for
our mean (that of K blocks moves by std / sqrt(K)) and ignores which problems were drawn, so it
is for comparing with a paper's ±, not for the verdict.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Sequence

import yaml

from harness.errors import HarnessError
from harness.metrics import INTERVAL_METHODS, bootstrap_ci_counts
from reports.markdown import md_table, pct
from reports.runs import SuiteRun
from suites import get_suite
from suites.papers import PAPERS_DIR, check_paper, paper_rows, reference_scores


@dataclass
class PaperLine:
    suite: str
    run: str
    model: str
    published: float
    measured: float
    ci95: tuple[float, float]
    n: int
    problems: int
    differences: list[str]
    audit: str = ""  # "grader disagreement: 0.8% of samples" when the run has an audit.json

    @property
    def measured_cell(self) -> str:
        cell = f"{pct(self.measured)} [{pct(self.ci95[0])}, {pct(self.ci95[1])}]"
        return f"{cell} ({self.audit})" if self.audit else cell
    seed_blocks: dict[str, Any] | None = None
    interval: str = "problems"

    @property
    def seeds(self) -> str:
        """`mean ± std (K x size)` over seed blocks, or "-" when n < 4."""
        blocks = self.seed_blocks
        if not blocks:
            return "-"
        return (f"{pct(blocks['mean'])} \u00b1 {pct(blocks['std'])} "
                f"({blocks['blocks']} x {blocks['block_size']})")

    @property
    def difference(self) -> float:
        return self.measured - self.published

    @property
    def verdict(self) -> str:
        low, high = self.ci95
        if high < self.published:
            return "below"
        if low > self.published:
            return "above"
        return "reproduced"


@dataclass
class PaperReport:
    paper: str
    paper_model: str
    source: str
    lines: list[PaperLine]
    unpublished: list[str]  # measured suites the paper has no number for
    interval: str = "problems"
    runs: list[SuiteRun] = field(default_factory=list)  # the measured runs, for the pass@k charts

    def intro(self) -> list[str]:
        text = [f"Published numbers: {self.source}, model {self.paper_model} (suites/data/papers/{self.paper}.csv). "
                f"Verdict: reproduced = the published value lies inside the measured 95% bootstrap interval "
                f"({INTERVAL_NOTES[self.interval]}); below/above = the whole interval is below/above it.",
                "Seed blocks: mean \u00b1 std of pass@1 over K consecutive blocks of samples (K x samples per "
                "block), the \"mean \u00b1 std over seeds\" papers report: how much one run of that size moves "
                "between seeds. The verdict does not use it: it is not an interval for the measured mean (that "
                "moves by std / sqrt(K)) and it ignores which problems were drawn."]
        if self.unpublished:
            text.append("Measured but not in the paper: " + ", ".join(self.unpublished) + ".")
        return text

    def markdown(self) -> str:
        rows = [[line.suite, line.model, pct(line.published), line.measured_cell, line.seeds,
                 pct(line.difference, signed=True), line.verdict,
                 f"{line.n} x {line.problems}", "; ".join(line.differences) or "none"]
                for line in self.lines]
        table = md_table(["suite", "measured model", "published", "measured [95% CI]",
                          "mean \u00b1 std over seed blocks", "difference", "verdict",
                          "n x problems", "protocol differences"], rows,
                         [False, False, True, True, True, True, False, True, False])
        return "\n\n".join([table, *self.intro()]) + "\n"


INTERVAL_NOTES = {
    "problems": "problems resampled: a population of problems like these",
    "two-level": "problems, then samples within problems, resampled: a population of problems",
    "samples": "samples resampled within each problem: this fixed benchmark",
}


def measured_interval(run: SuiteRun, method: str) -> tuple[float, float]:
    """metrics.json's interval for `method`; computed from the counts for runs scored before it was recorded."""
    if method not in INTERVAL_METHODS:
        raise HarnessError(f"--interval {method}: one of {', '.join(INTERVAL_METHODS)}")
    recorded = (run.metrics.get("ci95_by_method") or {}).get(method)
    if recorded is not None:
        return float(recorded[0]), float(recorded[1])
    if method == "problems":
        return run.ci95
    return bootstrap_ci_counts(list(run.counts.values()), method)


def default_model(paper: str) -> str:
    """The paper's own model: the row whose name is the paper's name (vibethinker-1.5b -> VibeThinker-1.5B)."""
    models = list(dict.fromkeys(row["model"] for row in paper_rows(paper)))
    for model in models:
        if model.lower() == paper.lower():
            return model
    raise HarnessError(f"--paper-model: required for paper {paper} (one of: {', '.join(models)})")


@lru_cache(maxsize=None)
def published_protocol(paper: str) -> dict[str, Any]:
    """suites/data/papers/<paper>.protocol.yaml: engine and graders of the published evaluation."""
    path = PAPERS_DIR / f"{paper}.protocol.yaml"
    if not path.is_file():
        return {}
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise HarnessError(f"{path}: not valid YAML ({exc})") from None


def suite_kind(name: str) -> str | None:
    try:
        return get_suite(name).kind
    except HarnessError:  # a suite this install does not register: no kind-specific notes
        return None


def engine_and_grader_differences(run: SuiteRun, paper: str) -> list[str]:
    protocol = published_protocol(paper)
    notes = []
    engine = protocol.get("engine")
    if run.kind == "grade":
        notes.append("generations imported from elsewhere: engine and sampling unknown")
    elif engine and run.backend and run.backend.lower() != engine.lower():
        notes.append(f"engine {run.backend} (published: {engine})")
    options = run.metrics.get("options") or {}
    published_grader = (protocol.get("graders") or {}).get(suite_kind(run.suite) or "")
    if "grader" in options:  # LiveCodeBench: compat mode is the official grader, bug for bug
        if options["grader"] != "compat":
            notes.append(f"grader mode {options['grader']} (published: {published_grader or 'official'})")
    elif published_grader:
        ours = (run.grader.get("grader") or "?").rsplit(".", 1)[-1]
        notes.append(f"grader {ours} (published: {published_grader})")
    return notes


def run_differences(run: SuiteRun, paper: str) -> list[str]:
    """The run's recorded deviations (every declared MEASURE setting away from the published
    protocol, from harness.settings), then engine and grader against the paper's protocol."""
    return list(run.metrics.get("deviations") or []) + engine_and_grader_differences(run, paper)


def audit_note(run: SuiteRun) -> str:
    """The run's `harness audit` disagreement rate for this suite, or "" (no audit, or skipped)."""
    path = run.path / "audit.json"
    if not path.is_file():
        return ""
    stats = json.loads(path.read_text(encoding="utf-8")).get("suites", {}).get(run.suite, {})
    if not stats.get("samples"):
        return ""
    return f"grader disagreement: {100 * stats['rate']:.1f}% of samples"


def build_paper_report(runs: Sequence[SuiteRun], paper: str, paper_model: str | None = None,
                       interval: str = "problems") -> PaperReport:
    check_paper(paper)
    model = paper_model or default_model(paper)
    if model not in {row["model"] for row in paper_rows(paper)}:
        raise HarnessError(f"--paper-model {model}: not in paper {paper}")
    lines, unpublished = [], []
    for run in runs:
        published = reference_scores(run.suite, paper).get(model)
        if published is None:
            unpublished.append(f"{run.suite} ({run.path.name})")
            continue
        lines.append(PaperLine(run.suite, str(run.path), run.model, published / 100, run.pass_at_1,
                               measured_interval(run, interval), run.n, int(run.metrics["num_problems"]),
                               run_differences(run, paper), audit_note(run), run.metrics.get("seed_blocks"), interval))
    if not lines:
        raise HarnessError(f"--paper {paper}: publishes no number for {model} on "
                           f"{', '.join(sorted({run.suite for run in runs}))}")
    sources = sorted({row["source"] for row in paper_rows(paper) if row["model"] == model})
    return PaperReport(paper, model, ", ".join(sources), lines, unpublished, interval, list(runs))
