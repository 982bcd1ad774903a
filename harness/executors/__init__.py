"""Where generation and grading run: `local` (this process, as always) or `ray` (shards on a cluster).

An executor takes the pending work of a run and leaves its results in the run directory; the
pipeline decides what is pending and scores what is there, so both executors give the same
run directory. Executors are context managers: leaving the block releases workers and clusters.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

from harness.errors import HarnessError

EXECUTOR_MODULES = {"local": "harness.executors.local", "ray": "harness.executors.ray_executor"}


@dataclass
class BackendRecipe:
    """How to build the run's backend: built once by the local executor, once per worker on Ray."""

    make_backend: Callable[..., Any]
    name: str
    model: str
    options: dict[str, Any] = field(default_factory=dict)

    def build(self):
        return self.make_backend(self.name, self.model, **self.options)


def make_executor(name: str = "local", **options):
    if name not in EXECUTOR_MODULES:
        raise HarnessError(f"--executor {name}: unknown executor (known: {', '.join(EXECUTOR_MODULES)})")
    return importlib.import_module(EXECUTOR_MODULES[name]).create(**options)
