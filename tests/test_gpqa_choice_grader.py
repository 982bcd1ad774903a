"""Letter extraction (harness.graders.choice): the rules in its docstring, and lighteval's cases."""
import json
import re
from pathlib import Path

import pytest

from harness.graders.choice import extract_choice, grade_choice

LIGHTEVAL = Path(__file__).parent / "data" / "lighteval"
OPTIONS = ["London", "Paris", "Berlin", "Madrid"]


def letter(response: str, options=OPTIONS):
    return extract_choice(response, options)[0]


@pytest.mark.parametrize("response, expected", [
    ("so it must be Paris.\n\n\\boxed{B}", "B"),
    ("\\boxed{\\text{B}}", "B"),
    ("\\boxed{(B)}", "B"),
    ("\\boxed{\\textbf{(C)}}", "C"),
    ("$\\boxed{D}$", "D"),
    ("Answer: B", "B"),
    ("**Final Answer:** C", "C"),
    ("The correct answer is (D).", "D"),
    ("Answer: B, which is Paris.", "B"),
    ("The correct option is C", "C"),
    ("Answer:\n\nD", "D"),
    ("(B)", "B"),
    ("B", "B"),
    ("\\boxed{Paris}", "B"),  # option text, unambiguous
    ("Answer: berlin.", "C"),
])
def test_letter_statements_are_read(response, expected):
    assert letter(response) == expected


@pytest.mark.parametrize("response", [
    "\\boxed{A, C}",
    "\\boxed{AC}",
    "Answer: A or B",
    "Final: \\boxed{A} \\boxed{C}",
])
def test_several_different_letters_in_the_final_answer_is_wrong(response):
    assert extract_choice(response, OPTIONS)[:2] == (None, "multiple_letters")
    verdict = grade_choice(response, {"letter": "A", "options": OPTIONS})
    assert not verdict.correct and verdict.reason == "multiple_letters"


def test_the_last_statement_decides():
    assert letter("At first I thought \\boxed{A}. Wait, no.\n\nAnswer: C") == "C"
    assert letter("The answer is C.\n\nAnswer: A") == "A"
    assert letter("Answer: D\nOn reflection the answer is \\boxed{B}") == "B"


@pytest.mark.parametrize("response", [
    "Answer: c",  # capitals only
    "It is one of the four cities.",
    "\\boxed{42}",
    "\\boxed{Rome}",
    "",
])
def test_no_answer(response):
    assert extract_choice(response, OPTIONS)[:2] == (None, "no_answer")


def test_option_text_matching_two_options_is_no_answer():
    assert letter("\\boxed{Paris}", ["Paris", "Paris ", "Rome", "Oslo"]) is None


def test_reasoning_in_an_unclosed_think_block_is_not_an_answer():
    verdict = grade_choice("<think>clearly \\boxed{A}", {"letter": "A", "options": OPTIONS})
    assert (verdict.correct, verdict.reason) == (False, "unclosed_think")
    verdict = grade_choice("<think>maybe \\boxed{A}</think>\\boxed{B}", {"letter": "B", "options": OPTIONS})
    assert (verdict.correct, verdict.extracted, verdict.reason) == (True, "B", "correct")
    full = grade_choice("<think>\\boxed{B}</think>", {"letter": "B", "options": OPTIONS}, think="full")
    assert full.correct


def test_grade_records_gold_and_permutation_not_option_text():
    verdict = grade_choice("\\boxed{C}", {"letter": "D", "options": OPTIONS, "permutation": "BCDA"})
    assert (verdict.correct, verdict.extracted, verdict.reason) == (False, "C", "wrong_answer")
    assert verdict.details == {"gold": "D", "permutation": "BCDA", "via": "letter"}


def lighteval_cases():
    for name in ("gpqa_instruct_metric.json", "gpqa_instruct_pass_at_k.json"):
        for case in json.loads((LIGHTEVAL / name).read_text())["test_cases"]:
            yield pytest.param(case, id=f"{name.split('.')[0]}: {case['name']}")


def options_of(query: str) -> list[str]:
    return [text for _, text in re.findall(r"^([A-D])[.)] (.*)$", query, re.M)]


@pytest.mark.parametrize("case", list(lighteval_cases()))
def test_lighteval_gpqa_cases(case):
    """Per-sample verdicts reproduce lighteval's expected score (pass@k from those verdicts)."""
    from harness.metrics import mean_pass_at_k

    doc = case["doc"]
    gold = doc["choices"][doc["gold_index"]]
    answer = {"letter": gold, "options": options_of(doc["query"])}
    verdicts = [grade_choice(text, answer) for text in case["model_response"]["text"]]
    correct = sum(v.correct for v in verdicts)
    expected = next(iter(case["expected_output"].values()))
    k = case["metric_params"].get("k", 1)
    assert mean_pass_at_k([(len(verdicts), correct)], k) == pytest.approx(expected, abs=case["tolerance"] if "tolerance" in case else 1e-6)


# ------------------------------------------- thinking outputs (evalscope #1546, opencompass #2356)

THINK = ("<think>" + "Option A looks plausible, or maybe (B) since it mentions Paris; not D. The answer is A? " * 300
         + "Hmm, so the answer is C? No: B is wrong, actually D.</think>\n")


@pytest.mark.parametrize("response, expected", [
    ("**Answer: C**", "C"),
    ("Putting it together, the answer is (B).", "B"),
    ("\\boxed{\\text{(B) } 10^{-4}}", "B"),
    (THINK + "\nAfter weighing everything:\n\nD", "D"),                 # letter in the last line
    (THINK + "The choice is clear.\nD", "D"),                             # prose statement, then the letter
    (THINK + "\n**D**", "D"),
    (THINK + "The correct answer is **B**.", "B"),                        # think block names A, B, C, D
    (THINK + "**Final Answer:** \\boxed{C}", "C"),
])
def test_thinking_output_shapes(response, expected):
    answer = {"letter": expected, "options": ["London", "Paris", "Berlin", "10^{-4} M"]}
    verdict = grade_choice(response, answer)
    assert (verdict.correct, verdict.extracted) == (True, expected)
    wrong = grade_choice(response, answer | {"letter": "A" if expected != "A" else "B"})
    assert (wrong.correct, wrong.extracted) == (False, expected)


def test_letters_inside_the_think_block_are_not_the_answer():
    verdict = grade_choice(THINK + "I cannot decide.", {"letter": "D", "options": OPTIONS})
    assert (verdict.correct, verdict.reason) == (False, "no_answer")
    # the whole response under think=full: the final bare letter still outranks the think block's
    full = grade_choice(THINK + "\nD", {"letter": "D", "options": OPTIONS}, think="full")
    assert (full.correct, full.extracted) == (True, "D")
