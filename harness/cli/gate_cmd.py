"""`harness gate --baseline RUN --candidate RUN`: exit 0 pass, 1 significant regression, 2 not comparable.

`harness gate plan --baseline RUN [--drop D]`: before the eval, what the gate can see with this
baseline (reports.gate_plan). One parser for both (the positional `plan`), so the gate's own
command line stays `harness gate --baseline ... --candidate ...`.
"""
from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from harness.errors import HarnessError
from reports.gate import IncomparableRuns, gate, incomparable_json, pair_suites, to_json, to_markdown
from harness.rundir import write_atomic
from reports.gate_plan import NOT_REACHABLE, blind_spots, plan
from reports.runs import load_run


def register(commands) -> None:
    parser = commands.add_parser("gate", help="fail when a candidate run is significantly worse than a baseline; "
                                              "'gate plan': what drop the gate can see")
    parser.add_argument("action", nargs="?", choices=["plan"],
                        help="plan: per suite, the detectable drop (and with --drop, the n needed)")
    parser.add_argument("--baseline", type=Path, help="baseline run directory")
    parser.add_argument("--candidate", type=Path, help="candidate run directory (required unless 'plan')")
    parser.add_argument("--config", type=Path, metavar="RUN.yaml",
                        help="the run file's gate: section (baseline, candidate, max_drop, alpha, suites, json, summary)")
    parser.add_argument("--runs-root", type=Path, help="with --config: its runs are here, not under its out:")
    parser.add_argument("--max-drop", type=float, default=None,
                        help="tolerated drop in pass@1 points before a significant drop fails (default 1.0)")
    parser.add_argument("--drop", type=float, help="plan: the drop in points to detect; prints n_needed")
    parser.add_argument("--power", type=float, default=0.8, help="plan: the power to detect with (default 0.8)")
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
    args.max_drop = 1.0 if args.max_drop is None else args.max_drop
    args.alpha = 0.05 if args.alpha is None else args.alpha
    if args.baseline is None:
        raise HarnessError("gate: --baseline required (or --config RUN.yaml with a gate: section)")
    check_output(args.json, "--json")
    check_output(args.summary, "--summary")
    if args.action == "plan":
        return run_plan(args)
    if args.candidate is None:
        raise HarnessError("--candidate: required (or 'harness gate plan --baseline RUN' to plan)")
    if args.drop is not None:
        raise HarnessError("--drop: only with 'harness gate plan'")
    settings = {"baseline": str(args.baseline), "candidate": str(args.candidate),
                "max_drop": args.max_drop, "alpha": args.alpha}
    suites = [s.strip() for s in args.suite.split(",") if s.strip()] if args.suite else None
    try:
        pairs = pair_suites(load_run(args.baseline), load_run(args.candidate), suites)
        result = to_json(gate(pairs, args.max_drop, args.alpha), settings)
    except IncomparableRuns as exc:
        write_outputs(args, incomparable_json(str(exc), settings))
        raise
    if result["status"] == "pass":
        result["blind_spots"] = blind_spots(plan([base for base, _ in pairs], args.power, args.alpha, args.max_drop),
                                            args.max_drop)
    write_outputs(args, result)
    to_stderr = args.json is not None and str(args.json) == "-"
    console = Console(stderr=to_stderr)
    if not console.is_terminal:  # CI logs: do not squeeze the table into 80 columns
        console = Console(stderr=to_stderr, width=160)
    console.print(human_table(result))
    for line in result.get("blind_spots", []):
        console.print(line, markup=False)
    console.print(f"see the evidence: {view_command(args)}", highlight=False, markup=False, soft_wrap=True)
    return result["exit_code"]


def view_command(args) -> str:
    """The `harness view` command that opens both runs' samples and their diff (docs/viewer.md)."""
    return f"harness view {args.baseline} {args.candidate}"


def run_plan(args) -> int:
    if args.candidate is not None or args.summary is not None:
        raise HarnessError("gate plan: takes --baseline only (no --candidate or --summary)")
    suites = [s.strip() for s in args.suite.split(",") if s.strip()] if args.suite else None
    result = plan(load_run(args.baseline), args.power, args.alpha, args.max_drop, args.drop, suites)
    result["settings"]["baseline"] = str(args.baseline)
    write_json_output(args.json, result)
    to_stderr = args.json is not None and str(args.json) == "-"
    console = Console(stderr=to_stderr)
    if not console.is_terminal:
        console = Console(stderr=to_stderr, width=160)
    console.print(plan_table(result))
    return 0


def plan_table(result: dict) -> Table:
    settings = result["settings"]
    table = Table(title=f"gate plan: power {settings['power']:g}, alpha {settings['alpha']:g} "
                        f"({settings['alpha_per_suite']:.3g} per suite, Holm), max drop {settings['max_drop']:g} points")
    columns = ["suite", "problems", "n", "baseline", "detectable drop"]
    if settings["drop"] is not None:
        columns += [f"power at {settings['drop']:g} pts", f"n needed for {settings['drop']:g} pts"]
    for column in columns + ["note"]:
        table.add_column(column, justify="left" if column in ("suite", "note") else "right")
    for name, entry in result["suites"].items():
        seen = entry["detectable_drop"]
        row = [name, str(entry["problems"]), str(entry["n"]), f"{100 * entry['baseline']:.1f}",
               "none" if seen is None else f"{seen:.1f} pts"]
        if settings["drop"] is not None:
            row += [f"{entry['power_at_drop']:.2f}", NOT_REACHABLE if entry["n_needed"] is None else str(entry["n_needed"])]
        notes = [entry["note"]] if entry["note"] else []
        if entry["n_fixed_prior"]:
            notes.append("n = 1: spread of problem rates assumed")
        table.add_row(*row, "; ".join(notes))
    return table


def write_json_output(path: Path | None, result: dict) -> None:
    """--json FILE (written atomically) or '-' (stdout)."""
    if path is None:
        return
    text = json.dumps(result, indent=2)
    if str(path) == "-":
        print(text)
    else:
        write_atomic(path, text + "\n")


def write_outputs(args, result: dict) -> None:
    write_json_output(args.json, result)
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
