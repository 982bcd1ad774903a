"""`harness grade` on a run directory's own generations uses the options the run was made with."""
from __future__ import annotations

import json

from conftest import run_harness
from harness.rundir import RunDir
from harness.synthetic import problem_ids, write_run


def gpqa_run(path, order):
    write_run(path, {"gpqa_diamond": {pid: [True] for pid in problem_ids("gpqa_diamond", 4)}},
              options={"option_order": order})
    return path


def test_grading_a_published_order_run_uses_its_order(tmp_path):
    source = gpqa_run(tmp_path / "src", "published")
    result = run_harness("grade", "--suite", "gpqa_diamond", "--generations", str(source / "generations.jsonl"),
                         "--out", str(tmp_path / "regraded"))
    assert result.returncode == 0, result.stderr
    (entry,) = RunDir(tmp_path / "regraded").manifest()["suites"]
    assert entry["options"]["option_order"] == "published"
    golds = {json.loads(line)["problem_id"] for line in (tmp_path / "regraded" / "grades.jsonl").read_text().splitlines()}
    assert len(golds) == 4


def test_a_contradicting_flag_is_refused_naming_it(tmp_path):
    source = gpqa_run(tmp_path / "src", "published")
    result = run_harness("grade", "--suite", "gpqa_diamond", "--generations", str(source / "generations.jsonl"),
                         "--option-order", "shuffled", "--out", str(tmp_path / "regraded"))
    assert result.returncode == 2
    assert result.stderr.strip() == (f"error: --option-order shuffled: {source} was made with option_order=published; "
                                     "its generations are graded with the run's own options (drop the flag)")
    assert not (tmp_path / "regraded").exists()


def test_grading_an_eval_run_in_place_finishes_it(tmp_path):
    run = tmp_path / "run"
    write_run(run, {"aime24": {pid: [True, True] for pid in problem_ids("aime24", 3)}})
    lines = (run / "grades.jsonl").read_text().splitlines()
    (run / "grades.jsonl").write_text("\n".join(lines[:2]) + "\n")  # as if grading stopped after two samples
    result = run_harness("grade", "--suite", "aime24", "--generations", str(run / "generations.jsonl"), "--out", str(run))
    assert result.returncode == 0, result.stderr
    grades = [json.loads(line) for line in (run / "grades.jsonl").read_text().splitlines()]
    assert len(grades) == 6
    assert [g["correct"] for g in grades[2:]] == [False] * 4  # "constructed" is no answer to an AIME problem
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["num_samples"] == 6 and metrics["pass@1"] == 2 / 6
    assert RunDir(run).manifest()["kind"] == "eval"
