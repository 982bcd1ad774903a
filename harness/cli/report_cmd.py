"""`harness report leaderboard|paper RUN_DIR... --out DIR`: reports from run directories (no model).

Like `decontam` and `import`, a report never silently replaces files: an existing, non-empty --out
needs --overwrite.
"""
from __future__ import annotations

import sys
from pathlib import Path

from harness.errors import HarnessError
from harness.rundir import directory_is_empty, require_directory


def register(commands) -> None:
    parser = commands.add_parser("report", help="leaderboard and paper-reproduction reports from run directories")
    kinds = parser.add_subparsers(dest="report", required=True, metavar="REPORT")

    board = kinds.add_parser("leaderboard", help="model x suite pass@1 table: markdown, csv, html, png")
    board.add_argument("runs", nargs="*", type=Path, metavar="RUN_DIR")
    board.add_argument("--config", type=Path, metavar="RUN.yaml",
                       help="the run file's runs (and its leaderboard: section) instead of RUN_DIRs")
    board.add_argument("--runs-root", type=Path, help="with --config: the runs are here, not under its out:")
    board.add_argument("--out", type=Path, help="report directory (required unless the run file's leaderboard: has out)")
    board.add_argument("--paper", action="append", default=None,
                       help="also show this paper's published rows (e.g. vibethinker-1.5b); repeatable")
    board.add_argument("--paper-models", help="comma-separated published models to show (default: all)")
    board.add_argument("--title", default=None, help="default: Leaderboard")
    board.add_argument("--overwrite", action="store_true", help="replace the reports in an existing --out")
    board.set_defaults(func=run_leaderboard)

    paper = kinds.add_parser("paper", help="measured vs published numbers of a paper, with verdicts")
    paper.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR")
    paper.add_argument("--out", required=True, type=Path)
    paper.add_argument("--paper", default="vibethinker-1.5b", help="paper table under suites/data/papers")
    paper.add_argument("--paper-model", help="the paper's row to compare with (default: the paper's own model)")
    paper.add_argument("--overwrite", action="store_true", help="replace the reports in an existing --out")
    paper.add_argument("--interval", default="problems", choices=["problems", "two-level", "samples"],
                       help="bootstrap of the verdict's interval: problems (a population of problems, default), "
                            "two-level (problems, then samples within them), samples (this fixed benchmark)")
    paper.set_defaults(func=run_paper)


def leaderboard_from_config(args) -> None:
    """RUN_DIRs, --out, --paper, --paper-models, --title from the run file where not given as flags."""
    from harness.runfile import load_run_file, run_directories

    if args.runs:
        raise HarnessError("report leaderboard: give RUN_DIRs or --config, not both")
    run_file = load_run_file(args.config, out=args.runs_root)
    args.runs = run_directories(run_file)
    section = run_file.parsed.leaderboard
    if section is not None:
        args.out = args.out or (Path(section.out) if section.out else None)
        args.paper = args.paper if args.paper is not None else section.paper
        if args.paper_models is None and section.paper_models:
            args.paper_models = ",".join(section.paper_models)
        args.title = args.title or section.title


def run_leaderboard(args) -> int:
    from reports.leaderboard import build_leaderboard
    from reports.write import write_leaderboard
    from reports.runs import load_runs

    if args.config is not None:
        leaderboard_from_config(args)
    elif args.runs_root is not None:
        raise HarnessError("--runs-root: only applies with --config")
    if not args.runs:
        raise HarnessError("report leaderboard: give RUN_DIRs or --config RUN.yaml")
    if args.out is None:
        raise HarnessError("report leaderboard: --out required (or out: in the run file's leaderboard: section)")
    args.paper, args.title = args.paper or [], args.title or "Leaderboard"
    models = [m.strip() for m in args.paper_models.split(",")] if args.paper_models else None
    check_out(args)
    runs = load_runs(args.runs)
    board = build_leaderboard(runs, papers=args.paper, paper_models=models)
    written = write_leaderboard(board, args.out, args.title, runs)
    print(board.markdown())
    print("wrote " + ", ".join(str(path) for path in written), file=sys.stderr)
    return 0


def run_paper(args) -> int:
    from reports.paper import build_paper_report
    from reports.write import write_paper_report
    from reports.runs import load_runs

    check_out(args)
    runs = load_runs(args.runs)
    report = build_paper_report(runs, args.paper, args.paper_model, args.interval)
    written = write_paper_report(report, args.out, [run for run in runs if run.suite in {line.suite for line in report.lines}])
    print(report.markdown())
    print("wrote " + ", ".join(str(path) for path in written), file=sys.stderr)
    return 0


def check_out(args) -> None:
    require_directory(args.out)
    if not args.overwrite and not directory_is_empty(args.out):
        raise HarnessError(f"--out {args.out}: exists and is not empty; pass --overwrite to replace its reports")
