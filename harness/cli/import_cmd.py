"""`harness import FORMAT FILE --out GENERATIONS.jsonl`: published outputs -> generations to re-grade."""
from __future__ import annotations

import sys
from pathlib import Path

from harness.errors import HarnessError
from harness.rundir import write_lines_atomic
from reports.importers import FORMATS, import_file, published_accuracy


def register(commands) -> None:
    parser = commands.add_parser("import", help="turn published per-sample outputs into a generations.jsonl")
    parser.add_argument("format", metavar="FORMAT", choices=FORMATS, help=" | ".join(FORMATS))
    parser.add_argument("file", metavar="FILE", type=Path)
    parser.add_argument("--out", required=True, type=Path, help="generations.jsonl to write (must not exist)")
    parser.add_argument("--suite", help="suite the problems belong to (qwen25-math: required; "
                                        "lcb-eval-all: default lcb_v5)")
    parser.add_argument("--start-date", help="lcb-eval-all: keep contest_date >= this day (YYYY-MM-DD)")
    parser.add_argument("--end-date", help="lcb-eval-all: keep contest_date <= this day at 00:00")
    parser.set_defaults(func=run)


def run(args) -> int:
    if args.out.exists():
        raise HarnessError(f"--out {args.out}: already exists; choose another path or delete it")
    records = import_file(args.format, args.file, args.suite,
                          start_date=args.start_date, end_date=args.end_date)
    if not records:
        raise HarnessError(f"{args.file}: no samples left to import (check --start-date/--end-date)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_lines_atomic(args.out, records)
    problems = len({record["problem_id"] for record in records})
    agreed = sum(record["published_correct"] for record in records) / len(records)
    print(f"wrote {len(records)} samples of {problems} problems to {args.out}; "
          f"publisher's pass@1 {100 * agreed:.1f}", file=sys.stderr)
    stated = published_accuracy(args.file) if args.format == "qwen25-math" else None
    if stated is not None and abs(stated - agreed) > 6e-4:  # the file rounds to 0.1 point
        print(f"note: {args.file.name} states accuracy {100 * stated:.1f}, per-sample verdicts give "
              f"{100 * agreed:.1f}", file=sys.stderr)
    return 0
