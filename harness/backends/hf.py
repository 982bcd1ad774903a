"""`hf` backend: transformers `generate` on CPU (or one GPU), batched with left padding.

Seeding: sampling in a batch draws from one torch generator, so each batch is seeded with the
seed of its first request; a run is reproducible for the same batch size and request order, and
every sample's own seed is recorded. Requests are batched in the order given after grouping by
prompt, so the n samples of a problem share a batch and need no padding between them.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Any, Iterator, Sequence

from harness.backends.base import BackendInfo, Generation, Request, Sampling, option, positive
from harness.backends.budget import EOS, LENGTH, Step, budget_force, cut_at_stop
from harness.backends.prompts import chat_template_sha256
from harness.models import eos_ids, load_model_and_tokenizer, resolve_model

DEFAULT_BATCH_SIZE = 16
INFO = BackendInfo(
    name="hf", summary="transformers generate on CPU or one GPU, batched with left padding",
    options=(option("batch_size", "sequences generated together", int, check=positive),
             option("dtype", "weights dtype (default auto)")),
    shard_unit="batch", default_batch_size=DEFAULT_BATCH_SIZE, default_shard_size=DEFAULT_BATCH_SIZE)


class HFBackend:
    name = "hf"

    def __init__(self, model: str, batch_size: int = DEFAULT_BATCH_SIZE, dtype: str = "auto",
                 device: str = "cpu"):
        self.spec = resolve_model(model)
        self.batch_size = batch_size
        self.device = device
        started = time.perf_counter()
        self.model, self.tokenizer, self.load_path = load_model_and_tokenizer(self.spec, dtype, device)
        self.load_seconds = time.perf_counter() - started
        self.eos_ids = eos_ids(self.model, self.tokenizer)

    def describe(self) -> dict[str, Any]:
        import torch
        import transformers

        return {
            "backend": self.name,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "model": {"spec": self.spec.spec, "kind": self.spec.kind, "source": self.spec.path,
                      "sha256": self.spec.sha256, "loaded_from": self.load_path},
            "chat_template_sha256": chat_template_sha256(self.tokenizer),
            "dtype": str(self.model.dtype),
            "device": self.device,
            "batch_size": self.batch_size,
            "seeding": "torch.manual_seed(seed of the batch's first request) before each batch",
        }

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> Iterator[Generation]:
        for start in range(0, len(requests), self.batch_size):
            batch = requests[start:start + self.batch_size]
            yield from self._generate_batch(batch, sampling)

    def _generate_batch(self, batch: Sequence[Request], sampling: Sampling) -> list[Generation]:
        import torch

        if batch[0].controls.budget_forcing:
            return [self._budget_forced(request, sampling) for request in batch]
        prompts = [request.rendered(self.tokenizer) for request in batch]
        encoded = self.tokenizer(prompts, return_tensors="pt", padding=True, padding_side="left",
                                 add_special_tokens=False).to(self.device)
        torch.manual_seed(batch[0].seed)
        with torch.inference_mode():
            output = self.model.generate(**encoded, **self._generate_kwargs(sampling),
                                         **self._stop_kwargs(batch[0].controls.stop))
        new_tokens = output[:, encoded["input_ids"].shape[1]:].tolist()
        return [self._to_generation(request, tokens, sampling) for request, tokens in zip(batch, new_tokens)]

    def _generate_kwargs(self, sampling: Sampling) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"max_new_tokens": sampling.max_tokens,
                                  "pad_token_id": self.tokenizer.pad_token_id}
        if sampling.temperature > 0:
            kwargs.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p,
                          top_k=sampling.top_k if sampling.top_k > 0 else 0)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        return kwargs

    def _to_generation(self, request: Request, tokens: list[int], sampling: Sampling) -> Generation:
        result = self._decoded(tokens, request.controls.stop)
        finish_reason = "length" if result.ended == LENGTH else "stop"
        return Generation.for_request(request, request.controls.prefill + result.text, finish_reason, result.tokens)

    # ---- prompt controls: stop strings and budget forcing (kept apart from the batching above)

    def _stop_kwargs(self, stops: Sequence[str]) -> dict[str, Any]:
        return {"stop_strings": list(stops), "tokenizer": self.tokenizer} if stops else {}

    def _decoded(self, tokens: list[int], stops: Sequence[str]) -> Step:
        """New tokens -> text up to EOS or before the first stop string (removed, as vLLM and servers do)."""
        end = next((i for i, token in enumerate(tokens) if token in self.eos_ids), None)
        kept = tokens[: end + 1] if end is not None else tokens
        text, stop = cut_at_stop(self.tokenizer.decode(kept, skip_special_tokens=True), stops)
        return Step(text, len(kept), stop or (EOS if end is not None else LENGTH))

    def _step(self, request: Request, so_far: str, max_new_tokens: int, stops: list[str],
              sampling: Sampling) -> Step:
        import torch

        encoded = self.tokenizer([request.rendered(self.tokenizer) + so_far], return_tensors="pt",
                                 add_special_tokens=False).to(self.device)
        torch.manual_seed(request.seed)
        kwargs = self._generate_kwargs(sampling) | {"max_new_tokens": max_new_tokens} | self._stop_kwargs(stops)
        with torch.inference_mode():
            output = self.model.generate(**encoded, **kwargs)
        return self._decoded(output[0, encoded["input_ids"].shape[1]:].tolist(), stops)

    def _budget_forced(self, request: Request, sampling: Sampling) -> Generation:
        """One sample at a time (each step's prompt differs per sample), seeded by its own seed."""
        forced = budget_force(lambda so_far, room, stops: self._step(request, so_far, room, stops, sampling),
                              request.controls, sampling.max_tokens,
                              lambda text: len(self.tokenizer(text, add_special_tokens=False)["input_ids"]))
        return dataclasses.replace(
            Generation.for_request(request, request.controls.prefill + forced.text, forced.finish_reason,
                                   forced.think_tokens + forced.answer_tokens),
            num_think_tokens=forced.think_tokens, num_answer_tokens=forced.answer_tokens)

    def close(self) -> None:
        self.model = None


def create(model: str, **options) -> HFBackend:
    return HFBackend(model, **{k: v for k, v in options.items() if v is not None})
