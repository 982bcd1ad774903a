"""The code-RL reward: hand values of the pure parts, the toy code tasks against the real grader,
and hostile rollouts (the sandbox attack list) that must earn 0 within the step's time bound."""
from __future__ import annotations

import json
import subprocess
import time

import pytest

from harness.problems import Verdict
from harness.training.code_reward import CodeReward, code_reward, step_budget_s, verdict_class
from harness.training.code_tasks import generate_code_splits

from conftest import docker_skip_reason, run_harness


def verdict(correct, reason, passed=0, tests=4, code="print(1)", **details):
    return Verdict(correct, code, reason, {"tests_passed": passed, "num_tests": tests, **details})


@pytest.mark.parametrize("v, cls, full, partial", [
    (verdict(True, "passed", 4), "passed", 1.0, 1.0),
    (verdict(False, "wrong_answer", 1), "wrong_answer", 0.0, 0.25),
    (verdict(False, "runtime_error", 2), "runtime_error", 0.0, 0.5),
    (verdict(False, "timeout", 3), "timeout", 0.0, 0.75),
    (verdict(False, "global_timeout", 0), "timeout", 0.0, 0.0),
    (verdict(False, "no_result", 0, error_message="out of memory"), "runtime_error", 0.0, 0.0),
    (verdict(False, "no_result", 0, error_message="outer budget exceeded"), "timeout", 0.0, 0.0),
    (verdict(False, "runtime_error", 0, code=None, error_message="no code block in the response"), "no_code", 0.0, 0.0),
    (Verdict(False, None, "unclosed_think", {}), "no_code", 0.0, 0.0),
    (Verdict(False, None, "truncated", {}), "truncated", 0.0, 0.0),
])
def test_verdict_class_and_reward_hand_values(v, cls, full, partial):
    assert verdict_class(v) == cls
    assert code_reward(v) == full and code_reward(v, partial_credit=True) == partial


def test_step_budget_is_waves_of_outer_budgets():
    # 5 rollouts on 2 workers = 3 waves; budget (2+1)*3+5 = 14 s, + 10 s grace
    assert step_budget_s(5, 2, 2, 3) == 3 * 24.0


def test_code_splits_are_disjoint_seeded_and_in_lcb_format():
    splits = generate_code_splits({"train": 4, "rl": 6}, ["stdin", "functional"], seed=3)
    again = generate_code_splits({"train": 4, "rl": 6}, ["stdin", "functional"], seed=3)
    assert splits == again and len(splits["rl"]) == 12
    assert not {r["text"] for r in splits["train"]} & {r["text"] for r in splits["rl"]}
    for row in splits["rl"]:
        tests = row["tests"]
        assert len(tests["inputs"]) == len(tests["outputs"]) == 3 and tests["timeout"] == 2
        assert (tests["fn_name"] is None) == (row["domain"] == "code_stdin")
        assert row["completion"].startswith("```python\n")


def backend_name():
    if docker_skip_reason() is None:
        return "docker"
    if subprocess.run(["which", "bwrap"], capture_output=True).returncode == 0:
        return "bwrap"
    pytest.skip("no isolating sandbox here")


@pytest.fixture(scope="module")
def reward():
    import sandbox

    yield CodeReward(mode="fixed", timeout_s=1, memory_mb=256, sandbox_name=backend_name(), workers=2)
    sandbox.close_all()


def test_reference_solutions_pass_and_wrong_ones_fail(reward):
    rows = generate_code_splits({"rl": 3}, ["stdin", "functional"], seed=0)["rl"]
    texts = [r["completion"] for r in rows] + ["```python\nprint(0)\n```", "no code at all"]
    tests = [r["tests"] for r in rows] + [rows[0]["tests"], rows[0]["tests"]]
    rewards, correct, classes, record = reward(texts, tests, [False] * len(texts))
    assert classes == ["passed"] * 6 + ["wrong_answer", "no_code"]
    assert rewards.tolist() == [1.0] * 6 + [0.0, 0.0] and correct.tolist() == rewards.tolist()
    assert record["verdicts"]["passed"] == 6 and record["verdicts"]["no_code"] == 1
    cut = reward(texts[:1], tests[:1], [True])
    assert cut[2] == ["truncated"] and cut[0].tolist() == [0.0]


