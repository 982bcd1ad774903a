"""`harness gate` on constructed runs whose true differences are known."""
from __future__ import annotations

import json
import random

import pytest

from harness.cli import main
from reports.paired import holm, mcnemar_p, sign_flip_p, unpaired_permutation_p
from harness.synthetic import problem_ids, write_run

MATH500 = problem_ids("math500")
AIME24 = problem_ids("aime24")


def binary_outcomes(ids, seed, rate=0.5):
    rng = random.Random(seed)
    return {pid: [rng.random() < rate] for pid in ids}


def gate(tmp_path, baseline, candidate, *extra):
    out = tmp_path / f"gate-{len(list(tmp_path.glob('gate-*')))}.json"
    code = main(["gate", "--baseline", str(baseline), "--candidate", str(candidate), "--json", str(out), *extra])
    return code, json.loads(out.read_text())


@pytest.fixture(scope="module")
def math500_baseline(tmp_path_factory):
    outcomes = binary_outcomes(MATH500, seed=1)
    path = tmp_path_factory.mktemp("runs") / "baseline"
    write_run(path, {"math500": outcomes}, model="base")
    return path, outcomes


def test_identical_runs_pass(tmp_path, math500_baseline):
    path, _ = math500_baseline
    code, result = gate(tmp_path, path, path)
    assert code == 0 and result["status"] == "pass"
    (suite,) = result["suites"]
    assert suite["difference"] == 0 and suite["p_value"] == 1.0 and suite["test"] == "mcnemar"


def test_planted_ten_point_drop_on_500_problems_fails(tmp_path, math500_baseline):
    path, outcomes = math500_baseline
    solved = [pid for pid, (ok,) in outcomes.items() if ok]
    candidate = {pid: [ok and pid not in solved[:50]] for pid, (ok,) in outcomes.items()}
    write_run(tmp_path / "candidate", {"math500": candidate}, model="cand")
    summary = tmp_path / "summary.md"
    code, result = gate(tmp_path, path, tmp_path / "candidate", "--max-drop", "2", "--summary", str(summary))
    assert code == 1 and result["regressed_suites"] == ["math500"]
    (suite,) = result["suites"]
    assert suite["difference"] == pytest.approx(-0.10)
    assert suite["ci95"][1] < -0.05  # the paired interval excludes a 5-point drop
    assert suite["p_holm"] < 1e-10
    assert "FAIL" in summary.read_text() and "**regression**" in summary.read_text()


def test_one_point_noise_on_30_problems_passes(tmp_path):
    rng = random.Random(3)
    rates = [rng.uniform(0.1, 0.9) for _ in AIME24]
    baseline = {pid: [rng.random() < p for _ in range(16)] for pid, p in zip(AIME24, rates)}
    candidate = {pid: list(samples) for pid, samples in baseline.items()}
    # 12 samples lost and 7 gained, spread over problems: -5/480 = -1.04 points, as noise does
    flips = [(pid, s) for pid in AIME24 for s in range(16)]
    rng.shuffle(flips)
    lost = [f for f in flips if candidate[f[0]][f[1]]][:12]
    gained = [f for f in flips if not candidate[f[0]][f[1]]][:7]
    for pid, s in lost + gained:
        candidate[pid][s] = not candidate[pid][s]
    write_run(tmp_path / "b", {"aime24": baseline})
    write_run(tmp_path / "c", {"aime24": candidate})
    code, result = gate(tmp_path, tmp_path / "b", tmp_path / "c")
    (suite,) = result["suites"]
    assert suite["difference"] == pytest.approx(-5 / 480)
    assert suite["test"] == "sign-flip permutation"
    assert suite["p_value"] > 0.05
    assert code == 0 and not suite["regression"]


def test_pairing_finds_a_consistent_drop_the_unpaired_test_misses(tmp_path):
    """Problems range from always to never solved; the candidate loses 1 of 8 samples on 40 of 100.

    Between-problem spread (~35 points) hides a 5-point drop from an unpaired comparison; every
    paired difference is <= 0, so the paired test is decisive.
    """
    ids = MATH500[:100]
    baseline = {pid: [s < (i % 9) for s in range(8)] for i, pid in enumerate(ids)}
    candidate = {pid: list(samples) for pid, samples in baseline.items()}
    dropped = [pid for pid, samples in baseline.items() if any(samples)][:40]
    for pid in dropped:
        candidate[pid][candidate[pid].index(True)] = False
    write_run(tmp_path / "b", {"math500": baseline})
    write_run(tmp_path / "c", {"math500": candidate})
    code, result = gate(tmp_path, tmp_path / "b", tmp_path / "c", "--max-drop", "2")
    (suite,) = result["suites"]
    assert suite["difference"] == pytest.approx(-0.05)
    assert suite["unpaired_p_value"] > 0.05  # unpaired: "no significant difference", would pass
    assert suite["p_value"] < 0.001  # paired: significant (Monte Carlo floor 1/10001)
    assert code == 1


