"""Token-level clipped surrogate, its aggregations, the k3 KL, and the clip fraction.

Masked positions are neutralised before `exp` so garbage there (padding logits, +-1e4) can reach
neither the loss nor the gradient (inf * 0 would be NaN). Aggregations take an optional global
`normalizer` so k micro-batches of one optimizer step sum to the full-batch loss (pitfall P1):
the number of sequences for seq-mean-*, the number of supervised tokens for token-mean.
"""
from __future__ import annotations

import torch

AGGREGATIONS = ("seq-mean-token-mean", "token-mean", "seq-mean-token-sum", "dr_grpo")


def clipped_surrogate(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor,
                      mask: torch.Tensor, eps_low: float = 0.2, eps_high: float = 0.2) -> torch.Tensor:
    """Per-token -min(r A, clip(r, 1-eps_low, 1+eps_high) A), r = exp(logp - old_logp) per token."""
    valid = mask.bool()
    log_ratio = torch.where(valid, logp - old_logp, torch.zeros_like(logp))
    ratio = torch.exp(log_ratio)
    adv = torch.where(valid, advantages.unsqueeze(-1).expand_as(logp), torch.zeros_like(logp))
    unclipped = ratio * adv
    clipped = torch.clamp(ratio, 1.0 - eps_low, 1.0 + eps_high) * adv
    return torch.where(valid, -torch.minimum(unclipped, clipped), torch.zeros_like(logp))


def aggregate(per_token: torch.Tensor, mask: torch.Tensor, mode: str = "seq-mean-token-mean",
              normalizer: float | None = None, max_len: int | None = None) -> torch.Tensor:
    if mode not in AGGREGATIONS:
        raise ValueError(f"loss aggregation {mode!r}: expected one of {AGGREGATIONS}")
    mask = mask.to(per_token.dtype)
    token_sums = (per_token * mask).sum(dim=-1)
    if mode == "token-mean":
        return token_sums.sum() / (normalizer if normalizer is not None else mask.sum().clamp(min=1))
    sequences = normalizer if normalizer is not None else per_token.shape[0]
    if mode == "seq-mean-token-mean":
        return (token_sums / mask.sum(dim=-1).clamp(min=1)).sum() / sequences
    if mode == "seq-mean-token-sum":
        return token_sums.sum() / sequences
    return token_sums.sum() / (sequences * (max_len or per_token.shape[-1]))  # dr_grpo


def k3_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimate of KL(pi || ref) (Schulman 2020): exp(ref - logp) - (ref - logp) - 1 >= 0."""
    delta = ref_logp - logp
    return torch.exp(delta) - delta - 1.0


def clip_fraction(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor,
                  mask: torch.Tensor, eps_low: float = 0.2, eps_high: float = 0.2) -> float:
    """Share of supervised tokens whose gradient the clip removed (TRL's definition)."""
    valid = mask.bool()
    ratio = torch.exp(torch.where(valid, logp - old_logp, torch.zeros_like(logp)))
    adv = advantages.unsqueeze(-1)
    clipped = ((ratio > 1 + eps_high) & (adv > 0)) | ((ratio < 1 - eps_low) & (adv < 0))
    return float((clipped & valid).sum() / valid.sum().clamp(min=1))
