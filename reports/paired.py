"""Paired statistics for comparing two runs problem by problem (pure functions, numpy/scipy).

Why paired: problems differ far more from each other than two checkpoints differ on one problem.
Comparing per-problem differences removes the between-problem variance that an unpaired test
(two independent samples of pass rates) has to fight, so small consistent regressions are found
on a few hundred problems. All p-values are one-sided: "the candidate is worse".

- n = 1 sample per problem: exact McNemar test (a binomial test on the discordant problems).
- n > 1: sign-flip permutation test of the mean per-problem difference (scipy's
  permutation_test: exact when few problems differ, Monte Carlo with a fixed seed otherwise).
- Holm's step-down correction when several suites are gated at once.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

PERMUTATIONS = 10000
BATCH = 1000  # permutations per vectorised step: bounded memory, much faster than all at once
SEED = 0


def mcnemar_p(baseline: Sequence[bool], candidate: Sequence[bool]) -> float:
    """P(at least this many baseline-only successes | discordant pairs split 50/50)."""
    base, cand = np.asarray(baseline, bool), np.asarray(candidate, bool)
    lost = int(np.sum(base & ~cand))
    gained = int(np.sum(~base & cand))
    if lost + gained == 0:
        return 1.0
    from scipy.stats import binomtest  # imported here: scipy.stats costs ~0.9 s of every CLI start-up

    return float(binomtest(lost, lost + gained, 0.5, alternative="greater").pvalue)


def mean_statistic(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
    """Mean of one sample, or difference of means (second minus first) of two; vectorised for scipy."""
    if len(samples) == 1:
        return np.mean(samples[0], axis=axis)
    return np.mean(samples[1], axis=axis) - np.mean(samples[0], axis=axis)


def sign_flip_p(differences: Sequence[float], permutations: int = PERMUTATIONS, seed: int = SEED) -> float:
    """P(mean of randomly signed differences <= observed mean), differences = candidate - baseline.

    scipy enumerates all 2^k sign patterns when that is at most `permutations`, else samples them.
    """
    nonzero = np.asarray([d for d in differences if d != 0], dtype=float)
    if len(nonzero) < 2:  # scipy needs two observations; one difference has two sign patterns
        return 0.5 if len(nonzero) and nonzero[0] < 0 else 1.0
    from scipy.stats import permutation_test

    result = permutation_test((nonzero,), mean_statistic, permutation_type="samples", vectorized=True,
                              n_resamples=permutations, alternative="less", rng=seed, batch=BATCH)
    return float(result.pvalue)


def unpaired_permutation_p(baseline: Sequence[float], candidate: Sequence[float],
                           permutations: int = PERMUTATIONS, seed: int = SEED) -> float:
    """The comparison that ignores pairing: shuffle per-problem rates between the two runs.

    Reported next to the paired p-value so users see what pairing bought them.
    """
    data = (np.asarray(baseline, float), np.asarray(candidate, float))
    if len(data[0]) < 2:  # one problem per run: the two orders of the pair are all there is
        return 0.5 if data[1].mean() < data[0].mean() else 1.0
    from scipy.stats import permutation_test

    result = permutation_test(data, mean_statistic, permutation_type="independent", vectorized=True,
                              n_resamples=permutations, alternative="less", rng=seed, batch=BATCH)
    return float(result.pvalue)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1)."""
    order = np.argsort(p_values)
    adjusted = np.empty(len(p_values))
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, (len(p_values) - rank) * p_values[index])
        adjusted[index] = min(1.0, running)
    return adjusted.tolist()
