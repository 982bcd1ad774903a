"""`harness import FORMAT FILE... --out GENERATIONS.jsonl`: published outputs -> generations to re-grade.

Beside GENERATIONS.jsonl goes GENERATIONS.source.json: the source format, files and the
publisher's settings where the file has them (model, n, temperature, max tokens); `harness grade`
copies it into the run's manifest (`source`).
"""
from __future__ import annotations

import sys
from pathlib import Path

from harness.errors import HarnessError
from harness.rundir import write_json_atomic, write_lines_atomic
from reports.importers import FORMATS, import_files, published_accuracy


def source_path(generations: Path) -> Path:
    return generations.with_name(generations.name.removesuffix(".jsonl") + ".source.json")


def register(commands) -> None:
    parser = commands.add_parser("import", help="turn published per-sample outputs into a generations.jsonl")
    parser.add_argument("format", metavar="FORMAT", choices=FORMATS, help=" | ".join(FORMATS))
    parser.add_argument("file", metavar="FILE", type=Path, nargs="+",
                        help="the file (nemo-skills: one output-rs*.jsonl per seed, each a sample)")
    parser.add_argument("--out", required=True, type=Path, help="generations.jsonl to write (must not exist)")
    parser.add_argument("--suite", help="suite the problems belong to (qwen25-math, nemo-skills: required; "
                                        "lm-eval, lighteval, inspect: default from the task name; "
                                        "lcb-eval-all: default lcb_v5)")
    parser.add_argument("--metric", help="lm-eval, lighteval: the per-sample metric that is the verdict "
                                         "(default: the first one the file lists)")
    parser.add_argument("--scorer", help="inspect: the scorer whose value is the verdict (default: the first)")
    parser.add_argument("--start-date", help="lcb-eval-all: keep contest_date >= this day (YYYY-MM-DD)")
    parser.add_argument("--end-date", help="lcb-eval-all: keep contest_date <= this day at 00:00")
    parser.set_defaults(func=run)


def run(args) -> int:
    sidecar = source_path(args.out)
    for path in (args.out, sidecar):
        if path.exists():
            raise HarnessError(f"--out {args.out}: {path} already exists; choose another path or delete it")
    records, source = import_files(args.format, args.file, args.suite, start_date=args.start_date,
                                   end_date=args.end_date, metric=args.metric, scorer=args.scorer)
    if not records:
        raise HarnessError(f"{args.file[0]}: no samples left to import (check --start-date/--end-date)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_lines_atomic(args.out, records)
    write_json_atomic(sidecar, source)
    problems = len({record["problem_id"] for record in records})
    judged = [record["published_correct"] for record in records if "published_correct" in record]
    agreed = sum(judged) / len(judged) if judged else None
    verdicts = (f"publisher's pass@1 {100 * agreed:.1f}" + (f" over the {len(judged)} samples it judged"
                                                          if len(judged) < len(records) else "")
                if judged else "no per-sample verdicts in the file")
    print(f"wrote {len(records)} samples of {problems} problems to {args.out} (settings: {sidecar.name}); "
          f"{verdicts}", file=sys.stderr)
    stated = published_accuracy(args.file[0]) if args.format == "qwen25-math" else None
    if stated is not None and agreed is not None and abs(stated - agreed) > 6e-4:  # the file rounds to 0.1 point
        print(f"note: {args.file[0].name} states accuracy {100 * stated:.1f}, per-sample verdicts give "
              f"{100 * agreed:.1f}", file=sys.stderr)
    return 0
