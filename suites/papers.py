"""Published reference numbers, read from the paper tables shipped in suites/data/papers.

Adding another paper is adding a CSV with the same columns (source, table, model, params, group,
benchmark, score); no code changes.
"""
from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from harness.errors import HarnessError

PAPERS_DIR = Path(__file__).parent / "data" / "papers"
VIBETHINKER = "VibeThinker-1.5B"
VIBETHINKER_BASE = "Base Model (Qwen2.5-Math-1.5B)"


@lru_cache(maxsize=None)
def paper_rows(paper: str = "vibethinker-1.5b") -> tuple[dict[str, str], ...]:
    path = PAPERS_DIR / f"{paper}.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        return tuple(csv.DictReader(handle))


def available_papers() -> list[str]:
    return sorted(p.stem for p in PAPERS_DIR.glob("*.csv"))


def reference_scores(benchmark: str, paper: str = "vibethinker-1.5b") -> dict[str, float]:
    """model -> published score (percent) for one benchmark; the first table a model appears in wins."""
    scores: dict[str, float] = {}
    for row in paper_rows(paper):
        if row["benchmark"] == benchmark and row["model"] not in scores:
            scores[row["model"]] = float(row["score"])
    return scores


def suite_reference(benchmark: str) -> dict[str, float]:
    """The two rows every suite carries: VibeThinker-1.5B and its base model."""
    scores = reference_scores(benchmark)
    return {model: scores[model] for model in (VIBETHINKER, VIBETHINKER_BASE) if model in scores}


def check_paper(paper: str) -> None:
    if paper not in available_papers():
        raise HarnessError(f"--paper {paper}: unknown (available: {', '.join(available_papers())}); "
                           f"add a CSV to {PAPERS_DIR}")
