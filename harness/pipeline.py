"""The one-way data flow: suite -> prompts -> backend -> generations.jsonl -> grader -> grades.jsonl
-> metrics.json. `evaluate` runs all stages; `regrade` starts from a generations file.
Both resume: samples already in generations.jsonl / grades.jsonl are never redone.

Order of a start: validate every input and build what can fail (the model, the grader and its
sandbox) first, then lock the run directory, then write the manifest. A start that fails thus
leaves nothing a corrected command would trip over; a run directory that holds no finished
sample yet is taken over by a new identity rather than refused.
"""
from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from harness.backends.base import Request, sample_seed
from harness.errors import HarnessError
from harness.identity import problem_ids_sha256, resume_refusal
from harness.executors import BackendRecipe
from harness.executors.local import LocalExecutor
from harness.manifest import base_manifest, now
from harness.prompting import BUDGET_FORCING, PromptControls, digest, sha256_text
from harness.rundir import (GENERATIONS, GRADES, LinesAt, RunDir, iter_jsonl, iter_jsonl_offsets, sample_key,
                            write_json_atomic, write_lines_atomic)
from harness.sampling import Sampling
from harness.schema import SCHEMA_VERSION
from harness.scoring import protocol_deviations, suite_metrics
from suites import get_suite
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
    subset: str = "--limit"  # why fewer than all problems may be in the run
    notes: list[str] = field(default_factory=list)  # further deviations, e.g. ragged sample counts
    controls: PromptControls = field(default_factory=PromptControls)
    rendered: dict[str, str] | None = None  # problem id -> the prompt as sent (`render`)
    renders_text: bool = False  # rendered holds template text (else a chat request the server renders)

    @property
    def by_id(self) -> dict[str, Problem]:
        return {problem.problem_id: problem for problem in self.problems}

    def messages(self, problem: Problem) -> tuple[dict[str, str], ...]:
        return self.controls.messages(problem.messages)

    def render(self, renderer: Any) -> None:
        """Render every problem's prompt as the backend will send it (`harness.backends.prompt_renderer`)."""
        self.rendered = {p.problem_id: renderer.render(self.messages(p)) for p in self.problems}
        self.renders_text = renderer.renders_text

    def prompt_sha256(self) -> dict[str, str]:
        return {pid: sha256_text(text) for pid, text in (self.rendered or {}).items()}

    def identity(self) -> dict[str, Any]:
        identity = self.suite.identity(self.options, self.data)
        identity["sampling"] = self.sampling.as_dict()
        identity["prompt"] = self.controls.identity()
        identity["problems"] = len(self.problems)
        identity["problem_ids_sha256"] = problem_ids_sha256(p.problem_id for p in self.problems)
        # the messages as sent, model-independent (comparable across models); the rendered prompts
        # (chat template included, so per model) are checked on resume only
        identity["messages_sha256"] = digest({p.problem_id: sha256_text(json.dumps(self.messages(p), sort_keys=True))
                                              for p in self.problems})
        if self.rendered is not None:
            identity["rendered_prompts_sha256"] = digest(self.prompt_sha256())
        return identity

    def deviations(self) -> list[str]:
        from harness.prompting import PROMPT_SETTINGS

        return (protocol_deviations(self.suite, self.sampling, self.options, len(self.problems), self.total_problems,
                                    self.subset) + PROMPT_SETTINGS.deviations(self.controls.identity()) + self.notes)

    def manifest_entry(self) -> dict[str, Any]:
        """The manifest's suite entry: the identity plus what explains it."""
        entry = self.identity() | {"deviations": self.deviations(), "prompt_notes": self.prompt_notes()}
        if self.rendered is not None:
            entry["prompt_sha256"] = self.prompt_sha256()
            entry["prompt_rendered_by"] = "harness" if self.renders_text else "server (chat request)"
        if self.controls.budget_forcing:
            entry["budget_forcing"] = BUDGET_FORCING
        return entry

    def prompt_notes(self) -> dict[str, str]:
        return {p.problem_id: p.metadata["prompt_note"] for p in self.problems if "prompt_note" in p.metadata}

    def requests(self) -> list[Request]:
        return [
            Request(self.suite.name, problem.problem_id, sample, self.messages(problem),
                    sample_seed(self.sampling.seed, self.suite.name, problem.problem_id, sample),
                    prompt=(self.rendered or {}).get(problem.problem_id) if self.renders_text
                    else None, controls=self.controls)
            for problem in self.problems
            for sample in range(self.sampling.n)
        ]


