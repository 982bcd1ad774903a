"""Shards: the pieces of a run that distributed workers take, and their files under RUN_DIR/shards/.

A shard is a run of whole *units* cut from a canonical work list (for generation, all problems x
samples of the suites that sample alike, a `SamplingGroup`; for grading, a suite's generations in
the file's order). Units exist because of seeding: the hf
backend seeds each batch with the seed of its first request, and vllm/openai send the samples of
one problem as one seeded request; a shard made of whole units therefore generates exactly what
the same requests generate in a local run. Shards are cut from the full list, not from what is
pending, so the cut does not move when a run resumes.

The shard files are the source of truth while a run is distributed: one flushed JSON line per
result, written by the driver as results arrive. Assembly appends them to generations.jsonl /
grades.jsonl in canonical order (so a fresh distributed run is line-for-line a local run); shard
files are deleted only once everything in them is in the main file.
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from harness.backends.base import BackendInfo, Request, group_by_problem
from harness.rundir import JsonlWriter, RunDir, iter_jsonl, cut_partial_last_line, sample_key

SHARDS_DIR = "shards"
GENERATIONS_STAGE, GRADES_STAGE = "generations", "grades"  # also the main files' stems

Key = tuple[str, str, int]


def item_key(item: Request | dict[str, Any]) -> Key:
    """The sample a work item (a Request) or a result (a generation or grade record) is about."""
    return sample_key(item) if isinstance(item, dict) else (item.suite, item.problem_id, item.sample)


@dataclass(frozen=True)
class Shard:
    stage: str
    suite: str
    index: int  # position in the suite's full cut: stable across resumes
    units: tuple[tuple[Any, ...], ...]  # whole units, as cut
    done: frozenset[Key] = frozenset()  # items already written (by an earlier session or a dead worker)

    @property
    def name(self) -> str:
        return f"{self.stage}-{self.suite}-{self.index:05d}"

    @property
    def pending_units(self) -> list[tuple[Any, ...]]:
        return [kept for unit in self.units if (kept := tuple(i for i in unit if item_key(i) not in self.done))]

    @property
    def items(self) -> list[Any]:
        """What is still to do."""
        return [item for unit in self.pending_units for item in unit]

    @property
    def started_units(self) -> list[tuple[Any, ...]]:
        """Whole units that still hold pending items (an hf batch is regenerated whole to keep its seed)."""
        return [unit for unit in self.units if any(item_key(i) not in self.done for i in unit)]

    def __len__(self) -> int:
        return len(self.items)

    def without(self, done: set[Key]) -> "Shard":
        """The same shard minus finished items (what a re-queued shard still has to do)."""
        mine = {item_key(i) for unit in self.units for i in unit}
        return dataclasses.replace(self, done=self.done | (mine & done))


@dataclass(frozen=True)
class SamplingGroup:
    """Suites of a run that sample alike (same sampling and prompt controls): generated as one request
    list, so a batch may hold samples of several suites (two suites of 10 samples are one hf batch,
    not two, and a batch's tail of long samples is paid once)."""

    name: str  # the suites joined by "+": names shard files
    sampling: Any
    plans: tuple[Any, ...]
    pending: tuple[Request, ...]

    def requests(self) -> list[Request]:
        """Every request of the group's suites (the full list shards are cut from)."""
        return [request for plan in self.plans for request in plan.requests()]


def sampling_groups(work: Sequence[tuple[Any, Sequence[Request]]]) -> list[SamplingGroup]:
    """(suite plan, pending requests) pairs -> groups of plans with equal (sampling, prompt controls), in first-seen order."""
    grouped: dict[Any, list[tuple[Any, Sequence[Request]]]] = {}
    for plan, pending in work:
        controls = json.dumps(plan.controls.identity(), sort_keys=True, default=str)  # holds a dict: not hashable
        grouped.setdefault((plan.sampling, controls), []).append((plan, pending))
    return [SamplingGroup("+".join(plan.suite.name for plan, _ in members), members[0][0].sampling,
                          tuple(plan for plan, _ in members), tuple(r for _, pending in members for r in pending))
            for members in grouped.values()]


def generation_units(requests: Sequence[Request], info: BackendInfo, options: dict[str, Any]) -> list[list[Request]]:
    """The backend's declared unit: its batches (consecutive requests in the backend's own order,
    `info.order`), or one problem's samples."""
    if info.shard_unit == "batch":
        size = info.unit_size(options)
        requests = info.order(requests)
        return [list(requests[start:start + size]) for start in range(0, len(requests), size)]
    return group_by_problem(requests)


def pack_units(units: Sequence[Sequence[Any]], shard_size: int) -> list[list[Sequence[Any]]]:
    """Consecutive units, about `shard_size` items per shard; a unit is never split."""
    shards: list[list[Sequence[Any]]] = []
    current: list[Sequence[Any]] = []
    for unit in units:
        if current and sum(map(len, current)) + len(unit) > shard_size:
            shards.append(current)
            current = []
        current.append(unit)
    if current:
        shards.append(current)
    return shards


def cut_shards(stage: str, suite: str, units: Sequence[Sequence[Any]], shard_size: int,
               pending: set[Key]) -> list[Shard]:
    """Shards of the full unit list that still hold pending items (finished items dropped)."""
    shards = []
    for index, packed in enumerate(pack_units(units, shard_size)):
        shard = Shard(stage, suite, index, tuple(tuple(unit) for unit in packed))
        remaining = shard.without({item_key(i) for unit in shard.units for i in unit} - pending)
        if len(remaining):
            shards.append(remaining)
    return shards


class ShardStore:
    """RUN_DIR/shards/<stage>-<suite>-<index>.jsonl, and assembly into the run's main files."""

    def __init__(self, run: RunDir):
        self.run = run
        self.path = run.path / SHARDS_DIR

    def files(self, stage: str) -> list[Path]:
        return sorted(self.path.glob(f"{stage}-*.jsonl")) if self.path.is_dir() else []

    def writer(self, shard: Shard) -> JsonlWriter:
        self.path.mkdir(parents=True, exist_ok=True)
        return JsonlWriter(self.path / f"{shard.name}.jsonl")

    def events(self) -> JsonlWriter:
        """shards/events.jsonl: which worker took which shard, and which died (for people and tests)."""
        self.path.mkdir(parents=True, exist_ok=True)
        return JsonlWriter(self.path / "events.jsonl")

    def records(self, stage: str) -> dict[Key, dict[str, Any]]:
        found: dict[Key, dict[str, Any]] = {}
        for path in self.files(stage):
            cut_partial_last_line(path)
            for _, record in iter_jsonl(path):
                found.setdefault(sample_key(record), record)
        return found

    def assemble(self, stage: str, order: Iterable[Key]) -> set[Key]:
        """Append to the main file, in `order`, every shard result it lacks; returns the keys added."""
        if not self.files(stage):
            return set()
        main = self.run.path / f"{stage}.jsonl"
        present = {sample_key(r) for r in self.run.records(main.name)}
        available = self.records(stage)
        added = set()
        with JsonlWriter(main) as writer:
            for key in order:
                if key in available and key not in present and key not in added:
                    writer.write(available[key])
                    added.add(key)
        with open(main, "rb") as handle:  # the main file must be on disk before its shards go
            os.fsync(handle.fileno())
        self.clear(stage, present | added)
        return added

    def clear(self, stage: str, in_main: set[Key]) -> None:
        """Delete the shard files whose every line is already in the main file."""
        for path in self.files(stage):
            if all(sample_key(record) in in_main for _, record in iter_jsonl(path)):
                path.unlink()
        if self.path.is_dir() and not self.files(GENERATIONS_STAGE) and not self.files(GRADES_STAGE):
            for leftover in self.path.iterdir():  # the event log of the workers that made them
                leftover.unlink()
            self.path.rmdir()
