"""Kill-and-resume: SFT and an MGPO phase are SIGKILLed mid-run, resumed, and their logged losses
must equal an uninterrupted run's at the same seed, step by step (CPU, float tolerance).

The policy is a pico Qwen2 over a character tokenizer, first taught (in-process) to answer "1" or
"2" at random, so MGPO groups have mixed rewards and the updates really change the weights.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
import yaml

from conftest import REPO, read_jsonl, run_harness
from harness.training.sft import sft_step, tokenize_prompt_and_output
from training_fixtures import char_tokenizer, tiny_qwen2

COMPARED = {"sft": ("loss", "grad_norm", "lr", "tokens"),
            "mgpo": ("loss", "grad_norm", "reward_mean", "entropy", "response_len_mean", "w_mean", "clip_fraction")}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("resume")
    from harness.models import load_model_and_tokenizer

    chars = char_tokenizer()
    tiny_qwen2(vocab_size=len(chars), eos_token_id=chars.eos_token_id, pad_token_id=chars.pad_token_id,
               tie=False).save_pretrained(root / "pico")
    chars.save_pretrained(root / "pico")
    model, tokenizer, _ = load_model_and_tokenizer(str(root / "pico"))  # as the stages will load them
    model.train()
    prompts = [[{"role": "user", "content": f"pick {i}"}] for i in range(8)]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    torch.manual_seed(0)
    for step in range(60):  # answers "1" or "2" at random: mixed groups for MGPO
        answers = [str(1 + (i + step) % 2) for i in range(8)]
        sft_step(model, optimizer, [tokenize_prompt_and_output(tokenizer, prompts, answers)], 1.0)
    model.eval().save_pretrained(root / "pico")
    tokenizer.save_pretrained(root / "pico")
    (root / "sft.jsonl").write_text("".join(json.dumps({"prompt": f"say {i}", "completion": f"{i % 3} ok"}) + "\n"
                                            for i in range(12)))
    (root / "rl.jsonl").write_text("".join(json.dumps({"prompt": f"pick {i}", "answer": "1"}) + "\n" for i in range(8)))
    return root


def config_for(root, out) -> str:
    config = {"out": str(out), "model": str(root / "pico"), "threads": 1,
              "sft": {"data": str(root / "sft.jsonl"), "steps": 8, "batch_size": 3, "save_every": 2, "lr": 1e-3,
                      "warmup_steps": 3, "max_length": 64},
              "mgpo": {"init": str(root / "pico"), "data": str(root / "rl.jsonl"), "steps": 6, "save_every": 2,
                       "prompts_per_step": 2, "group_size": 4, "lam": 1.0, "mu": 2, "max_new_tokens": 4,
                       "lr": 1e-3, "seed": 5}}
    path = root / f"{out.name}.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def killed_midway(stage: str, config: str, out, after_step: int) -> None:
    """Start `harness train STAGE`, SIGKILL it once its log shows `after_step` steps."""
    log = out / stage / "log.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "harness", "train", stage, "--config", config], cwd=REPO,
                               env={**os.environ, "SSP_TRAIN_STEP_PAUSE_S": "0.4"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if log.is_file() and len(log.read_text().splitlines()) >= after_step:
            break
        time.sleep(0.05)
    assert process.poll() is None, process.stderr.read().decode()[-2000:]
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert not json.loads((out / stage / "manifest.json").read_text()).get("finished_at")


@pytest.mark.slow
@pytest.mark.parametrize("stage, kill_after", [("sft", 5), ("mgpo", 3)])
def test_a_killed_stage_resumes_to_the_uninterrupted_loss_curve(workspace, stage, kill_after):
    straight, broken = workspace / f"straight-{stage}", workspace / f"broken-{stage}"
    done = run_harness("train", stage, "--config", config_for(workspace, straight), timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    config = config_for(workspace, broken)
    killed_midway(stage, config, broken, kill_after)
    partial = read_jsonl(broken / stage / "log.jsonl")
    assert kill_after <= len(partial) < 8
    resumed = run_harness("train", stage, "--config", config, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    manifest = json.loads((broken / stage / "manifest.json").read_text())
    assert manifest["resumed_from"].endswith("step-000004" if stage == "sft" else "step-000002")
    reference, again = read_jsonl(straight / stage / "log.jsonl"), read_jsonl(broken / stage / "log.jsonl")
    assert [r["step"] for r in again] == [r["step"] for r in reference] == list(range(1, len(reference) + 1))
    for ours, theirs in zip(again, reference):
        for key in COMPARED[stage]:
            assert ours[key] == pytest.approx(theirs[key], rel=1e-6, abs=1e-9), (ours["step"], key)
    if stage == "mgpo":
        assert any(r["grad_norm"] > 0 for r in reference)  # the updates did move the weights
        assert [r["prompts"] for r in again] == [r["prompts"] for r in reference]  # same draws after the kill
        trained_on = (broken / stage / "data.jsonl").read_text()  # the rows the phase trained on, kept on resume
        assert trained_on == (straight / stage / "data.jsonl").read_text()
        rows = [json.loads(line) for line in trained_on.splitlines()]
        assert [(r["problem_id"], r["prompt"], r["messages"][0]["content"]) for r in rows] == \
            [(f"row-{i}", f"pick {i}", f"pick {i}") for i in range(8)]
    print(stage, [round(r["loss"], 6) for r in reference], [round(r["grad_norm"], 6) for r in reference])
