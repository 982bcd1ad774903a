"""Grading many responses: a killable process pool so one pathological verdict never hangs a run.

pebble's ProcessPool kills a worker whose task overruns its timeout (concurrent.futures cannot);
the verdict is then `timeout`. Suites whose graders manage their own processes (code, in a
sandbox) set `verdict_timeout=None` and are graded in this process, one after the other.
"""
from __future__ import annotations

import dataclasses

import os
from concurrent.futures import TimeoutError as FutureTimeout
from collections import deque
from itertools import chain, islice
from typing import Any, Callable, Iterable, Iterator

from harness.problems import Verdict

DEFAULT_VERDICT_TIMEOUT_S = 30.0
WINDOW = 32  # responses in flight per grading worker
BATCH = 256  # responses per grade_many call


def default_workers(env: str | None = None) -> int:
    """Worker processes for grading: the cores, at most 8 (or `env`, e.g. SSP_SANDBOX_WORKERS, when set)."""
    configured = os.environ.get(env) if env else None
    return int(configured) if configured else max(1, min(os.cpu_count() or 1, 8))


def grade_stream(grader: Callable[[str, Any], Verdict], items: Iterable[tuple[Any, str, Any]],
                 timeout: float | None = DEFAULT_VERDICT_TIMEOUT_S,
                 workers: int | None = None) -> Iterator[tuple[Any, Verdict]]:
    """Yield (key, verdict) for items (key, response, reference), in input order.

    Items are consumed lazily: at most a bounded window of responses is in flight (WINDOW per
    worker, or BATCH for graders with their own parallelism), so a 2.5 GB generations file
    streams through in constant memory.
    """
    items = iter(items)
    batch = getattr(grader, "grade_many", None)  # graders with their own parallelism (code, sandbox pool)
    if timeout is None and batch is not None:
        while chunk := list(islice(items, BATCH)):
            yield from zip([key for key, _, _ in chunk], batch([(response, ref) for _, response, ref in chunk]))
        return
    if timeout is None:
        for key, response, reference in items:
            yield key, grader(response, reference)
        return
    first = next(items, None)
    if first is None:
        return
    from pebble import ProcessPool

    workers = workers or default_workers()
    with ProcessPool(max_workers=workers) as pool:
        in_flight: deque = deque()
        for key, response, reference in chain([first], items):
            in_flight.append((key, pool.schedule(grader, args=(response, reference), timeout=timeout)))
            if len(in_flight) >= WINDOW * workers:
                key, future = in_flight.popleft()
                yield key, _result(future, timeout)
        while in_flight:
            key, future = in_flight.popleft()
            yield key, _result(future, timeout)


def _result(future, timeout: float) -> Verdict:
    try:
        return future.result()
    except FutureTimeout:
        return Verdict(False, None, "timeout", {"limit_s": timeout})
    except Exception as exc:  # a grader crash is a verdict, not a crashed run
        return Verdict(False, None, "grader_error", {"error": f"{exc.__class__.__name__}: {exc}"[:500]})


def graded_text(generation: dict[str, Any]) -> str:
    """What a grader reads: the response, or -- when a server returned the thinking apart
    (`reasoning`) -- both as one response with a closed think block, so the think policy applies
    exactly as to a model that wrote `<think>...</think>` itself."""
    reasoning = generation.get("reasoning")
    response = generation["response"]
    return f"<think>{reasoning}</think>{response}" if isinstance(reasoning, str) else response


def grade_record(generation: dict[str, Any], verdict, options: dict[str, Any] | None = None) -> dict[str, Any]:
    verdict = truncation_rule(generation, verdict, options or {})
    record = {"suite": generation["suite"], "problem_id": generation["problem_id"],
              "sample": generation["sample"], "correct": bool(verdict.correct),
              "extracted": verdict.extracted, "reason": verdict.reason}
    record.update(verdict.details)
    return record


def truncation_rule(generation: dict[str, Any], verdict, options: dict[str, Any]):
    """The suite option `truncated_wrong`: a sample cut at the budget is wrong; the grader's own
    verdict stays in the record (`graded_correct`, `graded_reason`)."""
    if not options.get("truncated_wrong") or generation.get("finish_reason") != "length":
        return verdict
    return dataclasses.replace(verdict, correct=False, reason="truncated",
                               details={**verdict.details, "graded_correct": bool(verdict.correct),
                                        "graded_reason": verdict.reason})
