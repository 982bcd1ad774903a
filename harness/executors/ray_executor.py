"""`ray` executor: shards of (problem x sample) work over a pool of Ray actors.

Each generation actor holds one backend, each grading actor one set of graders (and, for code,
its node's sandbox pool). The driver is the only writer: results stream back from the actors
(Ray streaming generators) and are appended to RUN_DIR/shards/<stage>-<suite>-<index>.jsonl as
they arrive, so the run directory can live on the driver's disk alone. A worker that dies has
its shard's unfinished items re-queued to a fresh actor; a driver that dies leaves the shard
files, and the next run of the same command starts from them. When every shard is done the
results are assembled into generations.jsonl / grades.jsonl in canonical order (shards.py).

Written here rather than with Ray Data / ray.util.ActorPool because resume needs per-item
bookkeeping (what each shard has already written) that those hide.
"""
from __future__ import annotations

import logging
import math
import os
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from harness.errors import HarnessError
from harness.executors import BackendRecipe
from harness.executors.local import GenerationWork, GradingWork
from harness.executors.shards import (GENERATIONS_STAGE, GRADES_STAGE, Key, Shard, ShardStore, cut_shards,
                                      generation_units, item_key)
from harness.progress import progress
from harness.rundir import JsonlWriter, RunDir, sample_key

DEFAULT_GRADE_SHARD = 256  # each grading shard starts a fresh local process pool on its worker: keep them few
DEFAULT_GENERATE_SHARD = {"vllm": 512, "openai": 64}  # hf: one batch per shard
MAX_ATTEMPTS = 3  # a shard that kills this many workers is a bug or an OOM, not bad luck
FORWARDED_ENV = ("HF_HUB_OFFLINE", "HF_HOME", "HF_ENDPOINT", "SSP_HARNESS_CACHE", "SSP_HARNESS_SANDBOX_DIR",
                 "SSP_SANDBOX_WORKERS", "VLLM_USE_V1", "OPENAI_BASE_URL", "OPENAI_API_KEY")


@dataclass
class Slot:
    """One worker position in the pool; its actor is replaced when it dies."""

    index: int
    actor: Any
    info_ref: Any
    info: dict[str, Any] | None = None
    replaced: int = 0


