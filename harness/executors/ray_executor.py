"""`ray` executor: shards of (problem x sample) work over a pool of Ray actors.

Each generation actor holds one backend, each grading actor one set of graders (and, for code,
its node's sandbox pool). The driver is the only writer: results stream back from the actors
(Ray streaming generators) and are appended to RUN_DIR/shards/<stage>-<suite>-<index>.jsonl as
they arrive, so the run directory can live on the driver's disk alone. A worker that dies has
its shard's unfinished items re-queued to a fresh actor; a driver that dies leaves the shard
files, and the next run of the same command starts from them. When every shard is done the
results are assembled into generations.jsonl / grades.jsonl in canonical order (shards.py).
"""
from __future__ import annotations

import logging
import math
import os
import time
from typing import Any, Callable

from harness.backends import backend_info
from harness.errors import HarnessError
from harness.executors import BackendRecipe
from harness.executors.local import GenerationWork, GradingWork
from harness.executors.ray_pool import ActorPool, StageReport
from harness.executors.shards import (GENERATIONS_STAGE, GRADES_STAGE, Key, Shard, ShardStore, cut_shards,
                                      generation_units, item_key, sampling_groups)
from harness.rundir import LinesAt, RunDir, iter_jsonl_offsets, sample_key

DEFAULT_GRADE_SHARD = 256  # each grading shard starts a fresh local process pool on its worker: keep them few
FORWARDED_ENV = ("HF_HUB_OFFLINE", "HF_HOME", "HF_ENDPOINT", "SSP_HARNESS_CACHE", "SSP_HARNESS_SANDBOX_DIR",
                 "SSP_SANDBOX_WORKERS", "VLLM_USE_V1", "OPENAI_BASE_URL", "OPENAI_API_KEY")


