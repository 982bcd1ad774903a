"""End to end with the real SmolLM2 model and the Docker sandbox: eval, then re-grade from the file."""
from __future__ import annotations

import json

import pytest

from conftest import docker_skip_reason, run_harness


@pytest.mark.slow
@pytest.mark.docker
@pytest.mark.skipif(docker_skip_reason() is not None, reason=str(docker_skip_reason()))
def test_eval_then_grade_lcb_v5_public_tests_in_docker(tmp_path):
    run, regraded = tmp_path / "run", tmp_path / "regraded"
    done = run_harness("eval", "--suite", "lcb_v5", "--model", "smollm2-135m", "--limit", "3", "-n", "1",
                       "--public-tests-only", "--max-tokens", "256", "--sandbox", "docker", "--out", str(run),
                       timeout=1500, env={"OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    grades = [json.loads(line) for line in (run / "grades.jsonl").read_text().splitlines()]
    assert sorted(g["problem_id"] for g in grades) == ["3485", "3487", "3495"]  # hf runs longest prompt first
    assert {g["sandbox"] for g in grades} == {"docker"} and {g["grader"] for g in grades} == {"lcb-compat@28fef95"}
    metrics = json.loads((run / "metrics.json").read_text())
    assert any("public tests only" in note for note in metrics["deviations"])
    assert metrics["options"]["public_tests_only"] is True and metrics["cons@n"] is None
    assert "public tests only" in done.stdout + done.stderr

    again = run_harness("grade", "--suite", "lcb_v5", "--public-tests-only", "--generations",
                        str(run / "generations.jsonl"), "--out", str(regraded), timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    regrades = [json.loads(line) for line in (regraded / "grades.jsonl").read_text().splitlines()]
    key = ("problem_id", "sample", "correct", "extracted", "reason", "error_code")
    assert [[g[k] for k in key] for g in regrades] == [[g[k] for k in key] for g in grades]


def test_lcb_v6_without_data_fails_with_where_to_get_it(tmp_path):
    done = run_harness("eval", "--suite", "lcb_v6", "--model", "smollm2-135m", "--out", str(tmp_path / "run"))
    assert done.returncode == 2 and "livecodebench/code_generation_lite" in done.stderr
    assert not (tmp_path / "run" / "generations.jsonl").exists()


def test_local_sandbox_without_the_unsafe_flag_is_refused(tmp_path):
    generations = tmp_path / "generations.jsonl"
    generations.write_text(json.dumps({"problem_id": "2727", "sample": 0, "response": "```\nprint(1)\n```"}) + "\n")
    done = run_harness("grade", "--suite", "lcb_custom", "--sandbox", "local", "--generations", str(generations),
                       "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "--unsafe-local-sandbox" in done.stderr
