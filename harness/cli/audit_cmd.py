"""`harness audit RUN_DIR`: re-grade a run with independent checkers (harness.audit) and list
the samples where they disagree with the run's verdicts."""
from __future__ import annotations

from pathlib import Path

from harness.audit import CHECKERS, audit, summary_lines


def register(commands) -> None:
    parser = commands.add_parser("audit", help="second-grader audit of a run directory")
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument("--checker", help=f"comma-separated checkers (default: all that apply): {', '.join(CHECKERS)}")
    parser.add_argument("--out", type=Path, help="directory for audit.json / audit.jsonl (default: RUN_DIR)")
    parser.add_argument("--workers", type=int, help="grading processes (default: CPUs, at most 8)")
    parser.set_defaults(func=run)


def parse_checkers(value: str | None) -> list[str] | None:
    return [name.strip() for name in value.split(",") if name.strip()] if value else None


def run(args) -> int:
    summary = audit(args.run_dir, parse_checkers(args.checker), args.out, args.workers)
    for line in summary_lines(summary):
        print(line)
    print(f"audit: {(args.out or args.run_dir) / 'audit.json'}, disagreeing samples in audit.jsonl")
    return 0