def plan_suite(suite: Suite, options: dict[str, Any], sampling: Sampling, limit: int | None,
               data: Path | None = None, controls: PromptControls | None = None) -> SuitePlan:
    resolved = suite.resolve_options(options)
    problems = suite.load_problems(resolved, data)
    total = len(problems)
    if limit is not None:
        if limit < 1:
            raise HarnessError(f"--limit {limit}: must be >= 1")
        problems = problems[:limit]
    return SuitePlan(suite, resolved, problems, total, sampling, data, controls=controls or PromptControls())


@dataclass
class EvalSpec:
    plans: list[SuitePlan]
    model: str
    backend: str
    out: Path
    ks: list[int] = field(default_factory=lambda: [1])
    backend_options: dict[str, Any] = field(default_factory=dict)
    name: str | None = None  # the model's name in metrics.json and reports (default: the spec); not identity

    def identity(self) -> dict[str, Any]:
        return {"kind": "eval", "model": self.model, "backend": self.backend,
                "suites": [plan.identity() for plan in self.plans]}


FINISHED_STAGES = {"eval": (GENERATIONS, GRADES), "grade": (GRADES,)}  # a grade run's generations are a copy


def resumes(run: RunDir, kind: str, identity: dict[str, Any]) -> bool:
    """Whether `run` continues an earlier run; refuses one that holds samples of another identity."""
    if run.exists() and not run.has_finished_samples(FINISHED_STAGES[kind]):
        return False  # an earlier start failed before its first sample: nothing to protect
    run.check_resumable()
    if run.exists() and (refusal := resume_refusal(str(run.path), run.manifest().get("identity", {}), identity)):
        raise HarnessError(refusal)
    return run.exists()


def open_run(run: RunDir, kind: str, identity: dict[str, Any], plans: list[SuitePlan]) -> dict[str, Any]:
    manifest = run.manifest() if resumes(run, kind, identity) else base_manifest(kind, identity)
    manifest["identity"] = identity  # equal where it matters; PLACE settings are this session's
    manifest["suites"] = [plan.manifest_entry() for plan in plans]
    manifest["deviations"] = {plan.suite.name: plan.deviations() for plan in plans}
    manifest["sessions"].append({"started_at": now()})
    run.write_manifest(manifest)
    return manifest


def check_plans(plans: list[SuitePlan], ks: list[int]) -> None:
    """Every check that needs no model: impossible k, a grader (and its sandbox) that cannot start."""
    from harness.metrics import check_ks

    for plan in plans:
        check_ks(ks, plan.sampling.n)
        plan.suite.grader(plan.options)  # e.g. --sandbox local without --unsafe-local-sandbox


def pending_requests(run: RunDir, plans: list[SuitePlan]) -> tuple[list[tuple[SuitePlan, list[Request]]], int]:
    done = {sample_key(record) for record in run.iter_records(GENERATIONS, KEY_FIELDS)}
    return [(plan, [r for r in plan.requests() if (r.suite, r.problem_id, r.sample) not in done])
            for plan in plans], len(done)


