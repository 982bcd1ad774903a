"""Paired statistics for comparing two runs problem by problem (pure functions, numpy/scipy).

Why paired: problems differ far more from each other than two checkpoints differ on one problem.
Comparing per-problem differences removes the between-problem variance that an unpaired test
(two independent samples of pass rates) has to fight, so small consistent regressions are found
on a few hundred problems. All p-values are one-sided: "the candidate is worse".

- n = 1 sample per problem: exact McNemar test (a binomial test on the discordant problems).
- n > 1: sign-flip permutation test of the mean per-problem difference (exact when at most
  `EXACT_LIMIT` problems differ, Monte Carlo with a fixed seed otherwise).
- Holm's step-down correction when several suites are gated at once.
"""
from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np
from scipy.stats import binomtest

EXACT_LIMIT = 16
PERMUTATIONS = 20000
SEED = 0


def mcnemar_p(baseline: Sequence[bool], candidate: Sequence[bool]) -> float:
    """P(at least this many baseline-only successes | discordant pairs split 50/50)."""
    base, cand = np.asarray(baseline, bool), np.asarray(candidate, bool)
    lost = int(np.sum(base & ~cand))
    gained = int(np.sum(~base & cand))
    if lost + gained == 0:
        return 1.0
    return float(binomtest(lost, lost + gained, 0.5, alternative="greater").pvalue)


def sign_flip_p(differences: Sequence[float], permutations: int = PERMUTATIONS, seed: int = SEED) -> float:
    """P(mean of randomly signed differences <= observed mean), differences = candidate - baseline."""
    nonzero = np.asarray([d for d in differences if d != 0], dtype=float)
    if len(nonzero) == 0:
        return 1.0
    observed = nonzero.sum()
    if len(nonzero) <= EXACT_LIMIT:
        signs = np.array(list(itertools.product((-1.0, 1.0), repeat=len(nonzero))))
        return float(np.mean(signs @ nonzero <= observed + 1e-12))
    rng = np.random.default_rng(seed)
    signs = rng.choice((-1.0, 1.0), size=(permutations, len(nonzero)))
    hits = int(np.sum(signs @ nonzero <= observed + 1e-12))
    return (hits + 1) / (permutations + 1)


def unpaired_permutation_p(baseline: Sequence[float], candidate: Sequence[float],
                           permutations: int = PERMUTATIONS, seed: int = SEED) -> float:
    """The comparison that ignores pairing: shuffle per-problem rates between the two runs.

    Reported next to the paired p-value so users see what pairing bought them.
    """
    base, cand = np.asarray(baseline, float), np.asarray(candidate, float)
    pooled = np.concatenate([base, cand])
    observed = cand.mean() - base.mean()
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(permutations):
        shuffled = rng.permutation(pooled)
        hits += shuffled[len(base):].mean() - shuffled[:len(base)].mean() <= observed + 1e-12
    return (hits + 1) / (permutations + 1)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1)."""
    order = np.argsort(p_values)
    adjusted = np.empty(len(p_values))
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, (len(p_values) - rank) * p_values[index])
        adjusted[index] = min(1.0, running)
    return adjusted.tolist()
