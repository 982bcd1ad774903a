"""The math grader on the answer forms of the four math suites and common model output styles."""
import pytest

from harness.graders.answer_region import answer_region
from harness.graders.math import grade_math, last_boxed
from harness.grading import grade_stream
from suites import get_suite

CASES = [
    # (gold, response, correct)
    ("025", r"... so the answer is $\boxed{25}$.", True),          # zero-padded AIME gold
    ("025", r"\boxed{025}", True),
    ("025", r"\boxed{26}", False),
    ("70", r"The sum is \boxed{70}", True),                          # integer gold (aime25)
    (r"\frac{-1+\sqrt{17}}{2}, \frac{-1-\sqrt{17}}{2}",
     r"\boxed{\frac{-1-\sqrt{17}}{2}, \frac{-1+\sqrt{17}}{2}}", True),  # HMMT P10 set, any order
    (r"\frac{-1+\sqrt{17}}{2}, \frac{-1-\sqrt{17}}{2}", r"\boxed{\frac{-1+\sqrt{17}}{2}}", False),  # half a set
    (r"2^{25} \cdot 26!", r"\boxed{2^{25}\cdot 26!}", True),          # HMMT P17 expression
    (r"2^{25} \cdot 26!", r"\boxed{2^{25} \cdot 25!}", False),
    (r"\sqrt{\frac{95}{24}}", r"\boxed{\frac{\sqrt{570}}{12}}", True),
    (r"\left( 3, \frac{\pi}{2} \right)", r"\boxed{(3, \frac{\pi}{2})}", True),  # MATH500 tuple
    (r"\frac{14}{3}", r"\boxed{\dfrac{14}{3}}", True),
    ("10080", r"\boxed{10,\!080}", True),
    ("73", "The final answer is **73**", True),                       # Math-Verify #76 style
    ("204", "Therefore, the final answer is: $204$", True),           # no box: math-verify fallback
    ("204", r"First \boxed{100}, corrected: \boxed{204}", True),     # last box wins
    ("204", r"\boxed{204} ... wait, actually \boxed{100}", False),
    ("204", "I do not know.", False),
]


@pytest.mark.parametrize("gold,response,correct", CASES)
def test_math_verdicts(gold, response, correct):
    assert grade_math(response, gold).correct is correct


def test_verdict_carries_extracted_answer_and_reason():
    verdict = grade_math(r"\boxed{025}", "25")
    assert (verdict.correct, verdict.extracted, verdict.reason) == (True, "025", "correct")
    assert verdict.details["answer_key"] == "25"
    assert grade_math("no idea", "25").reason == "no_answer"
    assert grade_math(r"\boxed{7}", "25").reason == "wrong_answer"


def test_last_boxed_handles_nested_braces_and_fbox():
    assert last_boxed(r"\boxed{\frac{1}{2}} and \fbox{3}") == "3"
    assert last_boxed(r"x \boxed{\frac{a}{\sqrt{b}}}") == r"\frac{a}{\sqrt{b}}"
    assert last_boxed(r"\boxed{unclosed") is None


def test_think_policy_strip_and_full():
    closed = r"<think>maybe \boxed{3}</think> The answer is \boxed{25}."
    unclosed = r"<think>I think it is \boxed{25} but let me check"
    assert answer_region(closed, "strip").strip() == r"The answer is \boxed{25}."
    assert answer_region(unclosed, "strip") is None
    assert answer_region(unclosed, "full") == unclosed
    assert grade_math(closed, "25", think="strip").correct
    assert not grade_math(r"<think>\boxed{25}</think> so \boxed{3}", "25", think="strip").correct
    verdict = grade_math(unclosed, "25", think="strip")
    assert (verdict.correct, verdict.reason) == (False, "unclosed_think")
    assert grade_math(unclosed, "25", think="full").correct  # rllm reads the whole text


def test_truncated_response_is_graded_on_what_was_written():
    truncated = r"We compute step by step. The answer is \boxed{25}. Now let us double-check by expanding"
    assert grade_math(truncated, "25").correct


def test_every_gold_of_the_math_suites_verifies_against_itself():
    for name in ("aime24", "aime25", "hmmt25", "math500"):
        failures = [p.problem_id for p in get_suite(name).load_problems()
                    if not grade_math(f"\\boxed{{{p.answer}}}", p.answer).correct]
        assert failures == [], name


def _slow_grader(response, gold):
    import time

    time.sleep(60)


def test_pathological_inputs_never_hang_the_run():
    megabytes = "1+" * 1_000_000 + r" so \boxed{25}"
    nested = r"\boxed{" + r"\frac{" * 300 + "1" + "}{2}" * 300 + "}"
    items = [("mb", megabytes, "25"), ("nested", nested, "25"), ("plain", r"\boxed{25}", "25")]
    verdicts = dict(grade_stream(grade_math, items, timeout=20, workers=2))
    assert verdicts["mb"].correct and verdicts["plain"].correct
    assert verdicts["nested"].reason in {"wrong_answer", "no_answer", "timeout"}


def test_a_hung_grader_becomes_a_timeout_verdict():
    verdicts = list(grade_stream(_slow_grader, [("x", "r", "g")], timeout=1, workers=1))
    assert verdicts[0][1].reason == "timeout" and not verdicts[0][1].correct
