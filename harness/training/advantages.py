"""Group-normalised advantages over G rollouts per prompt, prompt-major layout [q0 x G, q1 x G, ...].

Conventions (fixed here, see docs/training.md): the unbiased (Bessel) std, eps added to the std
(1e-6 as in verl; TRL uses 1e-4), groups by position never by prompt text, and G >= 2 required
(verl silently returns A = r for a single-sample group, TRL returns 0).
"""
from __future__ import annotations

import torch

SCALES = ("group", "batch", "none")


def group_advantages(rewards: torch.Tensor, group_size: int, scale: str = "group",
                     eps: float = 1e-6) -> torch.Tensor:
    """A_i = (r_i - mean_g r) / (std_g r + eps); `scale` = group | batch ("PPO lite") | none (Dr. GRPO)."""
    if group_size < 2:
        raise ValueError(f"group_size {group_size}: group advantages need G >= 2")
    if rewards.dim() != 1 or rewards.numel() % group_size:
        raise ValueError(f"rewards of shape {tuple(rewards.shape)} do not split into groups of {group_size}")
    if scale not in SCALES:
        raise ValueError(f"scale {scale!r}: expected one of {SCALES}")
    grouped = rewards.view(-1, group_size)
    centred = grouped - grouped.mean(dim=1, keepdim=True)
    if scale == "group":
        centred = centred / (grouped.std(dim=1, keepdim=True) + eps)
    elif scale == "batch":
        centred = centred / (rewards.std() + eps)
    return centred.reshape(-1)


def zero_std_fraction(rewards: torch.Tensor, group_size: int) -> float:
    """Share of groups whose rewards are all equal: they carry no gradient (trl#3857)."""
    grouped = rewards.view(-1, group_size)
    return float((grouped == grouped[:, :1]).all(dim=1).float().mean())
