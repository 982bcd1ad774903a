"""`harness grade`: re-grade a generations file (from any machine or publisher) without a model."""
from __future__ import annotations

from pathlib import Path

from harness.cli.common import add_executor_options, add_suite_options, executor_from_args, parse_ks, suite_options
from harness.display import print_results
from harness.pipeline import SamplingOverrides, plan_suite, regrade
from suites import get_suite


def register(commands) -> None:
    parser = commands.add_parser("grade", help="grade a generations.jsonl without a model")
    parser.add_argument("--suite", required=True)
    parser.add_argument("--generations", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--model", help="model name to show in metrics (default: the file name)")
    parser.add_argument("--allow-ragged", action="store_true",
                        help="grade problems with unequal sample counts, each on its own n (recorded on every result)")
    add_suite_options(parser)
    add_executor_options(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    suite = get_suite(args.suite)
    options = suite_options(args, [suite])
    plan = plan_suite(suite, options, SamplingOverrides().apply(suite), None, args.data)
    with executor_from_args(args) as executor:
        metrics = regrade(plan, args.generations, args.out, parse_ks(args.k), args.model, executor,
                          allow_ragged=args.allow_ragged)
    print_results(metrics, str(args.out))
    return 0
