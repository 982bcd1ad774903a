"""AIME 2024 (I and II), 30 problems, exactly as the VibeThinker-1.5B report evaluated them."""
from harness.graders.math import math_grader
from harness.sampling import Sampling
from suites.base import Suite
from suites.vibethinker_parquet import aime_id, problems_from_rows, read_rows

MATH_PROTOCOL = Sampling(n=64, temperature=1.0, top_p=0.95, max_tokens=40960)


def load(path, options):
    return problems_from_rows(read_rows(path), aime_id("aime24"))


SUITE = Suite(
    name="aime24",
    version="1",
    data_file="aime24.parquet",
    sha256="49b5e04d6868c4a3b9f5875db7c4dc43a04bc1e4c2b2d1106042f73c06ebc0f3",
    source="WeiboAI/VibeThinker@e6e3bfb eval/math/data/aime.parquet (MIT)",
    loader=load,
    grader_for=math_grader,
    protocol=MATH_PROTOCOL,
    description="AIME 2024 I+II; golds are zero-padded strings ('025')",
)
