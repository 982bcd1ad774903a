"""Grading throughput on Ray: 1 vs 2 workers, against the local executor, on published responses.

Re-grades published responses as `harness grade` does, once per configuration, each into a fresh
run directory, and prints samples/s of the grading itself (workers already started) and of the
whole command (cluster and worker start included), the load average, and whether every
configuration gives the local verdicts. Responses:
- math500: SkyThought's MATH500 responses (4 models x 500, ../shared/data/golden/skythought);
- lcb_v5: o1-mini / o1-preview eval_all outputs (../shared/data/golden/lcb-submissions) on the
  public tests we ship, in the sandbox (each Ray worker finds the image on its node, own pool).

    python benchmarks/bench_ray_grading.py [--suite math500|lcb_v5] [--rows 400] [--shard-size 50]
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from harness.executors import make_executor
from harness.pipeline import plan_suite, regrade
from suites import get_suite


def math500_generations(shared: Path, rows: int) -> list[dict]:
    """Problem i of MATH500, sample s = model s."""
    ids = [problem.problem_id for problem in get_suite("math500").load_problems()]
    records = []
    for sample, source in enumerate(sorted((shared / "data/golden/skythought").glob("*__math500.jsonl"))):
        for line in source.read_text().splitlines()[: rows // 4]:
            row = json.loads(line)
            records.append({"problem_id": ids[row["idx"]], "sample": sample, "response": row["code"][0]})
    return records


def lcb_generations(shared: Path, rows: int) -> list[dict]:
    """Sample s = submitter s (o1-mini, o1-preview), problems in file order."""
    known = {p.problem_id for p in get_suite("lcb_v5").load_problems({"public_tests_only": True})}
    records = []
    for sample, source in enumerate(sorted((shared / "data/golden/lcb-submissions").glob("*_eval_all.json"))):
        records += [{"problem_id": row["question_id"], "sample": sample, "response": row["output_list"][0]}
                    for row in json.loads(source.read_text()) if row["question_id"] in known][: rows // 2]
    return records


SUITES = {"math500": (math500_generations, {}), "lcb_v5": (lcb_generations, {"public_tests_only": True})}


def grade_once(suite_name: str, suite_options: dict, generations: Path, out: Path, executor_name: str,
               **options) -> tuple[float, float, list]:
    suite = get_suite(suite_name)
    plan = plan_suite(suite, suite_options, suite.protocol, None)
    started = time.perf_counter()
    with make_executor(executor_name, **options) as executor:
        regrade(plan, generations, out, [1], "bench", executor)
        stage = executor.describe().get("stages", {}).get("grades", {})
    wall = time.perf_counter() - started
    verdicts = [json.loads(line)["correct"] for line in (out / "grades.jsonl").read_text().splitlines()]
    return wall, stage.get("seconds", wall), verdicts


def set_local_processes(processes: int | None) -> None:
    """Width of the local grading pool (math: pebble processes, code: sandbox runs at once); Ray
    workers size theirs from --ray-cpus-per-worker instead."""
    import harness.grading as grading
    import sandbox

    sandbox.close_all()
    if processes is None:
        os.environ.pop("SSP_SANDBOX_WORKERS", None)
        return
    grading.default_workers = lambda: processes
    os.environ["SSP_SANDBOX_WORKERS"] = str(processes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    parser.add_argument("--suite", choices=sorted(SUITES), default="math500")
    parser.add_argument("--sandbox", choices=["docker", "bwrap"], help="lcb_v5: sandbox (default: docker if it answers)")
    parser.add_argument("--rows", type=int, default=400, help="responses to grade (math500 <= 2000, lcb_v5 <= 558)")
    parser.add_argument("--shard-size", type=int, default=50)
    args = parser.parse_args()
    os.environ.setdefault("HARNESS_PROGRESS", "off")
    configs = [("local, 1 grading process", "local", {}, 1),
               ("local, 2 grading processes", "local", {}, 2),
               ("ray, 1 worker x 1 CPU", "ray", {"num_workers": 1, "shard_size": args.shard_size}, None),
               ("ray, 2 workers x 1 CPU", "ray", {"num_workers": 2, "shard_size": args.shard_size}, None)]
    with tempfile.TemporaryDirectory() as scratch:
        generations = Path(scratch) / "published.jsonl"
        make_records, suite_options = SUITES[args.suite]
        records = make_records(args.shared, args.rows)
        generations.write_text("".join(json.dumps(r) + "\n" for r in records))
        count = len(records)
        suite_options = suite_options | ({"sandbox": args.sandbox} if args.sandbox else {})
        print(f"{count} {args.suite} responses; {os.cpu_count()} cores; load average before: "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"{'configuration':<28} {'grading s':>9} {'samples/s':>9} {'wall s':>7} {'wall samples/s':>14}")
        reference = None
        for index, (label, name, options, processes) in enumerate(configs):
            set_local_processes(processes)
            wall, seconds, verdicts = grade_once(args.suite, suite_options, generations, Path(scratch) / f"run{index}",
                                                 name, **options)
            reference = reference if reference is not None else verdicts
            same = "same verdicts" if verdicts == reference else "VERDICTS DIFFER"
            print(f"{label:<28} {seconds:>9.1f} {count / seconds:>9.1f} {wall:>7.1f} {count / wall:>14.1f}  {same}")
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
