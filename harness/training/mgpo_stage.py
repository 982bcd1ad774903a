"""The MGPO stage driver: config -> RL phases -> rollout engine -> steps of mgpo_update -> log, curves, checkpoints.

The curriculum: `mgpo.phases` is an ordered list (data, max response tokens, reward, steps); each
phase is a stage directory of its own (OUT/mgpo-<name>/) started from the previous phase's last
checkpoint; without phases there is one, OUT/mgpo/. A phase's reward is `math` (the math grader;
truncated = wrong) or `code` (harness.training.code_reward: the LCB grader in the sandbox, the
verdict classes counted in the log).

Resumable: a checkpoint (HF directory + optimizer state + RNG states) is written every
`save_every` steps; re-running the same command continues after the latest one, and the prompts
and rollout seeds of a step depend only on (seed, step), so a resumed run draws what the
uninterrupted one would have.
"""
from __future__ import annotations

import time
from pathlib import Path

import torch

from harness.backends.base import sample_seed
from harness.errors import HarnessError
from harness.models import eos_ids, load_model_and_tokenizer
from harness.progress import progress
from harness.training.checkpoint import (latest_checkpoint, load_state, prune_states, restore_rng_states,
                                         step_pause, truncate_log)
from harness.training.config import MGPOConfig, TrainConfig
from harness.training.data import load_rows
from harness.training.mgpo import mgpo_advantages
from harness.training.mgpo_loop import (UpdateSettings, grade_rollouts, mgpo_update, pick_prompts,
                                        save_rl_checkpoint, step_metrics)
from harness.training.rollout import HFRollout, VLLMRollout
from harness.training.stage import StageDir, read_jsonl, set_threads, write_jsonl_if_changed

KEEP_STATES = 2  # optimizer states kept (the latest two resumable checkpoints); weights are all kept


def default_init(config: TrainConfig) -> str:
    merged = config.stage_dir("merge") / "model"
    if config.mgpo.init is None and not (merged / "config.json").is_file():
        raise HarnessError(f"mgpo.init: not set and {merged} does not exist yet (run `harness train merge` first)")
    return config.mgpo.init or str(merged)


def make_engine(config: TrainConfig, cfg: MGPOConfig, model, tokenizer, init: str):
    if cfg.rollout == "vllm":
        return VLLMRollout(init, tokenizer, eos_ids(model, tokenizer), cfg.vllm_sync,
                           cfg.vllm_gpu_memory_utilization, seed=cfg.seed)
    return HFRollout(model, tokenizer, eos_ids(model, tokenizer))


def settings_of(cfg: MGPOConfig) -> UpdateSettings:
    return UpdateSettings(cfg.eps_low, cfg.eps_high, cfg.loss_agg, cfg.beta, cfg.mu, cfg.micro_batch,
                          cfg.temperature, cfg.grad_clip, cfg.max_new_tokens)


class MathReward:
    """1 when the math grader accepts the answer and the sample ended (truncated = wrong)."""

    def describe(self) -> dict:
        return {"reward": "math", "truncated": "wrong"}

    def __call__(self, batch, prompts: list[dict], group_size: int):
        correct = grade_rollouts(batch, [p["answer"] for p in prompts for _ in range(group_size)])
        return correct, correct, {}


class CodeRolloutReward:
    """The code reward on a rollout batch: the prompts' tests, G times each."""

    def __init__(self, cfg: MGPOConfig):
        from harness.training.code_reward import CodeReward

        code = cfg.code
        self.reward = CodeReward(code.grader, code.partial_credit, code.timeout_s, code.memory_mb,
                                 None if code.sandbox == "auto" else code.sandbox, code.workers, code.unsafe_local)

    def describe(self) -> dict:
        return self.reward.describe()

    def __call__(self, batch, prompts: list[dict], group_size: int):
        tests = [p["tests"] for p in prompts for _ in range(group_size)]
        rewards, correct, _, record = self.reward(batch.texts, tests, batch.truncated.tolist())
        return rewards, correct, record


def make_reward(cfg: MGPOConfig):
    return CodeRolloutReward(cfg) if cfg.reward == "code" else MathReward()


def phase_stage_names(config: TrainConfig) -> list[str]:
    return [name for name, _ in config.mgpo.phase_configs()]


