"""`vllm` backend: the offline engine (`vllm.LLM`) on one or more CUDA GPUs.

- vLLM is imported only when this backend is built; without it the error says how to install it.
- Prompts: the same `render_prompt` as the `hf` backend, tokenised here without extra special
  tokens (the template already holds them) and given to vLLM as token ids, so both backends feed
  the model identical tokens.
- Requests: the pending samples of one problem are one vLLM request, `SamplingParams(n=<pending>,
  seed=<seed of the first pending sample>)`; every generation records that request seed. Problems
  go to the engine in batches of `batch_size` samples and each batch is written as soon as it
  returns, so a crash loses at most one batch and the re-run resumes after it.
- Prompt controls: the prompt is rendered in the main process (`Request.prompt`: template,
  kwargs and prefill); `--stop` is `SamplingParams(stop=...)` (vLLM leaves the stop string out of
  the text); the stored response starts with the prefill. Budget forcing
  (`harness.backends.budget`) runs its steps one sample at a time, each its own request.
- Engine: `engine="v0"|"v1"` sets VLLM_USE_V1 before vLLM is imported (the VibeThinker authors
  used vllm 0.10.1 with V0 and report ~2 LiveCodeBench points lower with V1); describe() records
  the engine actually in use, the vLLM version, the GPUs and the engine settings.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Iterator, Sequence

from harness.backends.base import BackendInfo, Generation, Request, Sampling, group_by_problem, option, positive
from harness.backends.budget import EOS, LENGTH, Step, budget_force
from harness.backends.prompts import chat_template_sha256, render_prompt
from harness.errors import HarnessError
from harness.models import loadable_path, resolve_model

DEFAULT_BATCH_SIZE = 512  # samples per engine call: large enough to keep a GPU busy
INFO = BackendInfo(
    name="vllm", summary="the offline vLLM engine on CUDA GPUs",
    options=(option("batch_size", "prompts per engine call (a crash loses at most one)", int, check=positive),
             option("dtype", "weights dtype (default auto)"),
             option("tensor_parallel_size", "GPUs per model", int, check=positive),
             option("max_model_len", "context length (prompt + max tokens)", int, check=positive),
             option("gpu_memory_utilization", "fraction of GPU memory for the engine (default 0.9)", float,
                    check=positive),
             option("engine", "engine version (sets VLLM_USE_V1; the VibeThinker authors used v0 for code; "
                    "default: vLLM's own)", choices=("v0", "v1"), flag_name="--vllm-engine")),
    default_shard_size=DEFAULT_BATCH_SIZE,
    gpus_needed=lambda options: options.get("tensor_parallel_size") or 1)


def import_vllm(engine: str | None = None):
    if engine is not None:
        os.environ["VLLM_USE_V1"] = "1" if engine == "v1" else "0"
    try:
        import vllm
    except ImportError:
        raise HarnessError("--backend vllm: vLLM is not installed; on a CUDA machine run "
                           "`pip install 'ssp-harness[vllm]'` (CPU machines: use --backend hf or openai)") from None
    return vllm


def engine_in_use(vllm_module: Any) -> str:
    """v0 or v1, from vLLM's own switch (releases without the switch have only V1)."""
    envs = getattr(vllm_module, "envs", None)
    use_v1 = getattr(envs, "VLLM_USE_V1", True) if envs is not None else True
    return "v1" if use_v1 else "v0"


def sampling_kwargs(group: Sequence[Request], sampling: Sampling) -> dict[str, Any]:
    """SamplingParams arguments for one problem's pending samples."""
    kwargs = {"n": len(group), "temperature": sampling.temperature, "top_p": sampling.top_p,
              "top_k": sampling.top_k, "max_tokens": sampling.max_tokens, "seed": group[0].seed}
    if group[0].controls.stop:
        kwargs["stop"] = list(group[0].controls.stop)
    return kwargs


def prompt_token_ids(tokenizer: Any, messages: Sequence[dict[str, str]] | Request) -> list[int]:
    """Token ids of the rendered prompt (a Request: as rendered in the main process, controls included)."""
    text = messages.rendered(tokenizer) if isinstance(messages, Request) else render_prompt(tokenizer, messages)
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def batches(groups: list[list[Request]], batch_size: int) -> Iterator[list[list[Request]]]:
    """Whole problems per batch, about `batch_size` samples each (a problem is never split)."""
    batch: list[list[Request]] = []
    for group in groups:
        if batch and sum(map(len, batch)) + len(group) > batch_size:
            yield batch
            batch = []
        batch.append(group)
    if batch:
        yield batch


def to_generations(group: Sequence[Request], output: Any) -> list[Generation]:
    """One vLLM RequestOutput (n CompletionOutputs) -> the group's generations, in sample order."""
    completions = sorted(output.outputs, key=lambda completion: completion.index)
    if len(completions) != len(group):
        raise HarnessError(f"vllm returned {len(completions)} samples for {group[0].problem_id}, "
                           f"asked {len(group)}")
    prefill = group[0].controls.prefill
    return [Generation(request.suite, request.problem_id, request.sample, prefill + completion.text,
                       completion.finish_reason, len(completion.token_ids), group[0].seed)
            for request, completion in zip(group, completions)]


