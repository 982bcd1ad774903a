"""docs/extending.md, followed: a suite added from a data file evaluates and grades end to end."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from suites import SUITE_MODULES, get_suite, register
from conftest import read_jsonl

EXTENDING = Path(__file__).parent / "data" / "extending"


@pytest.fixture
def tiny_arith(monkeypatch):
    monkeypatch.syspath_prepend(str(EXTENDING))
    register("tiny_arith", "tiny_arith")
    yield get_suite("tiny_arith")
    del SUITE_MODULES["tiny_arith"]


def test_its_option_becomes_a_flag_with_a_role(tiny_arith, capsys):
    assert tiny_arith.settings.get("suffix").flag == "--no-suffix"
    assert main(["suites", "show", "tiny_arith", "--no-suffix"]) == 0
    shown = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [p["messages"][0]["content"] for p in shown] == ["What is 2 + 3?", "What is 7 + 8?", "What is 6 * 7?"]


def test_a_planted_answer_is_graded_through_the_real_path(tiny_arith, tmp_path):
    generations = tmp_path / "gen.jsonl"
    generations.write_text("".join(json.dumps(r) + "\n" for r in [
        {"problem_id": "tiny_arith/add-1", "sample": 0, "response": "2 + 3 = \\boxed{5}"},
        {"problem_id": "tiny_arith/mul-1", "sample": 0, "response": "\\boxed{41}"}]))
    assert main(["grade", "--suite", "tiny_arith", "--generations", str(generations), "--out", str(tmp_path / "g")]) == 0
    assert [(g["problem_id"], g["correct"]) for g in read_jsonl(tmp_path / "g" / "grades.jsonl")] == [
        ("tiny_arith/add-1", True), ("tiny_arith/mul-1", False)]


@pytest.mark.slow
def test_eval_on_the_default_model_writes_an_ordinary_run(tiny_arith, tmp_path):
    out = tmp_path / "run"
    assert main(["eval", "--suite", "tiny_arith", "--model", "smollm2-135m", "-n", "1", "--max-tokens", "8",
                 "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert (metrics["suite"], metrics["num_problems"], metrics["n"], metrics["max_tokens"]) == ("tiny_arith", 3, 1, 8)
    assert len(read_jsonl(out / "grades.jsonl")) == 3
    assert "n=1 samples per problem (published: 2)" in metrics["deviations"]
    # a declared MEASURE option changed on the same --out is refused, naming it
    assert main(["eval", "--suite", "tiny_arith", "--model", "smollm2-135m", "-n", "1", "--max-tokens", "8",
                 "--no-suffix", "--out", str(out)]) == 2
