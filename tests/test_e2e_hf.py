"""End to end with the real embedded model (SmolLM2-135M-Instruct) on CPU."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import REPO, read_jsonl, run_harness


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("e2e") / "run"
    result = run_harness("eval", "--suite", "math500,aime24", "--model", "smollm2-135m", "--limit", "2", "-n", "2",
                         "--max-tokens", "48", "--k", "1,2", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out, result


@pytest.mark.slow  # the small_run fixture generates with the CPU model (~3 min measured)
def test_eval_writes_a_complete_run_directory(small_run):
    out, result = small_run
    generations = read_jsonl(out / "generations.jsonl")
    grades = read_jsonl(out / "grades.jsonl")
    assert len(generations) == len(grades) == 8
    keys = {(g["suite"], g["problem_id"], g["sample"]) for g in generations}
    assert keys == {(g["suite"], g["problem_id"], g["sample"]) for g in grades}
    for g in generations:
        assert g["finish_reason"] in {"stop", "length"}
        assert 1 <= g["num_tokens"] <= 48
        assert isinstance(g["seed"], int) and isinstance(g["response"], str)
        assert (g["finish_reason"] == "length") == (g["num_tokens"] == 48)
    assert len({g["seed"] for g in generations}) == 8
    metrics = json.loads((out / "metrics.json").read_text())
    assert [m["suite"] for m in metrics] == ["math500", "aime24"]
    for m in metrics:
        assert m["num_problems"] == 2 and m["n"] == 2 and set(m["pass@k"]) == {"1", "2"}
        assert 0 <= m["pass@1"] <= m["pass@k"]["2"] <= 1
        suite_grades = [g for g in grades if g["suite"] == m["suite"]]
        assert m["pass@1"] == pytest.approx(sum(g["correct"] for g in suite_grades) / 4)
        assert any("max_tokens=48 (published: 40960)" == d for d in m["deviations"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["backend"]["model"]["sha256"]
    assert manifest["backend"]["chat_template_sha256"]
    assert [s["name"] for s in manifest["suites"]] == ["math500", "aime24"]
    assert manifest["suites"][0]["data_sha256"] == "02e232722dd1f9ab307124bfff40621d32193632b6b84aa9a246e701f0478141"
    assert manifest["packages"]["math-verify"] and manifest["packages"]["torch"]
    assert manifest["host"]["cores"] >= 1 and manifest["finished_at"]
    assert "deviation math500: 2 of 500 problems (--limit)" in result.stdout


@pytest.mark.slow  # the small_run fixture generates with the CPU model (~3 min measured)
def test_rerunning_a_finished_run_regenerates_nothing(small_run):
    out, _ = small_run
    before = (out / "generations.jsonl").read_text()
    result = run_harness("eval", "--suite", "math500,aime24", "--model", "smollm2-135m", "--limit", "2", "-n", "2",
                         "--max-tokens", "48", "--k", "1,2", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "all 8 samples already generated" in result.stdout
    assert (out / "generations.jsonl").read_text() == before


@pytest.mark.slow  # the small_run fixture generates with the CPU model (~3 min measured)
def test_grade_reproduces_the_eval_verdicts(small_run, tmp_path):
    out, _ = small_run
    regraded = tmp_path / "regraded"
    result = run_harness("grade", "--suite", "aime24", "--generations", str(out / "generations.jsonl"),
                         "--out", str(regraded))
    assert result.returncode != 0  # the file holds math500 lines too: refused, naming the line
    aime_only = tmp_path / "aime.jsonl"
    aime_only.write_text("".join(json.dumps(g) + "\n" for g in read_jsonl(out / "generations.jsonl") if g["suite"] == "aime24"))
    result = run_harness("grade", "--suite", "aime24", "--generations", str(aime_only), "--out", str(regraded))
    assert result.returncode == 0, result.stderr
    original = {(g["problem_id"], g["sample"]): (g["correct"], g["extracted"]) for g in read_jsonl(out / "grades.jsonl") if g["suite"] == "aime24"}
    again = {(g["problem_id"], g["sample"]): (g["correct"], g["extracted"]) for g in read_jsonl(regraded / "grades.jsonl")}
    assert original == again


@pytest.mark.slow
def test_resume_after_a_real_kill_loses_and_repeats_nothing(tmp_path):
    out = tmp_path / "killed"
    args = [sys.executable, "-m", "harness", "eval", "--suite", "aime24", "--model", "smollm2-135m", "--limit", "3",
            "-n", "2", "--max-tokens", "32", "--batch-size", "1", "--out", str(out)]
    env = {**os.environ, "HARNESS_PROGRESS": "off"}
    process = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    generations = out / "generations.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline:
        if generations.exists() and len(generations.read_text().splitlines()) >= 2:
            break
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    written = [line for line in generations.read_text().splitlines() if line.strip()]
    assert 2 <= len(written) < 6, "the kill must land mid-run"
    assert not (out / "metrics.json").exists()
    result = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert f"generating {6 - len(written)} samples ({len(written)} already" in result.stdout
    final = generations.read_text().splitlines()
    assert final[: len(written)] == written  # nothing rewritten
    keys = [(json.loads(line)["problem_id"], json.loads(line)["sample"]) for line in final]
    assert len(keys) == len(set(keys)) == 6
    assert len(read_jsonl(out / "grades.jsonl")) == 6
    assert len(json.loads((out / "manifest.json").read_text())["sessions"]) == 2
