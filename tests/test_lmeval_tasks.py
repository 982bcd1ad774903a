"""The lm-eval task pack: loads offline through lm-eval, scores exactly as `harness grade` does.

GPQA documents hold question text: nothing here prints prompts; comparisons of prompts use hashes.
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, read_jsonl, run_harness
from harness.lmeval import TASKS_DIR
from harness.lmeval.tasks.ssp_tasks import doc_to_target, process_results
from suites import get_suite

pytest.importorskip("lm_eval", reason="the task pack needs `pip install 'ssp-harness[lmeval]'`")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def tasks():
    from lm_eval.tasks import TaskManager

    names = ["ssp_aime24", "ssp_math500", "ssp_gpqa_diamond", "ssp_gpqa_diamond_published"]
    return TaskManager(include_path=str(TASKS_DIR)).load(names)["tasks"]


def test_command_prints_the_task_pack_directory():
    result = run_harness("lm-eval-tasks", "--list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == str(TASKS_DIR) and (TASKS_DIR / "ssp_aime24.yaml").is_file()
    assert {"ssp_aime24", "ssp_aime25", "ssp_hmmt25", "ssp_math500", "ssp_gpqa_diamond",
            "ssp_gpqa_diamond_published"} <= set(lines[1:])


def test_tasks_hold_our_problems_prompts_and_option_orders(tasks):
    for task_name, suite_name, options in [("ssp_aime24", "aime24", {}), ("ssp_math500", "math500", {}),
                                           ("ssp_gpqa_diamond", "gpqa_diamond", {"option_order": "shuffled"}),
                                           ("ssp_gpqa_diamond_published", "gpqa_diamond", {"option_order": "published"})]:
        docs = list(tasks[task_name].test_docs())
        problems = get_suite(suite_name).load_problems(options)
        assert [d["problem_id"] for d in docs] == [p.problem_id for p in problems]
        assert [sha(d["prompt"]) for d in docs] == [sha(p.messages[0]["content"]) for p in problems]
        assert [tasks[task_name].doc_to_target(d) for d in docs[:5]] == [
            p.answer["letter"] if isinstance(p.answer, dict) else p.answer for p in problems[:5]]
    published = [tasks["ssp_gpqa_diamond_published"].doc_to_target(d) for d in tasks["ssp_gpqa_diamond_published"].test_docs()]
    assert set(published) == {"A"}


def responses_for(suite_name, problems):
    """Per problem: a right answer, a wrong one, and one with no answer."""
    out = []
    for p in problems:
        if suite_name == "gpqa_diamond":
            gold = p.answer["letter"]
            wrong = "ABCD"[("ABCD".index(gold) + 1) % 4]
            out += [(p.problem_id, f"Answer: {gold}"), (p.problem_id, f"\\boxed{{{wrong}}}"), (p.problem_id, "no idea")]
        else:
            out += [(p.problem_id, f"so \\boxed{{{p.answer}}}"), (p.problem_id, "\\boxed{-1}"), (p.problem_id, "no idea")]
    return out


@pytest.mark.parametrize("task_name, suite_name", [("ssp_aime24", "aime24"), ("ssp_gpqa_diamond", "gpqa_diamond")])
def test_lm_eval_scoring_equals_harness_grade_per_sample(tasks, tmp_path, task_name, suite_name):
    task = tasks[task_name]
    docs = {d["problem_id"]: d for d in list(task.test_docs())[:6]}
    problems = [p for p in get_suite(suite_name).load_problems() if p.problem_id in docs]
    responses = responses_for(suite_name, problems)
    lm_eval_verdicts = [task.process_results(docs[pid], [text])["pass_at_1"] for pid, text in responses]

    keys, seen = [], {}  # sample numbers run 0..n-1 within each problem
    for pid, _ in responses:
        keys.append((pid, seen.setdefault(pid, 0)))
        seen[pid] += 1
    generations = tmp_path / "generations.jsonl"
    generations.write_text("".join(json.dumps({"problem_id": pid, "sample": s, "response": text}) + "\n"
                                   for (pid, s), (_, text) in zip(keys, responses)))
    result = run_harness("grade", "--suite", suite_name, "--generations", str(generations), "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    harness_verdicts = {(g["problem_id"], g["sample"]): float(g["correct"])
                        for g in read_jsonl(tmp_path / "run" / "grades.jsonl")}
    assert lm_eval_verdicts == [harness_verdicts[key] for key in keys]
    assert lm_eval_verdicts.count(1.0) == len(problems)  # the right answers are right, the rest are not


@pytest.mark.slow
def test_lm_eval_cli_on_cpu_agrees_with_harness_grade(tmp_path):
    """Real `lm_eval --model hf` with the default model on a slice; its generations re-graded by us."""
    if shutil.which("lm_eval") is None:
        pytest.skip("lm_eval CLI not on PATH")
    from transformers import AutoTokenizer

    from harness.backends.prompts import render_prompt
    from harness.models import loadable_path, resolve_model

    model_dir = loadable_path(resolve_model("smollm2-135m"))
    out = tmp_path / "lmeval"
    command = ["lm_eval", "--model", "hf", "--model_args", f"pretrained={model_dir}", "--device", "cpu",
               "--tasks", "ssp_math500,ssp_gpqa_diamond", "--include_path", str(TASKS_DIR), "--limit", "3",
               "--apply_chat_template", "--gen_kwargs", "max_gen_toks=24", "--batch_size", "6",
               "--log_samples", "--output_path", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1200, cwd=REPO,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    for suite_name in ("math500", "gpqa_diamond"):
        [samples_file] = out.glob(f"*/samples_ssp_{suite_name}_*.jsonl")
        samples = read_jsonl(samples_file)
        assert len(samples) == 3
        problems = {p.problem_id: p for p in get_suite(suite_name).load_problems()}
        for sample in samples:  # lm-eval sent the prompt `harness eval` would send
            expected = render_prompt(tokenizer, problems[sample["doc"]["problem_id"]].messages)
            assert sha(sample["arguments"]["gen_args_0"]["arg_0"]) == sha(expected)
        # the model's own answers are nearly all wrong; a planted right answer per problem (sample 1)
        # makes the comparison able to fail on a correct verdict too
        planted = {s["doc"]["problem_id"]: f"\\boxed{{{doc_to_target(s['doc'])}}}" for s in samples}
        generations = tmp_path / f"{suite_name}.jsonl"
        generations.write_text("".join(json.dumps({"problem_id": s["doc"]["problem_id"], "sample": 0,
                                                   "response": s["resps"][0][0]}) + "\n" for s in samples)
                               + "".join(json.dumps({"problem_id": pid, "sample": 1, "response": text}) + "\n"
                                         for pid, text in planted.items()))
        graded = run_harness("grade", "--suite", suite_name, "--generations", str(generations),
                             "--out", str(tmp_path / f"graded_{suite_name}"))
        assert graded.returncode == 0, graded.stderr
        grades = read_jsonl(tmp_path / f"graded_{suite_name}" / "grades.jsonl")
        ours = {g["problem_id"]: float(g["correct"]) for g in grades if g["sample"] == 0}
        assert ours == {s["doc"]["problem_id"]: s["pass_at_1"] for s in samples}
        theirs = {s["doc"]["problem_id"]: process_results(s["doc"], [planted[s["doc"]["problem_id"]]])["pass_at_1"]
                  for s in samples}
        assert {g["problem_id"]: float(g["correct"]) for g in grades if g["sample"] == 1} == theirs == {
            pid: 1.0 for pid in planted}


def test_task_yamls_are_generated_from_the_suites_protocols():
    from harness.lmeval import TASKS_DIR
    from harness.lmeval.generate import TASKS, task_yaml

    for task in TASKS:
        assert (TASKS_DIR / f"{task}.yaml").read_text(encoding="utf-8") == task_yaml(task), (
            f"{task}.yaml is stale: run python -m harness.lmeval.generate")