def evaluate(spec: EvalSpec, make_backend: Callable[..., Any], log: Callable[[str], None] = print,
             executor: Any = None) -> list[dict]:
    executor = executor or LocalExecutor()
    check_plans(spec.plans, spec.ks)
    run = RunDir(spec.out)
    lock = run.lock()
    if run.path.exists():
        lock.acquire()  # another process writing here: stop before loading anything
    try:
        resumes(run, "eval", spec.identity())  # refuse a foreign run before loading the model
        pending, done = pending_requests(run, spec.plans)
        recipe = BackendRecipe(make_backend, spec.backend, spec.model, spec.backend_options)
        if any(requests for _, requests in pending) and hasattr(executor, "prepare"):
            recipe = executor.prepare(recipe)  # load the model now: a bad --model leaves no run directory
        if lock.fd is None:
            lock.acquire()
            pending, done = pending_requests(run, spec.plans)
        manifest = open_run(run, "eval", spec.identity(), spec.plans)
        manifest.update(model={"spec": spec.model}, backend_name=spec.backend)
        todo = sum(len(requests) for _, requests in pending)
        if todo:
            log(f"generating {todo} samples ({done} already in {run.generations_path})")

            def record_backend(description: dict[str, Any]) -> None:
                manifest["backend"] = description
                run.write_manifest(manifest)

            executor.generate(run, pending, recipe, record_backend)
        else:
            log(f"all {done} samples already generated in {run.generations_path}")
        return finish(run, manifest, spec.plans, spec.ks, model_name=spec.name or spec.model, executor=executor)
    finally:
        lock.release()


def finish(run: RunDir, manifest: dict[str, Any], plans: list[SuitePlan], ks: list[int], model_name: str,
           executor: Any = None) -> list[dict]:
    executor = executor or LocalExecutor()
    generations = grade_pending(run, plans, manifest, executor)
    manifest["sessions"][-1]["executor"] = executor.describe()
    grades: dict[str, list[dict[str, Any]]] = {plan.suite.name: [] for plan in plans}
    for grade in run.iter_records(GRADES):  # verdicts only: a few hundred bytes per sample
        grades.setdefault(grade["suite"], []).append(grade)
    metrics = []
    for plan in plans:
        name = plan.suite.name
        extra = {"schema_version": SCHEMA_VERSION, "deviations": plan.deviations(), "options": plan.options,
                 "max_tokens": plan.sampling.max_tokens, "suite_version": plan.suite.version}
        metrics.append(suite_metrics(plan.suite, model_name, grades[name], generations.get(name, []),
                                     ks, plan.by_id, extra,
                                     budget=None if manifest.get("kind") == "grade" else plan.sampling.max_tokens))
    write_json_atomic(run.metrics_path, metrics if len(metrics) > 1 else metrics[0])
    manifest["finished_at"] = now()
    manifest["sessions"][-1]["finished_at"] = manifest["finished_at"]
    manifest["schema_version"] = SCHEMA_VERSION  # a resumed older run is rewritten in the current shape
    run.write_manifest(manifest)
    return metrics


KEY_FIELDS = ("suite", "problem_id", "sample")
SLIM_FIELDS = ("suite", "problem_id", "sample", "finish_reason", "num_tokens")  # what metrics read of a generation


def grade_pending(run: RunDir, plans: list[SuitePlan], manifest: dict[str, Any],
                  executor: Any = None) -> dict[str, list[dict[str, Any]]]:
    """Grade every generation without a grade; returns each suite's generations without their
    responses (for the metrics). One streaming pass finds the ungraded lines; the executor reads
    them back by offset, so no response stays in memory."""
    graded = {sample_key(record) for record in run.iter_records(GRADES, KEY_FIELDS)}
    manifest["grader"] = {plan.suite.name: grader_entry(plan) for plan in plans}
    spans: dict[str, list[tuple[int, int]]] = {plan.suite.name: [] for plan in plans}
    slim: dict[str, list[dict[str, Any]]] = {plan.suite.name: [] for plan in plans}
    if run.generations_path.exists():
        from harness.rundir import cut_partial_last_line

        cut_partial_last_line(run.generations_path)
        for _, offset, length, record in iter_jsonl_offsets(run.generations_path):
            name = record.get("suite")
            if name not in spans:
                continue
            slim[name].append({key: record[key] for key in SLIM_FIELDS if key in record})
            if sample_key(record) not in graded:
                spans[name].append((offset, length))
    work = [(plan, LinesAt(run.generations_path, spans[plan.suite.name])) for plan in plans]
    (executor or LocalExecutor()).grade(run, work)
    return slim


