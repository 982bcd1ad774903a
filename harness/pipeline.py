"""The one-way data flow: suite -> prompts -> backend -> generations.jsonl -> grader -> grades.jsonl
-> metrics.json. `evaluate` runs all stages; `regrade` starts from a generations file.
Both resume: samples already in generations.jsonl / grades.jsonl are never redone.
"""
from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import hashlib
import json

from harness.backends.base import Request, sample_seed
from harness.errors import HarnessError
from harness.identity import resume_refusal
from harness.executors import BackendRecipe
from harness.executors.local import LocalExecutor
from harness.manifest import base_manifest, now
from harness.rundir import GENERATIONS, RunDir, iter_jsonl, sample_key, write_json_atomic
from harness.sampling import Sampling
from harness.scoring import protocol_deviations, suite_metrics
from suites.base import Problem, Suite


@dataclass
class SuitePlan:
    """One suite of a run: its resolved options, problems and sampling."""

    suite: Suite
    options: dict[str, Any]
    problems: list[Problem]
    total_problems: int
    sampling: Sampling
    data: Path | None = None

    @property
    def by_id(self) -> dict[str, Problem]:
        return {problem.problem_id: problem for problem in self.problems}

    def identity(self) -> dict[str, Any]:
        identity = self.suite.identity(self.options, self.data)
        identity["sampling"] = self.sampling.as_dict()
        identity["problems"] = len(self.problems)
        identity["problem_ids_sha256"] = problem_ids_sha256(p.problem_id for p in self.problems)
        return identity

    def deviations(self) -> list[str]:
        return protocol_deviations(self.suite, self.sampling, self.options, len(self.problems), self.total_problems)

    def prompt_notes(self) -> dict[str, str]:
        return {p.problem_id: p.metadata["prompt_note"] for p in self.problems if "prompt_note" in p.metadata}

    def requests(self) -> list[Request]:
        return [
            Request(self.suite.name, problem.problem_id, sample, tuple(problem.messages),
                    sample_seed(self.sampling.seed, self.suite.name, problem.problem_id, sample))
            for problem in self.problems
            for sample in range(self.sampling.n)
        ]


def problem_ids_sha256(ids) -> str:
    """Which problems a suite ran (not only how many), for comparing runs made with --limit."""
    return hashlib.sha256(json.dumps(sorted(ids)).encode()).hexdigest()


def plan_suite(suite: Suite, options: dict[str, Any], sampling: Sampling, limit: int | None,
               data: Path | None = None) -> SuitePlan:
    resolved = suite.resolve_options(options)
    problems = suite.load_problems(resolved, data)
    total = len(problems)
    if limit is not None:
        if limit < 1:
            raise HarnessError(f"--limit {limit}: must be >= 1")
        problems = problems[:limit]
    return SuitePlan(suite, resolved, problems, total, sampling, data)


@dataclass
class EvalSpec:
    plans: list[SuitePlan]
    model: str
    backend: str
    out: Path
    ks: list[int] = field(default_factory=lambda: [1])
    backend_options: dict[str, Any] = field(default_factory=dict)

    def identity(self) -> dict[str, Any]:
        return {"kind": "eval", "model": self.model, "backend": self.backend,
                "suites": [plan.identity() for plan in self.plans]}


def open_run(run: RunDir, kind: str, identity: dict[str, Any], plans: list[SuitePlan]) -> dict[str, Any]:
    run.check_resumable()
    if run.exists() and (refusal := resume_refusal(str(run.path), run.manifest().get("identity", {}), identity)):
        raise HarnessError(refusal)
    manifest = run.manifest() if run.exists() else base_manifest(kind, identity)
    manifest["identity"] = identity  # equal where it matters; PLACE settings are this session's
    manifest["suites"] = [plan.identity() | {"deviations": plan.deviations(), "prompt_notes": plan.prompt_notes()}
                          for plan in plans]
    manifest["deviations"] = {plan.suite.name: plan.deviations() for plan in plans}
    manifest["sessions"].append({"started_at": now()})
    run.write_manifest(manifest)
    return manifest


def evaluate(spec: EvalSpec, make_backend: Callable[..., Any], log: Callable[[str], None] = print,
             executor: Any = None) -> list[dict]:
    executor = executor or LocalExecutor()
    run = RunDir(spec.out)
    manifest = open_run(run, "eval", spec.identity(), spec.plans)
    manifest.update(model={"spec": spec.model}, backend_name=spec.backend)
    for plan in spec.plans:  # fail on impossible k before spending time generating
        from harness.metrics import check_ks
        check_ks(spec.ks, plan.sampling.n)
    done = {sample_key(record) for record in run.generations()}
    pending = [(plan, [r for r in plan.requests() if (r.suite, r.problem_id, r.sample) not in done])
               for plan in spec.plans]
    todo = sum(len(requests) for _, requests in pending)
    if todo:
        log(f"generating {todo} samples ({len(done)} already in {run.generations_path})")

        def record_backend(description: dict[str, Any]) -> None:
            manifest["backend"] = description
            run.write_manifest(manifest)

        recipe = BackendRecipe(make_backend, spec.backend, spec.model, spec.backend_options)
        executor.generate(run, pending, recipe, record_backend)
    else:
        log(f"all {len(done)} samples already generated in {run.generations_path}")
    return finish(run, manifest, spec.plans, spec.ks, model_name=spec.model, executor=executor)


