"""MGPO (GRPO with the max-entropy weight) on top of the pure functions: rollouts -> rewards ->
A' = w(p_c) * A -> mu clipped-surrogate updates per batch.

`mgpo_update` is one optimisation of a fixed rollout batch (used by the loop, the bandit test and
the benchmark). Micro-batches share the global normaliser of the whole batch (sequences for the
seq-mean modes, tokens for token-mean), so gradient accumulation does not change the loss. With
mu = 1 the old log-probs are the detached current ones (the loss value is 0 on-policy, the
gradient is not); with mu > 1 they are computed once, before the first update.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import torch

from harness.graders.math import grade_math
from harness.training.advantages import zero_std_fraction
from harness.training.checkpoint import latest_checkpoint, save_checkpoint  # noqa: F401 (re-exported)
from harness.training.logprobs import completion_logprobs
from harness.training.losses import aggregate, clip_fraction, clipped_surrogate, k3_kl
from harness.training.mgpo import mgpo_advantages
from harness.training.rollout import RolloutBatch


@dataclass(frozen=True)
class UpdateSettings:
    eps_low: float = 0.2
    eps_high: float = 0.2
    loss_agg: str = "seq-mean-token-mean"
    beta: float = 0.0
    mu: int = 1
    micro_batch: int = 8
    temperature: float = 1.0
    grad_clip: float | None = 1.0
    max_len: int | None = None  # dr_grpo's constant normaliser (max_new_tokens)


def rows_logprobs(model, batch: RolloutBatch, rows: slice, temperature: float, with_entropy: bool = False):
    return completion_logprobs(model, batch.prompt_ids[rows], batch.prompt_mask[rows], batch.completion_ids[rows],
                               batch.completion_mask[rows], temperature, with_entropy)


def global_normalizer(batch: RolloutBatch, mode: str) -> float:
    return float(batch.completion_mask.sum()) if mode == "token-mean" else float(batch.completion_ids.shape[0])


def mgpo_update(model, optimizer, batch: RolloutBatch, advantages: torch.Tensor, settings: UpdateSettings,
                ref_model=None, old_logp: torch.Tensor | None = None) -> dict[str, float]:
    """mu optimizer steps on one rollout batch; returns loss, clip fraction, entropy, KL, grad norm.

    `old_logp` (B, T) overrides the behaviour log-probs (e.g. a sampler's own, or a benchmark's fixed ones).
    """
    total = batch.completion_ids.shape[0]
    chunks = [slice(start, min(start + settings.micro_batch, total)) for start in range(0, total, settings.micro_batch)]
    normalizer = global_normalizer(batch, settings.loss_agg)
    old_all, ref_all = old_logp, None
    with torch.no_grad():
        if settings.mu > 1 and old_all is None:
            old_all = torch.cat([rows_logprobs(model, batch, rows, settings.temperature) for rows in chunks])
        if settings.beta > 0:  # the reference model is only touched when the KL term is on
            ref_all = torch.cat([rows_logprobs(ref_model, batch, rows, settings.temperature) for rows in chunks])
    stats = {"loss": 0.0, "clip_fraction": 0.0, "entropy": 0.0, "kl": 0.0, "grad_norm": 0.0}
    tokens = float(batch.completion_mask.sum().clamp(min=1))
    for _ in range(settings.mu):
        for rows in chunks:
            mask = batch.completion_mask[rows]
            logp, entropy = rows_logprobs(model, batch, rows, settings.temperature, with_entropy=True)
            old = old_all[rows] if old_all is not None else logp.detach()
            per_token = clipped_surrogate(logp, old, advantages[rows], mask, settings.eps_low, settings.eps_high)
            loss = aggregate(per_token, mask, settings.loss_agg, normalizer, settings.max_len)
            if settings.beta > 0:
                kl = aggregate(k3_kl(logp, ref_all[rows]), mask, settings.loss_agg, normalizer, settings.max_len)
                loss = loss + settings.beta * kl
                stats["kl"] += float(kl.detach()) / settings.mu
            loss.backward()
            weight = float(mask.sum()) / tokens / settings.mu
            stats["loss"] += float(loss.detach()) / settings.mu
            stats["clip_fraction"] += clip_fraction(logp.detach(), old, advantages[rows], mask,
                                                    settings.eps_low, settings.eps_high) * weight
            stats["entropy"] += float((entropy * mask).sum() / mask.sum().clamp(min=1)) * weight
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), settings.grad_clip or float("inf"))
        stats["grad_norm"] = float(norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return stats


def grade_rollouts(batch: RolloutBatch, answers: list[str]) -> torch.Tensor:
    """1.0 when the math grader accepts the answer and the sample ended with EOS (truncated = wrong)."""
    correct = [grade_math(text, answer).correct and not bool(cut)
               for text, answer, cut in zip(batch.texts, answers, batch.truncated)]
    return torch.tensor(correct, dtype=torch.float32)


def step_metrics(batch: RolloutBatch, rewards: torch.Tensor, weights: torch.Tensor) -> dict[str, float]:
    lengths = batch.completion_mask.sum(dim=1).float()
    return {"reward_mean": float(rewards.mean()), "frac_zero_std": zero_std_fraction(rewards, batch.group_size),
            "w_mean": float(weights.mean()), "w_std": float(weights.std()) if weights.numel() > 1 else 0.0,
            "w_min": float(weights.min()), "w_max": float(weights.max()),
            "response_len_mean": float(lengths.mean()), "response_len_max": float(lengths.max()),
            "truncation_rate": float(batch.truncated.float().mean())}


def pick_prompts(rows: list[dict], count: int, seed: int, step: int) -> list[dict]:
    """Prompts of one step: a function of (seed, step) only, so a resumed run continues identically."""
    return random.Random(f"{seed}:{step}").sample(rows, min(count, len(rows)))


def save_rl_checkpoint(model, tokenizer, optimizer, step: int, path: Path) -> None:
    """HF directory + trainer_state.pt (step, optimizer, RNG states), atomically (harness.training.checkpoint)."""
    save_checkpoint(model, tokenizer, path, {"step": step, "optimizer": optimizer.state_dict()})
