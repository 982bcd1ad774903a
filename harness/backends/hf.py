"""`hf` backend: transformers `generate` on CPU (or one GPU), batched with left padding.

Seeding: sampling in a batch draws from one torch generator, so each batch is seeded with the
seed of its first request; a run is reproducible for the same batch size and request order, and
every sample's own seed is recorded. Requests are ordered by `order_requests` (longest prompt
first, stable, so the n samples of a problem stay together), then cut into consecutive batches:
similar lengths share a batch and pad little. The shard cutting of the Ray executor applies the same
order (`INFO.order`), so a shard's batches are the batches a local run makes.

dtype `auto` on CPU is bfloat16 where the CPU computes it natively (AVX512-BF16 or AMX; about
1.8x the tokens/s of float32 here) and float32 otherwise; the manifest records what was chosen and
why (`dtype`, `dtype_reason`). `--dtype float32` restores the old default.

Decoding: `harness.backends.hf_decode.sample_batch`, generate's token selection with finished rows
leaving the batch (requests with stop strings, and models whose generation_config sets something
the loop does not apply, go through `generate`); the manifest's `decode` says which ran. The default
batch is 32: with rows leaving as they end, one batch of 32 costs far less than two of 16 (each
decode step has a fixed cost of streaming the weights, which a second batch pays again).

Progress: a line on stderr with decode steps, tokens generated, tokens/s and an ETA (the ETA is an
upper bound: every remaining batch is assumed to run to max_tokens), updated every couple of
seconds from inside `generate`, not once per batch.
"""
from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

from harness.backends.base import BackendInfo, Generation, Request, Sampling, option, positive
from harness.backends.budget import EOS, LENGTH, Step, budget_force, cut_at_stop
from harness.backends.prompts import chat_template_sha256
from harness.models import eos_ids, load_model_and_tokenizer, resolve_model

DEFAULT_BATCH_SIZE = 32  # finished rows leave the batch (hf_decode), so a batch's tail costs little
DTYPES = ("auto", "bfloat16", "float32", "float16")


def check_dtype(value: str) -> str | None:
    return None if value in DTYPES else f"must be one of {', '.join(DTYPES)}"


def prompt_length(request: Request) -> int:
    return sum(len(message.get("content") or "") for message in request.messages)


def order_requests(requests: Sequence[Request]) -> list[Request]:
    """Longest prompt first; stable, so equal prompts (a problem's samples) keep their order."""
    return sorted(requests, key=prompt_length, reverse=True)


INFO = BackendInfo(
    name="hf", summary="transformers generate on CPU or one GPU, batched with left padding",
    options=(option("batch_size", "sequences generated together", int, check=positive),
             option("dtype", "weights dtype: auto (bfloat16 on CPUs with native bf16, else float32), "
                    "bfloat16, float32, float16", check=check_dtype)),
    shard_unit="batch", default_batch_size=DEFAULT_BATCH_SIZE, default_shard_size=DEFAULT_BATCH_SIZE,
    order=order_requests)


