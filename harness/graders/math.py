"""Math answers through math-verify: the final box group, or a final-answer statement after it.

Why the answer is cut out by hand before calling math-verify: parsing a whole long response is
what makes plain math-verify slow (and occasionally pathological on megabytes of LaTeX); parsing
only the final answer is cheap and is what the published prompt asks for. Why not simply the last
box: an answer spread over several boxes (`\\boxed{3}, \\boxed{5} and \\boxed{7}`) would be graded
on its last part; why not every box (plain math-verify): a model that changes its mind
(`\\boxed{5}. Wait ... \\boxed{7}`) would be graded on {5, 7}. The rules (RULES_VERSION,
recorded in the manifest's grader entry), applied to the answer region (think policy):

1. Boxes are `\\boxed{...}` / `\\fbox{...}` with balanced braces.
2. The final group is the last box plus every box just before it whose gap to the next box is
   connector text only: whitespace, `,` `;` `:` `*`, `$`, `\\(` `\\)` `\\[` `\\]`, LaTeX spacing
   (`\\quad`, `\\qquad`, `\\,` `\\;` `\\:` `\\!` `\\ ` `~` `\\\\`), the words `and` / `or`, `\\text{}`
   (or `\\textrm`/`\\mathrm`/`\\mbox`) around connector text, labels `x =`, `y_1 =`, `x_{2} =`, and
   part labels `(a)`, `part (a)`, `for part (a)`. Any other word ends the group ("Wait", "so").
3. The group's contents are joined with ", " and parsed as one answer, so several boxes are one
   list or set (order-free where math-verify compares sets; half a set is still wrong).
4. A final-answer statement (`final answer is`, `the answer is`, `Answer:`, any case) that starts
   after the end of the final group wins when its line parses: last statement wins, as in the
   GPQA letter grader. A statement that parses to nothing leaves the group in charge.
5. With no box at all, math-verify's own extraction reads the last FALLBACK_TAIL characters:
   answers sit at the end, and parse cost grows faster than linearly with length.

The gold is never looked at to decide what was answered. Hard wall-clock limits per verdict live
in harness.grading (a process pool that kills).
"""
from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from typing import Any, Iterator


from harness.graders.answer_region import answer_region
from harness.problems import Verdict

# math-verify logs each of its own timeouts with the whole input (megabytes for a runaway
# response); the verdict already carries the outcome.
logging.getLogger("math_verify").setLevel(logging.CRITICAL)

# Bump when a rule above changes what a response is read as; the pipeline records both in the
# manifest's grader entry (rules_version, rules). Version 1 was "last box, else math-verify".
RULES_VERSION = MATH_RULES_VERSION = "math-2"
RULES = ("a final-answer statement after the final box group wins, else the final box group "
         "(boxes joined by connector text, parsed as one list); no box: math-verify on the tail")

FALLBACK_TAIL = 4000
PARSE_TIMEOUT_S = 5
VERIFY_TIMEOUT_S = 5
BOX = re.compile(r"\\(?:boxed|fbox)\s*\{")
TEXT_WRAPPER = re.compile(r"\\(?:text|textrm|mathrm|mbox)\s*\{([^{}]*)\}")
CONNECTOR = re.compile(r"""(?ix)(?:
      \s | [,;:*~$]
    | \\[()\[\]] | \\\\ | \\(?:q?quad)(?![a-z]) | \\[,;:!\ ]
    | \band\b | \bor\b
    | [a-z](?:_\{?[a-z0-9]+\}?)?\s*=                 # x =, y_1 =, x_{2} =
    | (?:\bfor\s+)?(?:\bpart\s+)?\([a-z]\)            # (a), part (a), for part (a)
    )*""")
SENTENCE_END = re.compile(r"[.!?](?=\s+[A-Z])")
STATEMENT = re.compile(r"(?i)\b(?:final\s+answer\s*(?:\*\*)?\s*(?:is|:)|the\s+answer\s+is|answer\s*(?:\*\*)?\s*:)")


@dataclass(frozen=True)
class Box:
    start: int  # index of the backslash
    end: int  # index after the closing brace
    content: str


def boxes_from_end(text: str) -> Iterator[Box]:
    """Boxes with balanced braces, last first. Lazy, because only the final group is needed and
    brace matching is the expensive part on long responses with many (or unclosed) boxes."""
    for match in reversed(list(BOX.finditer(text))):
        brace = match.end() - 1
        content = _balanced(text, brace)
        if content is not None:
            yield Box(match.start(), brace + len(content) + 2, content)


