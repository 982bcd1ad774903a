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
    from reports.synthetic import problem_ids, write_run

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
