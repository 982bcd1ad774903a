"""Harness overhead of the `hf` backend against a bare `model.generate` loop on the same prompts.

Both paths use the same loaded model, the same chat-templated prompts, the same batches (16) and
greedy decoding, so they generate identical tokens; the harness path adds request building,
per-sample seeding, EOS scanning, decoding and Generation records. Prints seconds for each (best
of --repeats, alternating) and the ratio (target <= 1.05).

    python benchmarks/bench_hf_overhead.py [--problems 16] [--max-tokens 128] [--repeats 3]
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


def harness_path(backend: HFBackend, requests: list[Request], sampling: Sampling) -> int:
    return sum(1 for _ in backend.generate(requests, sampling))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    backend = HFBackend("smollm2-135m", batch_size=16)
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