def cpu_has_bf16() -> bool:
    """Native bfloat16 matmuls (AVX512-BF16 or AMX-BF16) as the kernel reports them, and oneDNN agrees."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    if "avx512_bf16" not in flags and "amx_bf16" not in flags:
        return False
    import torch

    check = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(check()) if check is not None else True


def resolve_dtype(dtype: str, device: str) -> tuple[str, str]:
    """(dtype to load, why) for a requested dtype."""
    if dtype != "auto":
        return dtype, "--dtype"
    if device != "cpu":
        return "auto", "auto: the model's own dtype"
    if os.environ.get("HARNESS_CPU_BF16") == "0":
        return "float32", "auto: HARNESS_CPU_BF16=0"
    if cpu_has_bf16():
        return "bfloat16", "auto: CPU has native bf16 (avx512_bf16/amx_bf16)"
    return "float32", "auto: CPU has no native bf16"


class HFBackend:
    name = "hf"

    def __init__(self, model: str, batch_size: int = DEFAULT_BATCH_SIZE, dtype: str = "auto",
                 device: str = "cpu"):
        self.spec = resolve_model(model)
        self.batch_size = batch_size
        self.device = device
        self.dtype_requested = dtype
        chosen, self.dtype_reason = resolve_dtype(dtype, device)
        started = time.perf_counter()
        self.model, self.tokenizer, self.load_path = load_model_and_tokenizer(self.spec, chosen, device)
        self.load_seconds = time.perf_counter() - started
        self.eos_ids = eos_ids(self.model, self.tokenizer)
        from harness.backends.hf_decode import unsupported_generation_settings, use_grouped_decode_attention

        self.attention = use_grouped_decode_attention(self.model) if device == "cpu" else None
        self.generate_only = unsupported_generation_settings(getattr(self.model, "generation_config", None))

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
            "dtype": str(self.model.dtype).removeprefix("torch."),
            "dtype_requested": self.dtype_requested,
            "dtype_reason": self.dtype_reason,
            "request_order": "longest prompt first (stable), then consecutive batches",
            "device": self.device,
            "batch_size": self.batch_size,
            "seeding": "torch.manual_seed(seed of the batch's first request) before each batch",
            "decode": self.decode_description(),
        }

    def decode_description(self) -> str:
        if self.generate_only:
            return f"transformers generate (the model's generation_config sets {', '.join(self.generate_only)})"
        attention = "grouped matmul attention for decode steps" if self.attention else "the model's attention"
        return f"harness sampling loop: finished rows leave the batch; {attention}; generate for stop strings"

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> Iterator[Generation]:
        requests = order_requests(requests)
        batches = [requests[start:start + self.batch_size] for start in range(0, len(requests), self.batch_size)]
        with TokenProgress(len(batches), sampling.max_tokens) as meter:
            for batch in batches:
                yield from self._generate_batch(batch, sampling, meter)

    def _generate_batch(self, batch: Sequence[Request], sampling: Sampling,
                        meter: "TokenProgress | None" = None) -> list[Generation]:
        import torch

        if batch[0].controls.budget_forcing:
            return [self._budget_forced(request, sampling) for request in batch]
        prompts = [request.rendered(self.tokenizer) for request in batch]
        encoded = self.tokenizer(prompts, return_tensors="pt", padding=True, padding_side="left",
                                 add_special_tokens=False).to(self.device)
        torch.manual_seed(batch[0].seed)
        if batch[0].controls.stop or self.generate_only:
            new_tokens = self._generate_with_generate(encoded, sampling, batch[0].controls.stop, meter)
        else:
            from harness.backends.hf_decode import sample_batch

            with torch.inference_mode():
                new_tokens = sample_batch(self.model, encoded["input_ids"], encoded["attention_mask"], sampling,
                                          self.eos_ids, meter.step if meter is not None and meter.enabled else None)
        if meter is not None:
            meter.batch_done()
        return [self._to_generation(request, tokens, sampling) for request, tokens in zip(batch, new_tokens)]

    def _generate_with_generate(self, encoded, sampling: Sampling, stops: Sequence[str],
                                meter: "TokenProgress | None") -> list[list[int]]:
        import torch

        kwargs = self._generate_kwargs(sampling)
        if meter is not None and meter.enabled:
            kwargs["streamer"] = meter.streamer(encoded["input_ids"].shape[0], self.eos_ids)
        with torch.inference_mode():
            output = self.model.generate(**encoded, **kwargs, **self._stop_kwargs(stops))
        return output[:, encoded["input_ids"].shape[1]:].tolist()

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


class TokenProgress:
    """The hf progress line: decode steps as the bar (an upper bound of the work left: every
    remaining batch counted at max_tokens), tokens generated and tokens/s as its postfix."""

    def __init__(self, batches: int, max_tokens: int):
        from harness.progress import progress

        self.max_tokens, self.batches = max_tokens, batches
        self.bar = progress(batches * max_tokens, "decode", unit="step", interval=2.0)
        self.enabled = not self.bar.disable
        self.tokens, self.steps, self.started = 0, 0, time.perf_counter()

    def streamer(self, rows: int, eos: set[int]):
        from transformers.generation.streamers import BaseStreamer
        import torch

        meter, eos_ids = self, torch.tensor(sorted(eos))

        class Counter(BaseStreamer):
            prompt_seen, done = False, torch.zeros(rows, dtype=torch.bool)

            def put(self, value):
                if not self.prompt_seen:  # generate hands the prompt first
                    self.prompt_seen = True
                    return
                tokens = value.reshape(rows, -1)[:, -1]
                meter.step(int((~self.done).sum()))
                self.done |= torch.isin(tokens, eos_ids)

            def end(self):
                pass

        return Counter()

    def step(self, tokens: int) -> None:
        self.tokens += tokens
        self.steps += 1
        self.bar.update(1)
        self.bar.set_postfix_str(f"{self.tokens} tokens, {self.tokens / (time.perf_counter() - self.started):.1f} tok/s",
                                 refresh=False)

    def batch_done(self) -> None:
        """A batch that stopped early (every row at EOS): its unused steps leave the ETA."""
        self.bar.update(self.max_tokens - self.steps)
        self.steps = 0

    def __enter__(self) -> "TokenProgress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()


def create(model: str, **options) -> HFBackend:
    return HFBackend(model, **{k: v for k, v in options.items() if v is not None})
