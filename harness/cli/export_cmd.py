"""`harness export RUN_DIR --to parquet|hf|inspect OUT`: a run's samples and grades for other tools."""
from __future__ import annotations

import sys
from pathlib import Path

from harness.errors import HarnessError


def register(commands) -> None:
    parser = commands.add_parser("export", help="write a run's samples with their grades as parquet, a "
                                                "datasets dataset or an inspect log")
    parser.add_argument("run", metavar="RUN_DIR", type=Path)
    parser.add_argument("--to", required=True, choices=("parquet", "hf", "inspect"))
    parser.add_argument("out", metavar="OUT", type=Path, help="file (parquet; inspect: .eval/.json) or directory "
                                                              "(hf; inspect with several suites); must not exist")
    parser.add_argument("--push", metavar="REPO", help="hf: also push_to_hub(REPO) (needs a reachable hub)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from reports import exports

    if args.push and args.to != "hf":
        raise HarnessError("--push: only with --to hf")
    if args.to == "parquet":
        count = exports.to_parquet(args.run, args.out)
        print(f"wrote {count} samples to {args.out}", file=sys.stderr)
    elif args.to == "hf":
        count = exports.to_hf(args.run, args.out, args.push)
        print(f"wrote {count} samples to {args.out} (datasets.load_from_disk)"
              + (f"; pushed to {args.push}" if args.push else ""), file=sys.stderr)
    else:
        for path in exports.to_inspect(args.run, args.out):
            print(f"wrote {path} (inspect view --log-dir {path.parent})", file=sys.stderr)
    return 0
