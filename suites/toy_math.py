"""Training's generated toy subdomains as suites, so the probe and eval stages run the eval pipeline.

One suite per subdomain (`toy_algebra`, `toy_geometry`, ...), so pass@k per subdomain is an
ordinary per-suite metric. The problems are generated from a training config, not vendored: the
stage writes its split to a JSONL file and the suite loads it as `--data`, pinned in the manifest
by its sha256. The suites are resolved by name (`suites.get_suite("toy_algebra")`, so reports,
the gate and `harness grade --data` know their declarations) but are not listed among the
benchmarks (`suites.suite_names()`): they never appear in `harness suites`, the decontamination
of "every suite" or paper reports.

No protocol is published for them; `PROTOCOL` is the training config's default sampling, so the
deviation sentences say how a stage's sampling differs from that default.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.graders.math import math_grader
from harness.rundir import iter_jsonl
from harness.sampling import Sampling
from suites.base import Problem, Suite

PREFIX = "toy_"
PROTOCOL = Sampling(n=4, temperature=1.0, top_p=1.0, max_tokens=128)


def rows_with(path: Path, fields: tuple[str, ...]):
    """The file's rows, each checked for `fields`: a row without one is an error naming file, line and field."""
    for number, row in iter_jsonl(path):
        missing = [name for name in fields if name not in row]
        if missing:
            raise HarnessError(f"{path}:{number}: row without field(s) {', '.join(missing)}")
        yield row


def load(path: Path, options: dict[str, Any]) -> list[Problem]:
    """Rows of harness.training.toy_tasks (problem_id, messages, answer, domain, text)."""
    return [Problem(row["problem_id"], row["messages"], row["answer"], {"domain": row.get("domain")}, row.get("text"))
            for row in rows_with(path, ("problem_id", "messages", "answer"))]


def toy_suite(domain: str) -> Suite:
    return Suite(name=PREFIX + domain, version="1", data_file="", sha256="",
                 source="harness.training.toy_tasks (generated from a training config)",
                 loader=load, grader_for=math_grader, protocol=PROTOCOL,
                 description=f"training toy subdomain {domain} (integer answers in \\boxed{{}})",
                 data_hint="The training probe/eval stages write it to OUT/<stage>/data/<domain>.jsonl.")


def suite_named(name: str) -> Suite:
    return toy_suite(name.removeprefix(PREFIX))
