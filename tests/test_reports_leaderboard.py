"""`harness report leaderboard` on constructed runs with known pass rates, and on regraded golden files."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from harness.cli import main
from harness.rundir import iter_jsonl
from harness.synthetic import problem_ids, write_run
from conftest import spread

AIME24 = problem_ids("aime24")
MATH500 = problem_ids("math500")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    write_run(root / "a", {"aime24": spread(AIME24, 4, 1, 3), "math500": spread(MATH500, 1, 0, 1)}, model="model-a")
    write_run(root / "b", {"aime24": spread(AIME24, 4, 0, 2)}, model="model-b", max_tokens=128)
    write_run(root / "c", {"aime24": spread(AIME24, 4, 2, 4)}, model="model-c")
    write_run(root / "d", {"aime24": spread(AIME24, 4, 0, 1)}, model="model-d", options={"think": "full"})
    return root


def leaderboard(runs, out, *extra):
    code = main(["report", "leaderboard", *(str(runs / r) for r in "abcd"), "--out", str(out), *extra])
    assert code == 0
    return (out / "leaderboard.md").read_text(), pd.read_csv(out / "leaderboard.csv")


def model_order(markdown):
    rows = [line.split("|") for line in markdown.splitlines() if line.startswith("| ") and line[2].isdigit()]
    return [row[2].strip() for row in rows]


def test_rows_sorted_by_suites_covered_then_mean_pass_at_1(runs, tmp_path):
    markdown, csv = leaderboard(runs, tmp_path)
    # model-a covers 2 suites; among the rest: c 75%, b 25%, d 12.5%
    assert model_order(markdown) == ["model-a", "model-c", "model-b", "model-d"]
    measured = csv.set_index(["model", "suite"])["pass@1"]
    assert measured[("model-a", "aime24")] == pytest.approx(0.5)
    assert measured[("model-a", "math500")] == pytest.approx(0.5)
    assert measured[("model-c", "aime24")] == pytest.approx(0.75)
    assert measured[("model-d", "aime24")] == pytest.approx(0.125)
    row = csv.set_index(["model", "suite"]).loc[("model-a", "aime24")]
    assert row["ci95_low"] < 0.5 < row["ci95_high"] and row["n"] == 4 and row["problems"] == 30


def test_cells_with_other_settings_are_marked_and_explained(runs, tmp_path):
    markdown, csv = leaderboard(runs, tmp_path)
    flagged = csv.set_index("model")["incomparable"].to_dict()
    assert flagged == {"model-a": False, "model-b": True, "model-c": False, "model-d": True}
    notes = csv.set_index("model")["notes"].to_dict()
    assert "sampling.max_tokens 128 (column: 40960)" in notes["model-b"]
    assert "think full (column: strip)" in notes["model-d"]
    line_b = next(line for line in markdown.splitlines() if line.startswith("| ") and "model-b" in line)
    assert "\u26a0" in line_b and "n=4, 128 tok" in line_b
    assert "model-b differs from the column: sampling.max_tokens 128 (column: 40960)" in markdown


def test_published_rows_come_from_the_paper_table_and_are_marked(runs, tmp_path):
    markdown, csv = leaderboard(runs, tmp_path, "--paper", "vibethinker-1.5b", "--paper-models",
                                "VibeThinker-1.5B,DeepScaleR")
    published = csv[csv["source"] == "published"].set_index(["model", "suite"])["pass@1"]
    assert published[("VibeThinker-1.5B (1.5B)", "aime24")] == pytest.approx(0.803)
    assert published[("VibeThinker-1.5B (1.5B)", "math500")] == pytest.approx(0.950)
    assert published[("DeepScaleR (1.5B)", "aime24")] == pytest.approx(0.431)
    assert set(csv[csv["source"] == "published"]["suite"]) == {"aime24", "math500"}  # only measured columns
    assert "80.3 (published)" in markdown and "not measured here" in markdown


def test_publisher_number_and_disagreements_sit_next_to_ours(tmp_path):
    ours = spread(AIME24, 1, 0, 1)
    theirs = {pid: list(v) for pid, v in ours.items()}
    for pid in AIME24[:3]:  # the publisher judged three samples the other way
        theirs[pid] = [not theirs[pid][0]]
    write_run(tmp_path / "run", {"aime24": ours}, model="imported", published={"aime24": theirs})
    assert main(["report", "leaderboard", str(tmp_path / "run"), "--out", str(tmp_path / "out")]) == 0
    row = pd.read_csv(tmp_path / "out" / "leaderboard.csv").iloc[0]
    assert row["disagreements"] == 3
    assert row["publisher_pass@1"] == pytest.approx(sum(v[0] for v in theirs.values()) / 30)
    assert "3 of 30 samples disagree" in (tmp_path / "out" / "leaderboard.md").read_text()


def test_two_runs_of_one_model_are_told_apart_by_run_directory(tmp_path):
    for name in ("first", "second"):
        write_run(tmp_path / name, {"aime24": spread(AIME24, 2, 0, 1)}, model="same")
    main(["report", "leaderboard", str(tmp_path / "first"), str(tmp_path / "second"), "--out", str(tmp_path / "o")])
    models = set(pd.read_csv(tmp_path / "o" / "leaderboard.csv")["model"])
    assert models == {"same [first]", "same [second]"}


def test_regraded_golden_outputs_show_ours_next_to_the_publishers(golden, tmp_path):
    runs = []
    for model in ("Qwen_Qwen2.5-Math-7B", "Qwen_Qwen2.5-14B-Instruct"):
        gen, run = tmp_path / f"{model}.jsonl", tmp_path / model
        main(["import", "qwen25-math", str(golden / "skythought" / f"{model}__aime24.jsonl"), "--suite", "aime24",
              "--out", str(gen)])
        main(["grade", "--suite", "aime24", "--generations", str(gen), "--model", model, "--out", str(run)])
        runs.append(run)
    assert main(["report", "leaderboard", *map(str, runs), "--out", str(tmp_path / "board")]) == 0
    csv = pd.read_csv(tmp_path / "board" / "leaderboard.csv").set_index("model")
    for model, run in zip(("Qwen_Qwen2.5-Math-7B", "Qwen_Qwen2.5-14B-Instruct"), runs):
        published = {(g["problem_id"], g["sample"]): g["published_correct"] for _, g in iter_jsonl(run / "generations.jsonl")}
        grades = [g for _, g in iter_jsonl(run / "grades.jsonl")]
        disagree = sum(published[(g["problem_id"], g["sample"])] != g["correct"] for g in grades)
        assert csv.loc[model, "publisher_pass@1"] == pytest.approx(0.2)  # SkyThought's stated acc: 20.0 for both
        assert csv.loc[model, "disagreements"] == disagree
        assert csv.loc[model, "pass@1"] == pytest.approx(sum(g["correct"] for g in grades) / 30)
    notes = (tmp_path / "board" / "leaderboard.md").read_text()
    assert "imported from elsewhere" in notes and "samples disagree" in notes


def test_unfinished_run_is_an_error_naming_the_file(tmp_path, capsys):
    write_run(tmp_path / "run", {"aime24": spread(AIME24, 1, 0, 1)})
    (tmp_path / "run" / "metrics.json").unlink()
    assert main(["report", "leaderboard", str(tmp_path / "run"), "--out", str(tmp_path / "o")]) == 2
    assert "metrics.json: not found" in capsys.readouterr().err


def test_unknown_paper_is_an_error(runs, tmp_path, capsys):
    assert main(["report", "leaderboard", str(runs / "a"), "--paper", "nope", "--out", str(tmp_path)]) == 2
    assert "--paper nope: unknown" in capsys.readouterr().err



def test_csv_has_the_seed_spread_and_markdown_links_pass_at_k_charts(runs, tmp_path):
    markdown, csv = leaderboard(runs, tmp_path)
    row = csv.set_index(["model", "suite"]).loc[("model-a", "aime24")]
    # n = 4: blocks of one sample; sample 0 always right, 1 and 2 on half the problems, 3 never
    assert (row["seed_blocks"], row["seed_block_size"]) == (4, 1)
    assert row["seed_mean"] == pytest.approx(0.5) and row["seed_std"] == pytest.approx((0.5 / 3) ** 0.5)
    assert pd.isna(csv.set_index(["model", "suite"]).loc[("model-a", "math500"), "seed_std"])  # n = 1
    assert "![pass@k, aime24](passk-aime24.png)" in markdown and (tmp_path / "passk-aime24.png").stat().st_size > 0
