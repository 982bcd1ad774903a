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
    parser.add_argument("--audit", action="store_true",
                        help="then re-grade with independent checkers (harness audit): audit.json/.jsonl in --out")
    add_suite_options(parser)
    add_executor_options(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    suite = get_suite(args.suite)
    options = suite_options(args, [suite])
    plan = plan_suite(suite, options, SamplingOverrides().apply(suite), None, args.data)
    with executor_from_args(args) as executor:
        metrics = regrade(plan, args.generations, args.out, parse_ks(args.k), args.model, executor)
    print_results(metrics, str(args.out))
    if args.audit:
        from harness.audit import audit, summary_lines

        for line in summary_lines(audit(args.out)):
            print(line)
    return 0
