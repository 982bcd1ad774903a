"""What suites hand to backends and graders: a Problem, and a grader's Verdict on one response.

These sit at the bottom of the layers (graders, suites, backends and the pipeline all use them),
so that graders never import suites.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Problem:
    """One benchmark item. `answer` is the grader's reference (gold string, letter, or tests)."""

    problem_id: str
    messages: list[dict[str, str]]
    answer: Any
    metadata: dict[str, Any] = field(default_factory=dict)
    # the bare problem statement without prompt boilerplate (for decontamination); None = last message
    text: str | None = None

    @property
    def statement(self) -> str:
        return self.text if self.text is not None else self.messages[-1]["content"]


@dataclass(frozen=True)
class Verdict:
    """A grader's decision with its reason, as written to grades.jsonl."""

    correct: bool
    extracted: str | None
    reason: str
    details: dict[str, Any] = field(default_factory=dict)


Grader = Callable[[str, Any], Verdict]
