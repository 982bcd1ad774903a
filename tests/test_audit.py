"""`harness audit` and `harness grade --audit`: independent checkers against a run's verdicts."""
import json
import shutil
from pathlib import Path

import pytest

from conftest import run_harness
from harness.audit import check_math_equiv, is_equiv, normalise_answer
from harness.cli import main

EVAL_RUN = Path(__file__).parent / "data" / "reports" / "smollm2-135m-cpu"

CHANGED_MIND = r"So \boxed{5}. Wait, I made an error in the sign: \boxed{7}"  # plain math-verify: {5, 7}


def test_math_equiv_normalises_the_way_math_answers_are_written():
    assert normalise_answer(r"\left( 3, \dfrac{\pi}{2} \right)") == r"(3,\frac{\pi}{2})"
    assert normalise_answer(r"10\text{ units}") == "10"
    assert normalise_answer(r"x = \frac12") == r"\frac{1}{2}"
    assert normalise_answer("10,080") == "10080"
    assert is_equiv("0.5", ".50") and is_equiv("1/2", r"\frac{1}{2}") and is_equiv(r"10\%", "10")
    assert not is_equiv("10, 4, -2", "4, 10, -2")  # string equivalence is order-sensitive, by design
    assert check_math_equiv(CHANGED_MIND, "7", "strip") == (True, "7")
    assert check_math_equiv("no box", "7", "strip") == (False, None)


def write_custom_run_inputs(directory: Path) -> tuple[Path, Path]:
    problems = [("p1", "7", CHANGED_MIND), ("p2", "12", r"Hence $\boxed{12}$."), ("p3", "3", r"\boxed{4}")]
    data, generations = directory / "problems.jsonl", directory / "generations.jsonl"
    data.write_text("".join(json.dumps({"problem": name, "answer": gold, "level": 1,
                                        "unique_id": f"test/custom/{name}.json"}) + "\n"
                            for name, gold, _ in problems))
    generations.write_text("".join(json.dumps({"problem_id": f"math500/test/custom/{name}", "sample": 0,
                                               "response": response}) + "\n" for name, _, response in problems))
    return data, generations


def test_grade_with_audit_lists_the_sample_plain_math_verify_reads_differently(tmp_path):
    data, generations = write_custom_run_inputs(tmp_path)
    out = tmp_path / "run"
    result = run_harness("grade", "--suite", "math500", "--data", str(data), "--generations", str(generations),
                         "--out", str(out), "--audit")
    assert result.returncode == 0, result.stderr
    assert "math500: grader disagreement 1/3 samples = 33.3% (math-verify 1, math-equiv 0)" in result.stdout
    summary = json.loads((out / "audit.json").read_text())
    assert summary["suites"]["math500"] == {
        "samples": 3, "disagreements": 1, "rate": pytest.approx(1 / 3, abs=1e-6),
        "checkers": {"math-verify": {"disagree": 1, "no_verdict": 0}, "math-equiv": {"disagree": 0, "no_verdict": 0}}}
    lines = [json.loads(line) for line in (out / "audit.jsonl").read_text().splitlines()]
    assert len(lines) == 1
    assert (lines[0]["problem_id"], lines[0]["sample"]) == ("math500/test/custom/p1", 0)
    assert lines[0]["run"] == {"correct": True, "extracted": "7", "reason": "correct"}
    assert lines[0]["checkers"]["math-verify"]["correct"] is False   # it reads {5, 7}
    assert lines[0]["checkers"]["math-equiv"] == {"correct": True, "extracted": "7"}
    # a re-run replaces the list instead of appending to it; one checker only
    assert main(["audit", str(out), "--checker", "math-equiv"]) == 0
    assert (out / "audit.jsonl").read_text() == ""


def test_audit_of_the_cpu_fixture_shows_in_the_paper_report(tmp_path):
    run = tmp_path / "smollm2"
    shutil.copytree(EVAL_RUN, run)
    assert main(["audit", str(run)]) == 0
    summary = json.loads((run / "audit.json").read_text())
    assert {name: stats["samples"] for name, stats in summary["suites"].items()} == {"aime24": 6, "math500": 6}
    assert main(["report", "paper", str(run), "--out", str(tmp_path / "paper")]) == 0
    markdown = (tmp_path / "paper" / "paper.md").read_text()
    rate = 100 * summary["suites"]["aime24"]["rate"]
    assert f"| aime24 | smollm2-135m | 80.3 | 0.0 [0.0, 0.0] (grader disagreement: {rate:.1f}% of samples) |" in markdown


@pytest.mark.parametrize("argv, message", [
    (["audit", "/nonexistent/run"], "error: /nonexistent/run: not a run directory (no manifest.json)"),
    (["audit", str(EVAL_RUN), "--checker", "judge"], "error: --checker judge: unknown (known: math-verify, math-equiv, letters)"),
])
def test_bad_input_is_one_error_line_and_exit_2(argv, message):
    result = run_harness(*argv)
    assert result.returncode == 2
    assert result.stderr.strip() == message
