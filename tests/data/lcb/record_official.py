"""Record the official LiveCodeBench grader's verdicts on our fixtures (outputs are committed).

Runs `lcb_runner.evaluation.compute_code_generation_metrics.evaluate_generations_by_problem`
(check_correctness -> `testing_util.run_test` in a fresh process, outer timeout, result fix-ups) from a checkout of
LiveCodeBench/LiveCodeBench at the pinned commit; that code is never committed here.

    git -C <mirror of LiveCodeBench/LiveCodeBench> archive 28fef95 lcb_runner | tar -x -C /tmp/lcb-upstream
    python tests/data/lcb/record_official.py --upstream /tmp/lcb-upstream \\
        --golden ../shared/data/golden/lcb-submissions

Writes official-verdicts.json: quirk cases, SandboxFusion solutions (full tests), and every
golden eval_all sample of the v5 window graded on the public tests we ship.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).parent
REPO = HERE.parents[2]
UPSTREAM_COMMIT = "28fef95ea8c9f7a547c8329f2cd3d32b92c1fa24"


def jobs(golden: Path | None):
    sys.path.insert(0, str(REPO))
    from suites import get_suite

    for case in json.loads((HERE / "quirks.json").read_text()):
        yield f"quirk/{case['id']}", case["inputs"], case["outputs"], case["fn_name"], case["code"], case["timeout"]
    problems = {p.problem_id: p for p in get_suite("lcb_custom").load_problems()}
    for problem_id, programs in json.loads((HERE / "solutions.json").read_text()).items():
        tests = problems[problem_id].answer
        for name, code in programs.items():
            yield f"sandboxfusion/{problem_id}/{name}", tests["inputs"], tests["outputs"], tests["fn_name"], code, 6
    if golden is None:
        return
    v5 = {p.problem_id: p for p in get_suite("lcb_v5").load_problems({"public_tests_only": True})}
    for path in sorted(golden.glob("*_eval_all.json")):
        model = path.name.removesuffix("_eval_all.json")
        for row in json.loads(path.read_text()):
            if row["question_id"] in v5:
                tests = v5[row["question_id"]].answer
                yield (f"golden/{model}/{row['question_id']}", tests["inputs"], tests["outputs"], tests["fn_name"],
                       row["code_list"][0], 6)


def grade(job):
    key, inputs, outputs, fn_name, code, timeout = job
    from lcb_runner.evaluation.compute_code_generation_metrics import evaluate_generations_by_problem

    sample = {"input_output": json.dumps({"inputs": inputs, "outputs": outputs, "fn_name": fn_name})}
    (results,), (metadata,) = evaluate_generations_by_problem(([code], sample, False, timeout))
    return key, {"results": results, "error_code": metadata.get("error_code"),
                 "error_message": str(metadata.get("error_message", ""))[:200]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", type=Path, required=True, help="directory holding lcb_runner/ at 28fef95")
    parser.add_argument("--golden", type=Path, help="directory with LiveCodeBench/submissions *_eval_all.json")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    sys.path.insert(0, str(args.upstream.resolve()))
    os.environ["PYTHONPATH"] = str(args.upstream.resolve())
    todo = list(jobs(args.golden))
    with ProcessPoolExecutor(args.workers) as pool:
        verdicts = dict(pool.map(grade, todo))
    record = {
        "provenance": {
            "grader": f"LiveCodeBench/LiveCodeBench@{UPSTREAM_COMMIT} lcb_runner/evaluation/"
                      "compute_code_generation_metrics.py:evaluate_generations_by_problem -> testing_util.run_test",
            "command": "python tests/data/lcb/record_official.py --upstream /tmp/lcb-upstream "
                       "--golden ../shared/data/golden/lcb-submissions --workers 2",
            "python": platform.python_version(),
            "recorded_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "load_average_at_end": os.getloadavg(),
            "golden_source": "LiveCodeBench/submissions @ 4d04b02 (MIT): o1-mini / o1-preview eval_all, "
                             "graded here on the public tests of suites/data/livecodebench",
        },
        "verdicts": verdicts,
    }
    (HERE / "official-verdicts.json").write_text(json.dumps(record, indent=0, sort_keys=True) + "\n")
    print(f"recorded {len(verdicts)} verdicts")


if __name__ == "__main__":
    main()
