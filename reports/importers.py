"""Published per-sample outputs -> a generations.jsonl that `harness grade` accepts.

Each record keeps the publisher's own verdict (`published_correct`) and extraction next to the
raw response, so a re-graded run can show our number beside theirs and count the samples where
the two graders disagree. Formats:

- `lcb-eval-all`: LiveCodeBench `*_eval_all.json` (a JSON list, one object per problem with
  `question_id`, `contest_date`, `output_list`, `code_list`, `graded_list`, `metadata`).
- `qwen25-math`: Qwen2.5-Math evaluation output JSONL, as in SkyThought's published outputs (one
  line per problem with `question`, `gt`, `code` = list of responses, `pred`, `score`). Lines carry
  no stable id, so problems are matched to the suite by statement text (with the gold answer as a
  tie-breaker where the publisher's copy differs in whitespace or figures).
"""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any, Iterator

from harness.errors import HarnessError
from harness.rundir import iter_jsonl
from suites import get_suite
from suites.base import Problem
from suites.livecodebench import in_window, parse_day

FORMATS = ("lcb-eval-all", "qwen25-math")
# Statements that differ only after this many normalised characters (figures, spacing) still match
# when the gold answers agree too.
PREFIX_CHARS = 120


def import_file(fmt: str, path: Path, suite: str | None = None, **options: Any) -> list[dict[str, Any]]:
    if path.is_dir():
        raise HarnessError(f"{path}: is a directory, expected a file")
    if not path.is_file():
        raise HarnessError(f"{path}: no such file")
    if fmt == "lcb-eval-all":
        if suite is not None and get_suite(suite).kind != "code":
            raise HarnessError(f"--suite {suite}: lcb-eval-all files hold LiveCodeBench code samples; "
                               f"{suite} is a {get_suite(suite).kind} suite (give lcb_v5, lcb_v6 or lcb_custom)")
        return list(lcb_eval_all(path, suite or "lcb_v5", options.get("start_date"), options.get("end_date")))
    if fmt == "qwen25-math":
        if not suite:
            raise HarnessError("--suite: qwen25-math files carry no suite name; give e.g. --suite math500")
        return list(qwen25_math(path, suite, get_suite(suite).load_problems()))
    raise HarnessError(f"FORMAT {fmt}: unknown (known: {', '.join(FORMATS)})")


# ----------------------------------------------------------------------------- LiveCodeBench

def lcb_eval_all(path: Path, suite: str, start: str | None = None, end: str | None = None) -> Iterator[dict]:
    """The samples of the problems in LCB's date window (suites.livecodebench.in_window)."""
    start_day, end_day = parse_day(start, "--start-date"), parse_day(end, "--end-date")
    try:
        problems = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise HarnessError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(problems, list):
        raise HarnessError(f"{path}: expected a JSON list of problems (an LCB eval_all file)")
    for index, problem in enumerate(problems):
        try:
            if not in_window(dt.datetime.fromisoformat(problem["contest_date"]), start_day, end_day):
                continue
            yield from lcb_samples(problem, suite)
        except (KeyError, TypeError, ValueError) as exc:
            raise HarnessError(f"{path}: problem {index} ({problem.get('question_id', '?')}): bad or missing {exc}") from None


def lcb_samples(problem: dict[str, Any], suite: str) -> Iterator[dict[str, Any]]:
    outputs, codes, graded = problem["output_list"], problem["code_list"], problem["graded_list"]
    if not len(outputs) == len(codes) == len(graded):
        raise ValueError("output_list/code_list/graded_list lengths")
    details = problem.get("metadata") or [None] * len(outputs)
    for sample, (output, code, correct, meta) in enumerate(zip(outputs, codes, graded, details)):
        yield {
            "suite": suite, "problem_id": str(problem["question_id"]), "sample": sample,
            "response": output,
            "published_correct": bool(correct), "published_extracted": code,
            "published_details": json.loads(meta) if isinstance(meta, str) else meta,
            "contest_date": problem["contest_date"], "difficulty": problem.get("difficulty"),
            "platform": problem.get("platform"),
        }


# ------------------------------------------------------------------------------ Qwen2.5-Math

def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def same_gold(left: str, right: str) -> bool:
    """AIME golds are '025' in one copy and '25' in another."""
    return normalise(str(left)).lstrip("0") == normalise(str(right)).lstrip("0")


class ProblemMatcher:
    def __init__(self, problems: list[Problem]):
        self.by_text = {normalise(p.statement): p for p in problems}
        self.by_prefix: dict[str, list[Problem]] = {}
        for problem in problems:
            self.by_prefix.setdefault(normalise(problem.statement)[:PREFIX_CHARS], []).append(problem)

    def match(self, question: str, gold: str) -> Problem | None:
        text = normalise(question)
        if text in self.by_text:
            return self.by_text[text]
        candidates = [p for p in self.by_prefix.get(text[:PREFIX_CHARS], []) if same_gold(p.answer, gold)]
        return candidates[0] if len(candidates) == 1 else None


def qwen25_math(path: Path, suite: str, problems: list[Problem]) -> Iterator[dict[str, Any]]:
    matcher, seen = ProblemMatcher(problems), {}
    for number, row in iter_jsonl(path):
        missing = [key for key in ("question", "code", "score") if key not in row]
        if missing:
            raise HarnessError(f"{path}:{number}: missing field '{missing[0]}'")
        problem = matcher.match(row["question"], row.get("gt", row.get("answer", "")))
        if problem is None:
            raise HarnessError(f"{path}:{number}: question matches no problem of suite {suite} (idx {row.get('idx')})")
        if problem.problem_id in seen:
            raise HarnessError(f"{path}:{number}: same problem as line {seen[problem.problem_id]} ({problem.problem_id})")
        seen[problem.problem_id] = number
        predictions = row.get("pred") or [None] * len(row["code"])
        for sample, (response, correct, pred) in enumerate(zip(row["code"], row["score"], predictions)):
            yield {"suite": suite, "problem_id": problem.problem_id, "sample": sample, "response": response,
                   "published_correct": bool(correct), "published_extracted": pred,
                   "published_gold": row.get("gt")}


def published_accuracy(path: Path) -> float | None:
    """The publisher's aggregate next to a Qwen2.5-Math output file (`X.jsonl` -> `X.metrics.json`)."""
    metrics = path.with_name(path.name.removesuffix(".jsonl") + ".metrics.json")
    if not metrics.is_file():
        return None
    return float(json.loads(metrics.read_text())["acc"]) / 100
