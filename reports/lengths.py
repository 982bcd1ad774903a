"""Length analytics of one suite of a run: token percentiles, budget curve, pass@k curve, seed blocks.

metrics.json carries these fields (contract, "Length analytics") for runs graded by a harness that
writes them; older runs and runs in progress do not, so the viewer and the reports take the
metrics' values when present and otherwise compute them here from the per-sample verdicts and
token counts, with the contract's definitions. `length_charts` draws the budget-curve, length
histogram and truncation plots for the leaderboard and paper pages.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from harness.metrics import mean_pass_at_k

FIRST_BUDGET = 256
SEED_BLOCKS = 4
FIELDS = ("tokens", "budget_curve", "pass@k_curve", "seed_blocks")


@dataclass(frozen=True)
class Sample:
    problem_id: str
    sample: int
    correct: bool
    num_tokens: int | None = None
    finish_reason: str | None = None


def token_stats(samples: Sequence[Sample]) -> dict[str, float | None] | None:
    tokens = [s.num_tokens for s in samples if s.num_tokens is not None]
    if not tokens:
        return None
    p50, p90, p99 = (float(v) for v in np.percentile(tokens, [50, 90, 99]))
    right = [s.num_tokens for s in samples if s.num_tokens is not None and s.correct]
    wrong = [s.num_tokens for s in samples if s.num_tokens is not None and not s.correct]
    return {"p50": p50, "p90": p90, "p99": p99, "max": int(max(tokens)),
            "mean_correct": float(np.mean(right)) if right else None,
            "mean_incorrect": float(np.mean(wrong)) if wrong else None}


def budgets(max_tokens: int | None, longest: int) -> list[int]:
    """256, 512, ... below max_tokens, then max_tokens; unknown budget: up to the first >= longest."""
    if max_tokens is None:
        out = [FIRST_BUDGET]
        while out[-1] < longest:
            out.append(out[-1] * 2)
        return out
    out, budget = [], FIRST_BUDGET
    while budget < max_tokens:
        out.append(budget)
        budget *= 2
    return out + [int(max_tokens)]


def by_problem(samples: Iterable[Sample]) -> dict[str, list[Sample]]:
    groups: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        groups[s.problem_id].append(s)
    return groups


def budget_curve(samples: Sequence[Sample], max_tokens: int | None) -> dict[str, float] | None:
    if not samples or any(s.num_tokens is None for s in samples):
        return None
    groups = by_problem(samples)
    curve = {}
    for budget in budgets(max_tokens, max(s.num_tokens for s in samples)):
        rates = [sum(s.correct and s.num_tokens <= budget for s in group) / len(group) for group in groups.values()]
        curve[str(budget)] = float(np.mean(rates))
    return curve


def pass_at_k_curve(samples: Sequence[Sample]) -> dict[str, float] | None:
    groups = by_problem(samples)
    if not groups:
        return None
    counts = [(len(g), sum(s.correct for s in g)) for g in groups.values()]
    n = min(count for count, _ in counts)
    ks, k = [], 1
    while k <= n:
        ks.append(k)
        k *= 2
    ks = sorted(set(ks + [n]))
    return {str(k): mean_pass_at_k(counts, k) for k in ks}


def seed_blocks(samples: Sequence[Sample], blocks: int = SEED_BLOCKS) -> dict[str, Any] | None:
    """Samples 0..n-1 cut in `blocks` consecutive blocks; pass@1 per block; mean and std (ddof=1)."""
    groups = by_problem(samples)
    if not groups:
        return None
    n = min(len(g) for g in groups.values())
    if n < 4:
        return None
    size = n // blocks
    values = []
    for block in range(blocks):
        wanted = range(block * size, (block + 1) * size)
        values.append(float(np.mean([np.mean([s.correct for s in g if s.sample in wanted]) for g in groups.values()])))
    return {"blocks": blocks, "block_size": size, "mean": float(np.mean(values)), "std": float(np.std(values, ddof=1))}


def analytics(samples: Sequence[Sample], max_tokens: int | None, metrics: dict[str, Any] | None = None) -> dict[str, Any]:
    """The four contract fields: metrics.json's values where present, computed otherwise."""
    metrics = metrics or {}
    computed = {"tokens": lambda: token_stats(samples), "budget_curve": lambda: budget_curve(samples, max_tokens),
                "pass@k_curve": lambda: pass_at_k_curve(samples), "seed_blocks": lambda: seed_blocks(samples)}
    return {name: metrics[name] if metrics.get(name) is not None else computed[name]() for name in FIELDS}


def truncation_rate(samples: Sequence[Sample]) -> float | None:
    known = [s for s in samples if s.finish_reason is not None]
    return sum(s.finish_reason == "length" for s in known) / len(known) if known else None


def run_samples(run_dir: Path, suite: str) -> list[Sample]:
    """One suite's graded samples, read through the viewer's offset index (no response text)."""
    from reports.run_index import RunIndex

    index = RunIndex(run_dir)
    generations = {(e["problem_id"], int(e["sample"])): e for e in index.generations.entries
                   if "error" not in e and e.get("suite", suite) == suite}
    out = []
    for grade in index.grades.entries:
        if "error" in grade or grade.get("suite", suite) != suite:
            continue
        gen = generations.get((grade["problem_id"], int(grade["sample"])), {})
        out.append(Sample(grade["problem_id"], int(grade["sample"]), bool(grade.get("correct")),
                          gen.get("num_tokens"), gen.get("finish_reason")))
    return out


def length_charts(runs: Sequence[Any], out: Path, prefix: str = "lengths") -> list[tuple[str, Path]]:
    """(caption, png) for the budget curves, length histogram and truncation rates of SuiteRuns."""
    from reports.charts import budget_curve_chart, length_histogram_chart, truncation_chart

    curves, rates, right, wrong = {}, {}, [], []
    for run in runs:
        label = f"{run.suite} {run.model}" if len({r.model for r in runs}) > 1 else run.suite
        samples = run_samples(run.path, run.suite)
        curve = analytics(samples, run.max_tokens, run.metrics)["budget_curve"]
        if curve:
            curves[label] = curve
        rates[label] = run.metrics.get("truncation_rate")
        if rates[label] is None:
            rates[label] = truncation_rate(samples)
        right += [s.num_tokens for s in samples if s.correct and s.num_tokens is not None]
        wrong += [s.num_tokens for s in samples if not s.correct and s.num_tokens is not None]
    images = []
    if curves:
        images.append(("budget curve: pass@1 had max_tokens been lower", budget_curve_chart(curves, out / f"{prefix}-budget.png")))
    if right or wrong:
        images.append(("response length by verdict", length_histogram_chart(right, wrong, out / f"{prefix}-histogram.png")))
    if any(rate is not None for rate in rates.values()):
        images.append(("truncation rate (finish_reason = length)", truncation_chart(rates, out / f"{prefix}-truncation.png")))
    return images