def finish(run: RunDir, manifest: dict[str, Any], plans: list[SuitePlan], ks: list[int], model_name: str,
           executor: Any = None) -> list[dict]:
    executor = executor or LocalExecutor()
    grade_pending(run, plans, manifest, executor)
    manifest["sessions"][-1]["executor"] = executor.describe()
    generations = run.generations()
    grades = run.grades()
    metrics = []
    for plan in plans:
        name = plan.suite.name
        extra = {"deviations": plan.deviations(), "options": plan.options,
                 "max_tokens": plan.sampling.max_tokens, "suite_version": plan.suite.version}
        metrics.append(suite_metrics(plan.suite, model_name,
                                     [g for g in grades if g["suite"] == name],
                                     [g for g in generations if g["suite"] == name],
                                     ks, plan.by_id, extra,
                                     budget=None if manifest.get("kind") == "grade" else plan.sampling.max_tokens))
    write_json_atomic(run.metrics_path, metrics if len(metrics) > 1 else metrics[0])
    manifest["finished_at"] = now()
    manifest["sessions"][-1]["finished_at"] = manifest["finished_at"]
    run.write_manifest(manifest)
    return metrics


def grade_pending(run: RunDir, plans: list[SuitePlan], manifest: dict[str, Any], executor: Any = None) -> None:
    graded = {sample_key(record) for record in run.grades()}
    generations = [g for g in run.generations() if sample_key(g) not in graded]
    manifest["grader"] = {plan.suite.name: {"grader": _grader_name(plan), "options": plan.options}
                          for plan in plans}
    work = [(plan, [g for g in generations if g["suite"] == plan.suite.name]) for plan in plans]
    (executor or LocalExecutor()).grade(run, work)


def _grader_name(plan: SuitePlan) -> str:
    grader = plan.suite.grader_for
    return f"{grader.__module__}.{grader.__name__}"


def grade_record(generation: dict[str, Any], verdict) -> dict[str, Any]:
    record = {"suite": generation["suite"], "problem_id": generation["problem_id"],
              "sample": generation["sample"], "correct": bool(verdict.correct),
              "extracted": verdict.extracted, "reason": verdict.reason}
    record.update(verdict.details)
    return record


# ----------------------------------------------------------------------------------- regrading

REQUIRED_GENERATION_FIELDS = {"problem_id": str, "sample": int, "response": str}


def read_generations(path: Path, plan: SuitePlan) -> list[dict[str, Any]]:
    """Validate a generations file for `harness grade`; errors name the file, line and field."""
    if not path.is_file():
        raise HarnessError(f"--generations {path}: file not found")
    known = plan.by_id
    records, seen = [], set()
    for number, record in iter_jsonl(path):
        for name, kind in REQUIRED_GENERATION_FIELDS.items():
            if name not in record:
                raise HarnessError(f"{path}:{number}: missing field '{name}'")
            if not isinstance(record[name], kind) or isinstance(record[name], bool):
                raise HarnessError(f"{path}:{number}: field '{name}' must be {kind.__name__}")
        if record["problem_id"] not in known:
            raise HarnessError(f"{path}:{number}: problem_id '{record['problem_id']}' is not in suite {plan.suite.name}")
        record = {**record, "suite": plan.suite.name}
        key = sample_key(record)
        if key in seen:
            raise HarnessError(f"{path}:{number}: duplicate sample {record['sample']} of {record['problem_id']}")
        seen.add(key)
        records.append(record)
    if not records:
        raise HarnessError(f"--generations {path}: no generations in file")
    return records


def regrade(plan: SuitePlan, generations_file: Path, out: Path, ks: list[int], model_name: str | None,
            executor: Any = None) -> list[dict]:
    from suites.base import sha256_of

    records = read_generations(generations_file, plan)
    ids = {r["problem_id"] for r in records}
    plan.problems = [p for p in plan.problems if p.problem_id in ids]
    per_problem = Counter(r["problem_id"] for r in records)
    # sampling settings of imported generations are unknown; n is what the file holds
    plan.sampling = dataclasses.replace(plan.sampling, n=min(per_problem.values()))
    identity = {"kind": "grade", "generations_sha256": sha256_of(generations_file), "suites": [plan.identity()]}
    run = RunDir(out)
    manifest = open_run(run, "grade", identity, [plan])
    manifest["source_generations"] = str(generations_file.resolve())
    if not run.generations_path.exists():
        with run.writer(GENERATIONS) as writer:
            for record in records:
                writer.write(record)
    return finish(run, manifest, [plan], ks, model_name or generations_file.stem, executor)
