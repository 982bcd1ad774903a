import math

import pytest

from harness.errors import HarnessError
from harness.metrics import bootstrap_ci, check_ks, majority_answer, mean_pass_at_k, pass_at_1, pass_at_k


@pytest.mark.parametrize("n,c,k,expected", [
    (4, 1, 2, 0.5),
    (8, 2, 4, 0.7857143),
    (16, 0, 8, 0.0),
    (5, 5, 1, 1.0),
    (10, 3, 1, 0.3),
    (64, 1, 64, 1.0),
    (2, 1, 1, 0.5),
])
def test_unbiased_pass_at_k_hand_values(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-7)


def test_pass_at_k_matches_binomial_form_for_all_small_cases():
    for n in range(1, 13):
        for c in range(n + 1):
            for k in range(1, n + 1):
                exact = 1 - math.comb(n - c, k) / math.comb(n, k)
                assert pass_at_k(n, c, k) == pytest.approx(exact, abs=1e-12)


def test_pass_at_k_is_stable_for_large_n():
    # the binomial form overflows floats here; the product form does not
    assert pass_at_k(4096, 1, 1) == pytest.approx(1 / 4096)
    assert 0.0 < pass_at_k(10000, 3, 2) < 1.0


def test_k_greater_than_n_raises():
    with pytest.raises(ValueError):
        pass_at_k(4, 0, 8)
    with pytest.raises(HarnessError, match="k <= n = 4"):
        check_ks([1, 8], 4)


def test_pass_at_1_is_mean_of_c_over_n():
    counts = [(4, 1), (4, 4), (2, 0)]
    assert pass_at_1(counts) == pytest.approx((0.25 + 1 + 0) / 3)
    assert mean_pass_at_k(counts, 1) == pytest.approx(pass_at_1(counts))


def test_majority_vote_ties_go_to_the_earliest_answer_and_none_does_not_vote():
    assert majority_answer(["3", "5", "5", "3"]) == "3"
    assert majority_answer([None, None, "7"]) == "7"
    assert majority_answer(["1", None, "2", "2"]) == "2"
    assert majority_answer([None, None]) is None


def test_bootstrap_interval_is_seeded_and_brackets_the_mean():
    values = [0, 1, 1, 0.5, 0.25, 1, 0, 0.75]
    low, high = bootstrap_ci(values)
    assert bootstrap_ci(values) == (low, high)
    assert low < sum(values) / len(values) < high
    assert bootstrap_ci([1, 1, 1]) == (1.0, 1.0)


def _lighteval_cases(shared_dir, name):
    import json

    return json.loads((shared_dir / "data/golden/lighteval-metric-cases" / name).read_text())["test_cases"]


def test_pass_at_k_agrees_with_lighteval_cases(shared_dir):
    for case in _lighteval_cases(shared_dir, "pass_at_k.json"):
        n, k = case["metric_params"]["n"], case["metric_params"]["k"]
        gold = case["doc"]["choices"][case["doc"]["gold_index"]]
        c = sum(text == gold for text in case["model_response"]["text"][:n])
        expected = next(iter(case["expected_output"].values()))
        assert pass_at_k(n, c, k) == pytest.approx(expected, abs=case["tolerance"]), case["name"]


def test_majority_vote_agrees_with_lighteval_cases(shared_dir):
    for case in _lighteval_cases(shared_dir, "maj_at_k.json"):
        k = case["metric_params"]["k"]
        golds = case["doc"]["gold_index"]
        golds = [case["doc"]["choices"][i] for i in (golds if isinstance(golds, list) else [golds])]
        winner = majority_answer(case["model_response"]["text"][:k])
        expected = next(iter(case["expected_output"].values()))
        assert float(winner in golds) == pytest.approx(expected, abs=case["tolerance"]), case["name"]


def test_every_metrics_json_carries_the_analytics_fields(tmp_path):
    from harness.synthetic import problem_ids, write_run

    ids = problem_ids("aime24", 2)
    (metrics,) = write_run(tmp_path / "run", {"aime24": {ids[0]: [True, False, True, True],
                                                         ids[1]: [False] * 4}}, max_tokens=600)
    # write_run gives every sample num_tokens = 1
    assert metrics["tokens"] == {"p50": 1.0, "p90": 1.0, "p99": 1.0, "max": 1.0,
                                 "mean_correct": 1.0, "mean_incorrect": 1.0}
    assert metrics["budget_curve"] == {"256": 0.375, "512": 0.375, "600": 0.375}
    assert metrics["pass@k_curve"] == {"1": 0.375, "2": pytest.approx(0.5), "4": 0.5}
    assert metrics["seed_blocks"] == {"blocks": 4, "block_size": 1, "mean": 0.375,
                                      "std": pytest.approx(0.25)}  # blocks 0.5, 0, 0.5, 0.5
    assert metrics["ci95_method"] == "problems"
    assert metrics["ci95_by_method"]["problems"] == metrics["ci95"]
    assert set(metrics["ci95_by_method"]) == {"problems", "two-level", "samples"}


