"""Per-token log-probs of completions under a causal LM, from temperature-scaled logits.

Prompts are left-padded and completions right-padded, as rollouts come back from `generate`;
position ids come from the attention mask so absolute-position models see the same positions
as unpadded ones. The completion mask covers every token up to and including the first EOS
(a truncated sample counts all its tokens) and is built by position, never by pad id (pad == eos
for SmolLM2 and Qwen, which would mask the real EOS).
"""
from __future__ import annotations

from typing import Iterable

import torch


def completion_mask(completion_ids: torch.Tensor, eos_ids: Iterable[int],
                    lengths: torch.Tensor | None = None) -> torch.Tensor:
    """1 up to and including the first EOS; `lengths` caps the real (unpadded) tokens per row."""
    is_eos = torch.isin(completion_ids, torch.tensor(sorted(set(eos_ids)), device=completion_ids.device))
    steps = torch.arange(completion_ids.shape[1], device=completion_ids.device).expand_as(completion_ids)
    first_eos = torch.where(is_eos, steps, torch.full_like(steps, completion_ids.shape[1])).min(dim=1).values
    mask = steps <= first_eos.unsqueeze(1)
    if lengths is not None:
        mask &= steps < lengths.unsqueeze(1)
    return mask.long()


def selective_log_softmax(logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    return torch.gather(logits.log_softmax(dim=-1), -1, ids.unsqueeze(-1)).squeeze(-1)


def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    logp = logits.log_softmax(dim=-1)
    return -(logp.exp() * logp).sum(dim=-1)


def completion_logprobs(model, prompt_ids: torch.Tensor, prompt_mask: torch.Tensor,
                        completion_ids: torch.Tensor, completion_mask: torch.Tensor,
                        temperature: float = 1.0, with_entropy: bool = False):
    """(B, T) log-probs of `completion_ids` (and entropies if asked) at sampling temperature T."""
    input_ids = torch.cat([prompt_ids, completion_ids], dim=1)
    attention = torch.cat([prompt_mask, torch.ones_like(completion_mask)], dim=1)
    positions = (attention.cumsum(dim=1) - 1).clamp(min=0)
    logits = model(input_ids=input_ids, attention_mask=attention, position_ids=positions).logits
    length = completion_ids.shape[1]
    logits = logits[:, -length - 1:-1, :].float() / temperature
    logp = selective_log_softmax(logits, completion_ids)
    if not with_entropy:
        return logp
    with torch.no_grad():
        entropy = entropy_from_logits(logits)
    return logp, entropy