def to_step(completion: Any) -> Step:
    """A CompletionOutput as a budget-forcing step: vLLM names the matched stop string in stop_reason
    (None at EOS, a token id for stop_token_ids)."""
    if completion.finish_reason == "length":
        ended = LENGTH
    else:
        ended = completion.stop_reason if isinstance(completion.stop_reason, str) else EOS
    return Step(completion.text, len(completion.token_ids), ended)


def step_kwargs(request: Request, sampling: Sampling, max_new_tokens: int, stops: list[str]) -> dict[str, Any]:
    """SamplingParams arguments of one budget-forcing step of one sample."""
    return {"n": 1, "temperature": sampling.temperature, "top_p": sampling.top_p, "top_k": sampling.top_k,
            "max_tokens": max_new_tokens, "seed": request.seed, "stop": stops}


class VLLMBackend:
    name = "vllm"

    def __init__(self, model: str, batch_size: int = DEFAULT_BATCH_SIZE, tensor_parallel_size: int = 1,
                 max_model_len: int | None = None, gpu_memory_utilization: float = 0.9,
                 dtype: str = "auto", engine: str | None = None,
                 make_llm: Callable[..., Any] | None = None):
        self.vllm = import_vllm(engine)
        if engine == "v0" and engine_in_use(self.vllm) != "v0":
            raise HarnessError(f"--vllm-engine v0: vLLM {self.vllm.__version__} has no V0 engine "
                               "(the report used vllm==0.10.1)")
        self.spec = resolve_model(model)
        self.batch_size = batch_size
        self.settings = {"tensor_parallel_size": tensor_parallel_size, "max_model_len": max_model_len,
                         "gpu_memory_utilization": gpu_memory_utilization, "dtype": dtype}
        self.load_path = loadable_path(self.spec)
        engine_args = {k: v for k, v in self.settings.items() if v is not None}
        self.llm = (make_llm or self.vllm.LLM)(model=self.load_path, **engine_args)
        self.tokenizer = self.llm.get_tokenizer()

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "vllm": self.vllm.__version__,
            "engine": engine_in_use(self.vllm),
            "model": {"spec": self.spec.spec, "kind": self.spec.kind, "source": self.spec.path,
                      "sha256": self.spec.sha256, "loaded_from": self.load_path},
            "engine_settings": self.settings | {"max_model_len_effective": self._max_model_len()},
            "gpus": gpu_names(self.settings["tensor_parallel_size"]),
            "chat_template_sha256": chat_template_sha256(self.tokenizer),
            "batch_size": self.batch_size,
            "seeding": "SamplingParams(n=pending samples of a problem, seed=seed of the first one)",
        }

    def _max_model_len(self) -> int | None:
        try:
            return int(self.llm.llm_engine.model_config.max_model_len)
        except (AttributeError, TypeError, ValueError):
            return None

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> Iterator[Generation]:
        if requests and requests[0].controls.budget_forcing:
            yield from (self._budget_forced(request, sampling) for request in requests)
            return
        for batch in batches(group_by_problem(requests), self.batch_size):
            prompts = [{"prompt_token_ids": prompt_token_ids(self.tokenizer, group[0])} for group in batch]
            params = [self.vllm.SamplingParams(**sampling_kwargs(group, sampling)) for group in batch]
            outputs = self.llm.generate(prompts, params, use_tqdm=False)
            for group, output in zip(batch, outputs):
                yield from to_generations(group, output)

    def _step(self, request: Request, so_far: str, max_new_tokens: int, stops: list[str], sampling: Sampling) -> Step:
        ids = self.tokenizer(request.rendered(self.tokenizer) + so_far, add_special_tokens=False)["input_ids"]
        params = self.vllm.SamplingParams(**step_kwargs(request, sampling, max_new_tokens, stops))
        output = self.llm.generate([{"prompt_token_ids": ids}], [params], use_tqdm=False)[0]
        return to_step(output.outputs[0])

    def _budget_forced(self, request: Request, sampling: Sampling) -> Generation:
        forced = budget_force(lambda so_far, room, stops: self._step(request, so_far, room, stops, sampling),
                              request.controls, sampling.max_tokens,
                              lambda text: len(self.tokenizer(text, add_special_tokens=False)["input_ids"]))
        return Generation(request.suite, request.problem_id, request.sample, request.controls.prefill + forced.text,
                          forced.finish_reason, forced.think_tokens + forced.answer_tokens, request.seed,
                          num_think_tokens=forced.think_tokens, num_answer_tokens=forced.answer_tokens)

    def close(self) -> None:
        self.llm = None


def gpu_names(count: int) -> list[str]:
    try:
        import torch

        return [torch.cuda.get_device_name(i) for i in range(min(count, torch.cuda.device_count()))]
    except (ImportError, RuntimeError, AssertionError):
        return []


def create(model: str, **options) -> VLLMBackend:
    return VLLMBackend(model, **{k: v for k, v in options.items() if v is not None})
