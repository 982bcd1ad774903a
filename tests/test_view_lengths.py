"""Length analytics with hand-computed values (contract "Length analytics"), and the plots."""
from __future__ import annotations

import pytest

from reports.lengths import Sample, analytics, budget_curve, budgets, pass_at_k_curve, seed_blocks, token_stats


def samples(rows):
    return [Sample(p, s, c, t) for p, s, c, t in rows]


def test_budgets_follow_the_contract():
    assert budgets(1500, 10) == [256, 512, 1024, 1500]
    assert budgets(1024, 10) == [256, 512, 1024]
    assert budgets(None, 600) == [256, 512, 1024]
    assert budgets(None, 100) == [256]


def test_budget_curve_counts_correct_samples_within_the_budget():
    rows = samples([("a", 0, True, 100), ("a", 1, True, 700), ("b", 0, False, 50), ("b", 1, True, 300)])
    # 256: a 1/2, b 0/2 -> 0.25; 512: a 1/2, b 1/2 -> 0.5; 1000: 1.0 and 0.5 -> 0.75
    assert budget_curve(rows, 1000) == {"256": 0.25, "512": 0.5, "1000": 0.75}
    assert budget_curve(rows + [Sample("c", 0, True, None)], 1000) is None


def test_token_percentiles_and_means():
    stats = token_stats(samples([("a", 0, True, 10), ("a", 1, False, 20), ("b", 0, True, 30), ("b", 1, False, 40)]))
    assert stats == {"p50": 25.0, "p90": pytest.approx(37.0), "p99": pytest.approx(39.7), "max": 40,
                     "mean_correct": 20.0, "mean_incorrect": 30.0}


def test_pass_at_k_curve_and_seed_blocks():
    rows = samples([("a", i, i in (0, 1), 1) for i in range(8)] + [("b", i, i == 7, 1) for i in range(8)])
    curve = pass_at_k_curve(rows)
    assert list(curve) == ["1", "2", "4", "8"]
    assert curve["1"] == pytest.approx((2 / 8 + 1 / 8) / 2)
    assert curve["8"] == 1.0
    # blocks of 2: a -> 1, 0, 0, 0; b -> 0, 0, 0, 0.5 : block means 0.5, 0, 0, 0.25
    blocks = seed_blocks(rows)
    assert blocks["blocks"] == 4 and blocks["block_size"] == 2
    assert blocks["mean"] == pytest.approx(0.1875)
    assert blocks["std"] == pytest.approx(0.2393567, abs=1e-6)
    assert seed_blocks(rows[:3]) is None


def test_metrics_values_win_over_computed_ones():
    rows = samples([("a", 0, True, 10)])
    out = analytics(rows, 100, {"budget_curve": {"100": 0.5}})
    assert out["budget_curve"] == {"100": 0.5}
    assert out["tokens"]["max"] == 10


def test_plots_are_real_pngs(tmp_path):
    from reports.charts import budget_curve_chart, length_histogram_chart, truncation_chart

    paths = [budget_curve_chart({"aime24": {"256": 0.1, "512": 0.3}}, tmp_path / "b.png"),
             length_histogram_chart([10, 20, 30], [40, 50], tmp_path / "h.png"),
             truncation_chart({"aime24": 0.25, "math500": None}, tmp_path / "t.png")]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000
