"""Estimators: pure functions over per-problem counts, with the hand values the tests check.

- pass@1 = mean over problems of c_i / n_i.
- pass@k (unbiased, Chen et al. 2021) = mean over problems of 1 - C(n-c, k) / C(n, k), computed
  as the product prod_{i=n-c+1}^{n} (1 - k / i), which never forms a large binomial. k > n is an
  error (peers return 1.0 when c = 0 and n < k: human-eval #35).
- cons@n: majority vote over normalised extracted answers; samples with no answer do not vote;
  ties go to the answer whose first vote came earliest (lowest sample index); a problem where no
  sample answered counts as wrong.
- ci95: percentile bootstrap over problems (resampling problems, not samples), seeded;
  `bootstrap_ci_counts` also gives the two-level and the samples-only interval (which noise each
  describes: its docstring).
- Length analytics and seed variance (`tokens`, `budget_curve`, `pass@k_curve`, `seed_blocks`):
  pure functions over per-sample arrays, defined exactly as docs/interfaces.md "Length analytics".
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


# ---- length analytics and seed variance (interfaces.md "Length analytics") -------------------------

BUDGET_START = 256


def token_summary(num_tokens: Sequence[int], correct: Sequence[bool]) -> dict[str, float | None]:
    """`tokens`: percentiles as numpy.percentile computes them by default (linear), and the mean
    length of correct and of incorrect samples (None when there are none of that kind)."""
    tokens = np.asarray(num_tokens, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    if len(tokens) == 0:
        return {"p50": None, "p90": None, "p99": None, "max": None, "mean_correct": None, "mean_incorrect": None}
    p50, p90, p99 = np.percentile(tokens, [50, 90, 99])
    return {"p50": float(p50), "p90": float(p90), "p99": float(p99), "max": float(tokens.max()),
            "mean_correct": float(tokens[ok].mean()) if ok.any() else None,
            "mean_incorrect": float(tokens[~ok].mean()) if (~ok).any() else None}


def budgets(max_tokens: int | None, longest: int) -> list[int]:
    """256, 512, ... below max_tokens, then max_tokens; unknown max_tokens: powers of two up to the
    first one >= the longest sample."""
    if max_tokens is not None:
        powers = [b for b in _powers_of_two(max_tokens) if b < max_tokens]
        return powers + [int(max_tokens)]
    top = BUDGET_START
    while top < longest:
        top *= 2
    return _powers_of_two(top)


def _powers_of_two(top: int) -> list[int]:
    out, budget = [], BUDGET_START
    while budget <= top:
        out.append(budget)
        budget *= 2
    return out


def budget_curve(problem_index: Sequence[int], num_tokens: Sequence[int], correct: Sequence[bool],
                 max_tokens: int | None) -> dict[str, float]:
    """pass@1 at each budget B: a sample counts only if correct and num_tokens <= B; per problem
    the fraction of its samples, then the mean over problems (as pass@1)."""
    index = np.asarray(problem_index, dtype=int)
    tokens = np.asarray(num_tokens, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    per_problem = np.bincount(index)
    seen = per_problem > 0
    curve = {}
    for budget in budgets(max_tokens, int(tokens.max()) if len(tokens) else 0):
        hits = np.bincount(index, weights=(ok & (tokens <= budget)).astype(float), minlength=len(per_problem))
        curve[str(budget)] = float(np.mean(hits[seen] / per_problem[seen]))
    return curve


def curve_ks(n: int) -> list[int]:
    """1, 2, 4, ... <= n, and n itself."""
    ks, k = [], 1
    while k <= n:
        ks.append(k)
        k *= 2
    return ks if ks[-1] == n else ks + [n]


def pass_at_k_curve(counts: Sequence[tuple[int, int]], n: int) -> dict[str, float]:
    return {str(k): mean_pass_at_k(counts, k) for k in curve_ks(n)}


def seed_block_count(n: int) -> int:
    """4 blocks when n divides by 4, else 3 or 2, else one block per sample (n prime)."""
    return next((blocks for blocks in (4, 3, 2) if n % blocks == 0), n)


def seed_blocks(outcomes: np.ndarray) -> dict[str, float | int] | None:
    """outcomes: problems x n booleans (sample index = column). Samples 0..n-1 are cut into
    consecutive blocks; pass@1 per block; mean and std (ddof=1) over blocks. None when n < 4."""
    outcomes = np.asarray(outcomes, dtype=float)
    n = outcomes.shape[1]
    if n < 4:
        return None
    blocks = seed_block_count(n)
    size = n // blocks
    per_block = outcomes.reshape(len(outcomes), blocks, size).mean(axis=2).mean(axis=0)
    return {"blocks": blocks, "block_size": size, "mean": float(per_block.mean()),
            "std": float(per_block.std(ddof=1))}


# ---- which noise an interval describes --------------------------------------------------------------

INTERVAL_METHODS = ("problems", "two-level", "samples")


def bootstrap_ci_counts(counts: Sequence[tuple[int, int]], method: str = "problems",
                        iterations: int = BOOTSTRAP_ITERATIONS, seed: int = BOOTSTRAP_SEED,
                        level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap of pass@1 from per-problem (n_i, c_i), for three questions:

    - `problems`: resample problems with their observed rates. The score of this model on another
      draw of problems like these (a population of problems); the observed rates already carry the
      within-problem sampling noise, so one level is the textbook cluster bootstrap.
    - `two-level`: resample problems, then samples within each drawn problem (binomial draws from its
      observed rate). The same population question with the sampling noise made explicit; a little
      wider than `problems` (it counts the within-problem noise twice, more so at small n).
    - `samples`: keep the problems, resample samples within each. A fixed benchmark: another run of
      the same problems (what a paper that used the same problems would see); usually the narrowest.
    """
    if method not in INTERVAL_METHODS:
        raise HarnessError(f"interval method {method!r}: one of {', '.join(INTERVAL_METHODS)}")
    sizes = np.array([n for n, _ in counts], dtype=int)
    rates = np.array([c / n for n, c in counts], dtype=float)
    if len(rates) == 0:
        return (float("nan"), float("nan"))
    if method == "problems":
        return bootstrap_ci(rates, iterations, seed, level)
    rng = np.random.default_rng(seed)
    if method == "two-level":
        draws = rng.integers(0, len(rates), size=(iterations, len(rates)))
        sizes, rates = sizes[draws], rates[draws]
    else:
        sizes, rates = (np.broadcast_to(a, (iterations, len(a))) for a in (sizes, rates))
    means = (rng.binomial(sizes, rates) / sizes).mean(axis=1)
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return (float(low), float(high))
