"""`harness eval`: generate, grade and score one or more suites with one model."""
from __future__ import annotations

from pathlib import Path

from harness.backends import make_backend
from harness.cli.common import add_sampling_options, add_suite_options, parse_ks, sampling_overrides, suite_options
from harness.display import print_results
from harness.errors import HarnessError
from harness.pipeline import EvalSpec, evaluate, plan_suite
from suites import parse_suite_list


def register(commands) -> None:
    parser = commands.add_parser("eval", help="evaluate a model on suites (resumable)")
    parser.add_argument("--suite", required=True, help="suite name(s), comma-separated")
    parser.add_argument("--model", required=True, help="HF dir, hub id, .gguf file, or smollm2-135m")
    parser.add_argument("--backend", default="hf")
    parser.add_argument("--batch-size", type=int, help="hf: sequences generated together")
    parser.add_argument("--out", required=True, type=Path)
    add_sampling_options(parser)
    add_suite_options(parser)
    parser.set_defaults(func=run)


def backend_options(args) -> dict:
    options = {}
    if args.batch_size is not None:
        if args.batch_size < 1:
            raise HarnessError(f"--batch-size {args.batch_size}: must be >= 1")
        options["batch_size"] = args.batch_size
    return options


def run(args) -> int:
    suites = parse_suite_list(args.suite)
    options = suite_options(args, suites)
    overrides = sampling_overrides(args)
    if args.data is not None and len(suites) > 1:
        raise HarnessError("--data: give one suite when supplying its data")
    plans = [plan_suite(suite, options, overrides.apply(suite), args.limit, args.data) for suite in suites]
    spec = EvalSpec(plans=plans, model=args.model, backend=args.backend, out=args.out,
                    ks=parse_ks(args.k), backend_options=backend_options(args))
    metrics = evaluate(spec, make_backend)
    print_results(metrics, str(args.out))
    return 0
