"""Probe and eval through the eval pipeline: the toy split as suites, one run directory per model.

Why: a checkpoint's evaluation is an ordinary eval run (requests and per-sample seeds from
`SuitePlan`, grading in the killable worker pool, metrics.json from harness.scoring), so the
stages agree with `harness eval` by construction, resume per sample, and `harness report
leaderboard` and `harness gate` read them. Every model of a stage gets the same plans, hence the
same requests and seeds. Layout: STAGE/data/<domain>.jsonl, STAGE/runs/<label>/{manifest.json,
generations.jsonl, grades.jsonl, metrics.json}.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from harness.pipeline import EvalSpec, SuitePlan, evaluate, plan_suite
from harness.rundir import RunDir
from harness.sampling import Sampling
from harness.training.stage import write_jsonl_if_changed
from suites import get_suite
from suites.toy_math import PREFIX

BACKEND = "hf"


def write_split(problems: Sequence[dict], data_dir: Path) -> dict[str, Path]:
    """{domain: JSONL file} of the split's rows; rewritten only when the content changes."""
    by_domain: dict[str, list[dict]] = {}
    for row in problems:
        by_domain.setdefault(row["domain"], []).append(row)
    data_dir.mkdir(parents=True, exist_ok=True)
    return {domain: write_jsonl_if_changed(rows, data_dir / f"{domain}.jsonl") for domain, rows in by_domain.items()}


def stage_plans(problems: Sequence[dict], data_dir: Path, sampling: Sampling,
                options: dict[str, Any]) -> list[SuitePlan]:
    return [plan_suite(get_suite(PREFIX + domain), options, sampling, None, path)
            for domain, path in write_split(problems, data_dir).items()]


def stderr_log(text: str) -> None:
    print(text, file=sys.stderr)


def evaluate_models(models: dict[str, str], plans: list[SuitePlan], root: Path, ks: list[int],
                    make_backend: Callable[..., Any], backend_options: dict[str, Any]) -> dict[str, Path]:
    """{label: run directory}: one `harness.pipeline.evaluate` per model, same plans for all."""
    runs = {}
    for label, model in models.items():
        runs[label] = root / label
        spec = EvalSpec(plans, model, BACKEND, runs[label], ks, backend_options)
        evaluate(spec, make_backend, log=stderr_log)
    return runs


def stage_runs(stage_path: Path) -> dict[str, Path]:
    """{label: run directory} of the finished runs a stage left (empty when there are none)."""
    root = Path(stage_path) / "runs"
    return {path.name: path for path in sorted(root.glob("*")) if RunDir(path).metrics_path.is_file()}


def metrics_rows(label: str, run: Path) -> list[dict[str, Any]]:
    return [{"model": label, "domain": m["suite"].removeprefix(PREFIX), "problems": m["num_problems"], "n": m["n"],
             **{f"pass@{k}": value for k, value in m["pass@k"].items()}, "truncation_rate": m["truncation_rate"]}
            for m in RunDir(run).metrics()]


def stage_table(runs: dict[str, Path]) -> pd.DataFrame:
    """One row per (model, domain) from the runs' metrics.json: problems, n, pass@k, truncation rate."""
    return pd.DataFrame([row for label, run in runs.items() for row in metrics_rows(label, run)])
