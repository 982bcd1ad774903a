"""Multiple-choice grading: which option letter a response chose.

Why hand-written: the published GPQA prompt asks for a boxed letter, lighteval's tests expect
"Answer: B" lines, and models also write "the answer is (C)"; no library reads all three with an
explicit "last statement wins, several letters is wrong" rule. The rules, applied to the answer
region (harness.graders.answer_region: after `</think>` under the default `think=strip`):

1. Answer statements, wherever they start in the region:
   - `\\boxed{...}` or `\\fbox{...}` (balanced braces);
   - `Answer: X`, `**Final Answer:** X`, `the (correct|final) answer is X`, `the correct option
     (or choice) is X` -- any case; X runs to the end of its line (or is the next non-empty line
     when the marker ends a line).
   - a last line that is nothing but a letter ("B", "(B)", "B.", "**B**", "$B$"), even after
     other statements: thinking models often end with prose ("The choice is clear.") and then
     the bare letter, or write a long think block full of other letters before it.
2. The LAST statement (by where it starts) decides; earlier ones, e.g. in reasoning or before a
   change of mind, are ignored.
3. Inside it, after unwrapping `\\text{}`, `\\textbf{}`, `\\mathrm{}`, `\\boxed{}` and removing `$`,
   `*`, quotes:
   - a statement that lists two different letters ("A or C", "A, C", "AC") -> `multiple_letters`,
     wrong; so is a final line holding statements with different letters
     ("\\boxed{A} \\boxed{C}");
   - a leading capital letter of the choices, alone or followed by `.`, `)`, `:`, `,` or a space
     and more text: "B", "(B)", "B.", "B) Au", "B, which is cold" -> that letter;
   - otherwise the statement equal to exactly one option's text (case, spacing and a trailing
     period ignored) -> that option's letter ("the option text itself when unambiguous");
   - otherwise `no_answer`.
4. Letters are capitals only: "Answer: c" is no answer (as lighteval's tests expect).

Reasons: `correct`, `wrong_answer`, `no_answer`, `multiple_letters`, `unclosed_think`.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Sequence

from harness.graders.answer_region import answer_region
from harness.graders.math import _balanced  # the box matcher math grading uses
from harness.problems import Verdict

# Recorded in the manifest's grader entry; bump when a rule above changes what a response reads as.
# choice-1 read a bare-letter last line only when the region held no other statement.
RULES_VERSION = "choice-2"
RULES = "last answer statement (box, Answer:, the answer is, bare-letter last line) wins; two letters is wrong"
LETTERS = "ABCDEFGHIJ"
MARKER = re.compile(
    r"(?i)(?:\banswer\s*(?:\*\*)?\s*[:：]|\banswer\s+is\s*:?|\b(?:option|choice)\s+is\s*:?)\s*(?:\*\*)?[ \t]*")
BOX = re.compile(r"\\(?:boxed|fbox)\s*\{")
WRAPPER = re.compile(r"\\(?:boxed|fbox|text|textbf|textrm|mathrm|mathbf|mbox)\s*\{([^{}]*)\}")
BARE_LETTER = re.compile(r"[(\[]?[A-Z][)\]]?\.?")
NOISE = re.compile(r"[$*\"'`“”‘’]|\\[()\[\]]")


@dataclass(frozen=True)
class Statement:
    start: int
    content: str


def statements(region: str) -> list[Statement]:
    """Every answer statement in the region, in order of where it starts (rule 1)."""
    found = []
    for match in BOX.finditer(region):
        content = _balanced(region, match.end() - 1)
        if content is not None:
            found.append(Statement(match.start(), content))
    for match in MARKER.finditer(region):
        rest = region[match.end():]
        line, _, after = rest.partition("\n")
        if not line.strip():
            line = next((candidate for candidate in after.splitlines() if candidate.strip()), "")
        found.append(Statement(match.start(), line))
    lines = [line for line in region.splitlines() if line.strip()]
    if lines and BARE_LETTER.fullmatch(normalise(lines[-1])):
        start = region.rfind(lines[-1])
        if not any(statement.start >= start for statement in found):
            found.append(Statement(start, lines[-1]))
    return sorted(found, key=lambda statement: statement.start)


def normalise(content: str) -> str:
    previous = None
    while previous != content:
        previous, content = content, WRAPPER.sub(r"\1", content)
    return NOISE.sub("", content).strip()


def letters_in(content: str, letters: str) -> list[str]:
    """The letter(s) a statement names: [], [X], or several for a list of letters (rule 3)."""
    text = normalise(content)
    one = f"[(\\[]?([{letters}])[)\\]]?"
    listed = re.match(rf"{one}\s*(?:,|;|/|&|\band\b|\bor\b)\s*{one}(?![A-Za-z])", text)
    if listed:
        return sorted(set(listed.groups()))
    if re.fullmatch(rf"[{letters}]{{2,}}", text):
        return sorted(set(text))
    leading = re.match(rf"{one}(?=$|[\s.,:;!)\]])", text)
    return [leading.group(1)] if leading else []


def option_letter(content: str, options: Sequence[str], letters: str) -> str | None:
    def key(text: str) -> str:
        return " ".join(normalise(text).lower().split()).rstrip(".").strip()

    wanted = key(content)
    matches = [letters[i] for i, option in enumerate(options) if wanted and key(option) == wanted]
    return matches[0] if len(matches) == 1 else None


def extract_choice(region: str, options: Sequence[str]) -> tuple[str | None, str, str]:
    """(letter or None, reason, how) for one answer region."""
    letters = LETTERS[:len(options)] if options else "ABCD"
    found = statements(region)
    if not found:
        return None, "no_answer", "none"
    final = found[-1]
    line_start = region.rfind("\n", 0, final.start) + 1
    line_end = region.find("\n", final.start)
    same_line = [s for s in found if line_start <= s.start < (line_end if line_end >= 0 else len(region))]
    named = {letter for s in same_line for letter in letters_in(s.content, letters)}
    if len(named) > 1 or len(letters_in(final.content, letters)) > 1:
        return None, "multiple_letters", "letters"
    chosen = letters_in(final.content, letters)
    if chosen:
        return chosen[0], "", "letter"
    by_text = option_letter(final.content, options, letters)
    if by_text:
        return by_text, "", "option_text"
    return None, "no_answer", "none"


def grade_choice(response: str, answer: dict[str, Any], think: str = "strip") -> Verdict:
    """`answer`: {"letter": gold letter, "options": option texts in displayed order, ...}."""
    details = {"gold": answer["letter"]}
    if "permutation" in answer:
        details["permutation"] = answer["permutation"]
    region = answer_region(response, think)
    if region is None:
        return Verdict(False, None, "unclosed_think", details)
    letter, reason, how = extract_choice(region, answer.get("options") or [])
    if letter is None:
        return Verdict(False, None, reason, details)
    correct = letter == answer["letter"]
    return Verdict(correct, letter, "correct" if correct else "wrong_answer", details | {"via": how})


def choice_grader(options: dict[str, Any]):
    return functools.partial(grade_choice, think=options.get("think", "strip"))

