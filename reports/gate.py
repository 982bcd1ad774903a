"""Regression gate: is the candidate run significantly worse than the baseline, suite by suite?

A suite regresses when the candidate's pass@1 is lower by more than `max_drop` points AND the
one-sided paired test (McNemar for n = 1, sign-flip permutation otherwise), Holm-adjusted over
the gated suites, is below `alpha`. The difference is the mean over problems of the per-problem
pass-rate difference, with a paired bootstrap interval (problems resampled as pairs). Runs that
measure different things (harness.identity.comparable_identity: suite version or data, problem
set, grader, every option and sampling setting declared to change results) cannot be gated:
`IncomparableRuns`, exit code 2. A passing gate also carries `blind_spots` (reports.gate_plan):
suites whose detectable drop exceeds `max_drop`, so a green gate is not read as "no regression".
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Sequence

import numpy as np

from harness.errors import HarnessError
from harness.identity import differences
from harness.metrics import bootstrap_ci
from reports.paired import holm, mcnemar_p, sign_flip_p, unpaired_permutation_p
from reports.runs import SuiteRun

class IncomparableRuns(HarnessError):
    """The two runs measure different things; the message says which field differs."""


@dataclass
class SuiteVerdict:
    suite: str
    problems: int
    n: int
    baseline: float
    candidate: float
    difference: float  # candidate - baseline, fraction
    ci95: tuple[float, float]
    test: str
    p_value: float
    p_holm: float
    unpaired_p_value: float
    regression: bool


def check_comparable(baseline: SuiteRun, candidate: SuiteRun) -> None:
    only_base = baseline.counts.keys() - candidate.counts.keys()
    only_cand = candidate.counts.keys() - baseline.counts.keys()
    if only_base or only_cand:
        example = sorted(only_base or only_cand)[0]
        raise IncomparableRuns(f"suite {baseline.suite}: problem sets differ ({len(only_base)} only in baseline, "
                               f"{len(only_cand)} only in candidate, e.g. {example})")
    for name, old, new in differences(baseline.comparability(), candidate.comparability()):
        raise IncomparableRuns(f"suite {baseline.suite}: {name} differs (baseline {old!r}, candidate {new!r})")


def pair_suites(baseline: Sequence[SuiteRun], candidate: Sequence[SuiteRun],
                suites: Sequence[str] | None = None) -> list[tuple[SuiteRun, SuiteRun]]:
    base = {run.suite: run for run in baseline}
    cand = {run.suite: run for run in candidate}
    wanted = list(suites) if suites else sorted(base)
    if not suites and set(base) != set(cand):
        raise IncomparableRuns(f"suites differ: baseline has {', '.join(sorted(base))}; candidate has "
                               f"{', '.join(sorted(cand))} (pass --suite to gate the common ones)")
    for name in wanted:
        if name not in base or name not in cand:
            where = "baseline" if name not in base else "candidate"
            raise IncomparableRuns(f"--suite {name}: not in the {where} run")
    return [(base[name], cand[name]) for name in wanted]


def compare(baseline: SuiteRun, candidate: SuiteRun) -> dict[str, Any]:
    """Unadjusted statistics of one suite (Holm and the verdict come in `gate`)."""
    check_comparable(baseline, candidate)
    problems = sorted(baseline.counts)
    base = np.array([baseline.counts[p][1] / baseline.counts[p][0] for p in problems])
    cand = np.array([candidate.counts[p][1] / candidate.counts[p][0] for p in problems])
    single = baseline.n == 1 and candidate.n == 1
    return {
        "suite": baseline.suite, "problems": len(problems), "n": baseline.n,
        "baseline": float(base.mean()), "candidate": float(cand.mean()),
        "difference": float((cand - base).mean()), "ci95": bootstrap_ci(cand - base),
        "test": "mcnemar" if single else "sign-flip permutation",
        "p_value": mcnemar_p(base > 0, cand > 0) if single else sign_flip_p(cand - base),
        "unpaired_p_value": unpaired_permutation_p(base, cand),
    }


def gate(pairs: Sequence[tuple[SuiteRun, SuiteRun]], max_drop: float, alpha: float) -> list[SuiteVerdict]:
    """max_drop in points (percent), alpha the family-wise significance level."""
    if not 0 < alpha < 1:
        raise HarnessError(f"--alpha {alpha}: must be between 0 and 1")
    if max_drop < 0:
        raise HarnessError(f"--max-drop {max_drop}: must be >= 0 points")
    stats = [compare(base, cand) for base, cand in pairs]
    adjusted = holm([s["p_value"] for s in stats])
    return [SuiteVerdict(**s, p_holm=p, regression=bool(-s["difference"] * 100 > max_drop and p < alpha))
            for s, p in zip(stats, adjusted)]


def to_json(verdicts: Sequence[SuiteVerdict], settings: dict[str, Any]) -> dict[str, Any]:
    failed = [v.suite for v in verdicts if v.regression]
    return {"status": "fail" if failed else "pass", "exit_code": 1 if failed else 0,
            "regressed_suites": failed, "settings": settings, "suites": [asdict(v) for v in verdicts]}


def incomparable_json(reason: str, settings: dict[str, Any]) -> dict[str, Any]:
    return {"status": "incomparable", "exit_code": 2, "reason": reason, "settings": settings, "suites": []}


def to_markdown(result: dict[str, Any]) -> str:
    settings = result["settings"]
    head = {"pass": "PASS", "fail": "FAIL: significant regression", "incomparable": "ERROR: runs not comparable"}
    lines = [f"### Regression gate: {head[result['status']]}", "",
             f"baseline `{settings['baseline']}`, candidate `{settings['candidate']}`; fail when a suite drops by "
             f"more than {settings['max_drop']} points with Holm-adjusted one-sided p < {settings['alpha']}.", ""]
    if result["status"] == "incomparable":
        return "\n".join(lines + [f"Reason: {result['reason']}", ""])
    lines += ["| suite | problems | n | baseline | candidate | diff [95% CI] | test | p (Holm) | verdict |",
              "|---|---:|---:|---:|---:|---:|---|---:|---|"]
    for v in result["suites"]:
        low, high = v["ci95"]
        lines.append(f"| {v['suite']} | {v['problems']} | {v['n']} | {100 * v['baseline']:.1f} | "
                     f"{100 * v['candidate']:.1f} | {100 * v['difference']:+.1f} [{100 * low:+.1f}, {100 * high:+.1f}] | "
                     f"{v['test']} | {v['p_holm']:.3g} | {'**regression**' if v['regression'] else 'ok'} |")
    blind = result.get("blind_spots") or []
    return "\n".join(lines + ([""] + [f"Note: {line}." for line in blind] if blind else []) + [""])
