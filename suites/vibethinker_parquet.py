"""Reader for the VibeThinker eval parquets (WeiboAI/VibeThinker @ e6e3bfb, eval/math/data, MIT).

Each row holds the exact published prompt as a one-message chat (`prompt`), the gold answer in
`reward_model.ground_truth` and an `extra_info.index`. Suites turn the index into a stable id.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pyarrow.parquet as pq

from harness.errors import HarnessError
from suites.base import Problem

MATH_SUFFIX = "Let's think step by step and output the final answer within \\boxed{}."


def read_rows(path: Path) -> list[dict[str, Any]]:
    try:
        return pq.read_table(path).to_pylist()
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise HarnessError(f"{path}: not a readable parquet file ({exc.__class__.__name__}: {exc})") from exc


def problems_from_rows(
    rows: list[dict[str, Any]],
    make_id: Callable[[dict[str, Any]], str],
    metadata: Callable[[dict[str, Any]], dict[str, Any]] = lambda row: {},
    rewrite_prompt: Callable[[str], str] = lambda text: text,
) -> list[Problem]:
    problems = []
    for row in rows:
        messages = [{"role": m["role"], "content": rewrite_prompt(m["content"])} for m in row["prompt"]]
        problems.append(
            Problem(
                problem_id=make_id(row),
                messages=messages,
                answer=str(row["reward_model"]["ground_truth"]),
                metadata=metadata(row),
                text=messages[-1]["content"].removesuffix(MATH_SUFFIX).rstrip(),
            )
        )
    return problems


def aime_id(year: str) -> Callable[[dict[str, Any]], str]:
    """Index 0-14 are AIME I problems 1-15, 15-29 are AIME II (checked against matharena's lists)."""

    def make_id(row: dict[str, Any]) -> str:
        index = int(row["extra_info"]["index"])
        exam = "I" if index < 15 else "II"
        return f"{year}/{exam}-{index % 15 + 1:02d}"

    return make_id