class RayExecutor:
    name = "ray"

    def __init__(self, address: str | None = None, num_workers: int = 2, cpus_per_worker: float = 1.0,
                 gpus_per_worker: float = 0.0, shard_size: int | None = None, log: Callable[[str], None] = print):
        if num_workers < 1:
            raise HarnessError(f"--ray-num-workers {num_workers}: must be >= 1")
        if cpus_per_worker <= 0 or gpus_per_worker < 0:
            raise HarnessError("--ray-cpus-per-worker must be > 0 and --ray-gpus-per-worker >= 0")
        if shard_size is not None and shard_size < 1:
            raise HarnessError(f"--ray-shard-size {shard_size}: must be >= 1")
        self.address, self.num_workers, self.shard_size = address, num_workers, shard_size
        self.cpus, self.gpus, self.log = cpus_per_worker, gpus_per_worker, log
        self.started_cluster = False
        self.cluster: dict[str, Any] = {}
        self.stages: dict[str, StageReport] = {}

    # ------------------------------------------------------------------ cluster

    def connect(self) -> None:
        import ray

        if ray.is_initialized():
            return
        kwargs = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
        started = time.perf_counter()
        if self.address:
            check_reachable(self.address)  # ray.init retries an unreachable head for minutes
        try:
            if self.address:
                ray.init(address=self.address, **kwargs)
            else:  # our own cluster ("local": never join one `ray start` left here), sized for the pool
                ray.init(address="local", num_cpus=max(os.cpu_count() or 1, math.ceil(self.num_workers * self.cpus)),
                         object_store_memory=512 << 20, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            hint = ("; a cluster with token authentication (the default of `ray start` since Ray 2.59) also needs "
                    "RAY_AUTH_MODE=token and its token (RAY_AUTH_TOKEN or ~/.ray/auth_token) here") if self.address else ""
            raise HarnessError(f"--ray-address {self.address}: cannot connect ({str(exc).splitlines()[0]}){hint}") from None
        self.started_cluster = True
        resources = ray.cluster_resources()
        self.cluster = {"address": self.address or "local", "nodes": len([n for n in ray.nodes() if n["Alive"]]),
                        "CPU": resources.get("CPU", 0), "GPU": resources.get("GPU", 0)}
        self.log(f"ray: {'connected to ' + self.address if self.address else 'started a local cluster'} "
                 f"({self.cluster['nodes']} node(s), {self.cluster['CPU']:g} CPU, {self.cluster['GPU']:g} GPU) "
                 f"in {time.perf_counter() - started:.1f} s")

    def close(self) -> None:
        if self.started_cluster:
            import ray

            ray.shutdown()
            self.started_cluster = False

    def __enter__(self) -> "RayExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "cluster": self.cluster, "num_workers": self.num_workers,
                "cpus_per_worker": self.cpus, "gpus_per_worker": self.gpus, "shard_size": self.shard_size,
                "stages": {stage: vars(report) for stage, report in self.stages.items()}}

    # ------------------------------------------------------------------ generation

    def generate(self, run: RunDir, work: GenerationWork, recipe: BackendRecipe,
                 record_backend: Callable[[dict[str, Any]], None]) -> None:
        self._check_resources(recipe)
        store = ShardStore(run)
        in_shards = set(store.records(GENERATIONS_STAGE))
        info = backend_info(recipe.name)
        size = self.shard_size or info.unit_size(recipe.options) or info.default_shard_size
        shards, sampling, order = [], {}, []
        for group in sampling_groups(work):
            units = generation_units(group.requests(), info, recipe.options)
            wanted = {item_key(r) for r in group.pending}
            shards += cut_shards(GENERATIONS_STAGE, group.name, units, size, wanted - in_shards)
            sampling[group.name] = group.sampling
            # the order a local run writes: the backend's own (units are cut in it)
            order += [item_key(r) for unit in units for r in unit if item_key(r) in wanted]
        if shards:
            self.log(f"ray: {len(in_shards & set(order))} samples already in {store.path}; "
                     f"{sum(map(len, shards))} to generate in {len(shards)} shards")
            self.connect()
            from harness.executors.ray_workers import GenerationWorker

            whole_batches = info.shard_unit == "batch"

            def submit(actor, shard: Shard):
                # hf seeds a batch with its first request's seed: one call per whole batch, even a batch
                # a dead worker had half written (its finished samples are regenerated and dropped)
                calls = [list(unit) for unit in shard.started_units] if whole_batches else [shard.items]
                return actor.generate.options(num_returns="streaming").remote(calls, sampling[shard.suite],
                                                                             set(shard.done))

            pool = self._pool(GenerationWorker, (recipe,), {"num_gpus": self.gpus}, len(shards))
            record_backend(pool.start()[0]["backend"])
            pool.run(GENERATIONS_STAGE, store, shards, submit, self._report(GENERATIONS_STAGE))
        self._assemble(store, GENERATIONS_STAGE, order)

    def _check_resources(self, recipe: BackendRecipe) -> None:
        needed = backend_info(recipe.name).gpus_needed(recipe.options)
        if self.gpus < needed:
            raise HarnessError(f"--ray-gpus-per-worker {self.gpus:g}: --backend {recipe.name} needs at least "
                               f"{needed} GPU(s) per worker")

    # ------------------------------------------------------------------ grading

    def grade(self, run: RunDir, work: GradingWork) -> None:
        store = ShardStore(run)
        in_shards = set(store.records(GRADES_STAGE))
        located = generation_spans(run, {plan.suite.name for plan, _ in work})
        shards, plans = [], {}
        for plan, todo in work:
            name = plan.suite.name
            units = [[item] for item in located[name]]
            shards += cut_shards(GRADES_STAGE, name, units, self.shard_size or DEFAULT_GRADE_SHARD,
                                 {sample_key(g) for g in todo} - in_shards)
            plans[name] = plan
        order = [sample_key(g) for _, todo in work for g in todo]
        if shards:
            self.log(f"ray: {len(in_shards & set(order))} grades already in {store.path}; "
                     f"{sum(map(len, shards))} to grade in {len(shards)} shards")
            self.connect()
            from harness.executors.ray_workers import GradingWorker

            def submit(actor, shard: Shard):
                plan = plans[shard.suite]
                problems = plan.by_id
                # the responses are read now, for this shard only: the driver never holds the run's
                generations = [_slim(g) for g in LinesAt(run.generations_path, [(i["offset"], i["length"])
                                                                                for i in shard.items])]
                references = {g["problem_id"]: problems[g["problem_id"]].answer for g in generations}
                return actor.grade.options(num_returns="streaming").remote(
                    plan.suite, plan.options, plan.suite.verdict_timeout, generations, references)

            processes = max(1, int(self.cpus))
            pool = self._pool(GradingWorker, (processes,), {}, len(shards))
            pool.start()
            pool.run(GRADES_STAGE, store, shards, submit, self._report(GRADES_STAGE))
        self._assemble(store, GRADES_STAGE, order)

    # ------------------------------------------------------------------ the pool

    def _pool(self, cls, args: tuple, resources: dict[str, Any], shards: int) -> ActorPool:
        import ray

        def make_actor():
            return ray.remote(cls).options(num_cpus=self.cpus, max_restarts=0, max_task_retries=0,
                                           runtime_env={"env_vars": self._worker_env()}, **resources).remote(*args)

        return ActorPool(make_actor, min(self.num_workers, shards), self.log)

    def _worker_env(self) -> dict[str, str]:
        """The driver's settings that workers on other nodes need too (cache dirs, offline mode, keys)."""
        env = {name: os.environ[name] for name in FORWARDED_ENV if name in os.environ}
        env.setdefault("SSP_SANDBOX_WORKERS", str(max(1, int(self.cpus))))  # one sandbox run per CPU of the worker
        return env | {"HARNESS_PROGRESS": "off"}

    def _report(self, stage: str) -> StageReport:
        return self.stages.setdefault(stage, StageReport())

    def _assemble(self, store: ShardStore, stage: str, order: list[Key]) -> None:
        store.assemble(stage, order)
        present = {sample_key(r) for r in store.run.records(f"{stage}.jsonl")}
        missing = [key for key in order if key not in present]
        if missing:
            raise HarnessError(f"{store.path}: {len(missing)} {stage} missing after assembly, e.g. {missing[0]}; "
                               "re-run the command to finish them")


