"""`harness export RUN_DIR --to parquet|hf|inspect OUT`: one row per sample with its grade.

- parquet: the stable schema `SCHEMA` (column order and types fixed; absent values are null);
  `harness import parquet` reads it back.
- hf: a `datasets` dataset with the same columns (`save_to_disk`; `push_to_hub` with --push REPO).
- inspect: an inspect_ai log per suite (`inspect view` opens it; `harness import inspect` reads it
  back): sample id = problem id, epoch = sample + 1, our verdict as the score `ssp` (C/I) with
  the extracted answer and the grader's reason.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.rundir import RunDir, sample_key

COLUMNS = (("suite", "string"), ("problem_id", "string"), ("sample", "int64"), ("response", "string"),
           ("finish_reason", "string"), ("num_tokens", "int64"), ("seed", "int64"), ("correct", "bool"),
           ("extracted", "string"), ("reason", "string"), ("published_correct", "bool"),
           ("published_extracted", "string"), ("model", "string"))


def schema():
    import pyarrow as pa

    types = {"string": pa.string(), "int64": pa.int64(), "bool": pa.bool_()}
    return pa.schema([(name, types[kind]) for name, kind in COLUMNS])


def text(value: Any) -> str | None:
    return None if value is None else value if isinstance(value, str) else json.dumps(value)


def rows(run_dir: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    run = RunDir(run_dir)
    if not run.exists():
        raise HarnessError(f"{run_dir}: not a run directory (no manifest.json)")
    manifest = run.manifest()
    grades = {sample_key(g): g for g in run.grades()}
    model = (manifest.get("model") or {}).get("spec") or (manifest.get("identity") or {}).get("model") \
        or (manifest.get("source") or {}).get("model") or run.path.name
    out = []
    for generation in run.generations():
        grade = grades.get(sample_key(generation), {})
        out.append({"suite": generation["suite"], "problem_id": generation["problem_id"],
                    "sample": generation["sample"], "response": generation["response"],
                    "finish_reason": text(generation.get("finish_reason")), "num_tokens": generation.get("num_tokens"),
                    "seed": generation.get("seed"), "correct": grade.get("correct"),
                    "extracted": text(grade.get("extracted")), "reason": text(grade.get("reason")),
                    "published_correct": generation.get("published_correct"),
                    "published_extracted": text(generation.get("published_extracted")), "model": model})
    if not out:
        raise HarnessError(f"{run_dir}: no generations to export")
    return out, manifest


def check_out(out: Path) -> None:
    if out.exists():
        raise HarnessError(f"OUT {out}: already exists; choose another path or delete it")


def to_parquet(run_dir: Path, out: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    check_out(out)
    records, _ = rows(run_dir)
    table = pa.Table.from_pylist(records, schema=schema())
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    pq.write_table(table, partial)
    os.replace(partial, out)
    return len(records)


def to_hf(run_dir: Path, out: Path, push: str | None = None) -> int:
    import datasets

    check_out(out)
    records, _ = rows(run_dir)
    features = datasets.Features({name: datasets.Value(kind) for name, kind in COLUMNS})
    dataset = datasets.Dataset.from_list(records, features=features)
    dataset.save_to_disk(str(out))
    if push:
        dataset.push_to_hub(push)
    return len(records)


def to_inspect(run_dir: Path, out: Path) -> list[Path]:
    """One log per suite: OUT itself (.eval or .json) for a one-suite run, else OUT/<suite>.eval."""
    try:
        from inspect_ai.log import write_eval_log
    except ImportError:
        raise HarnessError("--to inspect needs inspect_ai: pip install 'ssp-harness[inspect]'") from None
    check_out(out)
    records, manifest = rows(run_dir)
    suites = sorted({r["suite"] for r in records})
    if len(suites) == 1 and out.suffix in (".eval", ".json"):
        targets = {suites[0]: out}
    else:
        targets = {suite: out / f"{suite}.eval" for suite in suites}
    written = []
    for suite, target in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        log = inspect_log(suite, [r for r in records if r["suite"] == suite], manifest, run_dir)
        write_eval_log(log, str(target), format="json" if target.suffix == ".json" else "eval")
        written.append(target)
    return written


def inspect_log(suite_name: str, records: list[dict[str, Any]], manifest: dict[str, Any], run_dir: Path):
    from inspect_ai.log import EvalConfig, EvalDataset, EvalLog, EvalMetric, EvalResults, EvalSample, EvalScore, EvalSpec
    from inspect_ai.model import ChatMessageAssistant, ChatMessageUser, GenerateConfig, ModelOutput
    from inspect_ai.scorer import Score

    from suites import get_suite

    suite = get_suite(suite_name)
    try:
        problems = {p.problem_id: p for p in suite.load_problems()}
    except HarnessError:
        problems = {}
    sampling = next((s.get("sampling") or {} for s in manifest.get("suites", []) if s.get("name") == suite_name), {})
    model = records[0]["model"]
    samples = []
    for record in sorted(records, key=lambda r: (r["sample"], r["problem_id"])):
        problem = problems.get(record["problem_id"])
        prompt = problem.messages[-1]["content"] if problem else record["problem_id"]
        target = problem.answer if problem and isinstance(problem.answer, str) else (
            json.dumps(problem.answer) if problem else "")
        output = ModelOutput.from_content(model, record["response"])
        score = Score(value="C" if record["correct"] else "I", answer=record["extracted"],
                      explanation=record["reason"]) if record["correct"] is not None else None
        samples.append(EvalSample(
            id=record["problem_id"], epoch=record["sample"] + 1, input=prompt, target=target,
            messages=[ChatMessageUser(content=prompt), ChatMessageAssistant(content=record["response"])],
            output=output, scores={"ssp": score} if score else {},
            metadata={"published_correct": record["published_correct"]} if record["published_correct"] is not None
            else {}))
    epochs = max(r["sample"] for r in records) + 1
    graded = [r["correct"] for r in records if r["correct"] is not None]
    spec = EvalSpec(task=f"ssp_{suite_name}", task_version=0, created=manifest.get("created_at") or "1970-01-01T00:00:00+00:00",
                    model=model, dataset=EvalDataset(name=suite_name, samples=len({r["problem_id"] for r in records})),
                    config=EvalConfig(epochs=epochs),
                    model_generate_config=GenerateConfig(temperature=sampling.get("temperature"),
                                                         top_p=sampling.get("top_p"),
                                                         max_tokens=sampling.get("max_tokens")),
                    metadata={"ssp_run": str(run_dir)})
    results = EvalResults(total_samples=len(records), completed_samples=len(records),
                          scores=[EvalScore(name="ssp", scorer="ssp",
                                            metrics={"accuracy": EvalMetric(name="accuracy",
                                                                            value=sum(graded) / len(graded) if graded else 0.0)})])
    return EvalLog(eval=spec, status="success", results=results, samples=samples)
