"""LiveCodeBench published outputs regraded with our code grader, shown next to the publisher's."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from harness.cli import main

EVAL_ALL = "lcb-submissions/o1-mini-2024-09-12_n1_eval_all.json"
pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap not installed (code sandbox)")


def test_o1_mini_public_test_regrade_sits_next_to_the_publishers_full_test_verdicts(golden, tmp_path):
    full = tmp_path / "all.jsonl"
    assert main(["import", "lcb-eval-all", str(golden / EVAL_ALL), "--start-date", "2024-08-01", "--out", str(full)]) == 0
    records = [json.loads(line) for line in full.read_text().splitlines()]
    subset = tmp_path / "subset.jsonl"
    subset.write_text("".join(json.dumps(r) + "\n" for r in records[:16]))
    run = tmp_path / "run"
    assert main(["grade", "--suite", "lcb_v5", "--public-tests-only", "--sandbox", "bwrap", "--generations",
                 str(subset), "--model", "o1-mini", "--out", str(run)]) == 0
    ours = {(g["problem_id"], g["sample"]): g for g in map(json.loads, (run / "grades.jsonl").read_text().splitlines())}
    theirs = {(r["problem_id"], r["sample"]): r["published_correct"] for r in records[:16]}
    disagree = [key for key in theirs if ours[key]["correct"] != theirs[key]]
    # public tests are a subset of the publisher's full tests: what passed theirs passes ours
    assert all(ours[key]["correct"] or ours[key]["reason"] == "timeout" for key in disagree)

    assert main(["report", "leaderboard", str(run), "--out", str(tmp_path / "board")]) == 0
    cell = pd.read_csv(tmp_path / "board" / "leaderboard.csv").iloc[0]
    assert cell["disagreements"] == len(disagree)
    assert cell["publisher_pass@1"] == pytest.approx(sum(theirs.values()) / 16)
    assert "PUBLIC TESTS ONLY" in cell["protocol"]
