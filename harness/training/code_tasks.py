"""Generated code problems with tests for the code-RL phase of the CPU recipe (like toy_tasks for math).

Two subdomains in LiveCodeBench's two formats, so the LCB grader runs them unchanged:
- `stdin`: a program reads standard input and prints the answer (tests: input text -> output text);
- `functional`: a `class Solution` method named in the prompt (tests: JSON lines of arguments ->
  JSON result, `fn_name` set), as LCB's LeetCode problems.
Each row carries a reference solution (`completion`, a fenced python block: the grader must accept
it, tests/test_training_code_reward.py checks that) and `tests` = {inputs, outputs, fn_name,
timeout}. Splits are drawn from one seeded stream with de-duplication, so they never overlap; the
rows go through the same decontamination gate as every training row (harness.training.data).
"""
from __future__ import annotations

import json
import random
from typing import Callable

from harness.training.toy_tasks import distinct_splits

INSTRUCTION_STDIN = ("Write a Python 3 program that reads the input from standard input and prints the answer. "
                     "Put the whole program in one ```python code block.")
INSTRUCTION_FUNCTIONAL = "Put the whole class in one ```python code block."
TESTS_PER_PROBLEM = 3

Problem = tuple[str, str, dict]  # question, reference code, tests


def _ints(rng: random.Random, count: int, low: int = -20, high: int = 50) -> list[int]:
    return [rng.randint(low, high) for _ in range(count)]


def stdin_problem(rng: random.Random) -> Problem:
    kind, k = rng.choice(["sum", "max", "min", "count_above"]), rng.randint(2, 15)
    if kind == "sum":
        question = f"The input is one line of integers separated by spaces. Print their sum multiplied by {k}."
        code, answer = f"nums = list(map(int, input().split()))\nprint(sum(nums) * {k})", lambda xs: sum(xs) * k
    elif kind == "max":
        question = f"The input is one line of integers separated by spaces. Print the largest of them plus {k}."
        code, answer = f"nums = list(map(int, input().split()))\nprint(max(nums) + {k})", lambda xs: max(xs) + k
    elif kind == "min":
        question = f"The input is one line of integers separated by spaces. Print the smallest of them minus {k}."
        code, answer = f"nums = list(map(int, input().split()))\nprint(min(nums) - {k})", lambda xs: min(xs) - k
    else:
        question = (f"The input is one line of integers separated by spaces. Print how many of them are "
                    f"greater than {k}.")
        code, answer = (f"nums = list(map(int, input().split()))\nprint(sum(1 for x in nums if x > {k}))",
                        lambda xs: sum(1 for x in xs if x > k))
    cases = [_ints(rng, rng.randint(2, 6)) for _ in range(TESTS_PER_PROBLEM)]
    tests = {"inputs": [" ".join(map(str, xs)) + "\n" for xs in cases],
             "outputs": [f"{answer(xs)}\n" for xs in cases], "fn_name": None}
    return question, code, tests


def functional_problem(rng: random.Random) -> Problem:
    kind, k = rng.choice(["scale", "evens", "shift"]), rng.randint(2, 15)
    if kind == "scale":
        name, question = "scaleSum", f"return the sum of the list `nums` multiplied by {k}."
        body, answer = f"return sum(nums) * {k}", lambda xs: sum(xs) * k
    elif kind == "evens":
        name, question = "countMultiples", f"return how many numbers of the list `nums` are divisible by {k}."
        body, answer = f"return sum(1 for x in nums if x % {k} == 0)", lambda xs: sum(1 for x in xs if x % k == 0)
    else:
        name, question = "shiftAll", f"return the list `nums` with {k} added to every element."
        body, answer = f"return [x + {k} for x in nums]", lambda xs: [x + k for x in xs]
    question = f"Complete `class Solution` with a method `{name}(self, nums: List[int])` that {question}"
    code = f"class Solution:\n    def {name}(self, nums):\n        {body}"
    cases = [_ints(rng, rng.randint(2, 6)) for _ in range(TESTS_PER_PROBLEM)]
    tests = {"inputs": [json.dumps(xs) for xs in cases], "outputs": [json.dumps(answer(xs)) for xs in cases],
             "fn_name": name}
    return question, code, tests


GENERATORS: dict[str, Callable[[random.Random], Problem]] = {"stdin": stdin_problem, "functional": functional_problem}


def fenced(code: str) -> str:
    return f"```python\n{code}\n```"


def make_row(domain: str, split: str, index: int, question: str, code: str, tests: dict, timeout: int) -> dict:
    instruction = INSTRUCTION_STDIN if domain == "stdin" else INSTRUCTION_FUNCTIONAL
    return {"problem_id": f"code-{domain}-{split}-{index:04d}", "domain": f"code_{domain}", "split": split,
            "messages": [{"role": "user", "content": f"{question}\n{instruction}"}],
            "completion": fenced(code), "tests": {**tests, "timeout": timeout}, "text": question}


def generate_code_splits(sizes: dict[str, int], domains: list[str], seed: int = 0,
                         timeout: int = 2) -> dict[str, list[dict]]:
    """{split: rows}; sizes[split] problems per domain, disjoint across splits (distinct questions)."""
    return distinct_splits(sizes, domains, GENERATORS, "code toy", lambda domain: f"{seed}:code:{domain}",
                           lambda domain, split, index, item: make_row(domain, split, index, *item, timeout))
