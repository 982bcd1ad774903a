"""Estimators: pure functions over per-problem counts, with the hand values the tests check.

- pass@1 = mean over problems of c_i / n_i.
- pass@k (unbiased, Chen et al. 2021) = mean over problems of 1 - C(n-c, k) / C(n, k), computed
  as the product prod_{i=n-c+1}^{n} (1 - k / i), which never forms a large binomial. k > n is an
  error (peers return 1.0 when c = 0 and n < k: human-eval #35).
- cons@n: majority vote over normalised extracted answers; samples with no answer do not vote;
  ties go to the answer whose first vote came earliest (lowest sample index); a problem where no
  sample answered counts as wrong.
- ci95: percentile bootstrap over problems (resampling problems, not samples), seeded.
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

import numpy as np

from harness.errors import HarnessError

BOOTSTRAP_ITERATIONS = 2000
BOOTSTRAP_SEED = 0


def pass_at_k(n: int, c: int, k: int) -> float:
    if not 0 <= c <= n:
        raise ValueError(f"correct count {c} outside [0, {n}]")
    if k < 1 or k > n:
        raise ValueError(f"pass@{k} needs 1 <= k <= n = {n}")
    if n - c < k:
        return 1.0
    return 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def mean_pass_at_k(counts: Sequence[tuple[int, int]], k: int) -> float:
    """Mean of pass@k over problems, counts = [(n_i, c_i)]."""
    return float(np.mean([pass_at_k(n, c, k) for n, c in counts]))


def pass_at_1(counts: Sequence[tuple[int, int]]) -> float:
    return float(np.mean([c / n for n, c in counts]))


def bootstrap_ci(per_problem: Sequence[float], iterations: int = BOOTSTRAP_ITERATIONS,
                 seed: int = BOOTSTRAP_SEED, level: float = 0.95) -> tuple[float, float]:
    values = np.asarray(per_problem, dtype=float)
    if len(values) == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(values), size=(iterations, len(values)))
    means = values[draws].mean(axis=1)
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return (float(low), float(high))


def majority_answer(answers: Iterable[str | None]) -> str | None:
    """Most frequent non-null answer; ties go to the one seen first."""
    votes = Counter()
    first_seen: dict[str, int] = {}
    for index, answer in enumerate(answers):
        if answer is None:
            continue
        votes[answer] += 1
        first_seen.setdefault(answer, index)
    if not votes:
        return None
    return min(votes, key=lambda answer: (-votes[answer], first_seen[answer]))


def check_ks(ks: Iterable[int], n: int) -> list[int]:
    ks = sorted(set(ks))
    too_big = [k for k in ks if k > n]
    if too_big:
        raise HarnessError(f"--k {','.join(map(str, too_big))}: pass@k needs k <= n = {n} samples per problem")
    if any(k < 1 for k in ks):
        raise HarnessError("--k: every k must be >= 1")
    return ks
