"""The code-RL reward: each rollout graded by the LiveCodeBench grader in the sandbox.

Pure parts (hand-value tests in tests/test_training_code_reward.py):
- `verdict_class(verdict)`: the grader's reason -> one of VERDICT_CLASSES (what the log counts);
- `code_reward(verdict, partial_credit)`: 1.0 when every test passes; with partial credit the share
  of tests passed (the grader stops at the first failing test, as upstream does, so this is the
  share passed before the first failure); else 0. A truncated rollout (no EOS within the token
  budget) earns 0 without running, as in the math reward.
`CodeReward` batches a step's rollouts through `CodeGrader.grade_many` (the existing sandbox pool,
`workers` at a time) with per-rollout limits: `timeout_s` per test (SIGALRM inside the grader),
the grader's outer wall budget (timeout+1)*tests+5 s enforced by the sandbox, and `memory_mb`
(RLIMIT_AS + the container's cgroup). So one step's grading is bounded by
ceil(rollouts / workers) * (budget + the sandbox watchdog's grace) whatever the programs do.
`fixed` grader mode is the training default (it repairs upstream's false negatives); `compat` is
selectable and recorded.
"""
from __future__ import annotations

import math
import time
from collections import Counter
from typing import Any, Sequence

import torch

from harness.problems import Verdict

VERDICT_CLASSES = ("passed", "wrong_answer", "runtime_error", "timeout", "no_code", "truncated")
CLASS_OF_REASON = {"passed": "passed", "wrong_answer": "wrong_answer", "runtime_error": "runtime_error",
                   "timeout": "timeout", "global_timeout": "timeout", "unclosed_think": "no_code"}
TRUNCATED = Verdict(False, None, "truncated", {})


def verdict_class(verdict: Verdict) -> str:
    """passed | wrong_answer | runtime_error | timeout | no_code | truncated."""
    if verdict.reason == "truncated":
        return "truncated"
    if not verdict.extracted:  # no fenced block (the grader records a compile error, -4, for it)
        return "no_code"
    if verdict.reason == "no_result":  # the grading process died or ran out of memory: the program crashed it
        return "timeout" if "outer budget" in str(verdict.details.get("error_message", "")) else "runtime_error"
    return CLASS_OF_REASON.get(verdict.reason, "wrong_answer")


def code_reward(verdict: Verdict, partial_credit: bool = False) -> float:
    if verdict.correct:
        return 1.0
    if not partial_credit or verdict_class(verdict) in ("no_code", "truncated"):
        return 0.0
    total = verdict.details.get("num_tests") or 0
    return float(verdict.details.get("tests_passed", 0)) / total if total else 0.0


def step_budget_s(rollouts: int, workers: int, timeout_s: int, num_tests: int, grace_s: float = 10.0) -> float:
    """Upper bound on one step's grading time: waves of `workers` runs, each within its wall budget."""
    from harness.graders.code import outer_budget

    return math.ceil(rollouts / workers) * (outer_budget(timeout_s, num_tests) + grace_s)


class CodeReward:
    """Rewards for a batch of (response, tests, truncated): (rewards, correct, per-rollout classes, record)."""

    def __init__(self, mode: str = "fixed", partial_credit: bool = False, timeout_s: int = 2, memory_mb: int = 512,
                 sandbox_name: str | None = None, workers: int = 2, unsafe_local: bool = False):
        from harness.graders.code import CodeGrader

        self.mode, self.partial_credit, self.timeout_s = mode, partial_credit, timeout_s
        self.grader = CodeGrader(mode=mode, sandbox_name=sandbox_name, unsafe_local=unsafe_local, workers=workers,
                                 memory_mb=memory_mb)

    def describe(self) -> dict[str, Any]:
        return {"reward": "code", "grader": self.grader.mode, "partial_credit": self.partial_credit,
                "timeout_s": self.timeout_s, "memory_mb": self.grader.memory_mb, "sandbox": self.grader.backend.name,
                "workers": self.grader.workers}

    def verdicts(self, texts: Sequence[str], tests: Sequence[dict], truncated: Sequence[bool]) -> list[Verdict]:
        run = [i for i, cut in enumerate(truncated) if not cut]
        graded = dict(zip(run, self.grader.grade_many(
            (texts[i], {**tests[i], "timeout": self.timeout_s}) for i in run)))
        return [graded.get(i, TRUNCATED) for i in range(len(texts))]

    def __call__(self, texts: Sequence[str], tests: Sequence[dict], truncated: Sequence[bool]):
        started = time.perf_counter()
        verdicts = self.verdicts(texts, tests, truncated)
        classes = [verdict_class(v) for v in verdicts]
        rewards = torch.tensor([code_reward(v, self.partial_credit) for v in verdicts], dtype=torch.float32)
        correct = torch.tensor([bool(v.correct) for v in verdicts], dtype=torch.float32)
        counts = Counter(classes)
        record = {"verdicts": {name: counts.get(name, 0) for name in VERDICT_CLASSES},
                  "pass_rate": float(correct.mean()) if len(verdicts) else 0.0,
                  "reward_seconds": round(time.perf_counter() - started, 3)}
        return rewards, correct, classes, record
