"""The hf backend's sampling loop: `generate`'s sampling, with finished rows leaving the batch.

Why our own loop rather than `model.generate`: generate computes every row of a batch until its
last row ends, so a batch whose rows stop near 150 tokens but one at 512 pays 16 rows x 512 steps
(on the README's run only 32% of the row-steps were kept tokens); transformers' continuous
batching (`generate_batch`) ran slower than static generate here (53 vs 64.5 tok/s, float32). This loop keeps generate's token selection exactly: the same logits warpers
(`TemperatureLogitsWarper`, `TopKLogitsWarper`, `TopPLogitsWarper`, built as generate builds them),
float32 scores, softmax and `torch.multinomial` on the torch default generator; until the first
row of a batch ends it draws the same tokens as generate at the same seed (tests/test_hf_decode.py).
What differs: a row that produced EOS is dropped from the batch and the KV cache
(`Cache.batch_select_indices`), so later draws come from a smaller tensor.

`grouped_decode_attention` (registered with transformers' AttentionInterface, CPU only): a decode
step's single query token attends with two matmuls per kv-head group instead of sdpa's CPU flash
kernel, which is tuned for long queries (decode step at batch 16: 106-110 ms vs 133-173 ms, one
thread; prefill still runs sdpa). Its numerics are those of transformers' eager attention (bf16
matmuls, float32 softmax). A model whose generation_config asks for anything else (repetition
penalty, min_p, bad words...) or a request with stop strings goes through `generate` instead
(`unsupported_generation_settings`).
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from transformers import GenerationConfig
from transformers import AttentionInterface
from transformers.cache_utils import DynamicCache, DynamicLayer
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import AttentionMaskInterface, sdpa_mask
from transformers.generation.logits_process import (LogitsProcessorList, TemperatureLogitsWarper,
                                                    TopKLogitsWarper, TopPLogitsWarper)

from harness.sampling import Sampling

PREFILL_PADDING = 1.25  # a prefill group may compute up to this many times its rows' real prompt tokens

# generation_config fields whose non-default values make generate do more than this loop does
GENERATE_ONLY_FIELDS = ("repetition_penalty", "encoder_repetition_penalty", "no_repeat_ngram_size", "min_p",
                        "typical_p", "epsilon_cutoff", "eta_cutoff", "bad_words_ids", "suppress_tokens",
                        "begin_suppress_tokens", "forced_bos_token_id", "forced_eos_token_id", "min_length",
                        "min_new_tokens", "sequence_bias", "exponential_decay_length_penalty", "top_h",
                        "renormalize_logits", "guidance_scale", "watermarking_config")


def grouped_decode_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kwargs):
    """One query token per row: plain matmuls over the kv heads' groups (no copy of the cache per
    step); longer queries (the prefill) go to sdpa."""
    if query.shape[2] != 1 or kwargs.get("output_attentions") or module.training:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout,
                                      scaling=scaling, **kwargs)
    batch, heads, _, dim = query.shape
    kv_heads = key.shape[1]
    grouped = query.reshape(batch, kv_heads, heads // kv_heads, dim)
    scores = torch.matmul(grouped, key.transpose(2, 3)).float() * (scaling if scaling is not None else dim ** -0.5)
    if attention_mask is not None:  # sdpa's boolean mask (True = attend), (batch, 1, 1, kv)
        scores.masked_fill_(~attention_mask[:, :, :, :scores.shape[-1]], float("-inf"))
    weights = torch.softmax(scores, dim=-1).to(value.dtype)
    output = torch.matmul(weights, value).reshape(batch, heads, 1, dim)
    return output.transpose(1, 2).contiguous(), None


ATTENTION = "harness_grouped_decode"
AttentionInterface.register(ATTENTION, grouped_decode_attention)
AttentionMaskInterface.register(ATTENTION, sdpa_mask)


def use_grouped_decode_attention(model) -> bool:
    """Switch a model whose attention goes through transformers' AttentionInterface to the grouped decode path."""
    if getattr(model.config, "_attn_implementation", None) != "sdpa":
        return False  # eager, flash or a model's own choice: left as it is
    try:
        model.set_attn_implementation(ATTENTION)
    except (ValueError, AttributeError, NotImplementedError):
        return False
    return True


def unsupported_generation_settings(generation_config: GenerationConfig | None) -> list[str]:
    """Fields of a model's generation_config that only `generate` applies (empty: this loop is exact)."""
    if generation_config is None:
        return []
    defaults = GenerationConfig()
    return [name for name in GENERATE_ONLY_FIELDS
            if getattr(generation_config, name, None) != getattr(defaults, name, None)]


def logits_warpers(sampling: Sampling) -> LogitsProcessorList:
    """generate's warpers for these settings, in generate's order (temperature, top-k, top-p)."""
    warpers = LogitsProcessorList()
    if sampling.temperature <= 0:  # greedy: argmax of the raw scores
        return warpers
    if sampling.temperature != 1.0:
        warpers.append(TemperatureLogitsWarper(sampling.temperature))
    if sampling.top_k and sampling.top_k > 0:
        warpers.append(TopKLogitsWarper(top_k=sampling.top_k))
    if sampling.top_p is not None and sampling.top_p < 1.0:
        warpers.append(TopPLogitsWarper(top_p=sampling.top_p))
    return warpers


