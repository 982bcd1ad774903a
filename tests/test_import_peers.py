"""Importers for the peer harnesses' files, on files their real tools wrote (tests/data/imports/
PROVENANCE.md), re-graded by us; per-sample agreement with each tool's own verdicts; exports."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from conftest import read_jsonl
from harness.cli import main
from suites import SUITE_MODULES, register

IMPORTS = Path(__file__).parent / "data" / "imports"
LM_EVAL_API = next((IMPORTS / "lm-eval-api").glob("samples_ssp_aime24_*.jsonl"))
LM_EVAL_CPU = next((IMPORTS / "lm-eval-cpu").glob("samples_ssp_math500_*.jsonl"))
LIGHTEVAL = next((IMPORTS / "lighteval").rglob("details_*.parquet"))
NEMO = IMPORTS.parent.parent.parent.parent / "shared" / "data" / "golden" / "nemo-skills"


@pytest.fixture
def math_train(monkeypatch):
    monkeypatch.syspath_prepend(str(IMPORTS))
    register("math_train", "math_train")
    yield "math_train"
    del SUITE_MODULES["math_train"]


def import_and_grade(tmp_path, fmt, files, suite=None, *extra):
    gen, run = tmp_path / f"{fmt}.jsonl", tmp_path / f"{fmt}-run"
    assert main(["import", fmt, *map(str, files), "--out", str(gen), *(["--suite", suite] if suite else []),
                 *extra]) == 0
    source = json.loads(gen.with_name(f"{fmt}.source.json").read_text())
    suite = suite or source["suite"]
    assert main(["grade", "--suite", suite, "--generations", str(gen), "--out", str(run), "--model", fmt]) == 0
    return read_jsonl(run / "generations.jsonl"), read_jsonl(run / "grades.jsonl"), source, run


def differences(generations, grades):
    """(judged, [(problem, sample, theirs, ours)]) over the samples the publisher judged."""
    ours = {(g["problem_id"], g["sample"]): g["correct"] for g in grades}
    judged = [g for g in generations if "published_correct" in g]
    return len(judged), sorted((g["problem_id"], g["sample"], g["published_correct"], ours[(g["problem_id"], g["sample"])])
                               for g in judged if g["published_correct"] != ours[(g["problem_id"], g["sample"])])


def test_lm_eval_local_chat_completions_file_regrades_to_the_same_verdicts(tmp_path):
    generations, grades, source, run = import_and_grade(tmp_path, "lm-eval", [LM_EVAL_API])
    assert len(generations) == 12 and {g["sample"] for g in generations} == {0, 1}  # repeats: 2
    assert source | {"files": None} == source | {
        "files": None, "model": "scripted", "n": 2, "temperature": 0.6, "max_tokens": 256, "suite": "aime24",
        "model_backend": "local-chat-completions"}
    judged, diff = differences(generations, grades)
    # lm-eval's default take_first filter scores the first repeat only: 6 judged samples, 4 right
    assert judged == 6 and sum(g.get("published_correct", 0) for g in generations) == 4
    assert diff == []  # the task pack grades with our grader: equal per sample
    assert sum(g["correct"] for g in grades) == 6  # second repeats included (server: 2 always, 2 once right)
    assert json.loads((run / "manifest.json").read_text())["source"]["model"] == "scripted"


def test_lm_eval_hf_cpu_file_regrades_to_the_same_verdicts(tmp_path):
    generations, grades, source, _ = import_and_grade(tmp_path, "lm-eval", [LM_EVAL_CPU])
    assert len(generations) == 3 and source["model_backend"] == "hf" and source["max_tokens"] == 48
    assert differences(generations, grades) == (3, [])


@pytest.mark.parametrize("name", ["ssp-aime24.eval", "ssp-aime24.json"])
def test_inspect_log_epochs_become_samples_and_its_scorer_differences_are_listed(tmp_path, name):
    pytest.importorskip("inspect_ai")
    generations, grades, source, _ = import_and_grade(tmp_path, "inspect", [IMPORTS / "inspect" / name])
    assert len(generations) == 12 and source | {"files": None} == source | {
        "files": None, "model": "mockllm/model", "n": 2, "temperature": 0.6, "max_tokens": 256}
    judged, diff = differences(generations, grades)
    assert judged == 12 and sum(g["published_correct"] for g in generations) == 6
    # inspect's includes() and our math grader agree on every sample of this file
    assert diff == []


def test_nemo_skills_seed_files_are_samples_and_differences_are_listed(tmp_path, math_train):
    if not NEMO.is_dir():
        pytest.skip("shared NeMo-Skills golden files not present")
    files = sorted(NEMO.glob("output-rs*.test"))
    generations, grades, source, _ = import_and_grade(tmp_path, "nemo-skills", files, "math_train")
    assert len(generations) == 150 and source["n"] == 3 and source["seeds"] == [0, 1, 2]
    first = json.loads(files[0].read_text().splitlines()[0])
    assert generations[0]["published_extracted"] == first["predicted_answer"]
    judged, diff = differences(generations, grades)
    assert judged == 150
    assert sum(g["published_correct"] for g in generations) == 107
    print(f"nemo-skills: {len(diff)} of {judged} samples judged differently: {diff}")
    assert [(pid.removeprefix("math_train/train/"), sample) for pid, sample, *_ in diff] == NEMO_DIFFERENCES
    assert all(not theirs and ours for *_, theirs, ours in diff)


# Samples NeMo-Skills' symbolic_correct calls wrong and our math grader right (8 of 150), each a
# legitimate difference in reading the response, not a bug either side:
NEMO_DIFFERENCES = [
    ("algebra/2027", 0),               # theirs extracted "(x+y)^2=81"; ours reads the equation's value 81
    ("algebra/2142", 2),               # no box NeMo found; ours: the final-answer statement \frac{207}{64}
    ("algebra/635", 2),                # no box; ours: "the answer is 1"
    ("geometry/74", 0),                # no box; ours: 675 from "V = 675"
    ("intermediate_algebra/1135", 0),  # no box; ours: "... = 13"
    ("number_theory/7086", 1),         # no box; ours: 958
    ("number_theory/918", 2),          # no box; ours: 5
    ("prealgebra/737", 0),             # theirs "1320 km" (unit kept); ours 1320
]


def test_lighteval_details_built_to_its_schema_are_matched_by_statement_inside_its_prompt(tmp_path):
    generations, grades, source, _ = import_and_grade(tmp_path, "lighteval", [LIGHTEVAL])
    assert source["task"] == "lighteval|math_500|0" and source["model"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert len(generations) == 6
    # built with one planted disagreement: an unboxed "The answer is ..." that the file's metric
    # scores 0 and our grader's answer statement rule reads as right
    assert differences(generations, grades) == (6, [("math500/test/intermediate_algebra/1994", 0, False, True)])


# ------------------------------------------------------------------------------------ bad input

def test_a_file_of_another_format_names_the_format_it_looks_like(tmp_path, capsys):
    out = tmp_path / "o.jsonl"
    assert main(["import", "nemo-skills", str(LM_EVAL_API), "--suite", "aime24", "--out", str(out)]) == 2
    assert "looks like a lm-eval file, not nemo-skills (use `harness import lm-eval`)" in capsys.readouterr().err
    assert main(["import", "lm-eval", str(LIGHTEVAL), "--out", str(out)]) == 2
    assert "looks like a lighteval file" in capsys.readouterr().err
    assert not out.exists()


def test_no_rows_missing_response_and_unmapped_task_are_errors_and_nothing_is_written(tmp_path, capsys):
    out = tmp_path / "o.jsonl"
    empty = tmp_path / "samples_ssp_aime24_2026-01-01T00-00-00.jsonl"
    empty.write_text("")
    assert main(["import", "lm-eval", str(empty), "--out", str(out)]) == 2
    assert "no rows" in capsys.readouterr().err
    lines = LM_EVAL_API.read_text().splitlines()
    broken = json.loads(lines[2])
    del broken["resps"]
    bad = tmp_path / LM_EVAL_API.name
    bad.write_text("\n".join(lines[:2] + [json.dumps(broken)] + lines[3:]) + "\n")
    assert main(["import", "lm-eval", str(bad), "--out", str(out)]) == 2
    assert f"{bad}:3: missing field 'resps'" in capsys.readouterr().err
    renamed = tmp_path / "samples_mytask_2026-01-01T00-00-00.jsonl"
    renamed.write_text("".join(json.dumps({**json.loads(line), "doc": {"question": "x"}}) + "\n" for line in lines))
    assert main(["import", "lm-eval", str(renamed), "--out", str(out)]) == 2
    assert "task 'mytask' maps to no suite" in capsys.readouterr().err
    nemo = tmp_path / "output-rs0.jsonl"
    nemo.write_text(json.dumps({"generation": "\\boxed{1}", "problem": "not an AIME problem", "expected_answer": "1"}) + "\n")
    assert main(["import", "nemo-skills", str(nemo), "--suite", "aime24", "--out", str(out)]) == 2
    assert f"{nemo}:1: statement match no problem of suite aime24" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "o.source.json").exists()


# -------------------------------------------------------------------------------------- exports

def test_exports_round_trip_to_the_same_generations_and_verdicts(tmp_path):
    pytest.importorskip("inspect_ai")
    datasets = pytest.importorskip("datasets")
    _, grades, _, run = import_and_grade(tmp_path, "lm-eval", [LM_EVAL_API])
    ours = {(g["problem_id"], g["sample"]): g["correct"] for g in grades}
    original = {(g["problem_id"], g["sample"]): g["response"] for g in read_jsonl(run / "generations.jsonl")}
    for kind, out in (("parquet", tmp_path / "run.parquet"), ("inspect", tmp_path / "run.eval"),
                      ("inspect", tmp_path / "run.json")):
        assert main(["export", str(run), "--to", kind, str(out)]) == 0
        back = tmp_path / f"back-{out.name}.jsonl"
        assert main(["import", "parquet" if kind == "parquet" else "inspect", str(out), "--out", str(back)]) == 0
        records = read_jsonl(back)
        assert {(r["problem_id"], r["sample"]): r["response"] for r in records} == original
        assert {(r["problem_id"], r["sample"]): r["published_correct"] for r in records} == ours
        regraded = tmp_path / f"regraded-{out.name}"
        assert main(["grade", "--suite", "aime24", "--generations", str(back), "--out", str(regraded)]) == 0
        assert {(g["problem_id"], g["sample"]): g["correct"] for g in read_jsonl(regraded / "grades.jsonl")} == ours
    assert main(["export", str(run), "--to", "hf", str(tmp_path / "hf")]) == 0
    dataset = datasets.load_from_disk(str(tmp_path / "hf"))
    assert {(r["problem_id"], r["sample"]): r["correct"] for r in dataset} == ours
    import pyarrow.parquet as pq
    from reports.exports import COLUMNS
    assert pq.read_schema(tmp_path / "run.parquet").names == [name for name, _ in COLUMNS]  # the stable schema
    assert list(dataset.features) == [name for name, _ in COLUMNS]


def test_export_refuses_an_existing_out_and_push_without_hf(tmp_path, capsys):
    (tmp_path / "x.parquet").write_text("keep")
    assert main(["export", str(tmp_path), "--to", "parquet", str(tmp_path / "x.parquet")]) == 2
    assert main(["export", str(tmp_path), "--to", "parquet", str(tmp_path / "y"), "--push", "me/x"]) == 2
    assert "--push: only with --to hf" in capsys.readouterr().err


# ------------------------------------------------------------------------------- the real tools

@pytest.mark.slow
def test_todays_peer_tools_still_write_what_the_importers_read(tmp_path):
    """lm-eval (local-chat-completions against the scripted server) and inspect (mockllm) run again."""
    if shutil.which("lm_eval") is None:
        pytest.skip("lm_eval CLI not on PATH")
    pytest.importorskip("inspect_ai")
    sys.path.insert(0, str(Path(__file__).parent.parent))
    from tests.peer_files import inspect_log, lm_eval_api

    samples = lm_eval_api(tmp_path / "api")
    generations, grades, _, _ = import_and_grade(tmp_path / "a", "lm-eval", [samples]) if (tmp_path / "a").mkdir() is None else None
    assert differences(generations, grades) == (6, [])
    log = inspect_log(tmp_path / "inspect")
    generations, grades, _, _ = import_and_grade(tmp_path / "b", "inspect", [log]) if (tmp_path / "b").mkdir() is None else None
    assert differences(generations, grades) == (12, [])
