"""The MGPO stage driver: config -> rollout engine -> steps of mgpo_update -> log, curves, checkpoints.

Resumable: a checkpoint (HF directory + optimizer state) is written every `save_every` steps;
re-running the same command continues after the latest one, and the prompts and rollout seeds of
a step depend only on (seed, step), so a resumed run draws what the uninterrupted one would have.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from harness.backends.base import sample_seed
from harness.errors import HarnessError
from harness.models import eos_ids, load_model_and_tokenizer
from harness.progress import progress
from harness.training.config import TrainConfig
from harness.training.data import load_rows
from harness.training.mgpo import mgpo_advantages
from harness.training.mgpo_loop import (UpdateSettings, grade_rollouts, latest_checkpoint, mgpo_update,
                                        pick_prompts, save_rl_checkpoint, step_metrics)
from harness.training.rollout import HFRollout, VLLMRollout
from harness.training.stage import StageDir, read_jsonl, set_threads


def default_init(config: TrainConfig) -> str:
    merged = config.stage_dir("merge") / "model"
    if config.mgpo.init is None and not (merged / "config.json").is_file():
        raise HarnessError(f"mgpo.init: not set and {merged} does not exist yet (run `harness train merge` first)")
    return config.mgpo.init or str(merged)


def make_engine(config: TrainConfig, model, tokenizer, init: str):
    cfg = config.mgpo
    if cfg.rollout == "vllm":
        return VLLMRollout(init, tokenizer, eos_ids(model, tokenizer), cfg.vllm_sync,
                           cfg.vllm_gpu_memory_utilization, seed=cfg.seed)
    return HFRollout(model, tokenizer, eos_ids(model, tokenizer))


def settings_of(config: TrainConfig) -> UpdateSettings:
    cfg = config.mgpo
    return UpdateSettings(cfg.eps_low, cfg.eps_high, cfg.loss_agg, cfg.beta, cfg.mu, cfg.micro_batch,
                          cfg.temperature, cfg.grad_clip, cfg.max_new_tokens)


def train_mgpo(config: TrainConfig) -> Path:
    cfg = config.mgpo
    init = default_init(config)
    stage = StageDir(config.stage_dir("mgpo"), "mgpo", {"init": init, "tasks": config.tasks.model_dump(),
                                                        "mgpo": cfg.model_dump(), "dtype": config.dtype})
    if stage.is_finished():
        return stage.path
    set_threads(config.threads)
    rows, decision = load_rows(cfg.data, "rl", config.tasks, ("answer",), cfg.allow_contaminated)
    manifest = stage.start(decontamination=decision, rows=len(rows))
    resume = latest_checkpoint(stage.path)
    model, tokenizer, _ = load_model_and_tokenizer(str(resume or init), config.dtype, config.device, "mgpo.init")
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0)
    first_step = 1
    if resume:
        state = torch.load(resume / "trainer_state.pt", weights_only=False)
        optimizer.load_state_dict(state["optimizer"])
        first_step = state["step"] + 1
        kept = [r for r in read_jsonl(stage.path / "log.jsonl") if r["step"] < first_step]
        (stage.path / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in kept))
    ref_model = None
    if cfg.beta > 0:
        ref_model, _, _ = load_model_and_tokenizer(init, config.dtype, config.device, "mgpo.init")
        ref_model.eval().requires_grad_(False)
    engine = make_engine(config, model, tokenizer, init)
    sampling = cfg.sampling()
    settings = settings_of(config)
    bar = progress(cfg.steps - first_step + 1, "mgpo")
    bar.unit = "step"
    for step in range(first_step, cfg.steps + 1):
        record = mgpo_step(model, optimizer, engine, rows, step, sampling, settings, config, ref_model)
        stage.log(record)
        bar.update(1)
        bar.set_postfix(reward=f"{record['reward_mean']:.2f}")
        if step % cfg.save_every == 0 or step == cfg.steps:
            save_rl_checkpoint(model, tokenizer, optimizer, step, stage.path / "checkpoints" / f"step-{step:06d}")
    bar.close()
    plot_curves(read_jsonl(stage.path / "log.jsonl"), stage.path / "curves.png")
    stage.finish(manifest, resumed_from=str(resume) if resume else None,
                 final=str(latest_checkpoint(stage.path)))
    return stage.path


def mgpo_step(model, optimizer, engine, rows, step, sampling, settings, config, ref_model) -> dict:
    cfg = config.mgpo
    started = time.perf_counter()
    prompts = pick_prompts(rows, cfg.prompts_per_step, cfg.seed, step)
    batch = engine.generate([p["messages"] for p in prompts], sampling,
                            seed=sample_seed(cfg.seed, "mgpo", str(step), 0))
    rollout_seconds = time.perf_counter() - started
    answers = [p["answer"] for p in prompts for _ in range(cfg.group_size)]
    correct = grade_rollouts(batch, answers)
    advantages, weights, _ = mgpo_advantages(correct, correct, cfg.group_size, cfg.lam, cfg.scale_rewards,
                                             cfg.adv_eps, cfg.p0)
    stats = mgpo_update(model, optimizer, batch, advantages, settings, ref_model)
    engine.sync_weights(model)
    return {"step": step, **step_metrics(batch, correct, weights), **stats,
            "rollout_seconds": rollout_seconds, "seconds": time.perf_counter() - started}


def plot_curves(log: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("reward_mean", "reward mean"), ("frac_zero_std", "zero-std groups"), ("w_mean", "mean w"),
              ("entropy", "token entropy"), ("response_len_mean", "response tokens"), ("clip_fraction", "clip fraction")]
    figure, axes = plt.subplots(2, 3, figsize=(10, 5.5))
    steps = [r["step"] for r in log]
    for axis, (key, title) in zip(axes.flat, panels):
        axis.plot(steps, [r[key] for r in log], marker=".")
        axis.set_title(title)
        axis.set_xlabel("step")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


__all__ = ["train_mgpo", "mgpo_step"]