def select_tokens(logits: torch.Tensor, sampling: Sampling, warpers: LogitsProcessorList) -> torch.Tensor:
    """Next token of each row: argmax when greedy, else a multinomial draw from the warped softmax."""
    scores = logits.to(copy=True, dtype=torch.float32)
    if sampling.temperature <= 0:
        return torch.argmax(scores, dim=-1)
    # temperature, top-k and top-p read only the scores, so the tokens so far are not kept for them
    probs = torch.nn.functional.softmax(warpers(None, scores), dim=-1)
    return torch.multinomial(probs, num_samples=1).squeeze(1)


def sample_batch(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, sampling: Sampling,
                 eos_ids: Sequence[int], on_step: Callable[[int], None] | None = None) -> list[list[int]]:
    """New tokens of each row (up to and including its EOS, or max_tokens of them).

    Seeding is the caller's (torch.manual_seed before the call), as with generate."""
    warpers = logits_warpers(sampling)
    eos = torch.tensor(sorted(eos_ids), device=input_ids.device)
    positions = attention_mask.long().cumsum(-1) - 1
    positions.masked_fill_(attention_mask == 0, 1)
    logits, cache = prefill(model, input_ids, attention_mask, positions)
    rows = torch.arange(input_ids.shape[0])  # batch row of each active row
    next_position = positions[:, -1] + 1
    mask = attention_mask
    produced: list[list[int]] = [[] for _ in range(input_ids.shape[0])]
    for step in range(sampling.max_tokens):
        tokens = select_tokens(logits, sampling, warpers)
        del logits
        for row, token in zip(rows.tolist(), tokens.tolist()):
            produced[row].append(token)
        if on_step is not None:
            on_step(len(rows))
        going = ~torch.isin(tokens, eos)
        if step + 1 == sampling.max_tokens or not going.any():
            break
        if not going.all():
            keep = going.nonzero().squeeze(1)
            rows, tokens, mask, next_position = rows[keep], tokens[keep], mask[keep], next_position[keep]
            cache.batch_select_indices(keep)
        mask = torch.cat([mask, mask.new_ones((len(rows), 1))], dim=1)
        logits = model(input_ids=tokens[:, None], attention_mask=mask, position_ids=next_position[:, None],
                       cache=cache, use_cache=True).logits[:, -1]
        next_position = next_position + 1
    return produced


def prefill_groups(lengths: Sequence[int], padding: float = PREFILL_PADDING) -> list[list[int]]:
    """Rows -> groups of rows of similar prompt length (longest first): a group padded to its longest
    row computes at most `padding` times its rows' real tokens."""
    groups: list[list[int]] = []
    current: list[int] = []
    real = 0
    for row in sorted(range(len(lengths)), key=lambda r: -lengths[r]):
        if current and lengths[current[0]] * (len(current) + 1) > padding * (real + lengths[row]):
            groups.append(current)
            current, real = [], 0
        current.append(row)
        real += lengths[row]
    return groups + [current] if current else groups


def prefill(model, input_ids: torch.Tensor, attention_mask: torch.Tensor,
            positions: torch.Tensor) -> tuple[torch.Tensor, DynamicCache]:
    """Last-token logits of each row and the batch's KV cache (left-padded to the batch's width).

    The prompts run in groups of similar length (`prefill_groups`), each trimmed to its longest row,
    and the groups' caches are padded and joined: a batch whose prompts range from 60 to 450 tokens
    computes their real tokens, not 20 x 450 (2.5x fewer on the README's run). Models whose cache
    is not plain DynamicLayers (sliding windows, ...) prefill the padded batch at once."""
    groups = prefill_groups(attention_mask.sum(-1).tolist())
    cache = DynamicCache(config=model.config)
    if len(groups) == 1 or any(type(layer) is not DynamicLayer for layer in cache.layers):
        output = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=positions,
                       cache=cache, use_cache=True, logits_to_keep=1)
        return output.logits[:, -1], cache
    width, parts, logits = input_ids.shape[1], [], []
    for group in groups:
        index = torch.tensor(group, device=input_ids.device)
        longest = int(attention_mask[index].sum(-1).max())
        part = DynamicCache(config=model.config)
        output = model(input_ids=input_ids[index, -longest:], attention_mask=attention_mask[index, -longest:],
                       position_ids=positions[index, -longest:], cache=part, use_cache=True, logits_to_keep=1)
        logits.append(output.logits[:, -1])
        parts.append([(torch.nn.functional.pad(layer.keys, (0, 0, width - longest, 0)),
                       torch.nn.functional.pad(layer.values, (0, 0, width - longest, 0))) for layer in part.layers])
    restore = torch.argsort(torch.tensor([row for group in groups for row in group], device=input_ids.device))
    for number in range(len(parts[0])):
        keys = torch.cat([part[number][0] for part in parts])[restore]
        values = torch.cat([part[number][1] for part in parts])[restore]
        cache.update(keys, values, number)
    return torch.cat(logits)[restore], cache
