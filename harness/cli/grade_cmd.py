"""`harness grade`: re-grade a generations file (from any machine or publisher) without a model.

A thin layer over `harness.api.grade`. When the file is a run directory's own generations.jsonl, the grade knows that run: the suite
options it was made with (e.g. GPQA's option order, which decides the gold letters) are used, and
a flag that contradicts them is refused, naming it. With `--out` the run itself, the run is
finished in place: pending samples are graded under its own identity and its metrics rewritten.
"""
from __future__ import annotations

from pathlib import Path

from harness.cli.common import add_executor_options, add_suite_options, executor_from_args, parse_ks, suite_options
from harness.display import print_results
from suites import get_suite


def register(commands) -> None:
    parser = commands.add_parser("grade", help="grade a generations.jsonl without a model")
    parser.add_argument("--suite", required=True)
    parser.add_argument("--generations", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--model", help="model name to show in metrics (default: the file name)")
    parser.add_argument("--audit", action="store_true",
                        help="then re-grade with independent checkers (harness audit): audit.json/.jsonl in --out")
    parser.add_argument("--allow-ragged", action="store_true",
                        help="grade problems with unequal sample counts, each on its own n (recorded on every result)")
    add_suite_options(parser)
    add_executor_options(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    from harness.api import grade

    suite = get_suite(args.suite)
    options = suite_options(args, [suite])
    ks = parse_ks(args.k)
    with executor_from_args(args) as executor:
        metrics = grade(args.generations, suite.name, args.out, k=ks, model=args.model, options=options,
                        data=args.data, allow_ragged=args.allow_ragged, executor=executor)
    print_results(metrics, str(args.out))
    if args.audit:
        from harness.audit import audit, summary_lines

        for line in summary_lines(audit(args.out)):
            print(line)
    return 0
