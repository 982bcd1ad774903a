"""Rollouts for RL behind one interface: `hf` (transformers generate, CPU or one GPU) and `vllm` (GPU).

Sampling is a `harness.sampling.Sampling` (n = G completions per prompt). It must be the policy
that is scored (pitfall P4): top_k is passed as 0 (a Sampling with top_k set is refused) and top_p as
configured, explicitly, because generation configs may default top_k to 50, and the log-probs
of the loss come from temperature-scaled full logits. The `hf` engine samples from the training
model itself, so there is nothing to sync. The `vllm` engine (import-guarded; not exercised on
CPU) either pushes weights in place and resets the prefix cache (stale KV after a sync trains on
old weights), or rebuilds the engine from a saved checkpoint, which is slow but cannot go stale.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import Protocol, Sequence

import torch

from harness.backends.prompts import render_prompt
from harness.errors import HarnessError
from harness.sampling import Sampling
from harness.training.logprobs import completion_mask


@dataclass
class RolloutBatch:
    """G completions per prompt, prompt-major: row i belongs to prompt i // G."""
    prompt_ids: torch.Tensor  # (B*G, P) left-padded
    prompt_mask: torch.Tensor
    completion_ids: torch.Tensor  # (B*G, T) right-padded
    completion_mask: torch.Tensor  # 1 up to and including the first EOS
    texts: list[str]
    truncated: torch.Tensor  # bool, no EOS within max_new_tokens
    group_size: int


class RolloutEngine(Protocol):
    def generate(self, prompts: Sequence[Sequence[dict]], sampling: Sampling, seed: int) -> RolloutBatch: ...

    def sync_weights(self, model) -> None: ...


def generate_kwargs(sampling: Sampling, pad_token_id: int) -> dict:
    if sampling.top_k != -1:
        raise HarnessError(f"rollout sampling top_k {sampling.top_k}: must be -1 (the loss scores the full distribution)")
    return {"do_sample": True, "temperature": sampling.temperature, "top_p": sampling.top_p, "top_k": 0,
            "max_new_tokens": sampling.max_tokens, "pad_token_id": pad_token_id}


def pad_right(rows: list[list[int]], pad: int) -> torch.Tensor:
    width = max(1, max(len(row) for row in rows))
    return torch.tensor([row + [pad] * (width - len(row)) for row in rows], dtype=torch.long)


def build_batch(tokenizer, eos: set[int], prompt_ids: torch.Tensor, prompt_mask: torch.Tensor,
                completions: list[list[int]], group_size: int) -> RolloutBatch:
    pad = tokenizer.pad_token_id
    lengths = torch.tensor([len(row) for row in completions])
    completion_ids = pad_right(completions, pad)
    mask = completion_mask(completion_ids, eos, lengths)
    kept = [row[:int(m.sum())] for row, m in zip(completions, mask)]
    truncated = torch.tensor([not any(token in eos for token in row) for row in kept])
    texts = tokenizer.batch_decode(kept, skip_special_tokens=True)
    return RolloutBatch(prompt_ids, prompt_mask, completion_ids, mask, texts, truncated, group_size)


class HFRollout:
    def __init__(self, model, tokenizer, eos: set[int]):
        self.model, self.tokenizer, self.eos = model, tokenizer, eos

    def generate(self, prompts, sampling, seed) -> RolloutBatch:
        group_size = sampling.n
        texts = [render_prompt(self.tokenizer, messages) for messages in prompts]
        encoded = self.tokenizer(texts, return_tensors="pt", padding=True, padding_side="left",
                                 add_special_tokens=False).to(self.model.device)
        prompt_ids = encoded["input_ids"].repeat_interleave(group_size, dim=0)
        prompt_mask = encoded["attention_mask"].repeat_interleave(group_size, dim=0)
        was_training = self.model.training
        self.model.eval()
        torch.manual_seed(seed)
        with torch.inference_mode():
            output = self.model.generate(input_ids=prompt_ids, attention_mask=prompt_mask,
                                         **generate_kwargs(sampling, self.tokenizer.pad_token_id))
        self.model.train(was_training)
        completions = output[:, prompt_ids.shape[1]:].tolist()
        return build_batch(self.tokenizer, self.eos, prompt_ids.cpu(), prompt_mask.cpu(), completions, group_size)

    def sync_weights(self, model) -> None:
        """Samples come from the training model itself."""


class VLLMRollout:
    def __init__(self, model_path: str, tokenizer, eos: set[int], sync: str = "load_weights",
                 gpu_memory_utilization: float = 0.3, max_model_len: int | None = None, seed: int = 0):
        try:
            import vllm  # noqa: F401
        except ImportError as exc:
            from harness.errors import HarnessError

            raise HarnessError("mgpo.rollout vllm: vLLM is not installed (pip install 'ssp-harness[vllm]' on a GPU box)") from exc
        self.tokenizer, self.eos, self.sync, self.seed = tokenizer, eos, sync, seed
        self.engine_args = {"gpu_memory_utilization": gpu_memory_utilization, "max_model_len": max_model_len,
                            "seed": seed, "logprobs_mode": "processed_logprobs"}
        self.llm = self._build(model_path)

    def _build(self, path: str):
        from vllm import LLM

        return LLM(model=path, **{k: v for k, v in self.engine_args.items() if v is not None})

    def generate(self, prompts, sampling, seed) -> RolloutBatch:
        from vllm import SamplingParams

        group_size = sampling.n
        texts = [render_prompt(self.tokenizer, messages) for messages in prompts]
        params = SamplingParams(n=group_size, temperature=sampling.temperature, top_p=sampling.top_p, top_k=-1,
                                max_tokens=sampling.max_tokens, seed=seed)
        outputs = self.llm.generate([{"prompt_token_ids": self.tokenizer(t, add_special_tokens=False)["input_ids"]}
                                     for t in texts], params)
        encoded = self.tokenizer(texts, return_tensors="pt", padding=True, padding_side="left", add_special_tokens=False)
        completions = [list(sample.token_ids) for output in outputs for sample in output.outputs]
        return build_batch(self.tokenizer, self.eos, encoded["input_ids"].repeat_interleave(group_size, 0),
                           encoded["attention_mask"].repeat_interleave(group_size, 0), completions, group_size)

    def sync_weights(self, model) -> None:
        if self.sync == "rebuild":
            with tempfile.TemporaryDirectory() as staging:
                model.save_pretrained(staging, safe_serialization=True)
                self.tokenizer.save_pretrained(staging)
                del self.llm
                self.llm = self._build(staging)
            return
        # In-process push (TRL colocate path); depends on the pinned vLLM version (trl#3859).
        runner = self.llm.llm_engine.model_executor.driver_worker.model_runner
        runner.model.load_weights(model.state_dict().items())
        self.llm.reset_prefix_cache()
