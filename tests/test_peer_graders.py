"""Peers' own grader tests (tests/data/peer-graders) through `harness grade`: never worse than the
math-verify we wrap, per-source agreement floors, and every disagreement explained in docs."""
import json
import re
import sys
from pathlib import Path

import pytest

from conftest import REPO, run_harness

sys.path.insert(0, str(Path(__file__).parent))
import peer_graders  # noqa: E402

# Agreement with each peer's expected verdicts, measured with math rules "math-2" (docs/grading.md;
# before: lighteval 208/232, math-verify 248/269, nemo-skills 57/60, hendrycks-math 14/16).
FLOORS = {"lighteval": 214, "math-verify": 261, "nemo-skills": 57, "hendrycks-math": 14}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    directory = tmp_path_factory.mktemp("peers")
    cases, grades = peer_graders.grade_all(directory, run_harness)
    return cases, grades, directory


def test_never_worse_than_plain_math_verify_on_math_cases(graded):
    cases, grades, _ = graded
    worse = [case["id"] for case in cases if case["kind"] == "math"
             and peer_graders.plain_math_verify(case) == case["expected"]
             and grades[case["id"]]["correct"] != case["expected"]]
    assert worse == []


def test_agreement_per_source_stays_at_the_measured_floor(graded, capsys):
    cases, grades, _ = graded
    table = peer_graders.agreement(cases, grades)
    with capsys.disabled():
        print("\npeer agreement: " + ", ".join(f"{s} {a}/{t} = {100 * a / t:.1f}%" for s, (a, t) in table.items()))
    assert {source: agree >= FLOORS[source] for source, (agree, _) in table.items()} == dict.fromkeys(FLOORS, True)
    assert sum(total for _, total in table.values()) == 577


def test_every_disagreement_is_listed_with_a_class_in_docs(graded):
    cases, grades, _ = graded
    listed = {}
    for line in (REPO / "docs" / "grading.md").read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*([a-z-]+/\d{4})\s*\|.*\|\s*(rule|upstream|peer)\s*\|", line)
        if match:
            listed[match.group(1)] = match.group(2)
    missing = [case["id"] for case in peer_graders.disagreements(cases, grades) if case["id"] not in listed]
    assert missing == []


def test_the_run_records_the_math_rules_version(graded):
    from harness.graders.math import RULES_VERSION

    _, _, directory = graded
    grader = json.loads((directory / "run" / "manifest.json").read_text())["grader"]["math500"]
    assert grader["rules_version"] == RULES_VERSION == "math-2"
    assert "final box group" in grader["rules"]