def grader_entry(plan: SuitePlan) -> dict[str, Any]:
    """Which grader, under which reading rules (its module's RULES_VERSION / RULES), with which options."""
    identity = plan.suite.grader_identity()
    entry = {"grader": identity["name"], "options": plan.options}
    if identity["version"]:
        entry.update(rules_version=identity["version"], rules=identity.get("rules", ""))
    return entry


# ----------------------------------------------------------------------------------- regrading

REQUIRED_GENERATION_FIELDS = {"problem_id": str, "sample": int, "response": str}


def check_generations_path(path: Path) -> None:
    if path.is_dir():
        raise HarnessError(f"--generations {path}: is a directory; give the JSONL file in it "
                           f"(e.g. {path / GENERATIONS})")
    if not path.exists():
        raise HarnessError(f"--generations {path}: no such file")
    if not path.is_file():
        raise HarnessError(f"--generations {path}: not a regular file (a pipe such as /dev/stdin cannot be "
                           "re-read to resume); save it to a file first")


def read_generations(path: Path, plan: SuitePlan) -> dict[str, set[int]]:
    """Validate a generations file for `harness grade` in one streaming pass; errors name the file,
    line and field. Returns the sample numbers of every problem (the responses are not kept)."""
    check_generations_path(path)
    known = plan.by_id
    numbers: dict[str, set[int]] = {}
    for number, record in iter_jsonl(path):
        for name, kind in REQUIRED_GENERATION_FIELDS.items():
            if name not in record:
                raise HarnessError(f"{path}:{number}: missing field '{name}'")
            if not isinstance(record[name], kind) or isinstance(record[name], bool):
                raise HarnessError(f"{path}:{number}: field '{name}' must be {kind.__name__}")
        if record["sample"] < 0:
            raise HarnessError(f"{path}:{number}: field 'sample' is {record['sample']}; sample numbers start at 0")
        if record["problem_id"] not in known:
            raise HarnessError(f"{path}:{number}: problem_id '{record['problem_id']}' is not in suite {plan.suite.name}")
        if record.get("suite") not in (None, plan.suite.name):
            raise HarnessError(f"{path}:{number}: suite '{record['suite']}' but --suite {plan.suite.name}")
        samples = numbers.setdefault(record["problem_id"], set())
        if record["sample"] in samples:
            raise HarnessError(f"{path}:{number}: duplicate sample {record['sample']} of {record['problem_id']}")
        samples.add(record["sample"])
    if not numbers:
        raise HarnessError(f"--generations {path}: no generations in file")
    return numbers


def samples_per_problem(path: Path, numbers: dict[str, set[int]], allow_ragged: bool) -> dict[str, int]:
    """n of every problem. Samples must be numbered 0..n-1; unequal n only with --allow-ragged."""
    for problem_id, samples in numbers.items():
        missing = sorted(set(range(max(samples) + 1)) - samples)
        if missing:
            raise HarnessError(f"--generations {path}: problem {problem_id} has samples {describe(samples)} but not "
                               f"{describe(missing)}; sample numbers must run 0..n-1")
    counts = {problem_id: len(samples) for problem_id, samples in numbers.items()}
    sizes = Counter(counts.values())
    if len(sizes) > 1 and not allow_ragged:
        smallest = min(counts, key=counts.get)
        raise HarnessError(f"--generations {path}: problems have unequal sample counts "
                           f"({', '.join(f'n={n} for {c}' for n, c in sorted(sizes.items()))}; e.g. {smallest} has "
                           f"{counts[smallest]}); pass --allow-ragged to grade each problem on its own n")
    return counts


def describe(numbers) -> str:
    numbers = sorted(numbers)
    return ", ".join(map(str, numbers[:5])) + (f", ... ({len(numbers)} in all)" if len(numbers) > 5 else "")