def test_holm_correction_across_suites_can_turn_a_failure_into_a_pass(tmp_path):
    base_math = binary_outcomes(MATH500, seed=5)
    solved = [pid for pid, (ok,) in base_math.items() if ok]
    unsolved = [pid for pid, (ok,) in base_math.items() if not ok]
    cand_math = dict(base_math)
    cand_math.update({pid: [False] for pid in solved[:9]})  # 9 lost, 2 gained: one-sided p = 67/2048
    cand_math.update({pid: [True] for pid in unsolved[:2]})
    aime = binary_outcomes(AIME24, seed=6)
    write_run(tmp_path / "b", {"math500": base_math, "aime24": aime})
    write_run(tmp_path / "c", {"math500": cand_math, "aime24": aime})
    alone, result_alone = gate(tmp_path, tmp_path / "b", tmp_path / "c", "--suite", "math500")
    both, result_both = gate(tmp_path, tmp_path / "b", tmp_path / "c")
    assert result_alone["suites"][0]["p_value"] == pytest.approx(67 / 2048)
    assert alone == 1
    math = next(s for s in result_both["suites"] if s["suite"] == "math500")
    assert math["p_holm"] == pytest.approx(2 * 67 / 2048)
    assert both == 0


@pytest.mark.parametrize("change, message", [
    ({"max_tokens": 128}, "sampling.max_tokens differs"),
    ({"options": {"think": "full"}}, "options.think differs"),
    ({"problems": 499}, "problem sets differ"),
    ({"suite": "aime24"}, "suites differ"),
])
def test_runs_that_measure_different_things_exit_2_saying_why(tmp_path, math500_baseline, capsys, change, message):
    path, outcomes = math500_baseline
    if "suite" in change:
        write_run(tmp_path / "c", {"aime24": binary_outcomes(AIME24, seed=2)})
    else:
        kept = dict(list(outcomes.items())[: change.get("problems", len(outcomes))])
        write_run(tmp_path / "c", {"math500": kept}, max_tokens=change.get("max_tokens", 40960),
                  options=change.get("options"))
    code, result = gate(tmp_path, path, tmp_path / "c")
    assert code == 2 and result["status"] == "incomparable"
    assert message in result["reason"]
    assert message in capsys.readouterr().err


def test_not_a_run_directory_exits_2(tmp_path, math500_baseline, capsys):
    code = main(["gate", "--baseline", str(math500_baseline[0]), "--candidate", str(tmp_path)])
    assert code == 2 and "not a run directory" in capsys.readouterr().err


def test_mcnemar_is_the_exact_binomial_on_discordant_problems():
    baseline = [True] * 5 + [False] * 1 + [True] * 10
    candidate = [False] * 5 + [True] * 1 + [True] * 10
    assert mcnemar_p(baseline, candidate) == pytest.approx(7 / 64)  # P(X >= 5), X ~ Bin(6, 1/2)
    assert mcnemar_p(baseline, baseline) == 1.0


def test_sign_flip_test_is_exact_for_few_differences():
    assert sign_flip_p([-0.5, -0.5, -0.5, 0, 0]) == pytest.approx(1 / 8)
    assert sign_flip_p([-0.5, 0.25]) == pytest.approx(2 / 4)  # -0.75 and -0.25 of 4 sign patterns
    assert sign_flip_p([0.5, 0.5]) == 1.0
    assert sign_flip_p([-0.5, 0, 0]) == 0.5 and sign_flip_p([0.25]) == 1.0


def test_unpaired_permutation_sees_separated_groups():
    assert unpaired_permutation_p([1.0] * 10, [0.0] * 10) < 0.001
    assert unpaired_permutation_p([0.5] * 10, [0.5] * 10) == 1.0
    assert unpaired_permutation_p([1.0], [0.0]) == 0.5


def test_holm_adjusts_step_down_and_stays_monotone():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
