"""Peers' own grader test cases, graded through `harness grade` as a user would.

The cases (tests/data/peer-graders/*.jsonl, provenance in its README) are data extracted from
four public repositories' test suites. Math cases become a PRM800K-format problem file and a
generations file, graded by the real CLI (`harness grade --suite math500 --data ...`), so the
parity figure covers the loader, the think policy, the pool and the grader, not a shortcut.
Letter cases go through the gpqa_diamond suite's grader, the function `harness grade` calls.

Run directly to print the agreement table and the disagreement list docs/grading.md holds:
    PYTHONPATH=$PWD python tests/peer_graders.py
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Callable

from math_verify import parse, verify

from harness.graders.answer_region import answer_region

DATA = Path(__file__).parent / "data" / "peer-graders"
SOURCES = ("lighteval", "math-verify", "nemo-skills", "hendrycks-math")


def load_cases() -> list[dict]:
    cases = []
    for source in SOURCES:
        with open(DATA / f"{source}.jsonl", encoding="utf-8") as handle:
            cases.extend(json.loads(line) for line in handle if line.strip())
    return cases


def problem_id(case: dict) -> str:
    return "math500/test/" + case["id"]


def write_inputs(cases: list[dict], directory: Path) -> tuple[Path, Path]:
    """A --data problem file (prm800k test.jsonl shape) and a generations file for the math cases."""
    data, generations = directory / "peer-problems.jsonl", directory / "peer-generations.jsonl"
    with open(data, "w", encoding="utf-8") as problems, open(generations, "w", encoding="utf-8") as samples:
        for case in cases:
            problems.write(json.dumps({"problem": case["id"], "answer": case["gold"], "level": 1,
                                       "unique_id": f"test/{case['id']}.json"}) + "\n")
            samples.write(json.dumps({"problem_id": problem_id(case), "sample": 0,
                                      "response": case["response"]}) + "\n")
    return data, generations


def grade_math_cases(cases: list[dict], directory: Path, run: Callable[..., object]) -> dict[str, dict]:
    """{case id: grades.jsonl record} from one `harness grade` run; `run(*argv)` runs the CLI."""
    data, generations = write_inputs(cases, directory)
    out = directory / "run"
    result = run("grade", "--suite", "math500", "--data", str(data), "--generations", str(generations),
                 "--out", str(out), "--model", "peer-cases")
    if getattr(result, "returncode", 0) != 0:
        raise RuntimeError(f"harness grade failed: {getattr(result, 'stderr', '')}")
    by_problem = {}
    with open(out / "grades.jsonl", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            by_problem[record["problem_id"]] = record
    return {case["id"]: by_problem[problem_id(case)] for case in cases}


def grade_choice_cases(cases: list[dict]) -> dict[str, dict]:
    from suites import get_suite

    grader = get_suite("gpqa_diamond").grader({})
    verdicts = {}
    for case in cases:
        verdict = grader(case["response"], {"letter": case["gold"], "options": []})
        verdicts[case["id"]] = {"correct": verdict.correct, "extracted": verdict.extracted, "reason": verdict.reason}
    return verdicts


def plain_math_verify(case: dict) -> bool:
    """The library we wrap, as the issue defines it: verify(parse("$gold$"), parse(region))."""
    region = answer_region(case["response"]) or ""
    try:
        return bool(verify(parse(f"${case['gold']}$"), parse(region)))
    except Exception:
        return False


def grade_all(directory: Path, run: Callable[..., object]) -> tuple[list[dict], dict[str, dict]]:
    cases = load_cases()
    grades = grade_math_cases([c for c in cases if c["kind"] == "math"], directory, run)
    grades.update(grade_choice_cases([c for c in cases if c["kind"] == "choice"]))
    return cases, grades


def agreement(cases: list[dict], grades: dict[str, dict]) -> dict[str, tuple[int, int]]:
    agree, total = Counter(), Counter()
    for case in cases:
        total[case["source"]] += 1
        agree[case["source"]] += grades[case["id"]]["correct"] == case["expected"]
    return {source: (agree[source], total[source]) for source in SOURCES}


def disagreements(cases: list[dict], grades: dict[str, dict]) -> list[dict]:
    return [case for case in cases if grades[case["id"]]["correct"] != case["expected"]]


def _cli(*argv: str):
    import subprocess

    return subprocess.run([sys.executable, "-m", "harness", *argv], capture_output=True, text=True)


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        cases, grades = grade_all(Path(tmp), _cli)
    table = agreement(cases, grades)
    for source, (agree, total) in table.items():
        print(f"{source}: {agree}/{total} = {100 * agree / total:.1f}%")
    agree_all = sum(a for a, _ in table.values()); total_all = sum(t for _, t in table.values())
    print(f"all: {agree_all}/{total_all} = {100 * agree_all / total_all:.1f}%")
    math_cases = [c for c in cases if c["kind"] == "math"]
    plain_better = [c["id"] for c in math_cases
                    if plain_math_verify(c) == c["expected"] and grades[c["id"]]["correct"] != c["expected"]]
    ours_better = [c["id"] for c in math_cases
                   if plain_math_verify(c) != c["expected"] and grades[c["id"]]["correct"] == c["expected"]]
    print(f"math cases: {len(math_cases)}; plain math-verify right where we are wrong: {len(plain_better)} "
          f"{plain_better}; we are right where it is wrong: {len(ours_better)}")
    print("\n| id | test:line | gold | response | peer | ours (extracted) | plain math-verify |")
    print("|---|---|---|---|---|---|---|")
    for case in disagreements(cases, grades):
        grade = grades[case["id"]]
        plain = plain_math_verify(case) if case["kind"] == "math" else "-"
        cell = lambda text: "`" + str(text).replace("\n", "\\n").replace("|", "\\|").replace("`", "'")[:70] + "`"
        print(f"| {case['id']} | {case['test']}:{case['line']} | {cell(case['gold'])} | {cell(case['response'])} "
              f"| {case['expected']} | {grade['correct']} ({cell(grade['extracted'])}) | {plain} |")


if __name__ == "__main__":
    main()
