"""`harness suites` and `harness suites show SUITE`."""
from __future__ import annotations

import json
import sys

from rich.console import Console
from rich.table import Table

from harness.cli.common import add_suite_options, suite_options
from harness.errors import HarnessError
from suites import get_suite, suite_names
from suites.papers import suite_reference


def register(commands) -> None:
    parser = commands.add_parser("suites", help="list suites, or show one suite's problems")
    parser.add_argument("action", nargs="?", choices=["show"], help="show one suite's problems")
    parser.add_argument("suite", nargs="?")
    parser.add_argument("--format", choices=["jsonl", "table"], default="jsonl")
    add_suite_options(parser, ks=False)  # show: the prompts exactly as eval/grade with these flags build them
    parser.set_defaults(func=run)


def run(args) -> int:
    if args.action == "show":
        return show(args)
    table = Table(title="suites")
    for column in ("suite", "problems", "data sha256", "protocol (n, T, top_p, max tokens)", "paper (VibeThinker / base)"):
        table.add_column(column)
    for name in suite_names():
        suite = get_suite(name)
        try:
            count = str(len(suite.load_problems()))
        except Exception as exc:  # a suite whose data must be supplied (lcb_v6) still gets a row
            count = f"needs --data ({exc.__class__.__name__})"
        p = suite.protocol
        reference = " / ".join(f"{v:.1f}" for v in suite_reference(name).values()) or "-"
        table.add_row(name, count, suite.sha256[:16], f"{p.n}, {p.temperature}, {p.top_p}, {p.max_tokens}", reference)
    Console().print(table)
    return 0


def show(args) -> int:
    if not args.suite:
        raise HarnessError("suites show: name a suite")
    suite = get_suite(args.suite)
    for problem in suite.load_problems(suite_options(args, [suite]), args.data):
        record = {"problem_id": problem.problem_id, "messages": problem.messages,
                  "answer": problem.answer, "metadata": problem.metadata}
        sys.stdout.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    return 0
