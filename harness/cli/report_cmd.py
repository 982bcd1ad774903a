"""`harness report leaderboard|paper RUN_DIR... --out DIR`: reports from run directories (no model)."""
from __future__ import annotations

import sys
from pathlib import Path


def register(commands) -> None:
    parser = commands.add_parser("report", help="leaderboard and paper-reproduction reports from run directories")
    kinds = parser.add_subparsers(dest="report", required=True, metavar="REPORT")

    board = kinds.add_parser("leaderboard", help="model x suite pass@1 table: markdown, csv, html, png")
    board.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR")
    board.add_argument("--out", required=True, type=Path)
    board.add_argument("--paper", action="append", default=[],
                       help="also show this paper's published rows (e.g. vibethinker-1.5b); repeatable")
    board.add_argument("--paper-models", help="comma-separated published models to show (default: all)")
    board.add_argument("--title", default="Leaderboard")
    board.set_defaults(func=run_leaderboard)

    paper = kinds.add_parser("paper", help="measured vs published numbers of a paper, with verdicts")
    paper.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR")
    paper.add_argument("--out", required=True, type=Path)
    paper.add_argument("--paper", default="vibethinker-1.5b", help="paper table under suites/data/papers")
    paper.add_argument("--paper-model", help="the paper's row to compare with (default: the paper's own model)")
    paper.add_argument("--interval", default="problems", choices=["problems", "two-level", "samples"],
                       help="bootstrap of the verdict's interval: problems (a population of problems, default), "
                            "two-level (problems, then samples within them), samples (this fixed benchmark)")
    paper.set_defaults(func=run_paper)


def run_leaderboard(args) -> int:
    from reports.leaderboard import build_leaderboard, write_leaderboard
    from reports.runs import load_runs

    models = [m.strip() for m in args.paper_models.split(",")] if args.paper_models else None
    runs = load_runs(args.runs)
    board = build_leaderboard(runs, papers=args.paper, paper_models=models)
    written = write_leaderboard(board, args.out, args.title, runs)
    print(board.markdown())
    print("wrote " + ", ".join(str(path) for path in written), file=sys.stderr)
    return 0


def run_paper(args) -> int:
    from reports.paper import build_paper_report, write_paper_report
    from reports.runs import load_runs

    report = build_paper_report(load_runs(args.runs), args.paper, args.paper_model, args.interval)
    written = write_paper_report(report, args.out)
    print(report.markdown())
    print("wrote " + ", ".join(str(path) for path in written), file=sys.stderr)
    return 0
