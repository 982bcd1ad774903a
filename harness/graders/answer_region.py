"""Which part of a response a grader reads: the think-block policy shared by every grader.

Policies (the `think` suite option, recorded in the manifest):
- `strip` (default): text after the last `</think>` when there is one; a response that opens
  `<think>` and never closes it has no answer (reason `unclosed_think`), as lighteval does
  (lighteval #869) -- a truncated chain of thought is not an answer, even if it mentioned one;
  a response without think tags is read whole.
- `full`: the whole response, think block included, as VibeThinker's rllm grader reads it.

Truncated responses (finish_reason `length`) get no special treatment beyond this: under `strip`
a cut inside the think block is `unclosed_think`; a cut after it is graded on what was written.
"""
from __future__ import annotations

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
THINK_POLICIES = ("strip", "full")


def answer_region(response: str, think: str = "strip") -> str | None:
    """The text to grade, or None when the policy says the response holds no answer."""
    if think == "full":
        return response
    if think != "strip":
        raise ValueError(f"think policy {think!r} not in {THINK_POLICIES}")
    close = response.rfind(THINK_CLOSE)
    if close >= 0:
        return response[close + len(THINK_CLOSE):]
    if THINK_OPEN in response:
        return None
    return response
