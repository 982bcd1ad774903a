"""A pool of Ray actors working through a queue of shards, with the driver as the only writer.

Each shard is one streaming call on one actor; every result it yields is appended to the shard's
file as it arrives. An actor that dies has the rest of its shard put back at the front of the
queue and is replaced by a fresh one. Hand-written rather than ray.util.ActorPool because resume
needs per-item bookkeeping (what each shard has already written) that ActorPool hides.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from harness.errors import HarnessError
from harness.executors.shards import Key, Shard, ShardStore, item_key
from harness.progress import progress
from harness.rundir import JsonlWriter

MAX_ATTEMPTS = 3  # a shard that kills this many workers is a bug or an OOM, not bad luck


@dataclass
class Slot:
    """One worker position in the pool; its actor is replaced when it dies."""

    index: int
    actor: Any
    info_ref: Any
    info: dict[str, Any] | None = None
    replaced: int = 0

    @property
    def pid(self) -> int | None:
        return (self.info or {}).get("pid")


@dataclass
class StageReport:
    """What the manifest records about one stage run on the pool."""

    shards: int = 0
    samples: int = 0
    seconds: float = 0.0
    worker_deaths: list[dict[str, Any]] = field(default_factory=list)
    workers: list[dict[str, Any]] = field(default_factory=list)


class ActorPool:
    def __init__(self, make_actor: Callable[[], Any], size: int, log: Callable[[str], None]):
        self.make_actor, self.log = make_actor, log
        self.slots = [self._slot(index) for index in range(size)]

    def _slot(self, index: int) -> Slot:
        actor = self.make_actor()
        return Slot(index, actor, actor.info.remote())

    def start(self) -> list[dict[str, Any]]:
        """Wait until every worker is ready (e.g. model loaded); a load error is the run's error."""
        for slot in self.slots:
            slot.info = get(slot.info_ref, f"ray worker {slot.index}")
        ours = self.slots[0].info["harness"]
        for slot in self.slots:
            if slot.info["harness"] != ours:
                raise HarnessError(f"ray worker on {slot.info['node_ip']} runs ssp-harness {slot.info['harness']}, "
                                   f"the driver {ours}: install the same version on every node")
        return [slot.info for slot in self.slots]

    def run(self, stage: str, store: ShardStore, shards: list[Shard], submit: Callable[[Any, Shard], Any],
            report: StageReport) -> None:
        """Every shard done, its results in its file; `submit(actor, shard)` starts a streaming call."""
        import ray

        self.store, self.report, self.submit = store, report, submit
        self.queue, self.idle = deque(shards), list(reversed(self.slots))
        self.running: dict[Any, tuple[Slot, Shard]] = {}
        self.writers: dict[str, JsonlWriter] = {}
        self.finished: set[Key] = set()
        self.attempts: dict[str, int] = {}
        self.events = store.events()
        started, total = time.perf_counter(), len(shards)
        try:
            with progress(sum(map(len, shards)), f"{stage} on ray") as bar:
                bar.set_postfix_str(f"shards 0/{total}")
                while self.queue or self.running:
                    self._assign()
                    [stream], _ = ray.wait(list(self.running), num_returns=1)
                    if self._receive(stream, bar):
                        bar.set_postfix_str(f"shards {total - len(self.queue) - len(self.running)}/{total}")
            report.workers += [self._final_info(slot) for slot in self.slots]
        finally:
            self._stop()
        seconds = time.perf_counter() - started
        report.shards += total
        report.samples += len(self.finished)
        report.seconds += round(seconds, 3)
        self.log(f"ray: {stage}: {len(self.finished)} samples in {total} shards, "
                 f"{len(self.finished) / max(seconds, 1e-9):.2f} samples/s")

    def _assign(self) -> None:
        while self.queue and self.idle:
            slot, shard = self.idle.pop(), self.queue.popleft()
            self.writers[shard.name] = self.store.writer(shard)
            self.running[self.submit(slot.actor, shard)] = (slot, shard)
            self.events.write({"event": "assign", "shard": shard.name, "worker": slot.index, "pid": slot.pid,
                               "items": len(shard), "time": time.time()})

    def _receive(self, stream, bar) -> bool:
        """Take the stream's next result; True when its shard ended (done, or re-queued)."""
        import ray
        from ray.exceptions import RayActorError, RayTaskError, WorkerCrashedError

        slot, shard = self.running[stream]
        try:
            record = ray.get(next(stream))
        except StopIteration:
            self._shard_done(stream, slot, shard)
            return True
        except (RayActorError, WorkerCrashedError) as exc:
            self._worker_died(stream, slot, shard, exc)
            return True
        except RayTaskError as exc:
            raise HarnessError(task_error(exc, f"ray worker {slot.index}")) from None
        self.writers[shard.name].write(record)
        self.finished.add(item_key(record))
        bar.update(1)
        return False

    def _shard_done(self, stream, slot: Slot, shard: Shard) -> None:
        del self.running[stream]
        self.writers.pop(shard.name).close()
        if len(shard.without(self.finished)):
            raise HarnessError(f"ray worker {slot.index} ended {shard.name} without finishing it")
        self.events.write({"event": "done", "shard": shard.name, "worker": slot.index, "time": time.time()})
        self.idle.append(slot)

    def _worker_died(self, stream, slot: Slot, shard: Shard, exc: Exception) -> None:
        del self.running[stream]
        self.writers.pop(shard.name).close()
        left = shard.without(self.finished)
        self.attempts[shard.name] = self.attempts.get(shard.name, 0) + 1
        death = {"shard": shard.name, "worker": slot.index, "pid": slot.pid, "unfinished": len(left),
                 "error": str(exc).splitlines()[0][:200]}
        self.report.worker_deaths.append(death)
        self.events.write({"event": "worker_died", **death, "time": time.time()})
        self.log(f"ray: worker {slot.index} (pid {slot.pid}) died during {shard.name}; "
                 f"re-queued its {len(left)} unfinished samples")
        if self.attempts[shard.name] >= MAX_ATTEMPTS:
            raise HarnessError(f"ray: {shard.name} killed {MAX_ATTEMPTS} workers; last: {death['error']}")
        self.queue.appendleft(left)
        replacement = self._slot(slot.index)
        replacement.replaced = slot.replaced + 1
        self.slots[self.slots.index(slot)] = replacement
        self.idle.append(replacement)

    def _final_info(self, slot: Slot) -> dict[str, Any]:
        info = slot.info or get(slot.info_ref, f"ray worker {slot.index}", quiet=True) or {}
        return {k: v for k, v in info.items() if k != "backend"} | {"worker": slot.index, "replaced": slot.replaced}

    def _stop(self) -> None:
        import ray

        for writer in self.writers.values():
            writer.close()
        self.events.close()
        for slot in self.slots:
            ray.kill(slot.actor)


def get(ref, who: str, quiet: bool = False):
    """ray.get with worker failures as one-line HarnessErrors (or None when `quiet`)."""
    import ray

    try:
        return ray.get(ref, timeout=60 if quiet else None)
    except Exception as exc:
        if quiet:
            return None
        if isinstance(exc, ray.exceptions.RayTaskError):
            raise HarnessError(task_error(exc, who)) from None
        raise HarnessError(f"{who} failed to start: {str(exc).splitlines()[0]}") from None


def task_error(exc, who: str) -> str:
    cause = getattr(exc, "cause", None)
    if isinstance(cause, HarnessError):
        return str(cause)
    detail = f"{type(cause).__name__}: {cause}" if cause is not None else str(exc).splitlines()[0]
    return f"{who}: {detail}"
