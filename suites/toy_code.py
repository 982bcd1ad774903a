"""Training's generated code problems as suites (`toy_code_stdin`, `toy_code_functional`), so the eval
stage measures each model's code pass@1 on held-out problems through the eval pipeline.

The rows are harness.training.code_tasks' (a prompt, tests in LiveCodeBench's form, a reference
solution); they are graded like lcb_custom, by the LiveCodeBench grader in the sandbox, with the
lcb suites' options (grader mode, sandbox, timeouts). As with suites/toy_math.py, the problems are
generated from a training config and written by the stage to OUT/eval/data/<domain>.jsonl; the
suites resolve by name and are not listed among the benchmarks.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from suites import livecodebench as lcb
from suites.base import Problem
from suites.toy_math import PROTOCOL, rows_with

PREFIX = "toy_code_"


def load(path: Path, options: dict[str, Any]) -> list[Problem]:
    """Rows of harness.training.code_tasks (problem_id, messages, tests, domain, text); no public split."""
    return [Problem(row["problem_id"], row["messages"], {**row["tests"], "num_public": 0},
                    {"domain": row.get("domain")}, row.get("text"))
            for row in rows_with(path, ("problem_id", "messages", "tests"))]


def toy_code_suite(domain: str):
    return lcb.code_suite(name=PREFIX + domain, data_file="", sha256="",
                          source="harness.training.code_tasks (generated from a training config)",
                          loader=load, protocol=PROTOCOL, breakdown_fields=(),
                          description=f"training toy code problems ({domain}: LiveCodeBench format, 3 tests each)",
                          data_hint="The training eval stage writes it to OUT/eval/data/code_<domain>.jsonl.")


def suite_named(name: str):
    return toy_code_suite(name.removeprefix(PREFIX))
