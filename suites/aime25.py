"""AIME 2025 (I and II), 30 problems, exactly as the VibeThinker-1.5B report evaluated them.

Two published prompts (rows 18 and 27: AIME II P4 and I P13... see FORMFEED_IDS) contain a form
feed (0x0C) where `\\f` of `\\frac` was meant, an escaping bug in the source. By default the bytes
are kept, for parity with the report; `repair_prompts=True` restores `\\f`. Either way the affected
problem ids are recorded in the run manifest.
"""
from suites.aime24 import MATH_PROTOCOL
from harness.graders.math import math_grader
from harness.settings import Setting
from suites.base import Suite
from suites.vibethinker_parquet import aime_id, problems_from_rows, read_rows

FORM_FEED = "\x0c"


def repair_form_feeds(text: str) -> str:
    return text.replace(FORM_FEED, "\\f")


def load(path, options):
    rows = read_rows(path)
    problems = problems_from_rows(
        rows,
        aime_id("aime25"),
        metadata=lambda row: {"prompt_note": "form feed in prompt"}
        if FORM_FEED in row["prompt"][0]["content"]
        else {},
        rewrite_prompt=repair_form_feeds if options["repair_prompts"] else (lambda text: text),
    )
    return problems


SUITE = Suite(
    name="aime25",
    version="1",
    data_file="aime25.parquet",
    sha256="652e8cc7e5cad994e0132a12c6752e43206de24f8db48d55cc0f25410bbcf2c7",
    source="WeiboAI/VibeThinker@e6e3bfb eval/math/data/aime25.parquet (MIT)",
    loader=load,
    grader_for=math_grader,
    protocol=MATH_PROTOCOL,
    options=(Setting("repair_prompts", False, "aime25: restore \\f where the published prompts hold a form feed",
                     kind=bool, label=lambda value: "prompts repaired"),),
    description="AIME 2025 I+II; 2 prompts carry a form feed for \\f (kept by default)",
)
