"""The 50 MATH train problems of the shared NeMo-Skills golden files, as a suite (tests only).

Problem text and gold answers are copied from ../shared/data/golden/nemo-skills/output-rs0.test
(MATH, Hendrycks et al., MIT licence); the importer matches the NeMo rows back to them by id.
"""
from pathlib import Path

from harness.graders.math import math_grader
from harness.rundir import iter_jsonl, sha256_of
from harness.sampling import Sampling
from suites.base import Problem, Suite

DATA = Path(__file__).with_name("math_train_nemo.jsonl")


def load(path, options):
    return [Problem(problem_id=f"math_train/{row['id']}", answer=row["answer"], text=row["problem"],
                    messages=[{"role": "user", "content": row["problem"]}])
            for _, row in iter_jsonl(path)]


SUITE = Suite(name="math_train", version="1", data_file=str(DATA), sha256=sha256_of(DATA),
              source="MATH train problems of the shared NeMo-Skills golden files", loader=load,
              grader_for=math_grader, protocol=Sampling(n=3, temperature=0.0, top_p=1.0, max_tokens=2048),
              description="50 MATH train problems (tests of the nemo-skills importer)")
