"""`harness decontam`: which training rows share a normalised n-gram with an evaluation suite."""
from __future__ import annotations

import json
from pathlib import Path

from harness.errors import HarnessError
from harness.rundir import write_atomic


def register(commands) -> None:
    parser = commands.add_parser("decontam", help="flag training rows that share an n-gram with a suite problem")
    parser.add_argument("--train", required=True, help="JSONL, JSON, CSV, parquet, a datasets directory, or a hub dataset id")
    parser.add_argument("--field", default="text", help="text to compare: dotted paths, comma-separated (default text)")
    parser.add_argument("--suites", default="all", help="all (default) or S1,S2")
    parser.add_argument("--ngram", type=int, default=10, help="n of the shared n-gram (default 10)")
    parser.add_argument("--out", type=Path, required=True, help="report: one JSON line per flagged row")
    parser.add_argument("--write-clean", type=Path, help="write the unflagged rows here, in the input format")
    parser.add_argument("--format", choices=["jsonl", "json", "csv", "parquet", "arrow", "datasets"],
                        help="input format (default: from the name; arrow = a save_to_disk directory)")
    parser.add_argument("--split", help="split of a datasets directory or hub dataset (default: the only one / train)")
    parser.add_argument("--suite-data", action="append", default=[], metavar="SUITE=PATH",
                        help="problem file for a suite whose data must be supplied (e.g. lcb_v6=test6.jsonl)")
    parser.add_argument("--min-coverage", type=float, default=0.0,
                        help="flag a row only if it holds this share of a problem's n-grams (default 0: any shared n-gram)")
    parser.add_argument("--jobs", type=int, help="worker processes (default: the CPUs available, at most 8)")
    parser.add_argument("--summary-json", type=Path, help="also write the summary (with problems seen per suite) here")
    parser.add_argument("--overwrite", action="store_true", help="replace existing --out / --write-clean files")
    parser.set_defaults(func=run)


def parse_suite_data(items: list[str]) -> dict[str, Path]:
    data = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise HarnessError(f"--suite-data {item}: expected SUITE=PATH")
        if not Path(path).exists():
            raise HarnessError(f"--suite-data {item}: no such file or directory")
        data[name] = Path(path)
    return data


def run(args) -> int:
    from harness.decontam.index import build_index
    from harness.decontam.readers import open_training
    from harness.decontam.report import decontaminate, print_summary, refuse_existing
    from harness.decontam.scan import default_jobs

    if not 0.0 <= args.min_coverage <= 1.0:
        raise HarnessError(f"--min-coverage {args.min_coverage}: must be between 0 and 1")
    if args.jobs is not None and args.jobs < 1:
        raise HarnessError(f"--jobs {args.jobs}: must be >= 1")
    refuse_existing(args.summary_json, "--summary-json", args.overwrite)
    reader = open_training(args.train, args.field, args.format, args.split, whole_rows=args.write_clean is not None)
    index = build_index(args.suites, args.ngram, parse_suite_data(args.suite_data))
    summary = decontaminate(reader, index, args.out, args.write_clean, args.jobs or default_jobs(),
                            args.overwrite, args.min_coverage)
    print_summary(summary, index)
    print(f"report: {args.out}" + (f"; clean copy: {args.write_clean} "
                                   f"({summary.rows_scanned - summary.rows_flagged} rows)" if args.write_clean else ""))
    if args.summary_json:
        write_atomic(args.summary_json, json.dumps(summary.as_dict(index), indent=2) + "\n")
    return 0
