"""Flags shared by `eval` and `grade`: suite options, sampling, k."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.pipeline import SamplingOverrides
from suites import Suite

# flag -> (suite option key, argparse kwargs). A flag is an error when no chosen suite knows it.
SUITE_OPTION_FLAGS: dict[str, tuple[str, dict[str, Any]]] = {
    "--think": ("think", {"choices": ["strip", "full"], "help": "think-block policy for grading (default strip)"}),
    "--repair-prompts": ("repair_prompts", {"action": "store_true", "default": None,
                                            "help": "aime25: restore \\f where the published prompts hold a form feed"}),
    "--option-order": ("option_order", {"choices": ["published", "shuffled"], "help": "gpqa_diamond option order"}),
    "--option-seed": ("option_seed", {"type": int, "help": "gpqa_diamond: seed of the option shuffle (default 0)"}),
    "--grader": ("grader", {"choices": ["compat", "fixed"], "help": "LiveCodeBench grader mode"}),
    "--public-tests-only": ("public_tests_only", {"action": "store_true", "default": None,
                                                  "help": "LiveCodeBench: grade on public tests only"}),
    "--sandbox": ("sandbox", {"choices": ["docker", "bwrap", "local"], "help": "where untrusted code runs"}),
    "--unsafe-local-sandbox": ("unsafe_local", {"action": "store_true", "default": None,
                                                "help": "allow --sandbox local (no isolation)"}),
}


def add_suite_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, help="problem file or directory instead of the vendored data")
    parser.add_argument("--k", default="1", help="comma-separated k for pass@k (each k <= n)")
    for flag, (key, kwargs) in SUITE_OPTION_FLAGS.items():
        parser.add_argument(flag, dest=key, **kwargs)


def add_sampling_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-n", type=int, help="samples per problem (default: the suite's published n)")
    parser.add_argument("--temperature", type=float)
    parser.add_argument("--top-p", type=float)
    parser.add_argument("--top-k", type=int)
    parser.add_argument("--max-tokens", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, help="only the first L problems of each suite")


def suite_options(args: argparse.Namespace, suites: list[Suite]) -> dict[str, Any]:
    options = {}
    for flag, (key, _) in SUITE_OPTION_FLAGS.items():
        value = getattr(args, key, None)
        if value is None:
            continue
        if not any(key in suite.resolve_options({}) for suite in suites):
            names = ", ".join(suite.name for suite in suites)
            raise HarnessError(f"{flag}: does not apply to {names}")
        options[key] = value
    return options


def parse_ks(text: str) -> list[int]:
    try:
        return sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise HarnessError(f"--k {text}: expected comma-separated integers, e.g. 1,4,8") from None


def sampling_overrides(args: argparse.Namespace) -> SamplingOverrides:
    for name in ("n", "max_tokens"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise HarnessError(f"--{name.replace('_', '-')} {value}: must be >= 1")
    return SamplingOverrides(n=args.n, temperature=args.temperature, top_p=args.top_p, top_k=args.top_k,
                             max_tokens=args.max_tokens, seed=args.seed)


def add_executor_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("where the work runs (see docs/cluster.md)")
    group.add_argument("--executor", choices=["local", "ray"], default="local",
                       help="local (default): this process; ray: shards over a Ray cluster, same results")
    group.add_argument("--ray-address", help="ray: existing cluster, e.g. 10.0.0.1:6379 or auto (default: start a local one)")
    group.add_argument("--ray-num-workers", type=int, default=2, help="ray: actors, each with one backend or grader (default 2)")
    group.add_argument("--ray-cpus-per-worker", type=float, default=1.0, help="ray: CPUs per actor (default 1)")
    group.add_argument("--ray-gpus-per-worker", type=float, default=0.0, help="ray: GPUs per actor (vllm: >= tensor parallel size)")
    group.add_argument("--ray-shard-size", type=int, help="ray: samples per shard (default: hf one batch, vllm 512, "
                       "openai 64, grading 256)")


def executor_from_args(args: argparse.Namespace):
    from harness.executors import make_executor

    ray_flags = {"address": args.ray_address, "num_workers": args.ray_num_workers, "cpus_per_worker": args.ray_cpus_per_worker,
                 "gpus_per_worker": args.ray_gpus_per_worker, "shard_size": args.ray_shard_size}
    if args.executor == "local":
        if args.ray_address is not None or args.ray_shard_size is not None:
            raise HarnessError("--ray-address/--ray-shard-size: only apply with --executor ray")
        return make_executor("local")
    return make_executor("ray", **ray_flags)
