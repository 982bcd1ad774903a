"""Math answers through math-verify: last \\boxed{} first, then math-verify's own extraction.

Why the boxed span is cut out by hand before calling math-verify: parsing a whole long response
is what makes plain math-verify slow (and occasionally pathological on megabytes of LaTeX);
parsing only the final boxed expression is cheap and is what the published prompt asks for.
Without a box, math-verify's extraction reads the last FALLBACK_TAIL characters only: answers
sit at the end, and parse cost grows faster than linearly with length.
Hard wall-clock limits per verdict live in harness.grading (a process pool that kills).
"""
from __future__ import annotations

import functools
import logging
from typing import Any

from math_verify import parse, verify

from harness.graders.answer_region import answer_region
from harness.problems import Verdict

# math-verify logs each of its own timeouts with the whole input (megabytes for a runaway
# response); the verdict already carries the outcome.
logging.getLogger("math_verify").setLevel(logging.CRITICAL)

FALLBACK_TAIL = 4000
PARSE_TIMEOUT_S = 5
VERIFY_TIMEOUT_S = 5
BOX_COMMANDS = ("\\boxed", "\\fbox")


def last_boxed(text: str) -> str | None:
    """Content of the last \\boxed{...} (or \\fbox{...}) with balanced braces, else None."""
    start = max(text.rfind(command) for command in BOX_COMMANDS)
    while start >= 0:
        brace = text.find("{", start)
        if brace >= 0 and text[start:brace].strip() in BOX_COMMANDS:
            content = _balanced(text, brace)
            if content is not None:
                return content
        start = max(text.rfind(command, 0, start) for command in BOX_COMMANDS)
    return None


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


@functools.lru_cache(maxsize=4096)
def parse_gold(gold: str) -> list[Any]:
    return parse(f"${gold}$", parsing_timeout=PARSE_TIMEOUT_S)


def extract_prediction(region: str) -> list[Any]:
    boxed = last_boxed(region)
    if boxed is not None:
        parsed = parse(f"\\boxed{{{boxed}}}", parsing_timeout=PARSE_TIMEOUT_S)
        if parsed:
            return parsed
    return parse(region[-FALLBACK_TAIL:], parsing_timeout=PARSE_TIMEOUT_S)


def grade_math(response: str, gold: Any, think: str = "strip") -> Verdict:
    region = answer_region(response, think)
    if region is None:
        return Verdict(False, None, "unclosed_think")
    gold_parsed = parse_gold(str(gold))
    if not gold_parsed:
        return Verdict(False, None, "gold_parse_error", {"gold": str(gold)})
    predicted = extract_prediction(region)
    if not predicted:
        return Verdict(False, None, "no_answer")
    extracted = str(predicted[-1])
    key = str(predicted[0])
    correct = verify(gold_parsed, predicted, timeout_seconds=VERIFY_TIMEOUT_S)
    return Verdict(bool(correct), extracted, "correct" if correct else "wrong_answer", {"answer_key": key})


def math_grader(options: dict[str, Any]):
    return functools.partial(grade_math, think=options.get("think", "strip"))