def check_reachable(address: str, timeout: float = 10.0) -> None:
    """host:port (or ray://host:port) must accept a TCP connection; `auto` is left to Ray."""
    import socket

    target = address.split("://", 1)[-1]
    host, _, port = target.rpartition(":")
    if address == "auto" or not host or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise HarnessError(f"--ray-address {address}: no Ray head answers there ({exc.strerror or exc}); "
                           "start one with `ray start --head` or omit the flag for a local cluster") from None


def generation_spans(run: RunDir, suites: set[str]) -> dict[str, list[dict[str, Any]]]:
    """Each suite's generations in file order as (key fields, byte offset, length): one streaming
    pass, no response kept, so shards of a 2.5 GB run cost a few MB on the driver."""
    located: dict[str, list[dict[str, Any]]] = {name: [] for name in suites}
    for _, offset, length, record in iter_jsonl_offsets(run.generations_path):
        if record.get("suite") in located:
            located[record["suite"]].append({"suite": record["suite"], "problem_id": record["problem_id"],
                                             "sample": record["sample"], "offset": offset, "length": length})
    return located


def _slim(generation: dict[str, Any]) -> dict[str, Any]:
    """What a grader needs of a generation (keeps shard payloads small)."""
    return {key: generation[key] for key in ("suite", "problem_id", "sample", "response", "reasoning")
            if key in generation}


def create(address: str | None = None, num_workers: int = 2, cpus_per_worker: float = 1.0,
           gpus_per_worker: float = 0.0, shard_size: int | None = None) -> RayExecutor:
    try:
        import ray  # noqa: F401
    except ImportError:
        raise HarnessError("--executor ray: Ray is not installed; run `pip install 'ssp-harness[ray]'`") from None
    return RayExecutor(address, num_workers, cpus_per_worker, gpus_per_worker, shard_size)
