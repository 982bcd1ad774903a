"""What runs inside Ray workers: one backend, or one set of graders, per actor process.

The classes are plain Python; the driver wraps them with `ray.remote` and chooses their resources.
Their work methods are generators: the driver receives each result as soon as it exists, so a
worker that dies loses only what it had not yet yielded.
"""
from __future__ import annotations

import fcntl
import json
import os
import platform
from typing import Any, Iterator, Sequence

from harness.backends.base import Request, Sampling


def worker_info() -> dict[str, Any]:
    import ray

    import harness
    from harness.manifest import git_commit

    return {"pid": os.getpid(), "node_ip": ray.util.get_node_ip_address(), "hostname": platform.node(),
            "node_id": ray.get_runtime_context().get_node_id(), "gpus": [str(g) for g in ray.get_gpu_ids()],
            "harness": harness.__version__, "git_commit": git_commit()}


class GenerationWorker:
    """Holds one backend (an hf model, a vLLM engine on this worker's GPUs, or a client)."""

    def __init__(self, recipe):
        self.recipe = recipe
        self.backend = None

    def _backend(self):
        if self.backend is None:  # built lazily so a load error reaches the driver as a task error
            self.backend = self.recipe.build()
        return self.backend

    def info(self) -> dict[str, Any]:
        return worker_info() | {"backend": self._backend().describe()}

    def describe_backend(self) -> dict[str, Any]:
        return self._backend().describe()

    def generate(self, calls: Sequence[Sequence[Request]], sampling: Sampling,
                 skip: set[tuple[str, str, int]] = frozenset()) -> Iterator[dict[str, Any]]:
        """One backend call per element of `calls`; samples in `skip` are already written elsewhere."""
        backend = self._backend()
        for requests in calls:
            for generation in backend.generate(list(requests), sampling):
                if (generation.suite, generation.problem_id, generation.sample) not in skip:
                    yield generation.as_record()


class GradingWorker:
    """Grades shards with the suites' graders; code suites get this node's sandbox image and pool."""

    def __init__(self, processes: int):
        self.processes = processes
        self.graders: dict[str, Any] = {}
        self.sandbox: str | None = None

    def info(self) -> dict[str, Any]:
        return worker_info() | ({"sandbox_image": self.sandbox} if self.sandbox else {})

    def _grader(self, suite, options: dict[str, Any]):
        key = f"{suite.name}:{json.dumps(options, sort_keys=True, default=str)}"
        if key not in self.graders:
            if suite.kind == "code" and options.get("sandbox") != "local":
                self.sandbox = ensure_sandbox_image()
            self.graders[key] = suite.grader(options)
        return self.graders[key]

    def grade(self, suite, options: dict[str, Any], timeout: float | None, generations: list[dict[str, Any]],
              references: dict[str, Any]) -> Iterator[dict[str, Any]]:
        from harness.grading import grade_stream
        from harness.grading import grade_record, graded_text

        grader = self._grader(suite, options)
        items = [(g, graded_text(g), references[g["problem_id"]]) for g in generations]
        for generation, verdict in grade_stream(grader, items, timeout, workers=self.processes):
            yield grade_record(generation, verdict, options)


def ensure_sandbox_image() -> str:
    """Find the sandbox image (or bwrap root) on this node, building it once if it is missing.

    Several workers of one node may get here together: a file lock makes one build and the others
    wait for it and reuse it.
    """
    from sandbox import docker_answers
    from sandbox.image import CURRENT, build, cache_root, rootfs_dir

    docker = docker_answers()
    if rootfs_dir() is not None and (not docker or _docker_has(CURRENT)):
        return CURRENT if docker else str(rootfs_dir())
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        info = build(docker=docker, log=lambda line: None)
    return info.get("image") or info["rootfs"]


def _docker_has(image: str) -> bool:
    from sandbox.docker_client import client

    try:
        client(timeout=10).images.get(image)
        return True
    except Exception:
        return False