def last_boxed(text: str) -> str | None:
    """Content of the last \\boxed{...} (or \\fbox{...}) with balanced braces, else None."""
    last = next(boxes_from_end(text), None)
    return last.content if last else None


def _balanced(text: str, brace: int) -> str | None:
    depth = 0
    for index in range(brace, len(text)):
        char = text[index]
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[brace + 1:index]
    return None


def is_connector(gap: str) -> bool:
    previous = None
    while previous != gap:  # \text{ and } is connector when its content is
        previous, gap = gap, TEXT_WRAPPER.sub(r" \1 ", gap)
    return CONNECTOR.fullmatch(gap) is not None


def final_group(text: str) -> list[Box]:
    """The last box and the boxes chained to it by connector text only (rule 2); [] if no box."""
    group: list[Box] = []
    for box in boxes_from_end(text):
        if group and box.end > group[0].start:  # a box around those found: read the outer one
            group = [box] + [inner for inner in group if inner.start >= box.end]
        elif group and not is_connector(text[box.end:group[0].start]):
            break
        else:
            group.insert(0, box)
    return group


def final_statement(text: str) -> str | None:
    """The sentence of the last final-answer statement in text (the next non-empty line when the
    marker ends its line), or None. Cut at the sentence end because responses without newlines
    run on after the answer ("... is $16,386.20$. I apologize ... and $t$ is the years")."""
    matches = list(STATEMENT.finditer(text))
    if not matches:
        return None
    line, _, after = text[matches[-1].end():].partition("\n")
    if not line.strip():
        line = next((candidate for candidate in after.splitlines() if candidate.strip()), "")
    return SENTENCE_END.split(line, maxsplit=1)[0]


def parse(text: str, parsing_timeout: int) -> list[Any]:
    """math-verify's parse, imported on first use: math_verify and sympy cost ~0.45 s of every CLI start-up."""
    from math_verify import parse as math_verify_parse

    return math_verify_parse(text, parsing_timeout=parsing_timeout)


def verify(gold: list[Any], predicted: list[Any], timeout_seconds: int) -> bool:
    from math_verify import verify as math_verify_verify

    return math_verify_verify(gold, predicted, timeout_seconds=timeout_seconds)


@functools.lru_cache(maxsize=4096)
def parse_gold(gold: str) -> list[Any]:
    return parse(f"${gold}$", parsing_timeout=PARSE_TIMEOUT_S)


def extract_prediction(region: str) -> tuple[list[Any], str]:
    """(math-verify parse, which rule read it): box_group, statement, or fallback."""
    group = final_group(region)
    if not group:
        return parse(region[-FALLBACK_TAIL:], parsing_timeout=PARSE_TIMEOUT_S), "fallback"
    statement = final_statement(region[group[-1].end:])
    if statement:
        parsed = parse(statement, parsing_timeout=PARSE_TIMEOUT_S)
        if parsed:
            return parsed, "statement"
    joined = ", ".join(box.content for box in group)
    parsed = parse(f"\\boxed{{{joined}}}", parsing_timeout=PARSE_TIMEOUT_S)
    if parsed:
        return parsed, "box_group" if len(group) > 1 else "box"
    return parse(region[-FALLBACK_TAIL:], parsing_timeout=PARSE_TIMEOUT_S), "fallback"


def grade_math(response: str, gold: Any, think: str = "strip") -> Verdict:
    region = answer_region(response, think)
    if region is None:
        return Verdict(False, None, "unclosed_think")
    gold_parsed = parse_gold(str(gold))
    if not gold_parsed:
        return Verdict(False, None, "gold_parse_error", {"gold": str(gold)})
    predicted, via = extract_prediction(region)
    if not predicted:
        return Verdict(False, None, "no_answer")
    extracted = str(predicted[-1])
    key = str(predicted[0])
    correct = verify(gold_parsed, predicted, timeout_seconds=VERIFY_TIMEOUT_S)
    return Verdict(bool(correct), extracted, "correct" if correct else "wrong_answer",
                   {"answer_key": key, "via": via})


def math_grader(options: dict[str, Any]):
    return functools.partial(grade_math, think=options.get("think", "strip"))
