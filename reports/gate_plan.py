"""`harness gate plan`: what drop can `harness gate` see with this baseline, and what n would it need?

Computed by simulating the gate itself, not by a formula: draw many pairs of runs (a baseline-like
run and a candidate of the same size) from the baseline's per-problem rates, plant a drop in the
candidate, and apply the gate's decision rule (observed drop > --max-drop AND one-sided paired
p-value below the per-suite level) to each pair; power = the fraction flagged. Everything is
vectorised over pairs with numpy and seeded (common random numbers across drops and n, so power is
smooth in both and the answer is deterministic).

Estimator of the per-problem rates: empirical-Bayes beta-binomial. A Beta(a, b) prior is fitted to
the baseline's (n_i, c_i) by maximum marginal likelihood, and each simulated pair draws every
problem's true rate from its posterior Beta(a + c_i, b + n_i - c_i). Why: the raw rate c_i / n is
0 or 1 at n = 1 and very noisy at n = 4, which would make two runs of the same model agree far
more than they do (a problem with a true rate of 0.5 measured 1/1 would never churn); the
posterior mean (c_i + a) / (n_i + a + b) shrinks toward the mean exactly where n is small, and
drawing from the posterior (not plugging in its mean) keeps the spread of true rates right, so
between-run churn is neither hidden nor invented. At n = 1 the spread of rates is not identifiable
(each problem's outcome is a single coin): the prior keeps the baseline's mean and assumes a
concentration a + b = 1 (U-shaped, as reasoning models' per-problem rates are when measured with
many samples); `n_fixed_prior` in the output says so, and a baseline with n >= 2 is a better plan.

The planted drop is proportional: the candidate keeps the fraction 1 - D / mean of its rate on
every problem (mean drop D points; problems it never solves stay unsolved). The paired test for
n > 1 is the gate's sign-flip permutation test, with SIGN_FLIPS random sign patterns (the gate
uses 10000, enumerating them when few problems differ: the same p-value up to Monte Carlo error);
for n = 1 the exact McNemar test. Several suites are gated with Holm's correction; a regression in
one suite while the others hold is flagged at alpha / m (Holm's first step), so the plan uses
alpha / m for m planned suites (`alpha_per_suite`).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np
from scipy.special import betaln, ndtri  # cheap; scipy.stats/optimize are imported where used (CLI start-up)

from harness.errors import HarnessError
from reports.runs import SuiteRun

SEED = 0
REPLICATES = 400  # pairs per power estimate: Monte Carlo error of 0.02 at power 0.8
SIGN_FLIPS = 1000
LARGE_N = 4096  # "very large n": beyond this a drop is "not reachable with these problems"
RESOLUTION = 0.1  # points
FIXED_CONCENTRATION = 1.0  # a + b when n = 1 cannot identify it
CONCENTRATION_RANGE = (0.05, 1e4)
NOT_REACHABLE = "not reachable with these problems"


@dataclass
class Prior:
    a: float
    b: float
    fixed: bool  # concentration assumed (n = 1), not fitted

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)


def fit_prior(sizes: np.ndarray, correct: np.ndarray) -> Prior:
    """Beta(a, b) by maximum beta-binomial marginal likelihood; fixed concentration when n = 1."""
    mean = float(np.clip(correct.sum() / sizes.sum(), 1e-3, 1 - 1e-3))
    if sizes.max() < 2:
        return Prior(mean * FIXED_CONCENTRATION, (1 - mean) * FIXED_CONCENTRATION, True)

    def negative_log_likelihood(theta: np.ndarray) -> float:
        a, b = np.exp(theta)
        return -float(np.sum(betaln(correct + a, sizes - correct + b) - betaln(a, b)))

    from scipy.optimize import minimize

    start = np.log([mean * 2, (1 - mean) * 2])
    theta = minimize(negative_log_likelihood, start, method="Nelder-Mead",
                     options={"xatol": 1e-4, "fatol": 1e-6}).x
    a, b = np.exp(theta)
    concentration = float(np.clip(a + b, *CONCENTRATION_RANGE))
    fitted_mean = float(np.clip(a / (a + b), 1e-3, 1 - 1e-3))
    return Prior(fitted_mean * concentration, (1 - fitted_mean) * concentration, False)


EXACT_UP_TO = 128  # binomial quantiles: exact recurrence up to this n, normal approximation above


def binomial_quantile(uniform: np.ndarray, n: int, rate: np.ndarray) -> np.ndarray:
    """Inverse binomial CDF at `uniform` (what scipy's binom.ppf gives, ~10x faster here): one
    uniform per draw, so draws are monotone in the rate (common random numbers across drops).

    Exact by the pmf recurrence on the smaller tail (rate <= 1/2, mirrored otherwise); above
    EXACT_UP_TO the normal approximation with continuity correction (only "very large n" uses it).
    """
    flip = rate > 0.5
    q = np.where(flip, 1.0 - rate, rate)
    u = np.where(flip, 1.0 - uniform, uniform)
    if n > EXACT_UP_TO:
        mean, sd = n * q, np.sqrt(n * q * (1 - q))
        count = np.clip(np.ceil(mean + sd * ndtri(np.clip(u, 1e-12, 1 - 1e-12)) - 0.5), 0, n)
    else:
        pmf = (1.0 - q) ** n
        cdf = pmf.copy()
        count = np.zeros_like(q)
        odds = q / (1.0 - q)
        for k in range(n):
            above = u > cdf
            if not above.any():
                break
            count += above
            pmf = pmf * (n - k) / (k + 1) * odds
            cdf = cdf + pmf
    # mirrored draws: X(rate) = n - X(1 - rate) at 1 - u (ties at the cdf steps have probability 0)
    return np.where(flip, n - count, count)


class GateSimulator:
    """Pairs of simulated runs of one suite; `power(drop, n)` applies the gate's rule to all of them."""

    def __init__(self, sizes: Sequence[int], correct: Sequence[int], alpha: float, max_drop: float,
                 seed: int = SEED, replicates: int = REPLICATES, flips: int = SIGN_FLIPS) -> None:
        sizes, correct = np.asarray(sizes, int), np.asarray(correct, int)
        self.prior = fit_prior(sizes, correct)
        self.alpha, self.max_drop = alpha, max_drop
        rng = np.random.default_rng(seed)
        shape = (replicates, len(sizes))
        self.rates = rng.beta(self.prior.a + correct, self.prior.b + sizes - correct, size=shape)
        self.mean_rates = self.rates.mean(axis=1, keepdims=True)
        self.base_uniform = rng.random(shape)
        self.cand_uniform = rng.random(shape)
        self.signs = rng.choice([-1.0, 1.0], size=(flips, len(sizes)))
        self._baselines: dict[int, np.ndarray] = {}

    def baseline(self, n: int) -> np.ndarray:
        if n not in self._baselines:
            self._baselines[n] = binomial_quantile(self.base_uniform, n, self.rates)
        return self._baselines[n]

    def candidate(self, drop: float, n: int) -> np.ndarray:
        keep = np.clip(1 - drop / 100 / np.maximum(self.mean_rates, 1e-12), 0.0, 1.0)
        return binomial_quantile(self.cand_uniform, n, self.rates * keep)

    def flagged(self, drop: float, n: int) -> np.ndarray:
        base, cand = self.baseline(n), self.candidate(drop, n)
        differences = (cand - base) / n
        dropped = -differences.mean(axis=1) * 100 > self.max_drop
        return dropped & (self.p_values(base, cand, differences, n) < self.alpha)

    def p_values(self, base: np.ndarray, cand: np.ndarray, differences: np.ndarray, n: int) -> np.ndarray:
        if n == 1:  # exact McNemar on discordant problems, as reports.paired.mcnemar_p
            lost = np.sum((base > 0) & (cand == 0), axis=1)
            gained = np.sum((base == 0) & (cand > 0), axis=1)
            from scipy.stats import binom

            return np.where(lost + gained == 0, 1.0, binom.sf(lost - 1, lost + gained, 0.5))
        observed = differences.sum(axis=1, keepdims=True)
        permuted = differences @ self.signs.T  # replicates x flips: sums of randomly signed differences
        below = np.sum(permuted <= observed + 1e-9, axis=1)
        return (below + 1) / (self.signs.shape[0] + 1)

    def power(self, drop: float, n: int) -> float:
        return float(self.flagged(drop, n).mean())

    @property
    def largest_drop(self) -> float:
        return float(100 * self.mean_rates.max())


def detectable_drop(simulator: GateSimulator, n: int, power: float) -> float | None:
    """Smallest drop (points, to RESOLUTION) flagged with at least `power`; None if none is."""
    high = simulator.largest_drop
    if simulator.power(high, n) < power:
        return None
    low = 0.0
    while high - low > RESOLUTION:
        middle = (low + high) / 2
        low, high = (low, middle) if simulator.power(middle, n) >= power else (middle, high)
    return round(np.ceil(high / RESOLUTION - 1e-9) * RESOLUTION, 1)


def n_needed(simulator: GateSimulator, drop: float, power: float) -> int | None:
    """Smallest samples per problem whose gate flags `drop` with `power`; None beyond LARGE_N."""
    if drop > simulator.largest_drop or simulator.power(drop, LARGE_N) < power:
        return None
    low, high = 0, LARGE_N  # power(high) >= power; low is not (yet) known to reach it
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if simulator.power(drop, middle) >= power else (middle, high)
    return high


@dataclass
class SuitePlan:
    suite: str
    n: int
    problems: int
    baseline: float
    detectable_drop: float | None
    n_needed: int | None
    drop: float | None
    power_at_drop: float | None
    prior_a: float
    prior_b: float
    n_fixed_prior: bool
    note: str | None


def check_settings(power: float, alpha: float, max_drop: float, drop: float | None) -> None:
    if not 0 < power < 1:
        raise HarnessError(f"--power {power}: must be between 0 and 1")
    if not 0 < alpha < 1:
        raise HarnessError(f"--alpha {alpha}: must be between 0 and 1")
    if max_drop < 0:
        raise HarnessError(f"--max-drop {max_drop}: must be >= 0 points")
    if drop is not None and not 0 < drop <= 100:
        raise HarnessError(f"--drop {drop}: must be in (0, 100] points")


def plan_suite(run: SuiteRun, power: float, alpha_per_suite: float, max_drop: float,
               drop: float | None = None, seed: int = SEED, replicates: int = REPLICATES) -> SuitePlan:
    if not run.counts:
        raise HarnessError(f"{run.path}: suite {run.suite} has no graded samples to plan with")
    problems = sorted(run.counts)
    sizes = np.array([run.counts[p][0] for p in problems])
    correct = np.array([run.counts[p][1] for p in problems])
    simulator = GateSimulator(sizes, correct, alpha_per_suite, max_drop, seed, replicates)
    found = detectable_drop(simulator, run.n, power)
    needed = n_needed(simulator, drop, power) if drop is not None else None
    notes = []
    if found is None:
        notes.append(f"no drop is detectable at n = {run.n}")
    if drop is not None and needed is None:
        notes.append(f"a {drop:g}-point drop is {NOT_REACHABLE} (even n = {LARGE_N})")
    return SuitePlan(run.suite, run.n, len(problems), float(correct.sum() / sizes.sum()), found, needed, drop,
                     simulator.power(drop, run.n) if drop is not None else None,
                     simulator.prior.a, simulator.prior.b, simulator.prior.fixed, "; ".join(notes) or None)


def plan(runs: Sequence[SuiteRun], power: float = 0.8, alpha: float = 0.05, max_drop: float = 1.0,
         drop: float | None = None, suites: Sequence[str] | None = None, seed: int = SEED) -> dict[str, Any]:
    """The JSON object of interfaces.md "Regression-gate planning" (plus the settings it used)."""
    check_settings(power, alpha, max_drop, drop)
    by_suite = {run.suite: run for run in runs}
    wanted = list(suites) if suites else sorted(by_suite)
    for name in wanted:
        if name not in by_suite:
            raise HarnessError(f"--suite {name}: not in the baseline run (it has {', '.join(sorted(by_suite))})")
    per_suite = alpha / len(wanted)
    plans = [plan_suite(by_suite[name], power, per_suite, max_drop, drop, seed) for name in wanted]
    return {"settings": {"power": power, "alpha": alpha, "alpha_per_suite": per_suite, "max_drop": max_drop,
                         "drop": drop, "seed": seed, "replicates": REPLICATES, "large_n": LARGE_N,
                         "estimator": "empirical-Bayes beta-binomial posterior draws",
                         "planted_drop": "proportional"},
            "suites": {p.suite: asdict(p) for p in plans}}


def blind_spots(result: dict[str, Any], max_drop: float) -> list[str]:
    """One line per suite whose detectable drop exceeds --max-drop: a pass there proves little."""
    lines = []
    for name, entry in result["suites"].items():
        seen = entry["detectable_drop"]
        if seen is None:
            lines.append(f"this gate cannot see any drop on {name} (n = {entry['n']}, {entry['problems']} problems)")
        elif seen > max_drop:
            lines.append(f"this gate can only see drops above {seen:g} points on {name} "
                         f"(power {result['settings']['power']:g}; --max-drop {max_drop:g})")
    return lines
