"""Harness overhead of the `hf` backend against a bare `model.generate` loop on the same prompts.

Both paths use the same loaded model, the same chat-templated prompts, the same batches (16) and
greedy decoding, so they generate identical tokens; the harness path adds request building,
per-sample seeding, EOS scanning, decoding and Generation records. Prints seconds for each (best
of --repeats, alternating) and the ratio (target <= 1.05).

Then (unless --no-throughput) generation speed as the protocol samples (T=1.0, top_p=0.95,
--throughput-tokens new tokens): the static float32 baseline (a bare `generate` loop, batch 16, on a
float32 model with transformers' own sdpa attention, requests in the given order) against the
harness backend: float32 batch 16 (its sampling loop, where finished rows leave the batch, and the
grouped decode attention), dtype auto (bfloat16 on a CPU with native bf16) batch 16, and as it runs
by default (dtype auto, batch 32). Tokens are the tokens kept per sample (up
to and including EOS); prints tokens/s of each, alternating, best of --repeats, and the ratios.

    python benchmarks/bench_hf_overhead.py [--problems 16] [--max-tokens 128] [--repeats 3]
                                           [--throughput-problems 32] [--throughput-tokens 384]
"""
from __future__ import annotations

import argparse
import os
import time

import torch

from harness.backends.base import Request, Sampling, sample_seed
from harness.backends.hf import HFBackend
from harness.backends.prompts import render_prompt
from suites import get_suite


def bare_loop(backend: HFBackend, requests: list[Request], sampling: Sampling) -> int:
    tokenizer, model = backend.tokenizer, backend.model
    produced = 0
    for start in range(0, len(requests), backend.batch_size):
        batch = requests[start:start + backend.batch_size]
        prompts = [render_prompt(tokenizer, r.messages) for r in batch]
        encoded = tokenizer(prompts, return_tensors="pt", padding=True, padding_side="left", add_special_tokens=False)
        with torch.inference_mode():
            out = model.generate(**encoded, max_new_tokens=sampling.max_tokens, do_sample=False,
                                 temperature=None, top_p=None, top_k=None, pad_token_id=tokenizer.pad_token_id)
        produced += out.shape[0]
    return produced


def bare_sampling_loop(backend: HFBackend, requests: list[Request], sampling: Sampling) -> int:
    """The static float32 baseline as the protocol samples: tokens kept (up to EOS)."""
    tokenizer, model = backend.tokenizer, backend.model
    kept = 0
    for start in range(0, len(requests), backend.batch_size):
        batch = requests[start:start + backend.batch_size]
        prompts = [render_prompt(tokenizer, r.messages) for r in batch]
        encoded = tokenizer(prompts, return_tensors="pt", padding=True, padding_side="left", add_special_tokens=False)
        torch.manual_seed(batch[0].seed)
        with torch.inference_mode():
            out = model.generate(**encoded, max_new_tokens=sampling.max_tokens, do_sample=True,
                                 temperature=sampling.temperature, top_p=sampling.top_p, top_k=0,
                                 pad_token_id=tokenizer.pad_token_id)
        for row in out[:, encoded["input_ids"].shape[1]:].tolist():
            end = next((i for i, t in enumerate(row) if t in backend.eos_ids), None)
            kept += len(row) if end is None else end + 1
    return kept


def harness_tokens(backend: HFBackend, requests: list[Request], sampling: Sampling) -> int:
    return sum(g.num_tokens for g in backend.generate(requests, sampling))


def throughput(args) -> None:
    from harness.backends.hf import resolve_dtype

    problems = get_suite("math500").load_problems()[: args.throughput_problems]
    requests = [Request("math500", p.problem_id, s, tuple(p.messages), sample_seed(0, "math500", p.problem_id, s))
                for p in problems for s in range(2)]
    sampling = Sampling(n=2, temperature=1.0, top_p=0.95, max_tokens=args.throughput_tokens)
    baseline = HFBackend("smollm2-135m", batch_size=16, dtype="float32")
    baseline.model.set_attn_implementation("sdpa")  # the model as transformers loads it
    fp32 = HFBackend("smollm2-135m", batch_size=16, dtype="float32")
    auto16 = HFBackend("smollm2-135m", batch_size=16, dtype="auto")
    auto = HFBackend("smollm2-135m", dtype="auto")
    dtype = str(auto.model.dtype).removeprefix("torch.")
    print(f"\nthroughput: {len(requests)} requests, {args.throughput_tokens} new tokens, T=1.0 top_p=0.95; "
          f"auto dtype here: {resolve_dtype('auto', 'cpu')}; load average {os.getloadavg()[0]:.2f}")
    print(f"harness decode: {auto.decode_description()}")
    paths = {"static fp32 baseline (bare generate, batch 16, given order)": (bare_sampling_loop, baseline),
             "harness hf, float32, batch 16 (ordered, finished rows leave)": (harness_tokens, fp32),
             f"harness hf, {dtype}, batch 16": (harness_tokens, auto16),
             f"harness hf, default ({dtype}, batch {auto.batch_size})": (harness_tokens, auto)}
    rates = {name: [] for name in paths}
    for _ in range(args.repeats):
        for name, (fn, backend) in paths.items():
            started = time.perf_counter()
            tokens = fn(backend, requests, sampling)
            rates[name].append(tokens / (time.perf_counter() - started))
    base = max(rates[next(iter(paths))])
    for name, values in rates.items():
        print(f"{name}: {max(values):.1f} tok/s (runs: {', '.join(f'{v:.1f}' for v in values)}), "
              f"ratio {max(values) / base:.2f}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def harness_path(backend: HFBackend, requests: list[Request], sampling: Sampling) -> int:
    return sum(1 for _ in backend.generate(requests, sampling))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--throughput-problems", type=int, default=32, help="problems (2 samples each)")
    parser.add_argument("--throughput-tokens", type=int, default=384)
    parser.add_argument("--no-throughput", action="store_true")
    parser.add_argument("--no-overhead", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HARNESS_PROGRESS", "off")
    if not args.no_overhead:
        overhead(args)
    if not args.no_throughput:
        throughput(args)


def overhead(args) -> None:
    backend = HFBackend("smollm2-135m", batch_size=16, dtype="float32")
    sampling = Sampling(n=1, temperature=0.0, top_p=1.0, max_tokens=args.max_tokens)
    problems = get_suite("math500").load_problems()[: args.problems]
    requests = [Request("math500", p.problem_id, 0, tuple(p.messages), sample_seed(0, "math500", p.problem_id, 0))
                for p in problems]
    print(f"{len(requests)} prompts, max_tokens {args.max_tokens}, torch threads {torch.get_num_threads()}, "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    bare_loop(backend, requests[:2], sampling)  # warm-up
    times = {"bare": [], "harness": []}
    for _ in range(args.repeats):
        for name, fn in (("bare", bare_loop), ("harness", harness_path)):
            started = time.perf_counter()
            fn(backend, requests, sampling)
            times[name].append(time.perf_counter() - started)
    bare, ours = min(times["bare"]), min(times["harness"])
    print(f"bare model.generate loop: {bare:.2f} s (runs: {', '.join(f'{t:.2f}' for t in times['bare'])})")
    print(f"harness hf backend:       {ours:.2f} s (runs: {', '.join(f'{t:.2f}' for t in times['harness'])})")
    print(f"overhead ratio: {ours / bare:.3f}")


if __name__ == "__main__":
    main()
