"""Training rows (toy subdomains or JSONL) and the decontamination gate every row passes first.

`decontamination_gate` is the single call site for the check against every evaluation suite:
SFT and RL data loading both go through `load_rows`, contaminated rows are refused unless the
config says `allow_contaminated: true`, and the decision is returned for the training manifest.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.rundir import iter_jsonl
from harness.training.config import TasksConfig
from harness.training.toy_tasks import generate_splits


def toy_code_splits(tasks: TasksConfig, eval_size: int = 0) -> dict[str, list[dict]]:
    """The generated code problems with tests (harness.training.code_tasks): train (mixed into the toy
    SFT data when tasks.code_train > 0, reference solutions as completions), rl and eval (held out for
    the eval stage), disjoint. eval is drawn last, so its size leaves train and rl unchanged."""
    from harness.training.code_tasks import generate_code_splits

    sizes = {"train": tasks.code_train, "rl": tasks.code_rl, "eval": eval_size}
    return generate_code_splits(sizes, tasks.code_domains, tasks.seed)


def toy_splits(tasks: TasksConfig) -> dict[str, list[dict]]:
    sizes = {"train": tasks.train, "probe": tasks.probe, "rl": tasks.rl, "eval": tasks.eval}
    return generate_splits(sizes, tasks.domains, tasks.seed)


def read_jsonl_rows(path: Path, required: tuple[str, ...]) -> list[dict]:
    if not path.is_file():
        raise HarnessError(f"{path}: cannot read training data (no such file)")
    rows = []
    for number, row in iter_jsonl(path):
        if "messages" not in row and "prompt" in row:
            row["messages"] = [{"role": "user", "content": row["prompt"]}]
        missing = [field for field in ("messages",) + required if field not in row]
        if missing:
            raise HarnessError(f"{path}:{number}: missing field(s) {', '.join(missing)}")
        row.setdefault("problem_id", f"row-{number - 1}")
        row.setdefault("domain", "all")
        rows.append(row)
    if not rows:
        raise HarnessError(f"{path}: no training rows")
    return rows


def row_text(row: dict) -> str:
    prompt = "\n".join(message["content"] for message in row["messages"])
    return f"{prompt}\n{row.get('completion', '')}".strip()


def decontamination_gate(rows: list[dict], allow_contaminated: bool) -> tuple[list[dict], dict[str, Any]]:
    """(rows kept, decision record for the manifest): 10-gram overlap with every suite (harness.decontam)."""
    from harness.decontam import filter_rows

    return filter_rows(rows, text_of=row_text, policy="keep" if allow_contaminated else "drop")


def load_rows(source: str, split: str, tasks: TasksConfig, required: tuple[str, ...],
              allow_contaminated: bool) -> tuple[list[dict], dict[str, Any]]:
    if source == "toy":
        rows = toy_splits(tasks)[split]
        if split == "train" and tasks.code_train:
            rows = rows + toy_code_splits(tasks)["train"]
    elif source == "toy_code":
        rows = toy_code_splits(tasks)[split]
    else:
        rows = read_jsonl_rows(Path(source), required)
    kept, decision = decontamination_gate(rows, allow_contaminated)
    if not kept:
        raise HarnessError(f"{source}: every training row was refused by the decontamination check")
    return kept, {"source": source, "split": split if source in ("toy", "toy_code") else None, **decision}
