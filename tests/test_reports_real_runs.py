"""All three report commands on run directories written by `harness eval` and `harness grade`."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from harness.cli import main

EVAL_RUN = Path(__file__).parent / "data" / "reports" / "smollm2-135m-cpu"  # see data/reports/README.md


@pytest.fixture(scope="module")
def graded_run(tmp_path_factory, golden):
    root = tmp_path_factory.mktemp("graded")
    main(["import", "qwen25-math", str(golden / "skythought" / "Qwen_Qwen2.5-Math-7B__aime24.jsonl"), "--suite", "aime24", "--out", str(root / "gen.jsonl")])
    assert main(["grade", "--suite", "aime24", "--generations", str(root / "gen.jsonl"), "--model",
                 "Qwen2.5-Math-7B", "--out", str(root / "run")]) == 0
    return root / "run"


def test_leaderboard_of_an_eval_run_and_a_graded_run(graded_run, tmp_path):
    assert main(["report", "leaderboard", str(EVAL_RUN), str(graded_run), "--out", str(tmp_path)]) == 0
    csv = pd.read_csv(tmp_path / "leaderboard.csv").set_index(["model", "suite"])
    assert csv.loc[("smollm2-135m", "aime24"), "pass@1"] == 0.0
    assert csv.loc[("smollm2-135m", "aime24"), "n"] == 2
    assert csv.loc[("Qwen2.5-Math-7B", "aime24"), "publisher_pass@1"] == pytest.approx(0.2)
    # 30 problems x n=1 x unknown budget against the first run's 3 problems x n=2 x 128 tokens
    qwen = csv.loc[("Qwen2.5-Math-7B", "aime24")]
    assert qwen["incomparable"]
    for difference in ("problems 30 (column: 3)", "sampling.n 1 (column: 2)",
                       "sampling.max_tokens unknown (column: 128)"):
        assert difference in qwen["notes"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "chart-aime24.png", "chart-math500.png", "leaderboard.csv", "leaderboard.html", "leaderboard.md",
        "lengths-budget.png", "lengths-histogram.png", "lengths-truncation.png", "passk-aime24.png",
        "passk-math500.png"]


def test_paper_report_of_the_cpu_eval_lists_why_it_is_far_below(tmp_path):
    assert main(["report", "paper", str(EVAL_RUN), "--out", str(tmp_path)]) == 0
    markdown = (tmp_path / "paper.md").read_text()
    assert "| aime24 | smollm2-135m | 80.3 | 0.0 [0.0, 0.0] | - | -80.3 | below |" in markdown  # n=2: no seed blocks
    for difference in ("max_tokens=128 (published: 40960)", "3 of 30 problems (--limit)", "engine hf (published: vLLM)"):
        assert difference in markdown


def test_gate_of_an_eval_run_against_itself_passes(tmp_path):
    out = tmp_path / "gate.json"
    assert main(["gate", "--baseline", str(EVAL_RUN), "--candidate", str(EVAL_RUN), "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert [s["suite"] for s in result["suites"]] == ["aime24", "math500"]


def test_gate_refuses_an_eval_run_against_a_graded_run(graded_run, tmp_path, capsys):
    assert main(["gate", "--baseline", str(EVAL_RUN), "--candidate", str(graded_run), "--suite", "aime24"]) == 2
    assert "differ" in capsys.readouterr().err


@pytest.mark.slow
def test_reports_on_a_fresh_cpu_eval_of_the_default_model(tmp_path):
    """End to end with the real SmolLM2 model: eval, then all three report commands."""
    run = tmp_path / "run"
    assert main(["eval", "--suite", "aime24", "--model", "smollm2-135m", "--limit", "1", "-n", "2",
                 "--max-tokens", "16", "--out", str(run)]) == 0
    assert main(["report", "leaderboard", str(run), "--out", str(tmp_path / "board")]) == 0
    assert main(["report", "paper", str(run), "--out", str(tmp_path / "paper")]) == 0
    assert main(["gate", "--baseline", str(run), "--candidate", str(run)]) == 0
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    grades = [json.loads(line) for line in (copy / "grades.jsonl").read_text().splitlines()]
    assert len(grades) == 2 and all("correct" in g for g in grades)
