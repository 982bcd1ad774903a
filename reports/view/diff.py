"""Two runs of the same suites side by side: which problems moved, which samples flipped, and
what `harness gate` concludes (reports.gate's own functions, on SuiteRuns built from the index
so a 2.6 GB run is not loaded whole as reports.runs.load_run would)."""
from __future__ import annotations

from typing import Any

from harness.errors import HarnessError
from reports.gate import IncomparableRuns, gate, incomparable_json, pair_suites, to_json
from reports.runs import SuiteRun, count_disagreements, problem_counts
from reports.view.runview import RunView

MAX_DROP, ALPHA = 1.0, 0.05  # harness gate's defaults


def suite_runs(view: RunView) -> list[SuiteRun]:
    """reports.runs.load_run's SuiteRuns, from the viewer's index instead of whole files."""
    runs = []
    for name in view.suite_names():
        metrics = view.metrics.get(name)
        if metrics is None:
            continue
        slots = [(k, v) for k, v in view.samples.items() if k[0] == name]
        grades = [v["grade"] | {"problem_id": k[1], "sample": k[2]} for k, v in slots if "grade" in v]
        published = [v["gen"] | {"problem_id": k[1], "sample": k[2]} for k, v in slots
                     if "published_correct" in v.get("gen", {})]
        runs.append(SuiteRun(
            path=view.path, kind=view.manifest.get("kind", "eval"), model=str(metrics.get("model")), suite=name,
            metrics=metrics, identity=view.suite_entry(name),
            grader=(view.manifest.get("grader") or {}).get(name, {}), backend=view.manifest.get("backend_name"),
            counts=problem_counts(grades, "correct"), published=problem_counts(published, "published_correct"),
            disagreements=count_disagreements(grades, published)))
    return runs


def gate_result(base: RunView, cand: RunView) -> dict[str, Any]:
    settings = {"baseline": str(base.path), "candidate": str(cand.path), "max_drop": MAX_DROP, "alpha": ALPHA}
    if base.in_progress or cand.in_progress:
        return incomparable_json("a run is still in progress (no metrics.json yet): the gate needs finished runs",
                                 settings)
    try:
        return to_json(gate(pair_suites(suite_runs(base), suite_runs(cand)), MAX_DROP, ALPHA), settings)
    except IncomparableRuns as exc:
        return incomparable_json(str(exc), settings)
    except HarnessError as exc:
        return incomparable_json(str(exc), settings)


def rates(view: RunView, suite: str) -> dict[str, dict[int, bool]]:
    out: dict[str, dict[int, bool]] = {}
    for (name, pid, s), slot in view.samples.items():
        if name == suite and "grade" in slot:
            out.setdefault(pid, {})[s] = bool(slot["grade"].get("correct"))
    return out


def suite_diff(base: RunView, cand: RunView, suite: str) -> dict[str, Any]:
    old, new = rates(base, suite), rates(cand, suite)
    changed = []
    for pid in old.keys() & new.keys():
        a, b = old[pid], new[pid]
        rate_a, rate_b = sum(a.values()) / len(a), sum(b.values()) / len(b)
        flipped = [{"s": s, "base": a[s], "cand": b[s]} for s in sorted(a.keys() & b.keys()) if a[s] != b[s]]
        if rate_a != rate_b or flipped:
            changed.append({"id": pid, "base": rate_a, "cand": rate_b, "delta": rate_b - rate_a,
                            "base_n": len(a), "cand_n": len(b), "flipped": flipped})
    changed.sort(key=lambda row: (-abs(row["delta"]), -len(row["flipped"]), row["id"]))
    return {"suite": suite, "changed": changed, "only_base": len(old.keys() - new.keys()),
            "only_cand": len(new.keys() - old.keys()), "common": len(old.keys() & new.keys())}


def diff(base: RunView, cand: RunView) -> dict[str, Any]:
    common = [name for name in base.suite_names() if name in cand.suite_names()]
    return {"base": str(base.path), "cand": str(cand.path), "gate": gate_result(base, cand),
            "suites": [suite_diff(base, cand, name) for name in common],
            "command": f"harness gate --baseline {base.path} --candidate {cand.path}"}
