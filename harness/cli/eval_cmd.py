"""`harness eval`: generate, grade and score one or more suites with one model."""
from __future__ import annotations

import argparse
from pathlib import Path

from harness.backends import make_backend
from harness.cli.common import (add_executor_options, add_sampling_options, add_suite_options, executor_from_args,
                                parse_ks, sampling_for, suite_options)
from harness.display import print_results
from harness.errors import HarnessError
from harness.pipeline import EvalSpec, evaluate, plan_suite
from suites import parse_suite_list


def register(commands) -> None:
    parser = commands.add_parser("eval", help="evaluate a model on suites (resumable)")
    parser.add_argument("--suite", required=True, help="suite name(s), comma-separated")
    parser.add_argument("--model", required=True, help="HF dir, hub id, .gguf file, or smollm2-135m")
    parser.add_argument("--backend", default="hf", help="hf (default), vllm or openai; see docs/backends.md")
    parser.add_argument("--out", required=True, type=Path)
    backend = parser.add_argument_group("backend settings (each applies to the backends named in its help)")
    for flag, (_, _, kwargs) in BACKEND_FLAGS.items():
        backend.add_argument(flag, **kwargs)
    add_sampling_options(parser)
    add_suite_options(parser)
    add_executor_options(parser)
    parser.set_defaults(func=run)


def positive(kind):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text}: must be > 0")
        return value
    return parse


# flag -> (backend option name, backends that take it, argparse kwargs)
BACKEND_FLAGS = {
    "--batch-size": ("batch_size", ("hf", "vllm"), {"type": positive(int), "help": "hf: sequences generated "
                     "together; vllm: prompts per engine call (a crash loses at most one)"}),
    "--dtype": ("dtype", ("hf", "vllm"), {"help": "hf, vllm: weights dtype (default auto)"}),
    "--base-url": ("base_url", ("openai",), {"help": "openai: server URL, e.g. http://127.0.0.1:8000/v1 "
                   "(default $OPENAI_BASE_URL)"}),
    "--api-key": ("api_key", ("openai",), {"help": "openai: API key (default $OPENAI_API_KEY; never recorded)"}),
    "--api": ("api", ("openai",), {"choices": ["chat", "completions"], "help": "openai: chat (default; the "
              "server applies its chat template) or completions (the harness renders the prompt)"}),
    "--tokenizer": ("tokenizer", ("openai",), {"help": "openai --api completions: tokenizer/chat template "
                    "to render prompts with (default: --model when local)"}),
    "--concurrency": ("concurrency", ("openai",), {"type": positive(int), "help": "openai: requests in flight (default 8)"}),
    "--request-timeout": ("request_timeout", ("openai",), {"type": positive(float),
                          "help": "openai: seconds per request attempt (default 1800)"}),
    "--max-retries": ("max_retries", ("openai",), {"type": int, "help": "openai: retries on 429/5xx/connection "
                      "errors, with exponential backoff (default 6)"}),
    "--no-n-per-request": ("n_per_request", ("openai",), {"action": "store_const", "const": False,
                           "help": "openai: one request per sample instead of n samples per request"}),
    "--tensor-parallel-size": ("tensor_parallel_size", ("vllm",), {"type": positive(int), "help": "vllm: GPUs per model"}),
    "--max-model-len": ("max_model_len", ("vllm",), {"type": positive(int), "help": "vllm: context length "
                        "(prompt + max tokens)"}),
    "--gpu-memory-utilization": ("gpu_memory_utilization", ("vllm",), {"type": positive(float),
                                 "help": "vllm: fraction of GPU memory for the engine (default 0.9)"}),
    "--vllm-engine": ("engine", ("vllm",), {"choices": ["v0", "v1"], "help": "vllm: engine version (sets "
                      "VLLM_USE_V1; the VibeThinker authors used v0 for code; default: vLLM's own)"}),
}


def backend_options(args) -> dict:
    options = {}
    for flag, (name, backends, _) in BACKEND_FLAGS.items():
        value = getattr(args, name, None)
        if value is None:
            continue
        if args.backend not in backends:
            raise HarnessError(f"{flag}: applies to --backend {' or '.join(backends)}, not {args.backend}")
        options[name] = value
    return options


def run(args) -> int:
    suites = parse_suite_list(args.suite)
    options = suite_options(args, suites)
    if args.data is not None and len(suites) > 1:
        raise HarnessError("--data: give one suite when supplying its data")
    plans = [plan_suite(suite, options, sampling_for(suite, args), args.limit, args.data) for suite in suites]
    spec = EvalSpec(plans=plans, model=args.model, backend=args.backend, out=args.out,
                    ks=parse_ks(args.k), backend_options=backend_options(args))
    with executor_from_args(args) as executor:
        metrics = evaluate(spec, make_backend, executor=executor)
    print_results(metrics, str(args.out))
    return 0
