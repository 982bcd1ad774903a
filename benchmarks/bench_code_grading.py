"""LiveCodeBench grading cost per sample: each sandbox backend vs the official grader unsandboxed.

Same samples for everyone: the golden eval_all outputs of o1-mini / o1-preview on the v5 window
(../shared/data/golden/lcb-submissions), graded on the public tests we ship, plus the fixture
solutions with full tests. The official grader is LiveCodeBench@28fef95's
`evaluate_generations_by_problem` (a Manager + fresh process per sample), run from a checkout that
you provide (never vendored), on a process pool of the same width as our sandbox pool.
Prints seconds per sample (after warm-up, which is printed separately), the ratio to the official
grader, verdict agreement, and the load average.

    git -C <LiveCodeBench mirror> archive 28fef95 lcb_runner | tar -x -C /tmp/lcb-upstream
    python benchmarks/bench_code_grading.py --upstream /tmp/lcb-upstream [--limit 200] [--workers 2]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import sandbox
from harness.graders.code import CodeGrader, extract_code
from suites import get_suite


def samples(shared: Path, limit: int) -> list[tuple[str, dict]]:
    problems = {p.problem_id: p for p in get_suite("lcb_v5").load_problems({"public_tests_only": True})}
    pairs = []
    for path in sorted((shared / "data/golden/lcb-submissions").glob("*_eval_all.json")):
        pairs += [(row["output_list"][0], problems[row["question_id"]].answer)
                  for row in json.loads(path.read_text()) if row["question_id"] in problems]
    return pairs[:limit]


def official_one(args: tuple[str, dict]) -> bool:
    from lcb_runner.evaluation.compute_code_generation_metrics import evaluate_generations_by_problem

    response, tests = args
    sample = {"input_output": json.dumps({k: tests[k] for k in ("inputs", "outputs", "fn_name")})}
    (results,), _ = evaluate_generations_by_problem(([extract_code(response)], sample, False, 6))
    return all(r is True or (not isinstance(r, bool) and r > 0) for r in results)


def time_official(pairs, upstream: Path, workers: int) -> tuple[float, list[bool]]:
    sys.path.insert(0, str(upstream))
    os.environ["PYTHONPATH"] = str(upstream)
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(official_one, pairs[:workers]))  # warm the pool's processes
        start = time.perf_counter()
        verdicts = list(pool.map(official_one, pairs))
    return time.perf_counter() - start, verdicts


def time_ours(backend: str, pairs, workers: int) -> tuple[float, float, list[bool]]:
    start = time.perf_counter()
    grader = CodeGrader("compat", backend, unsafe_local=True, workers=workers)
    list(grader.grade_many(pairs[:workers]))  # start the sandboxes
    warmup = time.perf_counter() - start
    start = time.perf_counter()
    verdicts = [v.correct for v in grader.grade_many(pairs)]
    elapsed = time.perf_counter() - start
    sandbox.close_all()
    return warmup, elapsed, verdicts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", type=Path, help="directory holding lcb_runner/ at 28fef95 (skip if absent)")
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backends", default="docker,bwrap,local")
    args = parser.parse_args()
    pairs = samples(args.shared, args.limit)
    print(f"{len(pairs)} samples, {args.workers} workers, load average before: {os.getloadavg()}")
    official_s, official = (time_official(pairs, args.upstream, args.workers) if args.upstream else (None, None))
    if official_s:
        print(f"official (unsandboxed)  {official_s / len(pairs) * 1000:7.1f} ms/sample")
    for backend in args.backends.split(","):
        try:
            warmup, elapsed, ours = time_ours(backend, pairs, args.workers)
        except Exception as exc:
            print(f"{backend:22s}  unavailable: {exc}")
            continue
        line = f"{backend:22s}  {elapsed / len(pairs) * 1000:7.1f} ms/sample (start-up {warmup:.2f} s)"
        if official_s:
            agree = sum(a == b for a, b in zip(ours, official))
            line += f"  ratio {elapsed / official_s:.2f}x official, verdicts agree {agree}/{len(pairs)}"
            differ = [i for i, (a, b) in enumerate(zip(ours, official)) if a != b]
            line += f" (differ at sample {differ}: wall-clock limits flip near 6 s under load)" if differ else ""
        print(line)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