HOSTILE = {
    "network": "import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=2)\nprint(input())",
    "host_write": "open('/etc/planted', 'w').write('x')\nopen('/work/planted', 'w').write('x')\nprint(input())",
    "fork_bomb": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
    "memory_bomb": "chunks = []\nwhile True:\n    chunks.append(bytearray(50 << 20))",
    "huge_output": "import sys\nwhile True:\n    sys.stdout.write('y' * (1 << 20))",
    "sleep": "import time\ntime.sleep(3600)",
    "sleep_ignoring_alarm": "import time\nwhile True:\n    try:\n        time.sleep(3600)\n    except BaseException:\n        pass",
}


@pytest.mark.slow
@pytest.mark.parametrize("partial_credit", [False, True])
def test_hostile_rollouts_earn_zero_within_the_step_bound(reward, partial_credit, tmp_path):
    import os

    reward.partial_credit = partial_credit
    row = generate_code_splits({"rl": 1}, ["stdin"], seed=0)["rl"][0]
    texts = [f"```python\n{code}\n```" for code in HOSTILE.values()] + [row["completion"]]
    tests = [row["tests"]] * len(texts)
    started = time.monotonic()
    rewards, correct, classes, record = reward(texts, tests, [False] * len(texts))
    elapsed = time.monotonic() - started
    print(dict(zip(list(HOSTILE) + ["reference"], classes)), f"{elapsed:.1f} s", record)
    assert rewards.tolist() == [0.0] * len(HOSTILE) + [1.0]
    assert elapsed < step_budget_s(len(texts), 2, 1, 3)
    assert classes[-1] == "passed" and "passed" not in classes[:-1]
    assert not os.path.exists("/etc/planted") and not os.path.exists("/work/planted")
    again = reward([row["completion"]], [row["tests"]], [False])  # the pool still serves
    assert again[0].tolist() == [1.0]


def test_the_eval_split_is_held_out_and_leaves_train_and_rl_unchanged():
    from harness.training.config import TasksConfig
    from harness.training.data import toy_code_splits

    tasks = TasksConfig(code_train=4, code_rl=4)
    plain, with_eval = toy_code_splits(tasks), toy_code_splits(tasks, eval_size=3)
    assert plain["eval"] == [] and len(with_eval["eval"]) == 6
    assert with_eval["train"] == plain["train"] and with_eval["rl"] == plain["rl"]
    seen = {row["text"] for split in ("train", "rl") for row in plain[split]}
    assert not seen & {row["text"] for row in with_eval["eval"]}


def test_toy_code_suites_grade_generations_with_the_lcb_grader_in_the_sandbox(tmp_path):
    """`harness grade --suite toy_code_<domain>` on the eval stage's data file: the reference solution
    passes, a wrong program and a reply without code fail, with the code grader's reasons."""
    from harness.rundir import RunDir
    from suites import get_suite

    assert get_suite("toy_code_stdin").kind == "code" and get_suite("toy_algebra").kind != "code"
    for domain in ("stdin", "functional"):
        rows = generate_code_splits({"eval": 2}, [domain], seed=0)["eval"]
        data = tmp_path / f"code_{domain}.jsonl"
        data.write_text("".join(json.dumps(row) + "\n" for row in rows))
        replies = [rows[0]["completion"], "```python\nprint(0)\n```", "no code at all", rows[1]["completion"]]
        generations = tmp_path / f"{domain}-generations.jsonl"
        generations.write_text("".join(json.dumps({"problem_id": row["problem_id"], "sample": s, "response": replies[2 * i + s]}) + "\n"
                                       for i, row in enumerate(rows) for s in range(2)))
        out = tmp_path / f"graded-{domain}"
        result = run_harness("grade", "--suite", f"toy_code_{domain}", "--data", str(data), "--generations",
                             str(generations), "--out", str(out), "--grader", "fixed", "--sandbox", backend_name())
        assert result.returncode == 0, result.stderr[-1500:]
        grades = [json.loads(line) for line in (out / "grades.jsonl").read_text().splitlines()]
        verdicts = {(g["problem_id"], g["sample"]): g["correct"] for g in grades}
        assert verdicts == {(rows[0]["problem_id"], 0): True, (rows[0]["problem_id"], 1): False,
                            (rows[1]["problem_id"], 0): False, (rows[1]["problem_id"], 1): True}
        metrics = RunDir(out).metrics()
        assert len(metrics) == 1 and metrics[0]["suite"] == f"toy_code_{domain}" and metrics[0]["pass@k"]["1"] == 0.5
