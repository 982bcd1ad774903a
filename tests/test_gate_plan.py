"""`harness gate plan`: the simulated gate agrees with the real one, and the plan's edge cases."""
from __future__ import annotations

import json
import random

import numpy as np
import pytest
from scipy.stats import binom

from harness.cli import main
from reports.gate_plan import GateSimulator, binomial_quantile, fit_prior, n_needed, detectable_drop
from reports.paired import mcnemar_p, sign_flip_p
from harness.synthetic import problem_ids, write_run

AIME24 = problem_ids("aime24")


def test_binomial_quantile_is_scipys_ppf():
    rng = np.random.default_rng(0)
    u, rate = rng.random((50, 40)), rng.random((50, 40))
    rate[0, :5] = [0.0, 1.0, 0.5, 1e-9, 1 - 1e-9]
    for n in (1, 2, 7, 64, 128):
        assert np.array_equal(binomial_quantile(u, n, rate), binom.ppf(u, n, rate))


def test_prior_at_n1_keeps_the_mean_and_assumes_concentration_one():
    prior = fit_prior(np.ones(4, int), np.array([1, 1, 1, 0]))
    assert (prior.a, prior.b, prior.fixed) == (0.75, pytest.approx(0.25), True)


def test_prior_fit_recovers_a_known_beta():
    rng = np.random.default_rng(1)
    correct = rng.binomial(16, rng.beta(0.6, 0.9, size=2000))
    prior = fit_prior(np.full(2000, 16), correct)
    assert not prior.fixed
    assert prior.a == pytest.approx(0.6, rel=0.15) and prior.b == pytest.approx(0.9, rel=0.15)


@pytest.mark.parametrize("n", [1, 4])
def test_simulated_p_values_are_the_gates(n):
    rng = np.random.default_rng(2)
    simulator = GateSimulator(np.full(30, n), rng.binomial(n, rng.beta(0.7, 0.7, 30)), 0.05, 0.0, replicates=40)
    base, cand = simulator.baseline(n), simulator.candidate(10.0, n)
    simulated = simulator.p_values(base, cand, (cand - base) / n, n)
    for row in range(40):
        if n == 1:
            assert simulated[row] == pytest.approx(mcnemar_p(base[row] > 0, cand[row] > 0))
        else:  # the gate's 10000 sign flips against the simulator's 1000: Monte Carlo error only
            assert simulated[row] == pytest.approx(sign_flip_p((cand[row] - base[row]) / n), abs=0.04)


def test_no_drop_is_flagged_at_most_alpha_and_large_drops_always():
    rng = np.random.default_rng(3)
    simulator = GateSimulator(np.full(200, 8), rng.binomial(8, rng.beta(0.6, 0.6, 200)), 0.05, 0.0)
    assert simulator.power(0.0, 8) <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / 400)
    assert simulator.power(20.0, 8) == 1.0
    assert simulator.power(3.0, 8) <= simulator.power(3.0, 32)  # more samples, more power


def test_three_problems_can_never_reach_alpha():
    """Sign flips of 3 differences: the smallest p-value is 1/8, above any usual alpha."""
    simulator = GateSimulator(np.full(3, 16), np.array([8, 8, 8]), 0.05, 0.0)
    assert detectable_drop(simulator, 16, 0.8) is None
    assert n_needed(simulator, 10.0, 0.8) is None
    assert n_needed(simulator, 80.0, 0.8) is None  # more than the baseline scores


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    rng = random.Random(4)
    outcomes = {pid: [rng.random() < rate for _ in range(8)]
                for pid, rate in zip(AIME24, [rng.betavariate(0.6, 0.6) for _ in AIME24])}
    path = tmp_path_factory.mktemp("plan") / "baseline"
    write_run(path, {"aime24": outcomes})
    return path


def plan_json(tmp_path, baseline, *extra):
    out = tmp_path / "plan.json"
    assert main(["gate", "plan", "--baseline", str(baseline), "--json", str(out), *extra]) == 0
    return json.loads(out.read_text())


def test_plan_json_has_the_contract_fields_and_is_deterministic(tmp_path, baseline):
    first = plan_json(tmp_path, baseline, "--drop", "10")
    entry = first["suites"]["aime24"]
    assert {"detectable_drop", "n", "problems", "n_needed"} <= entry.keys()
    assert entry["n"] == 8 and entry["problems"] == 30
    assert 5 < entry["detectable_drop"] < 30 and entry["n_needed"] >= 1
    assert plan_json(tmp_path, baseline, "--drop", "10") == first
    unreachable = plan_json(tmp_path, baseline, "--drop", "99")["suites"]["aime24"]
    assert unreachable["n_needed"] is None and "not reachable with these problems" in unreachable["note"]


def test_plan_and_gate_flags_are_checked(baseline, capsys):
    assert main(["gate", "plan", "--baseline", str(baseline), "--power", "1.5"]) == 2
    assert "--power 1.5: must be between 0 and 1" in capsys.readouterr().err
    assert main(["gate", "plan", "--baseline", str(baseline), "--suite", "math500"]) == 2
    assert "--suite math500: not in the baseline run" in capsys.readouterr().err
    assert main(["gate", "--baseline", str(baseline)]) == 2
    assert "--candidate: required" in capsys.readouterr().err


def test_a_passing_gate_says_what_it_cannot_see(tmp_path, baseline):
    summary = tmp_path / "summary.md"
    out = tmp_path / "gate.json"
    assert main(["gate", "--baseline", str(baseline), "--candidate", str(baseline), "--json", str(out),
                 "--summary", str(summary)]) == 0
    seen = plan_json(tmp_path, baseline)["suites"]["aime24"]["detectable_drop"]
    line = f"this gate can only see drops above {seen:g} points on aime24"
    assert json.loads(out.read_text())["blind_spots"][0].startswith(line)
    assert f"Note: {line}" in summary.read_text()
