"""Flags shared by `eval` and `grade`: suite options, sampling, k."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.prompting import PROMPT_SETTINGS, PromptControls, controls_from_given
from harness.sampling import SAMPLING_SETTINGS, Sampling
from harness.settings import Setting, add_flags, given_values
from suites import Suite


def declared_suite_options() -> list[Setting]:
    """Every option any registered suite declares, one flag per name."""
    from harness.api import declared_suite_options as declared

    return declared()


def add_suite_options(parser: argparse.ArgumentParser, ks: bool = True) -> None:
    parser.add_argument("--data", type=Path, help="problem file or directory instead of the vendored data")
    if ks:
        parser.add_argument("--k", default="1", help="comma-separated k for pass@k (each k <= n)")
    add_flags(parser.add_argument_group("suite options (each applies to the suites that declare it)"),
              declared_suite_options())


def add_sampling_options(parser: argparse.ArgumentParser) -> None:
    add_flags(parser.add_argument_group("sampling (default: each suite's published protocol)"), list(SAMPLING_SETTINGS))
    parser.add_argument("--limit", type=int, help="only the first L problems of each suite")


def add_prompt_options(parser: argparse.ArgumentParser) -> None:
    add_flags(parser.add_argument_group("prompt controls (recorded; any of them is a different protocol)"),
              list(PROMPT_SETTINGS))


def prompt_controls(args: argparse.Namespace) -> PromptControls:
    return controls_from_given(given_values(args, list(PROMPT_SETTINGS)))


def suite_options(args: argparse.Namespace, suites: list[Suite]) -> dict[str, Any]:
    """The suite options given on the command line; one no chosen suite declares is an error."""
    options = {}
    for item in declared_suite_options():
        value = given_values(args, [item]).get(item.name)
        if value is None:
            continue
        if not any(suite.settings.get(item.name) for suite in suites):
            names = ", ".join(suite.name for suite in suites)
            raise HarnessError(f"{item.flag}: does not apply to {names}")
        options[item.name] = item.validate(value)
    return options


def parse_ks(text: str) -> list[int]:
    try:
        return sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise HarnessError(f"--k {text}: expected comma-separated integers, e.g. 1,4,8") from None


def sampling_for(suite: Suite, args: argparse.Namespace) -> Sampling:
    """The suite's published protocol with the sampling flags given (validated, named on error)."""
    given = given_values(args, list(SAMPLING_SETTINGS))
    return suite.protocol.override(**{"seed": 0, **given})


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
