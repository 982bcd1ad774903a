"""`harness gate --baseline RUN --candidate RUN`: exit 0 pass, 1 significant regression, 2 not comparable."""
from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from harness.errors import HarnessError
from reports.gate import IncomparableRuns, gate, incomparable_json, pair_suites, to_json, to_markdown
from harness.rundir import write_atomic
from reports.runs import load_run


def register(commands) -> None:
    parser = commands.add_parser("gate", help="fail when a candidate run is significantly worse than a baseline")
    parser.add_argument("--baseline", type=Path, help="baseline run directory")
    parser.add_argument("--candidate", type=Path, help="candidate run directory")
    parser.add_argument("--config", type=Path, metavar="RUN.yaml",
                        help="the run file's gate: section (baseline, candidate, max_drop, alpha, suites, json, summary)")
    parser.add_argument("--runs-root", type=Path, help="with --config: its runs are here, not under its out:")
    parser.add_argument("--max-drop", type=float, default=None,
                        help="tolerated drop in pass@1 points before a significant drop fails (default 1.0)")
    parser.add_argument("--alpha", type=float, default=None, help="family-wise significance level (default 0.05)")
    parser.add_argument("--suite", help="comma-separated suites to gate (default: all; both runs must have them)")
    parser.add_argument("--json", type=Path, help="write the machine-readable result here ('-' = stdout)")
    parser.add_argument("--summary", type=Path, help="append a Markdown summary here (e.g. $GITHUB_STEP_SUMMARY)")
    parser.set_defaults(func=run)


def check_output(path: Path | None, flag: str) -> None:
    """Before any work: a --json/--summary that cannot be written is a usage error, not a verdict."""
    if path is None or str(path) == "-":
        return
    if path.is_dir():
        raise HarnessError(f"{flag} {path}: is a directory; give a file name")
    if not path.parent.is_dir():
        raise HarnessError(f"{flag} {path}: directory {path.parent} does not exist")


def gate_from_config(args) -> None:
    """The run file's gate: section, for every setting not given as a flag."""
    from harness.runfile import load_run_file

    if args.baseline is not None or args.candidate is not None:
        raise HarnessError("gate: give --baseline/--candidate or --config, not both")
    run_file = load_run_file(args.config, out=args.runs_root)
    section = run_file.parsed.gate
    if section is None:
        raise HarnessError(f"--config {args.config}: has no gate: section")
    args.baseline, args.candidate = run_file.run_ref("baseline"), run_file.run_ref("candidate")
    args.max_drop = section.max_drop if args.max_drop is None else args.max_drop
    args.alpha = section.alpha if args.alpha is None else args.alpha
    if args.suite is None and section.suites:
        args.suite = ",".join(section.suites)
    args.json = args.json or (Path(section.json_out) if section.json_out else None)
    args.summary = args.summary or (Path(section.summary) if section.summary else None)


def run(args) -> int:
    if args.config is not None:
        gate_from_config(args)
    elif args.runs_root is not None:
        raise HarnessError("--runs-root: only applies with --config")
    if args.baseline is None or args.candidate is None:
        raise HarnessError("gate: --baseline and --candidate required (or --config RUN.yaml with a gate: section)")
    args.max_drop = 1.0 if args.max_drop is None else args.max_drop
    args.alpha = 0.05 if args.alpha is None else args.alpha
    check_output(args.json, "--json")
    check_output(args.summary, "--summary")
    settings = {"baseline": str(args.baseline), "candidate": str(args.candidate),
                "max_drop": args.max_drop, "alpha": args.alpha}
    suites = [s.strip() for s in args.suite.split(",") if s.strip()] if args.suite else None
    try:
        pairs = pair_suites(load_run(args.baseline), load_run(args.candidate), suites)
        result = to_json(gate(pairs, args.max_drop, args.alpha), settings)
    except IncomparableRuns as exc:
        write_outputs(args, incomparable_json(str(exc), settings))
        raise
    write_outputs(args, result)
    to_stderr = args.json is not None and str(args.json) == "-"
    console = Console(stderr=to_stderr)
    if not console.is_terminal:  # CI logs: do not squeeze the table into 80 columns
        console = Console(stderr=to_stderr, width=160)
    console.print(human_table(result))
    console.print(f"see the evidence: {view_command(args)}", highlight=False, markup=False, soft_wrap=True)
    return result["exit_code"]


def view_command(args) -> str:
    """The `harness view` command that opens both runs' samples and their diff (docs/viewer.md)."""
    return f"harness view {args.baseline} {args.candidate}"


def write_outputs(args, result: dict) -> None:
    if args.json is not None:
        text = json.dumps(result, indent=2)
        if str(args.json) == "-":
            print(text)
        else:
            write_atomic(args.json, text + "\n")
    if args.summary is not None:
        with open(args.summary, "a", encoding="utf-8") as handle:
            handle.write(to_markdown(result) + f"\nSee the evidence: `{view_command(args)}`\n\n")


def human_table(result: dict) -> Table:
    table = Table(title=f"gate: {result['status'].upper()} (max drop {result['settings']['max_drop']} points, "
                        f"alpha {result['settings']['alpha']}, Holm)")
    for column in ("suite", "problems", "n", "baseline", "candidate", "diff [95% CI]", "test", "p", "p Holm",
                   "unpaired p", "verdict"):
        table.add_column(column, justify="left" if column in ("suite", "test", "verdict") else "right")
    for v in result["suites"]:
        low, high = v["ci95"]
        table.add_row(v["suite"], str(v["problems"]), str(v["n"]), f"{100 * v['baseline']:.1f}",
                      f"{100 * v['candidate']:.1f}",
                      f"{100 * v['difference']:+.1f} [{100 * low:+.1f}, {100 * high:+.1f}]", v["test"],
                      f"{v['p_value']:.3g}", f"{v['p_holm']:.3g}", f"{v['unpaired_p_value']:.3g}",
                      "[red]REGRESSION[/red]" if v["regression"] else "ok")
    return table
