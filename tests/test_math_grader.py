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


# ------------------------------------------------------- final box group and final statements
# (rules 2-4 in harness.graders.math; shapes from issue 12 and peers' test suites)

MULTI_BOX = [
    # (gold, response, correct)
    ("3, 5, 7", r"The solutions are $\boxed{3}$, $\boxed{5}$ and $\boxed{7}$.", True),
    ("3, 5, 7", r"The solutions are $\boxed{7}$, $\boxed{3}$ and $\boxed{5}$.", True),   # order-free set
    ("3, 5, 7", r"The solutions are $\boxed{5}$ and $\boxed{7}$.", False),                # half a set
    ("-2, 1", r"$x = \boxed{-2}$ or $x = \boxed{1}$", True),
    ("-2, 1", r"$x = \boxed{1}$", False),
    ("(2, 2), (6, 2)", r"$$\boxed{(2, 2)} \quad \text{and} \quad \boxed{(6, 2)}$$", True),
    ("(2, 2), (6, 2)", r"$$\boxed{(6, 2)}$$", False),
    ("y_{1}=-2 x^{2}+4 x+3, y_{2}=3 x^{2}+12 x+10",
     r"\(y_1 = \boxed{-2(x - 1)^2 + 5}\) and \(y_2 = \boxed{3(x + 2)^2 - 2}\)", True),
    ("(3, 3), (1, 1)", r"$$\boxed{(3, 3)} \text{ for part (a) and } \boxed{(1, 1)}$$", True),
    ("1, 2, 3", r"\boxed{1};\boxed{2}; \boxed{3}", True),
    (r"\frac{-1+\sqrt{17}}{2}, \frac{-1-\sqrt{17}}{2}",                                   # HMMT P10 in two boxes
     r"$x = \boxed{\frac{-1+\sqrt{17}}{2}}$ and $x = \boxed{\frac{-1-\sqrt{17}}{2}}$", True),
]

CHANGED_MIND = [
    ("7", r"So $\boxed{5}$. Wait, I made an error in the sign. The answer is $\boxed{7}$.", True),
    ("5", r"So $\boxed{5}$. Wait, I made an error in the sign. The answer is $\boxed{7}$.", False),
    ("7", r"\boxed{5}, so doubling gives \boxed{7}", True),                            # prose ends the group
    ("5, 7", r"\boxed{5}, so doubling gives \boxed{7}", False),
]

STATEMENTS = [
    ("10455", r"interest $= \boxed{200}$, then $\boxed{255}$. Final Answer: The final answer is $10,455$. "
              "I hope it is correct.", True),
    ("255", r"interest $= \boxed{200}$, then $\boxed{255}$. Final Answer: The final answer is $10,455$.", False),
    ("7", r"First \boxed{5}. Wait, I made an error; the answer is 7.", True),           # statement after box
    ("5", r"First \boxed{5}. Wait, I made an error; the answer is 7.", False),
    ("7", r"The answer is $\boxed{7}$.", True),                    # statement before the box: box reads it
    ("7", "\\boxed{7}\n\n**Answer:**\n7", True),                   # marker ending its line: next line
    ("7", r"\boxed{7}. The final answer is shown above.", True),   # statement that parses to nothing
    ("16386.20", r"worth $\boxed{\$16,\!386.20}$. The answer is $16,\!386.20$. I apologize. Here $t$ is "
                 "the years", True),                            # the statement ends at its sentence
]


@pytest.mark.parametrize("gold,response,correct", MULTI_BOX + CHANGED_MIND + STATEMENTS)
def test_final_group_and_final_statement(gold, response, correct):
    assert grade_math(response, gold).correct is correct


def test_verdict_says_which_rule_read_the_answer():
    assert grade_math(r"\boxed{1}, \boxed{2}", "1, 2").details["via"] == "box_group"
    assert grade_math(r"\boxed{2}", "2").details["via"] == "box"
    assert grade_math(r"\boxed{1}. Answer: 2", "2").details["via"] == "statement"
    assert grade_math("so it is 2", "2").details["via"] == "fallback"
    assert grade_math(r"\boxed{1}, \boxed{2}", "1, 2").extracted == "1, 2"


def test_connectors_and_group_boundaries():
    from harness.graders.math import final_group, is_connector

    for gap in (", ", " and ", " or ", "$ or $x = ", r" \quad \text{and} \quad ", r"$, $", "; ",
                r" \text{ for part (a) and } ", "\n\n", r"\) and \( y_2 = "):
        assert is_connector(gap), gap
    for gap in (". Wait, I made an error. ", " so ", " then ", " 3 + "):
        assert not is_connector(gap), gap
    assert [box.content for box in final_group(r"\boxed{1} and \boxed{2}. Hence \boxed{3}, \boxed{4}")] == ["3", "4"]
    assert [box.content for box in final_group(r"\boxed{\boxed{1}, \boxed{2}}")] == [r"\boxed{1}, \boxed{2}"]
    assert final_group("no box") == []
