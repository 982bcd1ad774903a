"""A suite added the way docs/extending.md says: a data file, a loader, a grader, a protocol."""
from pathlib import Path

from harness.graders.math import math_grader
from harness.rundir import iter_jsonl, sha256_of
from harness.sampling import Sampling
from harness.settings import Setting
from suites.base import Problem, Suite

DATA = Path(__file__).with_name("tiny_arith.jsonl")
SUFFIX = "Put the final answer within \\boxed{}."


def load(path, options):
    return [Problem(problem_id=f"tiny_arith/{row['id']}",
                    messages=[{"role": "user", "content": f"{row['question']} {SUFFIX}" if options["suffix"]
                               else row["question"]}],
                    answer=row["answer"], text=row["question"])
            for _, row in iter_jsonl(path)]


SUITE = Suite(
    name="tiny_arith",
    version="1",
    data_file=str(DATA),  # absolute: joined onto suites/data, an absolute path wins
    sha256=sha256_of(DATA),  # a real suite pins the digest as a literal
    source="tests/data/extending (made for docs/extending.md)",
    loader=load,
    grader_for=math_grader,
    protocol=Sampling(n=2, temperature=0.0, top_p=1.0, max_tokens=16),
    options=(Setting("suffix", True, "tiny_arith: end each prompt with the boxed-answer instruction", kind=bool),),
    description="three arithmetic questions",
)
