"""MATH500 (the PRM800K test split of 500 MATH problems), with the report's math prompt suffix.

Reads the rllm copy shipped in suites/data (`problem`, `answer`, `difficulty`, `unique_id`) and,
with `--data`, the official openai/prm800k `math_splits/test.jsonl` (`problem`, `answer`, `level`,
`subject`, `unique_id`).
"""
from pathlib import Path

from harness.errors import HarnessError
from harness.graders.math import math_grader
from harness.rundir import iter_jsonl, read_json
from suites.aime24 import MATH_PROTOCOL
from suites.base import Problem, Suite
from suites.vibethinker_parquet import MATH_SUFFIX


def read_records(path: Path) -> list[dict]:
    if path.suffix == ".jsonl":
        return [record for _, record in iter_jsonl(path)]
    return read_json(path)


def to_problem(record: dict, path: Path) -> Problem:
    try:
        unique_id = record["unique_id"]  # test/<subject>/<n>.json
        subject = unique_id.split("/")[1]
        level = int(record["level"] if "level" in record else record["difficulty"])
        return Problem(
            problem_id="math500/" + unique_id.removesuffix(".json"),
            messages=[{"role": "user", "content": f"{record['problem']} {MATH_SUFFIX}"}],
            answer=str(record["answer"]),
            metadata={"level": level, "subject": subject},
            text=record["problem"],
        )
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise HarnessError(f"{path}: record {record.get('unique_id', '?')} lacks field {exc}") from exc


def load(path, options):
    return [to_problem(record, path) for record in read_records(path)]


SUITE = Suite(
    name="math500",
    version="1",
    data_file="math500.json",
    sha256="02e232722dd1f9ab307124bfff40621d32193632b6b84aa9a246e701f0478141",
    source="rllm math500.json (fork winnieyangwannan/rllm@3bc614c, MIT); = openai/prm800k test split",
    loader=load,
    grader_for=math_grader,
    protocol=MATH_PROTOCOL,
    breakdown_fields=("level", "subject"),
    description="MATH500 with the report's step-by-step \\boxed{} suffix",
)
