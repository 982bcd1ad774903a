"""The LiveCodeBench grader against the official grader's recorded verdicts, one sample at a time.

tests/data/lcb/official-verdicts.json holds what LiveCodeBench@28fef95 (`evaluate_generations_by_problem`)
returned on each fixture (see its `provenance`); compat mode must give the same correctness, error
code and number of results, on every sandbox backend. fixed mode must repair exactly the
false negatives listed in quirks.json.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import sandbox
from harness.graders.code import CodeGrader, extract_code
from suites import get_suite
from conftest import docker_skip_reason

DATA = Path(__file__).parent / "data" / "lcb"
RECORDED = json.loads((DATA / "official-verdicts.json").read_text())["verdicts"]
QUIRKS = json.loads((DATA / "quirks.json").read_text())
SOLUTIONS = json.loads((DATA / "solutions.json").read_text())
BACKENDS = [
    pytest.param("docker", marks=[pytest.mark.docker, pytest.mark.skipif(docker_skip_reason() is not None,
                                                                         reason=str(docker_skip_reason()))]),
    "bwrap",
    "local",
]


def fenced(code: str) -> str:
    return f"Here is my solution.\n```python\n{code}\n```\nDone."


def fixture_cases() -> list[tuple[str, str, dict]]:
    cases = [(f"quirk/{case['id']}", fenced(case["code"]),
              {key: case[key] for key in ("inputs", "outputs", "fn_name", "timeout")}) for case in QUIRKS]
    problems = {problem.problem_id: problem for problem in get_suite("lcb_custom").load_problems()}
    for problem_id, programs in SOLUTIONS.items():
        cases += [(f"sandboxfusion/{problem_id}/{name}", fenced(code), problems[problem_id].answer)
                  for name, code in programs.items()]
    return cases


def official_correct(record: dict) -> bool:
    return all(r is True or (not isinstance(r, bool) and r > 0) for r in record["results"])


@pytest.fixture(params=BACKENDS)
def backend_name(request):
    if request.param == "bwrap":
        import shutil

        if shutil.which("bwrap") is None:
            pytest.skip("bwrap not installed")
    yield request.param
    sandbox.close_all()


def test_compat_matches_the_official_grader_on_every_fixture(backend_name):
    grader = CodeGrader("compat", backend_name, unsafe_local=True)
    cases = fixture_cases()
    verdicts = list(grader.grade_many([(response, tests) for _, response, tests in cases]))
    disagreements = []
    for (key, _, _), verdict in zip(cases, verdicts):
        official = RECORDED[key]
        ours = (verdict.correct, verdict.details["error_code"], verdict.details["tests_passed"])
        theirs = (official_correct(official), official["error_code"], sum(r is True for r in official["results"]))
        if ours != theirs:
            disagreements.append((key, ours, theirs))
    assert disagreements == [] and len(cases) == 44


def test_fixed_mode_repairs_exactly_the_listed_false_negatives(backend_name):
    grader = CodeGrader("fixed", backend_name, unsafe_local=True)
    tests = [{key: case[key] for key in ("inputs", "outputs", "fn_name", "timeout")} for case in QUIRKS]
    verdicts = list(grader.grade_many([(fenced(case["code"]), t) for case, t in zip(QUIRKS, tests)]))
    got = {case["id"]: "pass" if v.correct else v.details["error_code"] for case, v in zip(QUIRKS, verdicts)}
    assert got == {case["id"]: case["expect"]["fixed"] for case in QUIRKS}
    assert all(v.details["grader"] == "lcb-fixed@28fef95.1" for v in verdicts)


def test_recorded_official_verdicts_are_what_the_quirk_table_says():
    got = {case["id"]: "pass" if official_correct(RECORDED[f"quirk/{case['id']}"])
           else RECORDED[f"quirk/{case['id']}"]["error_code"] for case in QUIRKS}
    assert got == {case["id"]: case["expect"]["compat"] for case in QUIRKS}


@pytest.mark.parametrize("response, code", [
    ("```python\nprint(1)\n```", "print(1)"),
    ("<think>```python\nprint(0)\n```</think>\n```\nprint(2)\n```", "print(2)"),
    ("first\n```python\na\n```\nthen\n```python\nb\nc\n```", "b\nc"),
    ("no fences at all", ""),
    ("one fence ```python only", ""),
])
def test_code_is_taken_between_the_last_two_fence_lines(response, code):
    assert extract_code(response) == code


def test_a_response_without_code_is_a_runtime_error_like_upstream():
    verdict = CodeGrader("compat", "local", unsafe_local=True)("I cannot solve this.", QUIRKS[0])
    assert (verdict.correct, verdict.reason, verdict.details["error_code"]) == (False, "runtime_error", -4)
    sandbox.close_all()


def test_a_program_past_the_outer_budget_is_recorded_as_upstream_records_it():
    tests = {"inputs": ["1"], "outputs": ["1"], "fn_name": None, "timeout": 1}
    grader = CodeGrader("compat", "local", unsafe_local=True)
    # SIGALRM ignored: only the outer budget (timeout+1)*tests+5 = 7 s can stop it
    verdict = grader(fenced("import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass"), tests)
    assert (verdict.correct, verdict.reason, verdict.details["error_code"]) == (False, "global_timeout", -5)
    assert 6.5 < verdict.details["run_s"] < 15
    sandbox.close_all()
