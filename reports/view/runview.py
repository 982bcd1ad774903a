"""One run directory as the viewer shows it: summary, problem rows, one sample, search.

Everything is read through the byte-offset index (reports.run_index), so a 2.6 GB run costs its
index in memory, not its responses. A run without metrics.json (or whose last session has not
finished) is shown as far as it goes and flagged in progress; corrupt lines become error rows.
The prompt is rebuilt from the suite with the manifest's options and data, which is what the
pipeline sent (harness.pipeline.SuitePlan.requests).
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.graders.answer_region import THINK_CLOSE, THINK_OPEN
from harness.grading import graded_text
from harness.rundir import RunDir
from reports.lengths import Sample, analytics, truncation_rate
from reports.run_index import RunIndex, read_line

AUDIT = "audit.jsonl"
STATEMENT_CHARS = 4000  # problem statements in the table (search, tooltip); the problem page has all
FLAGS = ("wrong", "truncated", "no_answer", "unclosed_think", "audit", "publisher")


class RunView:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.run = RunDir(self.path)
        if not self.path.is_dir():
            raise HarnessError(f"{self.path}: no such run directory")
        if not self.run.exists():
            raise HarnessError(f"{self.path}: not a run directory (no manifest.json)")
        self.manifest = self.run.manifest()
        self.index: RunIndex | None = None
        self._problems: dict[str, dict[str, Any] | str] = {}
        self.refresh()

    # ----------------------------------------------------------------------------- loading

    def refresh(self) -> None:
        """Re-index when a file changed (a run in progress); cheap otherwise (two stat calls)."""
        if self.index is not None and not self.index.stale():
            return
        self.index = RunIndex(self.path)
        self.manifest = self.run.manifest()
        self.metrics = self._metrics()
        self.audit = self._audit()
        self._rows: dict[str, list[dict[str, Any]]] = {}
        self._join()

    def _metrics(self) -> dict[str, dict[str, Any]]:
        if not self.run.metrics_path.exists():
            return {}
        value = self.run.metrics()  # a newer schema_version is refused there
        return {m["suite"]: m for m in (value if isinstance(value, list) else [value])}

    def _audit(self) -> dict[tuple[str, str, int], dict[str, Any]]:
        path = self.path / AUDIT
        if not path.exists():
            return {}
        out = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
                out[(record["suite"], record["problem_id"], int(record["sample"]))] = record
            except (ValueError, KeyError, TypeError):
                continue
        return out

    def _join(self) -> None:
        """Per (suite, problem, sample): generation entry + grade entry; error entries apart."""
        self.errors: list[dict[str, Any]] = []
        self.samples: dict[tuple[str, str, int], dict[str, Any]] = {}
        default = self.suite_names()[0] if self.suite_names() else ""
        for name, file_index in (("generations.jsonl", self.index.generations), ("grades.jsonl", self.index.grades)):
            for entry in file_index.entries:
                if "error" in entry:
                    self.errors.append({"file": name, "line": entry["line"], "error": entry["error"]})
                    continue
                key = (entry.get("suite", default), entry["problem_id"], int(entry["sample"]))
                slot = self.samples.setdefault(key, {})
                slot["gen" if name == "generations.jsonl" else "grade"] = entry

    # ----------------------------------------------------------------------------- summary

    def suite_names(self) -> list[str]:
        return [entry["name"] for entry in self.manifest.get("suites", [])]

    def suite_entry(self, suite: str) -> dict[str, Any]:
        for entry in self.manifest.get("suites", []):
            if entry["name"] == suite:
                return entry
        raise HarnessError(f"{self.path}: suite {suite} is not in this run")

    @property
    def in_progress(self) -> bool:
        sessions = self.manifest.get("sessions") or [{}]
        return not self.metrics or "finished_at" not in sessions[-1]

    def model(self) -> str:
        model = self.manifest.get("model")
        if isinstance(model, dict):
            return str(model.get("spec") or model.get("name"))
        if model:
            return str(model)
        return str(next((m.get("model") for m in self.metrics.values()), self.manifest.get("identity", {}).get("model")))

    def max_tokens(self, suite: str) -> int | None:
        if self.manifest.get("kind") == "grade":
            return None  # imported generations: their budget is unknown
        return self.suite_entry(suite).get("sampling", {}).get("max_tokens")

    def length_samples(self, suite: str) -> list[Sample]:
        return [Sample(pid, s, bool(slot["grade"].get("correct")), slot.get("gen", {}).get("num_tokens"),
                       slot.get("gen", {}).get("finish_reason"))
                for (name, pid, s), slot in self.samples.items() if name == suite and "grade" in slot]

    def summary(self) -> dict[str, Any]:
        suites = []
        for name in self.suite_names():
            entry = self.suite_entry(name)
            samples = self.length_samples(name)
            metrics = self.metrics.get(name)
            suites.append({
                "suite": name, "metrics": metrics, "sampling": entry.get("sampling"), "options": entry.get("options"),
                "data_path": entry.get("data_path"), "data_sha256": entry.get("data_sha256"),
                "deviations": entry.get("deviations") or (self.manifest.get("deviations") or {}).get(name, []),
                "grader": entry.get("grader"), "problems": entry.get("problems"),
                "expected_samples": (entry.get("problems") or 0) * (entry.get("sampling") or {}).get("n", 0),
                "generated": sum(1 for k, v in self.samples.items() if k[0] == name and "gen" in v),
                "graded": len(samples),
                "analytics": analytics(samples, self.max_tokens(name), metrics),
                "truncation_rate": (metrics or {}).get("truncation_rate", truncation_rate(samples)),
                "has_audit": any(k[0] == name for k in self.audit),
                "has_published": any(k[0] == name and "published_correct" in v.get("gen", {})
                                     for k, v in self.samples.items()),
            })
        m = self.manifest
        return {"path": str(self.path), "name": self.path.name, "kind": m.get("kind"), "model": self.model(),
                "backend": m.get("backend_name") or m.get("identity", {}).get("backend"),
                "backend_version": m.get("backend_version"), "harness": m.get("harness"), "host": m.get("host"),
                "started_at": m.get("started_at"), "finished_at": m.get("finished_at"),
                "seeds": m.get("seeds"), "command": m.get("command"),
                "in_progress": self.in_progress, "errors": self.errors[:200], "error_count": len(self.errors),
                "suites": suites}

    # ----------------------------------------------------------------------------- problems

    def problems(self, suite: str) -> dict[str, Any] | str:
        """problem_id -> Problem of the suite as this run loaded it, or why that failed."""
        if suite not in self._problems:
            self._problems[suite] = load_problems(self.suite_entry(suite))
        return self._problems[suite]

    def problem_rows(self, suite: str) -> list[dict[str, Any]]:
        """One row per problem (kept until the files change: the table, search and pages share it)."""
        if suite not in self._rows:
            self._rows[suite] = self._problem_rows(suite)
        return self._rows[suite]

    def _problem_rows(self, suite: str) -> list[dict[str, Any]]:
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for (name, pid, s), slot in sorted(self.samples.items(), key=lambda item: item[0][2]):
            if name == suite:
                groups[pid].append(self.sample_row(suite, pid, s, slot))
        problems = self.problems(suite)
        order = list(problems) if isinstance(problems, dict) else []
        order += [pid for pid in groups if not isinstance(problems, dict) or pid not in problems]
        return [problem_row(pid, groups[pid], problems.get(pid) if isinstance(problems, dict) else None)
                for pid in order if pid in groups]

    def sample_row(self, suite: str, pid: str, s: int, slot: dict[str, Any]) -> dict[str, Any]:
        gen, grade = slot.get("gen", {}), slot.get("grade")
        flags = sample_flags(gen, grade, (suite, pid, s) in self.audit)
        verdict = "pending" if grade is None else ("correct" if grade.get("correct") else "wrong")
        return {"s": s, "v": verdict, "reason": (grade or {}).get("reason"), "extracted": (grade or {}).get("extracted"),
                "finish": gen.get("finish_reason"), "tokens": gen.get("num_tokens"), "chars": gen.get("chars"),
                "published": gen.get("published_correct"), "flags": flags, "missing_generation": not gen}

    # ----------------------------------------------------------------------------- one sample

    def sample(self, suite: str, pid: str, s: int) -> dict[str, Any]:
        slot = self.samples.get((suite, pid, s))
        if slot is None:
            raise HarnessError(f"{suite} {pid} sample {s}: not in {self.path}")
        generation = read_line(self.index.generations.path, slot["gen"]) if "gen" in slot else {}
        grade = read_line(self.index.grades.path, slot["grade"]) if "grade" in slot else None
        # reasoning a server returned apart is shown as the think block the grader read it as
        response = graded_text(generation) if isinstance(generation.get("response"), str) else ""
        think = (self.suite_entry(suite).get("options") or {}).get("think", "strip")
        return {"suite": suite, "problem_id": pid, "sample": s, "row": self.sample_row(suite, pid, s, slot),
                "prompt": self.prompt(suite, pid, generation),
                "generation": without(generation, "response", "reasoning"),
                "grade": grade, "segments": segments(response, think), "think_policy": think,
                "audit": self.audit.get((suite, pid, s)), "chars": len(response)}

    def prompt(self, suite: str, pid: str, generation: dict[str, Any]) -> dict[str, Any]:
        if isinstance(generation.get("messages"), list):
            return {"messages": generation["messages"], "source": "generations.jsonl (messages as sent)"}
        problems = self.problems(suite)
        if isinstance(problems, str):
            return {"messages": None, "source": problems}
        problem = problems.get(pid)
        if problem is None:
            return {"messages": None, "source": f"{pid} is not a problem of {suite} as this run loaded it"}
        note = (self.suite_entry(suite).get("prompt_notes") or {}).get(pid)
        source = "rebuilt from the suite with this run's options and data (what the pipeline sent)"
        if self.manifest.get("kind") == "grade":
            source = "the suite's prompt; these generations were imported, the publisher's prompt may differ"
        return {"messages": problem.messages, "answer": jsonable(problem.answer), "source": source, "note": note}

    def problem(self, suite: str, pid: str, row: dict[str, Any] | None = None) -> dict[str, Any]:
        if row is None:
            row = next((r for r in self.problem_rows(suite) if r["id"] == pid), None)
        if row is None:
            raise HarnessError(f"{suite} {pid}: not in {self.path}")
        problems = self.problems(suite)
        problem = problems.get(pid) if isinstance(problems, dict) else None
        return {"suite": suite, "row": row, "statement": problem.statement if problem else None,
                "answer": jsonable(problem.answer) if problem else None}

    # ----------------------------------------------------------------------------- search

    def search(self, suite: str, query: str, limit: int = 5000) -> dict[str, Any]:
        """Problems whose statement or some response contains `query` (case-insensitive)."""
        needle = query.lower()
        if not needle:
            return {"problems": [], "samples": []}
        problems = self.problems(suite)
        hits = {pid for pid, p in problems.items() if needle in p.statement.lower()} if isinstance(problems, dict) else set()
        raw = json.dumps(query, ensure_ascii=False)[1:-1].lower().encode("utf-8")  # as it sits in the JSON line
        samples = []
        with open(self.index.generations.path, "rb") as handle:
            for (name, pid, s), slot in self.samples.items():
                if name != suite or "gen" not in slot or len(samples) >= limit:
                    continue
                handle.seek(slot["gen"]["offset"])
                if raw in handle.read(slot["gen"]["length"]).lower():
                    samples.append([pid, s])
                    hits.add(pid)
        return {"problems": sorted(hits), "samples": samples}


def load_problems(entry: dict[str, Any]) -> dict[str, Any] | str:
    from suites import get_suite

    try:
        suite = get_suite(entry["name"])
        data = None if entry.get("data_sha256") == suite.sha256 or not entry.get("data_path") else Path(entry["data_path"])
        return {p.problem_id: p for p in suite.load_problems(entry.get("options") or {}, data)}
    except Exception as exc:  # a missing --data file must not stop the viewer: say why instead
        return f"prompt not rebuilt: {exc}"


def sample_flags(gen: dict[str, Any], grade: dict[str, Any] | None, audited: bool) -> list[str]:
    flags = []
    if grade is not None and not grade.get("correct"):
        flags.append("wrong")
    if gen.get("finish_reason") == "length":
        flags.append("truncated")
    if grade is not None and (grade.get("extracted") is None or grade.get("reason") == "no_answer"):
        flags.append("no_answer")
    if (grade or {}).get("reason") == "unclosed_think" or (gen.get("think_open") and not gen.get("think_close")):
        flags.append("unclosed_think")
    if audited:
        flags.append("audit")
    if grade is not None and "published_correct" in gen and bool(gen["published_correct"]) != bool(grade.get("correct")):
        flags.append("publisher")
    return flags


def problem_row(pid: str, samples: list[dict[str, Any]], problem: Any) -> dict[str, Any]:
    graded = [s for s in samples if s["v"] != "pending"]
    tokens = [s["tokens"] for s in samples if s["tokens"] is not None]
    return {"id": pid, "samples": samples, "n": len(samples), "graded": len(graded),
            "correct": sum(s["v"] == "correct" for s in graded),
            "rate": sum(s["v"] == "correct" for s in graded) / len(graded) if graded else None,
            "reasons": dict(Counter(s["reason"] for s in graded)),
            "tokens": sum(tokens) / len(tokens) if tokens else None,
            "flags": dict(Counter(flag for s in samples for flag in s["flags"])),
            "statement": problem.statement[:STATEMENT_CHARS] if problem is not None else ""}


def segments(response: str, think: str) -> list[dict[str, Any]]:
    """The response cut into text and think-block parts, each marked graded or not.

    Mirrors harness.graders.answer_region: under `strip` the grader reads the text after the last
    `</think>` (nothing when a `<think>` never closes, the whole text without tags); under `full`
    it reads everything.
    """
    full = think == "full"
    open_at, close_at = response.find(THINK_OPEN), response.rfind(THINK_CLOSE)
    if close_at >= 0:
        start = open_at if 0 <= open_at < close_at else 0
        end = close_at + len(THINK_CLOSE)
        parts = [("text", response[:start], full), ("think", response[start:end], full), ("text", response[end:], True)]
    elif open_at >= 0:
        parts = [("text", response[:open_at], full), ("think", response[open_at:], full)]
    else:
        parts = [("text", response, True)]
    return [{"kind": kind, "text": text, "graded": graded} for kind, text, graded in parts if text]


def without(record: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in names}


def jsonable(value: Any, limit: int = 20000) -> Any:
    """A reference answer as JSON; hidden tests of a code problem are cut to `limit` characters."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except TypeError:
        return str(value)[:limit]
    return value if len(text) <= limit else text[:limit] + f" [... {len(text) - limit} more characters]"
