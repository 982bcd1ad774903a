"""`harness grade`: re-grade a generations file (from any machine or publisher) without a model.

When the file is a run directory's own generations.jsonl, the grade knows that run: the suite
options it was made with (e.g. GPQA's option order, which decides the gold letters) are used, and
a flag that contradicts them is refused, naming it. With `--out` the run itself, the run is
finished in place: pending samples are graded under its own identity and its metrics rewritten.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.cli.common import add_executor_options, add_suite_options, executor_from_args, parse_ks, suite_options
from harness.display import print_results
from harness.errors import HarnessError
from harness.pipeline import finish_in_place, plan_suite, regrade
from harness.rundir import GENERATIONS, RunDir
from harness.settings import Role
from suites import Suite, get_suite


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


def source_run(generations: Path) -> RunDir | None:
    """The run directory whose generations.jsonl this file is, if any."""
    run = RunDir(generations.parent)
    return run if generations.name == GENERATIONS and run.exists() else None


def recorded_entry(source: RunDir, suite: Suite) -> dict[str, Any]:
    entry = next((e for e in source.manifest().get("suites", []) if e.get("name") == suite.name), None)
    if entry is None:
        raise HarnessError(f"--suite {suite.name}: the run {source.path} has no such suite")
    return entry


def options_of_run(entry: dict[str, Any], suite: Suite, given: dict[str, Any], source: RunDir) -> dict[str, Any]:
    """The run's recorded options (bar where work runs), with any contradicting flag refused."""
    recorded = {name: value for name, value in (entry.get("options") or {}).items()
                if suite.settings.role_of(name) is not Role.PLACE}
    for name, value in given.items():
        if name in recorded and recorded[name] != value:
            flag = suite.settings.get(name).flag
            raise HarnessError(f"{flag} {value}: {source.path} was made with {name}={recorded[name]}; its "
                               "generations are graded with the run's own options (drop the flag)")
    return {**recorded, **given}


def run(args) -> int:
    suite = get_suite(args.suite)
    options = suite_options(args, [suite])
    source = source_run(args.generations)
    entry = recorded_entry(source, suite) if source else None
    if source:
        options = options_of_run(entry, suite, options, source)
    ks = parse_ks(args.k)
    with executor_from_args(args) as executor:
        if source and args.out.resolve() == source.path.resolve():
            metrics = finish_in_place(source, suite, entry, options, ks, executor)
        else:
            plan = plan_suite(suite, options, suite.protocol, None, args.data)
            metrics = regrade(plan, args.generations, args.out, ks, args.model, executor,
                              allow_ragged=args.allow_ragged)
    print_results(metrics, str(args.out))
    if args.audit:
        from harness.audit import audit, summary_lines

        for line in summary_lines(audit(args.out)):
            print(line)
    return 0