@dataclass
class StageReport:
    shards: int = 0
    samples: int = 0
    seconds: float = 0.0
    worker_deaths: list[dict[str, Any]] = field(default_factory=list)
    workers: list[dict[str, Any]] = field(default_factory=list)


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
        size = self.shard_size or DEFAULT_GENERATE_SHARD.get(recipe.name) or recipe.options.get("batch_size") or 16
        shards, sampling = [], {}
        for plan, pending in work:
            units = generation_units(plan.requests(), recipe.name, recipe.options.get("batch_size"))
            shards += cut_shards(GENERATIONS_STAGE, plan.suite.name, units, size,
                                 {item_key(r) for r in pending} - in_shards)
            sampling[plan.suite.name] = plan.sampling
        order = [item_key(r) for _, pending in work for r in pending]
        if shards:
            self.log(f"ray: {len(in_shards & set(order))} samples already in {store.path}; "
                     f"{sum(map(len, shards))} to generate in {len(shards)} shards")
            self.connect()
            from harness.executors.ray_workers import GenerationWorker

            whole_batches = recipe.name == "hf"

            def submit(actor, shard: Shard):
                # hf seeds a batch with its first request's seed: one call per whole batch, even a batch
                # a dead worker had half written (its finished samples are regenerated and dropped)
                calls = [list(unit) for unit in shard.started_units] if whole_batches else [shard.items]
                return actor.generate.options(num_returns="streaming").remote(calls, sampling[shard.suite],
                                                                             set(shard.done))

            pool = self._pool(GenerationWorker, (recipe,), {"num_gpus": self.gpus}, len(shards))
            record_backend(self._start(pool)[0]["backend"])
            self._run(GENERATIONS_STAGE, store, shards, pool, submit,
                      lambda: self._new_slot(GenerationWorker, (recipe,), {"num_gpus": self.gpus}))
        self._assemble(store, GENERATIONS_STAGE, order)

    def _check_resources(self, recipe: BackendRecipe) -> None:
        if recipe.name == "vllm":
            needed = recipe.options.get("tensor_parallel_size") or 1
            if self.gpus < needed:
                raise HarnessError(f"--ray-gpus-per-worker {self.gpus:g}: --backend vllm needs at least "
                                   f"{needed} GPU(s) per worker (its --tensor-parallel-size)")

    # ------------------------------------------------------------------ grading

    def grade(self, run: RunDir, work: GradingWork) -> None:
        store = ShardStore(run)
        in_shards = set(store.records(GRADES_STAGE))
        generations = run.generations()
        shards, plans = [], {}
        for plan, todo in work:
            name = plan.suite.name
            units = [[_slim(g)] for g in generations if g["suite"] == name]
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
                references = {g["problem_id"]: problems[g["problem_id"]].answer for g in shard.items}
                return actor.grade.options(num_returns="streaming").remote(
                    plan.suite, plan.options, plan.suite.verdict_timeout, shard.items, references)

            processes = max(1, int(self.cpus))
            pool = self._pool(GradingWorker, (processes,), {}, len(shards))
            self._start(pool)
            self._run(GRADES_STAGE, store, shards, pool, submit,
                      lambda: self._new_slot(GradingWorker, (processes,), {}))
        self._assemble(store, GRADES_STAGE, order)

    # ------------------------------------------------------------------ the pool

    def _new_slot(self, cls, args: tuple, resources: dict[str, Any], index: int = 0) -> Slot:
        import ray

        actor = ray.remote(cls).options(num_cpus=self.cpus, max_restarts=0, max_task_retries=0,
                                        runtime_env={"env_vars": self._worker_env()}, **resources).remote(*args)
        return Slot(index, actor, actor.info.remote())

    def _worker_env(self) -> dict[str, str]:
        """The driver's settings that workers on other nodes need too (cache dirs, offline mode, keys)."""
        env = {name: os.environ[name] for name in FORWARDED_ENV if name in os.environ}
        env.setdefault("SSP_SANDBOX_WORKERS", str(max(1, int(self.cpus))))  # one sandbox run per CPU of the worker
        return env | {"HARNESS_PROGRESS": "off"}

    def _pool(self, cls, args: tuple, resources: dict[str, Any], shards: int) -> list[Slot]:
        return [self._new_slot(cls, args, resources, index) for index in range(min(self.num_workers, shards))]

    def _start(self, pool: list[Slot]) -> list[dict[str, Any]]:
        """Wait until every worker is ready (model loaded); a load error is the run's error."""
        for slot in pool:
            slot.info = _get(slot.info_ref, f"ray worker {slot.index}")
        ours = (pool[0].info["harness"], pool[0].info["git_commit"])
        for slot in pool:
            if slot.info["harness"] != ours[0]:
                raise HarnessError(f"ray worker on {slot.info['node_ip']} runs ssp-harness {slot.info['harness']}, "
                                   f"the driver {ours[0]}: install the same version on every node")
        return [slot.info for slot in pool]

    def _run(self, stage: str, store: ShardStore, shards: list[Shard], pool: list[Slot], submit,
             new_slot: Callable[[], Slot]) -> None:
        import ray
        from ray.exceptions import RayActorError, WorkerCrashedError

        report = self.stages.setdefault(stage, StageReport())
        queue, idle = deque(shards), list(reversed(pool))
        running: dict[Any, tuple[Slot, Shard]] = {}
        writers: dict[str, JsonlWriter] = {}
        finished: set[Key] = set()
        attempts: dict[str, int] = {}
        events = JsonlWriter(_mkdir(store.path) / "events.jsonl")
        started, total, done = time.perf_counter(), len(shards), 0
        with progress(sum(map(len, shards)), f"{stage} on ray") as bar:
            try:
                bar.set_postfix_str(f"shards 0/{total}")
                while queue or running:
                    while queue and idle:
                        slot, shard = idle.pop(), queue.popleft()
                        writers[shard.name] = store.writer(shard)
                        running[submit(slot.actor, shard)] = (slot, shard)
                        events.write({"event": "assign", "shard": shard.name, "worker": slot.index,
                                      "pid": (slot.info or {}).get("pid"), "items": len(shard), "time": time.time()})
                    [stream], _ = ray.wait(list(running), num_returns=1)
                    slot, shard = running[stream]
                    try:
                        record = ray.get(next(stream))
                    except StopIteration:
                        del running[stream]
                        writers.pop(shard.name).close()
                        if len(shard.without(finished)):
                            raise HarnessError(f"ray worker {slot.index} ended {shard.name} without finishing it")
                        done += 1
                        bar.set_postfix_str(f"shards {done}/{total}")
                        events.write({"event": "done", "shard": shard.name, "worker": slot.index, "time": time.time()})
                        idle.append(slot)
                        continue
                    except (RayActorError, WorkerCrashedError) as exc:
                        del running[stream]
                        writers.pop(shard.name).close()
                        left = shard.without(finished)
                        attempts[shard.name] = attempts.get(shard.name, 0) + 1
                        death = {"shard": shard.name, "worker": slot.index, "pid": (slot.info or {}).get("pid"),
                                 "unfinished": len(left), "error": str(exc).splitlines()[0][:200]}
                        report.worker_deaths.append(death)
                        events.write({"event": "worker_died", **death, "time": time.time()})
                        self.log(f"ray: worker {slot.index} (pid {death['pid']}) died during {shard.name}; "
                                 f"re-queued its {len(left)} unfinished samples")
                        if attempts[shard.name] >= MAX_ATTEMPTS:
                            raise HarnessError(f"ray: {shard.name} killed {MAX_ATTEMPTS} workers; last: {death['error']}")
                        queue.appendleft(left)
                        replacement = new_slot()
                        replacement.index, replacement.replaced = slot.index, slot.replaced + 1
                        idle.append(replacement)
                        continue
                    except ray.exceptions.RayTaskError as exc:
                        raise HarnessError(_task_error(exc, f"ray worker {slot.index}")) from None
                    writers[shard.name].write(record)
                    finished.add(item_key(record))
                    bar.update(1)
                live = {id(slot): slot for slot, _ in running.values()} | {id(slot): slot for slot in idle}
                report.workers += [self._final_info(slot) for slot in live.values()]
            finally:
                for writer in writers.values():
                    writer.close()
                events.close()
                for slot in [s for s, _ in running.values()] + idle:
                    ray.kill(slot.actor)
        report.shards += total
        report.samples += len(finished)
        report.seconds += round(time.perf_counter() - started, 3)
        self.log(f"ray: {stage}: {len(finished)} samples in {total} shards, "
                 f"{len(finished) / max(time.perf_counter() - started, 1e-9):.2f} samples/s")

    def _final_info(self, slot: Slot) -> dict[str, Any]:
        info = slot.info or _get(slot.info_ref, f"ray worker {slot.index}", quiet=True) or {}
        return {k: v for k, v in info.items() if k != "backend"} | {"worker": slot.index, "replaced": slot.replaced}

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


