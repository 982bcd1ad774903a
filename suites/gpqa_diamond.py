"""GPQA-Diamond, 198 questions, with the VibeThinker-1.5B report's prompt (boxed choice letter).

The published file puts the correct option first in every question: a model that always answers
A scores 100%. Two orders (suite option `option_order`, recorded in the manifest and on every
grade line):

- `published`: the prompts byte for byte as the report used them (parity runs only);
- `shuffled` (default): each question's four options permuted by a rule anyone can recompute:
      digest = sha256(f"{option_seed}\\n{stem}".encode("utf-8"))   # stem = question text before the options
      index  = int.from_bytes(digest[:8], "big") % 24
      order  = sorted(itertools.permutations("ABCD"))[index]
  `order[i]` is the published letter of the option shown at position i; the gold letter is the
  position of "A". The permutation depends only on the question and the seed (not on sampling
  seeds, limits or the machine), and it is stored in each problem's answer and grade, so
  re-grading never reshuffles.

The questions stay inside suites/data/gpqa.parquet (the GPQA authors ask that they not be
republished in plain text): problems are named by id only, `gpqa_diamond/000`..`/197`.
"""
from __future__ import annotations

import hashlib
import itertools
import re
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.graders.choice import choice_grader
from harness.sampling import Sampling
from harness.settings import Setting
from suites.base import Problem, Suite
from suites.vibethinker_parquet import read_rows

SUFFIX = ("Please reason step-by-step and put your choice letter without any other text with "
          "\\boxed{} in the end.")
PROMPT = re.compile(r"(?P<stem>.*?)\n\nA\. (?P<A>.*?)\nB\. (?P<B>.*?)\nC\. (?P<C>.*?)\nD\. (?P<D>.*?)"
                    r"\n\n" + re.escape(SUFFIX) + r"\Z", re.S)
PUBLISHED = "ABCD"
PERMUTATIONS = sorted("".join(p) for p in itertools.permutations(PUBLISHED))
ORDERS = ("published", "shuffled")


def permutation(stem: str, seed: int) -> str:
    """The documented rule above; "ABCD" is the published order."""
    digest = hashlib.sha256(f"{seed}\n{stem}".encode("utf-8")).digest()
    return PERMUTATIONS[int.from_bytes(digest[:8], "big") % len(PERMUTATIONS)]


def split_prompt(prompt: str, where: str) -> tuple[str, list[str]]:
    match = PROMPT.fullmatch(prompt)
    if not match:
        raise HarnessError(f"{where}: prompt is not 'question, options A-D, instruction' as published")
    return match["stem"], [match[letter] for letter in PUBLISHED]


def render(stem: str, options: list[str]) -> str:
    lines = "\n".join(f"{letter}. {text}" for letter, text in zip(PUBLISHED, options))
    return f"{stem}\n\n{lines}\n\n{SUFFIX}"


def to_problem(row: dict[str, Any], order: str, seed: int, path: Path) -> Problem:
    problem_id = f"gpqa_diamond/{int(row['extra_info']['index']):03d}"
    prompt = row["prompt"][-1]["content"]
    stem, options = split_prompt(prompt, f"{path} {problem_id}")
    gold = str(row["reward_model"]["ground_truth"])
    perm = PUBLISHED if order == "published" else permutation(stem, seed)
    shown = [options[PUBLISHED.index(letter)] for letter in perm]
    letter = PUBLISHED[perm.index(gold)]
    content = prompt if order == "published" else render(stem, shown)
    return Problem(
        problem_id=problem_id,
        messages=[{"role": "user", "content": content}],
        answer={"letter": letter, "options": shown, "permutation": perm},
        metadata={"option_order": order, "permutation": perm, "gold": letter},
        text=f"{stem}\n" + "\n".join(options),
    )


def load(path: Path, options: dict[str, Any]) -> list[Problem]:
    order, seed = options["option_order"], options["option_seed"]
    return [to_problem(row, order, seed, path) for row in read_rows(path)]


def order_deviation(order: str, options: dict[str, Any]) -> str:
    """Every order is stated: published prompts make a constant answer score 100%, shuffled ones
    are not the published bytes."""
    if order == "published":
        return ("option_order=published: the correct option is always A in this file, so a model "
                "that always answers A scores 100%; compare only with runs of the same order")
    return (f"option_order=shuffled (option_seed={options.get('option_seed')}): options permuted per "
            "question by the rule in suites/gpqa_diamond.py; the published prompts always put the "
            "answer at A")


OPTIONS = (
    Setting("option_order", "shuffled", "gpqa_diamond option order: shuffled (default; seeded, recorded rule) or "
            "published (the file's order, answer always A)", choices=ORDERS, published="published",
            deviation=order_deviation, label=lambda order: f"options {order}"),
    # stated inside the option_order sentence; changes the prompts, hence MEASURE
    Setting("option_seed", 0, "gpqa_diamond: seed of the option shuffle (default 0)", kind=int,
            deviation=lambda seed, options: None),
)


SUITE = Suite(
    name="gpqa_diamond",
    version="1",
    data_file="gpqa.parquet",
    sha256="a896f79c3b6afb5ec230809d1c81b1c066e25df9b2214328e1799a1c729f5ffd",
    source="WeiboAI/VibeThinker@e6e3bfb eval/math/data/gpqa.parquet (MIT); GPQA by Rein et al. (CC BY 4.0)",
    loader=load,
    grader_for=choice_grader,
    protocol=Sampling(n=16, temperature=1.0, top_p=0.95, max_tokens=40960),
    kind="choice",
    options=OPTIONS,
    description="GPQA-Diamond, boxed-letter prompt; options shuffled by default (published file: always A)",
)