# ---- length analytics and seed variance: hand values ------------------------------------------------

from harness.metrics import (bootstrap_ci_counts, budget_curve, budgets, curve_ks, pass_at_k_curve,  # noqa: E402
                             seed_blocks, token_summary)


def test_token_summary_hand_values():
    summary = token_summary([100, 200, 300, 400, 1000], [True, False, True, False, False])
    # numpy's default (linear) percentiles of 100..400, 1000: p50 = 300, p90 = 400 + 0.6 * 600 = 760
    assert summary == {"p50": 300.0, "p90": 760.0, "p99": pytest.approx(976.0), "max": 1000.0,
                       "mean_correct": 200.0, "mean_incorrect": pytest.approx(1600 / 3)}
    assert token_summary([5], [True])["mean_incorrect"] is None


def test_budgets_are_powers_of_two_below_max_tokens_then_max_tokens():
    assert budgets(1500, 0) == [256, 512, 1024, 1500]
    assert budgets(1024, 0) == [256, 512, 1024]
    assert budgets(None, 700) == [256, 512, 1024]  # unknown budget: up to the first power >= longest
    assert budgets(None, 512) == [256, 512]


def test_budget_curve_counts_a_sample_only_when_correct_within_budget():
    # problem 0: samples of 100 (ok), 600 (ok); problem 1: 300 (wrong), 1000 (ok)
    curve = budget_curve([0, 0, 1, 1], [100, 600, 300, 1000], [True, True, False, True], 1024)
    assert curve == {"256": 0.25, "512": 0.25, "1024": 0.75}  # 256: (1/2 + 0) / 2; 1024: (1 + 1/2) / 2


def test_pass_at_k_curve_ks_and_values():
    assert curve_ks(8) == [1, 2, 4, 8] and curve_ks(6) == [1, 2, 4, 6] and curve_ks(1) == [1]
    curve = pass_at_k_curve([(4, 1), (4, 0)], 4)
    assert curve == {"1": 0.125, "2": 0.25, "4": 0.5}  # pass@2 of 1 in 4 = 1 - C(3,2)/C(4,2) = 1/2


def test_seed_blocks_hand_values():
    outcomes = [[1, 1, 0, 0, 1, 0, 1, 1],
                [0, 0, 0, 0, 1, 1, 1, 1]]
    # 4 blocks of 2: block pass@1 = (1 + 0)/2, (0 + 0)/2, (0.5 + 1)/2, (1 + 1)/2 = 0.5, 0, 0.75, 1
    blocks = seed_blocks(outcomes)
    assert blocks == {"blocks": 4, "block_size": 2, "mean": 0.5625, "std": pytest.approx(0.42695, abs=1e-5)}
    assert seed_blocks([[1, 0, 1]]) is None  # n < 4
    assert seed_blocks([[1, 0, 1, 1, 0, 0]])["blocks"] == 3
    assert seed_blocks([[1, 0, 1, 1, 0]])["block_size"] == 1  # 5 blocks of one


def test_interval_methods_bracket_the_mean_and_samples_only_is_zero_width_for_sure_problems():
    counts = [(8, 0), (8, 8), (8, 4), (8, 2), (8, 6), (8, 8)]
    mean = pass_at_1(counts)
    for method in ("problems", "two-level", "samples"):
        low, high = bootstrap_ci_counts(counts, method)
        assert low <= mean <= high and bootstrap_ci_counts(counts, method) == (low, high)
    assert bootstrap_ci_counts([(4, 0), (4, 4)], "samples") == (0.5, 0.5)  # no within-problem noise
    assert bootstrap_ci_counts(counts, "problems") == bootstrap_ci([c / n for n, c in counts])
    with pytest.raises(HarnessError, match="interval method"):
        bootstrap_ci_counts(counts, "seeds")
