"""`local` executor: one backend in this process, grading in a local process pool (the default).

If a distributed session left results in RUN_DIR/shards/ (a Ray driver that was killed), they
are taken into the main files first, so switching executors on resume loses and repeats nothing.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Sequence

from harness.backends.base import Request
from harness.executors import BackendRecipe
from harness.executors.shards import GENERATIONS_STAGE, GRADES_STAGE, ShardStore, item_key, sampling_groups
from harness.grading import grade_record, grade_stream, graded_text
from harness.progress import progress
from harness.rundir import GENERATIONS, GRADES, RunDir, sample_key

GenerationWork = list[tuple[Any, list[Request]]]  # (SuitePlan, its pending requests)
GradingWork = list[tuple[Any, Sequence[dict[str, Any]]]]  # (SuitePlan, its ungraded generations; may be lazy)


class LocalExecutor:
    name = "local"

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}

    def prepare(self, recipe: BackendRecipe) -> BackendRecipe:
        """Build the backend (load the model) now, before the run directory is written; the
        returned recipe hands out that same backend."""
        backend = recipe.build()
        return dataclasses.replace(recipe, make_backend=lambda *args, **kwargs: backend)

    def generate(self, run: RunDir, work: GenerationWork, recipe: BackendRecipe,
                 record_backend: Callable[[dict[str, Any]], None]) -> None:
        absorbed = ShardStore(run).assemble(GENERATIONS_STAGE, [item_key(r) for _, requests in work for r in requests])
        work = [(plan, [r for r in requests if item_key(r) not in absorbed]) for plan, requests in work]
        todo = sum(len(requests) for _, requests in work)
        if not todo:
            return
        backend = recipe.build()
        record_backend(backend.describe())
        with run.writer(GENERATIONS) as writer, progress(todo, "generate") as bar:
            for group in sampling_groups(work):
                for generation in backend.generate(list(group.pending), group.sampling):
                    writer.write(generation.as_record())
                    bar.update(1)
        record_backend(backend.describe())  # what the backend learnt while generating (e.g. server limits)
        backend.close()

    def grade(self, run: RunDir, work: GradingWork) -> None:
        """Streams: each suite's ungraded generations are read one at a time (work lists may be
        lazy, e.g. harness.rundir.LinesAt) and at most a bounded window is in the grading pool."""
        absorbed = ShardStore(run).assemble(GRADES_STAGE, (sample_key(g) for _, todo in work for g in todo))
        with run.writer(GRADES) as writer:
            for plan, todo in work:
                total = len(todo) if hasattr(todo, "__len__") else None
                if total is not None:
                    total -= sum(1 for key in absorbed if key[0] == plan.suite.name)
                    if total <= 0:
                        continue
                problems = plan.by_id
                items = ((g, graded_text(g), problems[g["problem_id"]].answer)
                         for g in todo if sample_key(g) not in absorbed)
                grader = plan.suite.grader(plan.options)
                with progress(total, f"grade {plan.suite.name}") as bar:
                    for generation, verdict in grade_stream(grader, items, plan.suite.verdict_timeout):
                        writer.write(grade_record(generation, verdict, plan.options))
                        bar.update(1)

    def __enter__(self) -> "LocalExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def create() -> LocalExecutor:
    return LocalExecutor()
