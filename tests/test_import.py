"""`harness import`: published per-sample outputs become generations `harness grade` accepts."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.rundir import iter_jsonl



def read(path):
    return [record for _, record in iter_jsonl(path)]


def test_qwen25_math_outputs_match_every_aime24_problem_once(golden, tmp_path):
    out = tmp_path / "gen.jsonl"
    source = golden / "skythought" / "Qwen_Qwen2.5-Math-7B__aime24.jsonl"
    assert main(["import", "qwen25-math", str(source), "--suite", "aime24", "--out", str(out)]) == 0
    records = read(out)
    assert len(records) == 30
    assert len({r["problem_id"] for r in records}) == 30  # order and wording differ from ours, ids do not
    # the publisher's first line is AIME 2024 I problem 1 (gold 204)
    assert records[0]["problem_id"] == "aime24/I-01" and records[0]["published_gold"] == "204"
    stated = json.loads(source.with_name(source.name.replace(".jsonl", ".metrics.json")).read_text())["acc"]
    assert 100 * sum(r["published_correct"] for r in records) / 30 == pytest.approx(stated)
    original = [json.loads(line) for line in source.read_text().splitlines()]
    assert records[5]["response"] == original[5]["code"][0]


def test_imported_file_regrades_with_harness_grade_and_keeps_the_publisher_verdicts(golden, tmp_path):
    gen, run = tmp_path / "gen.jsonl", tmp_path / "run"
    main(["import", "qwen25-math", str(golden / "skythought" / "google_gemma-2-27b-it__aime24.jsonl"), "--suite", "aime24",
          "--out", str(gen)])
    assert main(["grade", "--suite", "aime24", "--generations", str(gen), "--out", str(run), "--model", "gemma"]) == 0
    generations = read(run / "generations.jsonl")
    assert all("published_correct" in g for g in generations)
    assert len(read(run / "grades.jsonl")) == 30


def test_lcb_eval_all_keeps_code_and_verdicts_and_applies_the_v5_window(golden, tmp_path):
    out = tmp_path / "o1.jsonl"
    source = golden / "lcb-submissions" / "o1-mini-2024-09-12_n1_eval_all.json"
    assert main(["import", "lcb-eval-all", str(source), "--start-date", "2024-08-01", "--end-date", "2025-02-01",
                 "--out", str(out)]) == 0
    records = read(out)
    assert len(records) == 279  # the VibeThinker v5 window: 279 problems
    assert {r["suite"] for r in records} == {"lcb_v5"}
    assert sum(r["published_correct"] for r in records) == 145  # o1-mini pass@1 on the window: 145/279
    published = {p["question_id"]: p for p in json.loads(source.read_text())}
    first = records[0]
    assert first["published_extracted"] == published[first["problem_id"]]["code_list"][0]
    assert first["response"] == published[first["problem_id"]]["output_list"][0]
    failed = next(r for r in records if not r["published_correct"])
    assert isinstance(failed["published_details"], dict) and "error_code" in failed["published_details"]


def test_lcb_import_without_a_window_keeps_all_880_problems(golden, tmp_path):
    out = tmp_path / "all.jsonl"
    main(["import", "lcb-eval-all", str(golden / "lcb-submissions" / "o1-preview-2024-09-12_n1_eval_all.json"), "--suite", "lcb_custom",
          "--out", str(out)])
    records = read(out)
    assert len(records) == 880 and records[0]["suite"] == "lcb_custom"


def test_existing_output_is_never_overwritten(tmp_path, capsys):
    out = tmp_path / "gen.jsonl"
    out.write_text("keep me\n")
    source = tmp_path / "in.jsonl"
    source.write_text("{}\n")
    assert main(["import", "qwen25-math", str(source), "--suite", "aime24", "--out", str(out)]) == 2
    assert out.read_text() == "keep me\n"
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize("line, message", [
    ({"question": "x", "code": ["y"]}, "missing field 'score'"),
    ({"question": "not an AIME problem", "code": ["y"], "score": [True], "gt": "1"}, "matches no problem"),
])
def test_bad_qwen25_math_lines_name_file_line_and_field(tmp_path, capsys, line, message):
    source = tmp_path / "bad.jsonl"
    source.write_text(json.dumps(line) + "\n")
    assert main(["import", "qwen25-math", str(source), "--suite", "aime24", "--out", str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err
    assert f"{source}:1" in err and message in err
    assert not (tmp_path / "o.jsonl").exists()


def test_lcb_file_that_is_not_a_list_is_rejected(tmp_path, capsys):
    source = tmp_path / "eval_all.json"
    source.write_text('{"question_id": "1"}')
    assert main(["import", "lcb-eval-all", str(source), "--out", str(tmp_path / "o.jsonl")]) == 2
    assert "expected a JSON list" in capsys.readouterr().err


def test_bad_window_date_names_the_flag(tmp_path, capsys):
    source = tmp_path / "eval_all.json"
    source.write_text("[]")
    assert main(["import", "lcb-eval-all", str(source), "--start-date", "Aug 2024", "--out", str(tmp_path / "o")]) == 2
    assert "--start-date Aug 2024" in capsys.readouterr().err