def train_mgpo(config: TrainConfig) -> Path:
    """Every RL phase in order, each from the previous one's last checkpoint; returns the last phase's directory."""
    init, path = default_init(config), None
    for name, cfg in config.mgpo.phase_configs():
        path = train_phase(config, name, cfg, init)
        init = str(latest_checkpoint(path) or init)
    return path


def train_phase(config: TrainConfig, name: str, cfg: MGPOConfig, init: str) -> Path:
    stage = StageDir(config.stage_dir(name), name, {"init": init, "tasks": config.tasks.model_dump(),
                                                    "mgpo": cfg.model_dump(), "dtype": config.dtype})
    if stage.is_finished():
        return stage.path
    set_threads(config.threads)
    required = ("tests",) if cfg.reward == "code" else ("answer",)
    rows, decision = load_rows(cfg.data, "rl", config.tasks, required, cfg.allow_contaminated)
    reward = make_reward(cfg)
    manifest = stage.start(decontamination=decision, rows=len(rows), reward=reward.describe(), init=init)
    # the rows trained on, after the decontamination gate: `harness eval --suite toy_<x> --data` reads them
    write_jsonl_if_changed(rows, stage.path / "data.jsonl")
    resume = latest_checkpoint(stage.path)
    model, tokenizer, _ = load_model_and_tokenizer(str(resume or init), config.dtype, config.device, "mgpo.init")
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0)
    first_step = 1
    if resume:
        state = load_state(resume)
        optimizer.load_state_dict(state["optimizer"])
        if "rng" in state:
            restore_rng_states(state["rng"])
        first_step = state["step"] + 1
    truncate_log(stage.path / "log.jsonl", first_step - 1)
    ref_model = None
    if cfg.beta > 0:
        ref_model, _, _ = load_model_and_tokenizer(init, config.dtype, config.device, "mgpo.init")
        ref_model.eval().requires_grad_(False)
    engine = make_engine(config, cfg, model, tokenizer, init)
    sampling = cfg.sampling()
    settings = settings_of(cfg)
    bar = progress(cfg.steps - first_step + 1, name)
    bar.unit = "step"
    for step in range(first_step, cfg.steps + 1):
        record = mgpo_step(model, optimizer, engine, rows, step, sampling, settings, cfg, ref_model, reward)
        stage.log(record)
        bar.update(1)
        bar.set_postfix(reward=f"{record['reward_mean']:.2f}")
        if step % cfg.save_every == 0 or step == cfg.steps:
            save_rl_checkpoint(model, tokenizer, optimizer, step, stage.path / "checkpoints" / f"step-{step:06d}")
            prune_states(stage.path, KEEP_STATES)
        step_pause()
    bar.close()
    plot_curves(read_jsonl(stage.path / "log.jsonl"), stage.path / "curves.png")
    stage.finish(manifest, resumed_from=str(resume) if resume else None,
                 final=str(latest_checkpoint(stage.path)))
    return stage.path


def mgpo_step(model, optimizer, engine, rows, step, sampling, settings, cfg: MGPOConfig, ref_model,
              reward=None) -> dict:
    started = time.perf_counter()
    prompts = pick_prompts(rows, cfg.prompts_per_step, cfg.seed, step)
    batch = engine.generate([p["messages"] for p in prompts], sampling,
                            seed=sample_seed(cfg.seed, "mgpo", str(step), 0))
    rollout_seconds = time.perf_counter() - started
    rewards, correct, extra = (reward or MathReward())(batch, prompts, cfg.group_size)
    advantages, weights, _ = mgpo_advantages(rewards, correct, cfg.group_size, cfg.lam, cfg.scale_rewards,
                                             cfg.adv_eps, cfg.p0)
    stats = mgpo_update(model, optimizer, batch, advantages, settings, ref_model)
    engine.sync_weights(model)
    # Which prompts the step scored and how many of each group's G rollouts were correct: with a fixed
    # prompt set this is the per-prompt learning curve the step means average over.
    groups = {"prompts": [p["problem_id"] for p in prompts],
              "group_correct": [int(c) for c in correct.view(-1, cfg.group_size).sum(dim=1).tolist()]}
    return {"step": step, **step_metrics(batch, rewards, weights), "correct_mean": float(correct.mean()),
            **groups, **extra, **stats, "rollout_seconds": rollout_seconds, "seconds": time.perf_counter() - started}


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


__all__ = ["train_mgpo", "train_phase", "mgpo_step", "phase_stage_names"]
