"""Run directories as reports see them: one `SuiteRun` per (run, suite), with per-problem counts.

Reports never load a model: everything comes from manifest.json, metrics.json, grades.jsonl and
(for the publisher's verdicts kept by `harness import`) generations.jsonl. `comparability` is
harness.identity's one definition of what makes two numbers of the same suite comparable.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from harness.errors import HarnessError
from harness.identity import comparable_identity, problem_ids_sha256, suite_settings
from harness.rundir import RunDir

Counts = dict[str, tuple[int, int]]  # problem_id -> (samples, correct samples)
GRADE_FIELDS = ("suite", "problem_id", "sample", "correct")
PUBLISHED_FIELDS = ("suite", "problem_id", "sample", "published_correct")


@dataclass
class SuiteRun:
    path: Path
    kind: str  # eval | grade
    model: str
    suite: str
    metrics: dict[str, Any]
    identity: dict[str, Any]  # the manifest's entry for this suite
    grader: dict[str, Any]
    backend: str | None
    counts: Counts
    published: Counts = field(default_factory=dict)  # the publisher's verdicts, for imported runs
    disagreements: int | None = None

    @property
    def pass_at_1(self) -> float:
        return float(self.metrics["pass@1"])

    @property
    def ci95(self) -> tuple[float, float]:
        low, high = self.metrics["ci95"]
        return float(low), float(high)

    @property
    def n(self) -> int:
        return int(self.metrics["n"])

    @property
    def sampling(self) -> dict[str, Any]:
        return self.identity.get("sampling", {})

    @property
    def max_tokens(self) -> int | None:
        """Imported generations were made elsewhere: their token budget is unknown."""
        if self.kind == "grade":
            return None
        return self.metrics.get("max_tokens", self.sampling.get("max_tokens"))

    @property
    def published_pass_at_1(self) -> float | None:
        if not self.published:
            return None
        return sum(c / n for n, c in self.published.values()) / len(self.published)

    def protocol(self) -> str:
        """Short protocol text for a cell: samples, budget, temperature."""
        budget = "? tok" if self.max_tokens is None else f"{self.max_tokens} tok"
        temperature = "T=?" if self.kind == "grade" else f"T={self.sampling.get('temperature')}"
        return ", ".join([f"n={self.n}", budget, temperature, *self.option_labels()])

    @property
    def options(self) -> dict[str, Any]:
        return self.identity.get("options") or self.metrics.get("options") or {}

    def option_labels(self) -> list[str]:
        """Options that change the number, named in the cell itself (not only in a footnote)."""
        return suite_settings(self.suite).labels(self.options)

    def comparability(self) -> dict[str, Any]:
        """harness.identity's comparable identity of this suite's number (n as graded)."""
        entry = {**self.identity, "grader": self.identity.get("grader") or {"name": self.grader.get("grader")}}
        key = comparable_identity(entry, self.kind)
        # what was graded, also for runs whose manifest predates these fields
        key.update({"sampling.n": self.n, "problems": len(self.counts), "problem_ids_sha256": problem_ids_sha256(self.counts)})
        return key


def load_runs(paths: Iterable[Path | str]) -> list[SuiteRun]:
    runs = [suite_run for path in paths for suite_run in load_run(Path(path))]
    if not runs:
        raise HarnessError("RUN_DIR: no runs given")
    return runs


def check_grades_match(run: RunDir, suite: str, grades: list, metrics: dict) -> None:
    expected = metrics.get("num_samples")
    if expected is not None and len(grades) != expected:
        raise HarnessError(f"{run.grades_path}: holds {len(grades)} graded samples of {suite}, metrics.json "
                           f"counts {expected}; the file was emptied or edited (re-run the run's command)")


def load_run(path: Path) -> list[SuiteRun]:
    run = RunDir(path)
    if not run.exists():
        raise HarnessError(f"{path}: not a run directory (no manifest.json)")
    if not run.metrics_path.exists():
        raise HarnessError(f"{run.metrics_path}: not found; the run did not finish (re-run its command to resume)")
    manifest = run.manifest()
    identities = {entry["name"]: entry for entry in manifest.get("suites", [])}
    grades = by_suite(run.iter_records("grades.jsonl", GRADE_FIELDS))
    # streamed: of generations.jsonl only the publisher's verdicts (imported runs) are kept
    published = by_suite(g for g in run.iter_records("generations.jsonl", PUBLISHED_FIELDS, b'"published_correct"')
                       if "published_correct" in g)
    suite_runs = []
    for metrics in run.metrics():
        name = metrics["suite"]
        if name not in identities:
            raise HarnessError(f"{run.manifest_path}: suite {name} of metrics.json is not in the manifest")
        suite_grades = grades.get(name, [])
        check_grades_match(run, name, suite_grades, metrics)
        suite_runs.append(SuiteRun(
            path=path, kind=manifest.get("kind", "eval"), model=str(metrics.get("model")), suite=name,
            metrics=metrics, identity=identities[name],
            grader=(manifest.get("grader") or {}).get(name, {}),
            backend=manifest.get("backend_name"),
            counts=problem_counts(suite_grades, "correct"),
            published=problem_counts(published.get(name, []), "published_correct"),
            disagreements=count_disagreements(suite_grades, published.get(name, [])),
        ))
    return suite_runs


def by_suite(records: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        groups[record["suite"]].append(record)
    return groups


def problem_counts(records: list[dict[str, Any]], verdict: str) -> Counts:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for record in records:
        totals[record["problem_id"]][0] += 1
        totals[record["problem_id"]][1] += bool(record[verdict])
    return {problem: (n, c) for problem, (n, c) in totals.items()}


def count_disagreements(grades: list[dict[str, Any]], published: list[dict[str, Any]]) -> int | None:
    """Samples our grader and the publisher's judged differently (None when nothing was imported)."""
    if not published:
        return None
    theirs = {(g["problem_id"], g["sample"]): bool(g["published_correct"]) for g in published}
    return sum(1 for g in grades if (g["problem_id"], g["sample"]) in theirs
               and theirs[(g["problem_id"], g["sample"])] != bool(g["correct"]))
