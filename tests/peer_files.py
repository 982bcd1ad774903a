"""Make per-sample files with the peer tools themselves (no hand-written stand-ins).

`python -m tests.peer_files OUT_DIR` writes the files kept in tests/data/imports/ (see its
PROVENANCE.md); the slow tests call the same functions to check that today's tools still write
what the importers read.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.scripted_openai import ScriptedServer, scripted_answer, suite_golds

REPO = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONPATH": str(REPO),
       "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}


def lm_eval_api(out: Path, suite: str = "aime24", limit: int = 6, repeats: int = 2) -> Path:
    """lm-eval's local-chat-completions against the scripted server; the task pack with `repeats`."""
    from harness.lmeval import TASKS_DIR

    tasks = out / "tasks"
    shutil.copytree(TASKS_DIR, tasks, ignore=shutil.ignore_patterns("__pycache__"))
    common = tasks / "_ssp_common.yaml"
    common.write_text(common.read_text().replace("repeats: 1 ", f"repeats: {repeats} "))
    with ScriptedServer(suite_golds(suite, limit)) as server:
        command = ["lm_eval", "--model", "local-chat-completions", "--model_args",
                   f"model=scripted,base_url={server.url}/chat/completions,num_concurrent=1,max_retries=1,"
                   "tokenized_requests=False",
                   "--tasks", f"ssp_{suite}", "--include_path", str(tasks), "--limit", str(limit),
                   "--apply_chat_template", "--gen_kwargs", "max_gen_toks=256,temperature=0.6",
                   "--log_samples", "--output_path", str(out / "lmeval")]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, env=ENV)
    if result.returncode:
        raise RuntimeError(result.stderr[-3000:])
    shutil.rmtree(tasks)
    [samples] = (out / "lmeval").glob(f"*/samples_ssp_{suite}_*.jsonl")
    return samples


def lm_eval_cpu(out: Path, tasks: str = "ssp_math500,ssp_aime24", limit: int = 3) -> list[Path]:
    """lm-eval's hf model on the embedded CPU model (verdicts nearly all 0)."""
    from harness.lmeval import TASKS_DIR
    from harness.models import loadable_path, resolve_model

    model_dir = loadable_path(resolve_model("smollm2-135m"))
    command = ["lm_eval", "--model", "hf", "--model_args", f"pretrained={model_dir}", "--device", "cpu",
               "--tasks", tasks, "--include_path", str(TASKS_DIR), "--limit", str(limit), "--apply_chat_template",
               "--gen_kwargs", "max_gen_toks=48", "--batch_size", "6", "--log_samples", "--output_path",
               str(out / "lmeval-hf")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1200, env=ENV)
    if result.returncode:
        raise RuntimeError(result.stderr[-3000:])
    return sorted((out / "lmeval-hf").glob("*/samples_*.jsonl"))


def inspect_log(out: Path, suite: str = "aime24", limit: int = 6, epochs: int = 2, log_format: str = "eval") -> Path:
    """inspect_ai's eval() with the mockllm provider answering like the scripted server, on a local
    JSONL dataset of the suite's first problems, scored by inspect's own `includes()` (the target anywhere in the answer)."""
    from inspect_ai import Task, eval as inspect_eval
    from inspect_ai.dataset import json_dataset
    from inspect_ai.model import GenerateConfig, ModelOutput, ModelUsage, get_model
    from inspect_ai.scorer import includes
    from inspect_ai.solver import generate

    from suites import get_suite

    problems = get_suite(suite).load_problems()[:limit]
    data = out / f"{suite}.jsonl"
    out.mkdir(parents=True, exist_ok=True)
    data.write_text("".join(json.dumps({"id": p.problem_id, "input": p.messages[0]["content"],
                                        "target": str(p.answer)}) + "\n" for p in problems))
    golds = {p.messages[0]["content"]: str(p.answer) for p in problems}
    positions, asked = {prompt: i for i, prompt in enumerate(golds)}, {}

    def respond(messages, tools, tool_choice, config):
        prompt = messages[-1].text
        count = asked.get(prompt, 0)
        asked[prompt] = count + 1
        text = scripted_answer(positions[prompt], count, golds[prompt])
        output = ModelOutput.from_content("mockllm/model", text)
        # a usage of our own: mockllm's default counts tokens with tiktoken, which downloads its table
        output.usage = ModelUsage(input_tokens=len(prompt.split()), output_tokens=len(text.split()),
                                  total_tokens=len(prompt.split()) + len(text.split()))
        return output

    task = Task(dataset=json_dataset(str(data)), solver=generate(), scorer=includes(), epochs=epochs,
                name=f"ssp_{suite}")
    [log] = inspect_eval(task, model=get_model("mockllm/model", custom_outputs=respond),
                         log_dir=str(out / "inspect"), log_format=log_format, display="none",
                         max_connections=1, max_samples=1,
                         **GenerateConfig(temperature=0.6, max_tokens=256).model_dump(exclude_none=True))
    if log.status != "success":
        raise RuntimeError(f"inspect eval: {log.status} {str(log.error and log.error.message)[:500]}")
    return Path(log.location.removeprefix("file://"))


if __name__ == "__main__":
    target = Path(sys.argv[1])
    print(lm_eval_api(target))
    print(*lm_eval_cpu(target))
    print(inspect_log(target))
    print(inspect_log(target, log_format="json"))
