"""HMMT February 2025, 30 problems, exactly as the VibeThinker-1.5B report evaluated them.

Golds are LaTeX; P10 is a two-value set and P17 the expression `2^{25} \\cdot 26!`.
"""
from harness.graders.math import math_grader
from suites.aime24 import MATH_PROTOCOL
from suites.base import Suite
from suites.vibethinker_parquet import problems_from_rows, read_rows


def load(path, options):
    return problems_from_rows(
        read_rows(path),
        make_id=lambda row: f"hmmt25/P{int(row['extra_info']['problem_idx']):02d}",
        metadata=lambda row: {"subject": ", ".join(row["extra_info"]["problem_type"])},
    )


SUITE = Suite(
    name="hmmt25",
    version="1",
    data_file="hmmt25.parquet",
    sha256="d9aa4787220e78c645017e2d75901e07802702b91879b2e46bc33e4ad8711c56",
    source="WeiboAI/VibeThinker@e6e3bfb eval/math/data/hmmt25.parquet (MIT)",
    loader=load,
    grader_for=math_grader,
    protocol=MATH_PROTOCOL,
    breakdown_fields=("subject",),
    description="HMMT Feb 2025; LaTeX golds incl. a two-value set",
)
