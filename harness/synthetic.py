"""Constructed run directories with known answers, written through the real pipeline.

Tests, docs and benchmarks of the reports need runs whose true pass rates are known. Instead of
hand-writing manifest/metrics JSON (which would drift from what `harness eval` writes), this
plans a real suite, writes generations and grades with the chosen verdicts, and lets
`pipeline.finish` compute metrics.json exactly as an eval does (grading finds nothing pending).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.pipeline import SuitePlan, finish, open_run, plan_suite
from harness.prompting import PromptControls
from harness.rundir import GENERATIONS, GRADES, RunDir
from suites import get_suite


def write_run(out: Path, outcomes: Mapping[str, Mapping[str, Sequence[bool]]], model: str = "synthetic",
              max_tokens: int = 40960, temperature: float = 1.0, options: dict[str, Any] | None = None,
              published: Mapping[str, Mapping[str, Sequence[bool]]] | None = None, seed: int = 0,
              sampling: dict[str, Any] | None = None, prompt: dict[str, Any] | None = None) -> list[dict]:
    """outcomes: suite -> problem_id -> per-sample verdicts (the same number of samples per problem).

    `published` (same shape) adds the publisher's verdicts, as `harness import` keeps them;
    `sampling` overrides further sampling fields (top_p, top_k); `prompt` sets prompt controls
    (`harness.prompting`, as a manifest's `prompt` entry records them).
    """
    fields = {"max_tokens": max_tokens, "temperature": temperature, "seed": seed, **(sampling or {})}
    plans = [planned(suite, by_problem, fields, options or {}, prompt)
             for suite, by_problem in outcomes.items()]
    run = RunDir(out)
    manifest = open_run(run, "eval", {"kind": "eval", "model": model, "backend": "synthetic",
                                      "suites": [plan.identity() for plan in plans]}, plans)
    manifest.update(model={"spec": model}, backend_name="synthetic")
    with run.writer(GENERATIONS) as generations, run.writer(GRADES) as grades:
        for suite, by_problem in outcomes.items():
            for problem_id, verdicts in by_problem.items():
                for sample, correct in enumerate(verdicts):
                    record = {"suite": suite, "problem_id": problem_id, "sample": sample,
                              "response": "constructed", "finish_reason": "stop", "num_tokens": 1}
                    if published is not None:
                        record["published_correct"] = bool(published[suite][problem_id][sample])
                    generations.write(record)
                    grades.write({"suite": suite, "problem_id": problem_id, "sample": sample,
                                  "correct": bool(correct), "extracted": "1" if correct else "0",
                                  "reason": "passed" if correct else "wrong_answer"})
    return finish(run, manifest, plans, [1], model_name=model)


def planned(suite: str, outcomes: Mapping[str, Sequence[bool]], sampling: dict[str, Any],
            options: dict[str, Any], prompt: dict[str, Any] | None = None) -> SuitePlan:
    samples = {len(v) for v in outcomes.values()}
    if len(samples) != 1:
        raise ValueError("every problem needs the same number of samples")
    chosen = get_suite(suite)
    plan = plan_suite(chosen, options, chosen.protocol.override(n=samples.pop(), **sampling), None,
                      controls=PromptControls.from_record(prompt))
    known = plan.by_id
    missing = [p for p in outcomes if p not in known]
    if missing:
        raise ValueError(f"{missing[0]} is not a problem of {suite}")
    plan.problems = [known[p] for p in outcomes]
    return plan


def problem_ids(suite: str, count: int | None = None) -> list[str]:
    ids = [p.problem_id for p in get_suite(suite).load_problems()]
    return ids if count is None else ids[:count]
