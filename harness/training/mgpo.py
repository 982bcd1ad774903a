"""MGPO's max-entropy weight: w(p_c) = exp(-lambda * D_ME(p_c || 0.5)), applied to A after normalisation.

Why `xlogy`: the 0 * log 0 terms at p_c in {0, 1} must be 0. A clamp to [1e-12, 1 - 1e-12] is a
no-op at the top in float32 (1 - 1e-12 == 1.0f) and produced NaN within ~20 steps upstream.
Why after normalisation: a group-constant rescale of the rewards is cancelled by the std division.
lambda = 0 gives w = exp(-0 * D) = 1 exactly, so A' equals the GRPO advantage bit for bit.
"""
from __future__ import annotations

import torch

from harness.training.advantages import group_advantages


def maxent_divergence(p: torch.Tensor, p0: float = 0.5) -> torch.Tensor:
    """D_ME(p || p0) = p log(p/p0) + (1-p) log((1-p)/(1-p0)); equals ln 2 - H(p) for p0 = 0.5."""
    q = 1.0 - p
    return (torch.special.xlogy(p, p) - p * torch.log(torch.as_tensor(p0, dtype=p.dtype))
            + torch.special.xlogy(q, q) - q * torch.log(torch.as_tensor(1.0 - p0, dtype=p.dtype)))


def maxent_weight(p: torch.Tensor, lam: float, p0: float = 0.5) -> torch.Tensor:
    return torch.exp(-lam * maxent_divergence(p, p0))


def mgpo_advantages(rewards: torch.Tensor, correct: torch.Tensor, group_size: int, lam: float,
                    scale: str = "group", eps: float = 1e-6, p0: float = 0.5):
    """(A' per rollout, w per group, p_c per group). p_c comes from `correct` even if rewards are shaped."""
    with torch.no_grad():
        advantages = group_advantages(rewards, group_size, scale, eps)
        p_correct = correct.to(rewards.dtype).view(-1, group_size).mean(dim=1)
        weights = maxent_weight(p_correct, lam, p0)
        return advantages * weights.repeat_interleave(group_size), weights, p_correct