def _slim(generation: dict[str, Any]) -> dict[str, Any]:
    """What a grader needs of a generation (keeps shard payloads small)."""
    return {key: generation[key] for key in ("suite", "problem_id", "sample", "response")}


def _mkdir(path):
    path.mkdir(parents=True, exist_ok=True)
    return path


def _get(ref, who: str, quiet: bool = False):
    import ray

    try:
        return ray.get(ref, timeout=60 if quiet else None)
    except ray.exceptions.RayTaskError as exc:
        if quiet:
            return None
        raise HarnessError(_task_error(exc, who)) from None
    except Exception as exc:
        if quiet:
            return None
        raise HarnessError(f"{who} failed to start: {str(exc).splitlines()[0]}") from None


def _task_error(exc, who: str) -> str:
    cause = getattr(exc, "cause", None)
    if isinstance(cause, HarnessError):
        return str(cause)
    detail = f"{type(cause).__name__}: {cause}" if cause is not None else str(exc).splitlines()[0]
    return f"{who}: {detail}"


def create(address: str | None = None, num_workers: int = 2, cpus_per_worker: float = 1.0,
           gpus_per_worker: float = 0.0, shard_size: int | None = None) -> RayExecutor:
    try:
        import ray  # noqa: F401
    except ImportError:
        raise HarnessError("--executor ray: Ray is not installed; run `pip install 'ssp-harness[ray]'`") from None
    return RayExecutor(address, num_workers, cpus_per_worker, gpus_per_worker, shard_size)
