"""Grades -> metrics.json objects, and the deviations of a run from the published protocol."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterable, Sequence

import numpy as np

from harness.errors import HarnessError
from harness.metrics import (INTERVAL_METHODS, bootstrap_ci, bootstrap_ci_counts, budget_curve, check_ks,
                             majority_answer, mean_pass_at_k, pass_at_1, pass_at_k_curve, seed_blocks,
                             token_summary)
from harness.sampling import Sampling
from suites.base import Problem, Suite


def group_by_problem(grades: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for grade in grades:
        groups[grade["problem_id"]].append(grade)
    for samples in groups.values():
        samples.sort(key=lambda grade: grade["sample"])
    return groups


def vote_key(grade: dict[str, Any]) -> str | None:
    return grade.get("answer_key") or grade.get("extracted")


def consensus_correct(samples: Sequence[dict[str, Any]]) -> bool:
    winner = majority_answer(vote_key(grade) for grade in samples)
    return winner is not None and next(g["correct"] for g in samples if vote_key(g) == winner)


def breakdown(groups: dict[str, list[dict[str, Any]]], problems: dict[str, Problem],
              fields: Sequence[str]) -> dict[str, dict[str, dict[str, float]]]:
    out: dict[str, dict[str, dict[str, float]]] = {}
    for field in fields:
        buckets: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for problem_id, samples in groups.items():
            value = problems[problem_id].metadata.get(field) if problem_id in problems else None
            buckets[str(value)].append((len(samples), sum(g["correct"] for g in samples)))
        out[field] = {value: {"num_problems": len(counts), "pass@1": pass_at_1(counts)}
                      for value, counts in sorted(buckets.items())}
    return out


def suite_metrics(suite: Suite, model: str, grades: Sequence[dict[str, Any]],
                  generations: Sequence[dict[str, Any]], ks: Sequence[int],
                  problems: dict[str, Problem], extra: dict[str, Any] | None = None,
                  budget: int | None = None) -> dict[str, Any]:
    """metrics.json object of one suite; `budget` is the run's max_tokens (None when unknown:
    imported generations), the top of `budget_curve`."""
    groups = group_by_problem(grades)
    if not groups:
        raise HarnessError(f"suite {suite.name}: no graded samples")
    counts = [(len(samples), sum(bool(g["correct"]) for g in samples)) for samples in groups.values()]
    sizes = sorted({n for n, _ in counts})
    n = sizes[0]
    ks = check_ks(ks, n)
    tokens = [g["num_tokens"] for g in generations if g.get("num_tokens") is not None]
    finishes = [g.get("finish_reason") for g in generations if g.get("finish_reason")]
    metrics = {
        "suite": suite.name,
        "model": model,
        "num_problems": len(groups),
        "n": n,
        "pass@1": pass_at_1(counts),
        "pass@k": {str(k): mean_pass_at_k(counts, k) for k in ks},
        "cons@n": None if suite.kind == "code" else float(np.mean([consensus_correct(s) for s in groups.values()])),
        "ci95": list(bootstrap_ci([c / m for m, c in counts])),
        "truncation_rate": (sum(f == "length" for f in finishes) / len(finishes)) if finishes else None,
        "mean_response_tokens": float(np.mean(tokens)) if tokens else None,
        "num_samples": sum(m for m, _ in counts),
        "reasons": dict(sorted(_reason_counts(grades).items())),
    }
    metrics.update(analytics(groups, generations, counts, n, budget))
    if len(sizes) > 1:
        metrics["n_range"] = [sizes[0], sizes[-1]]
    if suite.breakdown_fields:
        metrics["breakdown"] = breakdown(groups, problems, suite.breakdown_fields)
    metrics.update(extra or {})
    return metrics


def analytics(groups: dict[str, list[dict[str, Any]]], generations: Sequence[dict[str, Any]],
              counts: Sequence[tuple[int, int]], n: int, budget: int | None) -> dict[str, Any]:
    """interfaces.md "Length analytics": tokens, budget_curve, pass@k_curve, seed_blocks; and the
    interval of pass@1 under each bootstrap (`ci95` is the `ci95_method` one)."""
    lengths = {(g["problem_id"], g["sample"]): g.get("num_tokens") for g in generations}
    index, tokens, correct = [], [], []
    for i, samples in enumerate(groups.values()):
        for grade in samples:
            index.append(i)
            tokens.append(lengths.get((grade["problem_id"], grade["sample"])))
            correct.append(bool(grade["correct"]))
    known = [t is not None for t in tokens]
    out: dict[str, Any] = {
        "tokens": token_summary([t for t in tokens if t is not None], [c for c, k in zip(correct, known) if k]),
        "pass@k_curve": pass_at_k_curve(counts, n),
        "ci95_method": "problems",
        "ci95_by_method": {method: list(bootstrap_ci_counts(counts, method)) for method in INTERVAL_METHODS},
    }
    if tokens and all(known):
        out["budget_curve"] = budget_curve(index, tokens, correct, budget)
    blocks = seed_blocks(np.array([[bool(g["correct"]) for g in samples[:n]] for samples in groups.values()]))
    if blocks is not None:
        out["seed_blocks"] = blocks
    return out


def _reason_counts(grades: Iterable[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for grade in grades:
        counts[grade.get("reason") or "unknown"] += 1
    return counts


def protocol_deviations(suite: Suite, sampling: Sampling, options: dict[str, Any],
                        num_problems: int, total_problems: int, subset: str = "--limit") -> list[str]:
    """Sentences for every declared MEASURE setting away from the published protocol, and a subset."""
    notes = sampling.deviations(suite.protocol)
    if num_problems < total_problems:
        notes.append(f"{num_problems} of {total_problems} problems ({subset})")
    return notes + list(suite.option_deviations(options))