def copy_generations(run: RunDir, source: Path, suite: str) -> None:
    """RUN/generations.jsonl is exactly the validated input (each line with its suite): an earlier,
    partial or stale copy is replaced. Streamed: the copy is compared by digest, never held."""
    import hashlib

    def lines():
        for _, record in iter_jsonl(source):
            yield {**record, "suite": suite}

    path = run.generations_path
    if path.is_file():
        expected, actual = hashlib.sha256(), hashlib.sha256()
        for record in lines():
            expected.update((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                actual.update(block)
        if expected.digest() == actual.digest():
            return
    write_lines_atomic(path, lines())


def regrade(plan: SuitePlan, generations_file: Path, out: Path, ks: list[int], model_name: str | None,
            executor: Any = None, allow_ragged: bool = False) -> list[dict]:
    from harness.rundir import sha256_of

    numbers = read_generations(generations_file, plan)
    counts = samples_per_problem(generations_file, numbers, allow_ragged)
    del numbers
    plan.problems = [p for p in plan.problems if p.problem_id in counts]
    plan.subset = "in --generations"
    # sampling settings of imported generations are unknown; n is what the file holds
    plan.sampling = dataclasses.replace(plan.sampling, n=min(counts.values()))
    if len(set(counts.values())) > 1:
        plan.notes = [f"ragged: n per problem from {min(counts.values())} to {max(counts.values())} "
                      "(--allow-ragged; pass@k uses each problem's own n)"]
    check_plans([plan], ks)
    identity = {"kind": "grade", "generations_sha256": sha256_of(generations_file), "suites": [plan.identity()]}
    run = RunDir(out)
    with run.lock():
        manifest = open_run(run, "grade", identity, [plan])
        manifest["source_generations"] = str(generations_file.resolve())
        sidecar = generations_file.with_name(generations_file.name.removesuffix(".jsonl") + ".source.json")
        if sidecar.is_file():  # `harness import` left the publisher's settings beside the file
            manifest["source"] = json.loads(sidecar.read_text(encoding="utf-8"))
        if len(set(counts.values())) > 1:
            manifest["samples_per_problem"] = counts
        copy_generations(run, generations_file, plan.suite.name)
        return finish(run, manifest, [plan], ks, model_name or generations_file.stem, executor)


def finish_in_place(run: RunDir, suite: Suite, entry: dict[str, Any], options: dict[str, Any], ks: list[int],
                    executor: Any = None) -> list[dict]:
    """Grade what an existing run lacks under its own identity (e.g. generated on a GPU box, graded
    here) and rewrite its metrics; every suite of the run is scored again."""
    manifest = run.manifest()
    identity = manifest.get("identity") or {}
    plans = []
    ids: dict[str, set[str]] = {}
    for record in run.iter_records(GENERATIONS, KEY_FIELDS):
        ids.setdefault(record["suite"], set()).add(record["problem_id"])
    for recorded in manifest.get("suites", []):
        chosen = suite if recorded.get("name") == suite.name else get_suite(recorded["name"])
        chosen_options = options if chosen is suite else recorded.get("options") or {}
        plan = plan_suite(chosen, chosen_options, Sampling(**recorded["sampling"]), None,
                          Path(recorded["data_path"]) if recorded.get("data_path") != str(chosen.data_path) else None,
                          PromptControls.from_record(recorded.get("prompt")))
        plan.problems = [p for p in plan.problems if p.problem_id in ids.get(chosen.name, set())]
        plans.append(plan)
    refusal = resume_refusal(str(run.path), identity, {**identity, "suites": [p.identity() for p in plans]})
    if refusal:
        raise HarnessError(refusal)
    manifest["sessions"].append({"started_at": now(), "command": "grade in place"})
    model = (manifest.get("model") or {}).get("spec") or identity.get("model") or run.path.name
    with run.lock():
        return finish(run, manifest, plans, ks, model_name=model, executor=executor)
