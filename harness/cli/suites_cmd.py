"""`harness suites` and `harness suites show SUITE`.

`--format` applies to both: the list defaults to a table, `show` to JSON lines (one per problem).
A suite whose full data must be supplied still lists what it ships (e.g. lcb_v5's public tests).
"""
from __future__ import annotations

import json
import sys

from rich.console import Console
from rich.table import Table

from harness.cli.common import add_prompt_options, add_suite_options, prompt_controls, suite_options
from harness.errors import HarnessError
from suites import get_suite, suite_names
from suites.papers import suite_reference


def register(commands) -> None:
    parser = commands.add_parser("suites", help="list suites, or show one suite's problems")
    parser.add_argument("action", nargs="?", choices=["show"], help="show one suite's problems")
    parser.add_argument("suite", nargs="?")
    parser.add_argument("--format", choices=["jsonl", "table"],
                        help="output format (default: table for the list, jsonl for show)")
    add_suite_options(parser, ks=False)  # show: the prompts exactly as eval/grade with these flags build them
    parser.add_argument("--model", help="show: also the prompt exactly as rendered for this model (and --backend)")
    parser.add_argument("--backend", default="hf", help="show --model: the backend that would send it (default hf)")
    from harness.cli.eval_cmd import add_backend_flags

    add_backend_flags(parser)
    add_prompt_options(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    if args.action == "show":
        return show(args, args.format or "jsonl")
    if args.suite:
        raise HarnessError(f"suites {args.suite}: did you mean `harness suites show {args.suite}`?")
    rows = [suite_row(name) for name in suite_names()]
    if (args.format or "table") == "jsonl":
        for row in rows:
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        return 0
    table = Table(title="suites")
    for column in ("suite", "problems", "data sha256", "protocol (n, T, top_p, max tokens)", "paper (VibeThinker / base)"):
        table.add_column(column)
    for row in rows:
        p = row["protocol"]
        reference = " / ".join(f"{v:.1f}" for v in row["paper"].values()) or "-"
        table.add_row(row["suite"], row["problems_note"], row["sha256"][:16],
                      f"{p['n']}, {p['temperature']}, {p['top_p']}, {p['max_tokens']}", reference)
    Console().print(table)
    return 0


def suite_row(name: str) -> dict:
    suite = get_suite(name)
    count, note = shipped_problems(suite)
    p = suite.protocol
    return {"suite": name, "problems": count, "problems_note": note, "sha256": suite.sha256,
            "protocol": {"n": p.n, "temperature": p.temperature, "top_p": p.top_p, "max_tokens": p.max_tokens},
            "paper": suite_reference(name)}


def shipped_problems(suite) -> tuple[int | None, str]:
    """(count, how to read it): the shipped problems, or what a suite needs before it has any."""
    try:
        count = len(suite.load_problems())
        return count, str(count)
    except HarnessError:
        pass
    if suite.settings.get("public_tests_only"):
        try:
            count = len(suite.load_problems({"public_tests_only": True}))
            return count, f"{count} (public tests; --data for full tests)"
        except HarnessError:
            pass
    return None, "needs --data"


def show(args, format: str) -> int:
    name = args.suite
    if not name:
        raise HarnessError("suites show: name a suite")
    suite = get_suite(name)
    controls = prompt_controls(args)
    problems = suite.load_problems(suite_options(args, [suite]), args.data)
    renderer = None
    if args.model:
        from harness.backends import prompt_renderer
        from harness.cli.eval_cmd import backend_options

        renderer = prompt_renderer(args.backend, args.model, backend_options(args), controls)
    if format == "table":
        table = Table(title=f"{name}: {len(problems)} problems")
        for column in ("problem_id", "prompt (start)", "answer"):
            table.add_column(column)
        for problem in problems:
            prompt = problem.messages[-1]["content"] if problem.messages else ""
            answer = problem.answer if isinstance(problem.answer, str) else json.dumps(problem.answer, default=str)
            table.add_row(problem.problem_id, prompt[:80].replace("\n", " "), answer[:40])
        Console().print(table)
        return 0
    for problem in problems:
        messages = list(controls.messages(problem.messages))
        record = {"problem_id": problem.problem_id, "messages": messages}
        if controls.assistant_prefill:
            record["assistant_prefill"] = controls.assistant_prefill
        if renderer is not None:
            record["prompt" if renderer.renders_text else "request"] = renderer.render(messages)
            record["prompt_sha256"] = renderer.sha256(messages)
        record |= {"answer": problem.answer, "metadata": problem.metadata}
        sys.stdout.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    return 0
