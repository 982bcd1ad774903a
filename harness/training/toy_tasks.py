"""Four generated subdomains standing in for algebra, geometry, calculus and statistics.

Each problem has an exact integer answer and a short worked solution ending in \\boxed{answer},
so SFT has completions to imitate and the math grader can reward RL rollouts. Splits (train,
probe, rl, eval) are drawn from one seeded stream with de-duplication, so they never overlap.
"""
from __future__ import annotations

import random
from typing import Callable

INSTRUCTION = "Put the final answer in \\boxed{}."
SPLITS = ("train", "probe", "rl", "eval")


def algebra(rng: random.Random) -> tuple[str, str, int]:
    a, x, b = rng.randint(2, 9), rng.randint(-9, 12), rng.randint(1, 30)
    c = a * x + b
    question = f"Solve for x: {a}x + {b} = {c}."
    solution = (f"Subtract {b} from both sides: {a}x = {c - b}. Divide both sides by {a}: x = {x}.\n"
                f"The answer is \\boxed{{{x}}}.")
    return question, solution, x


def geometry(rng: random.Random) -> tuple[str, str, int]:
    if rng.random() < 0.5:
        w, h = rng.randint(2, 15), rng.randint(2, 15)
        question = f"A rectangle has width {w} and height {h}. What is its area?"
        solution = f"The area of a rectangle is width times height: {w} * {h} = {w * h}.\nThe answer is \\boxed{{{w * h}}}."
        return question, solution, w * h
    base, h = 2 * rng.randint(1, 10), rng.randint(2, 15)
    area = base * h // 2
    question = f"A triangle has base {base} and height {h}. What is its area?"
    solution = (f"The area of a triangle is base times height divided by 2: {base} * {h} / 2 = {area}.\n"
                f"The answer is \\boxed{{{area}}}.")
    return question, solution, area


def calculus(rng: random.Random) -> tuple[str, str, int]:
    a, n, x0 = rng.randint(1, 6), rng.randint(2, 4), rng.randint(-3, 3)
    coeff = a * n
    value = coeff * x0 ** (n - 1)
    question = f"Let f(x) = {a}x^{n}. What is f'({x0})?"
    solution = (f"By the power rule, f'(x) = {a} * {n} * x^{n - 1} = {coeff}x^{n - 1}. "
                f"So f'({x0}) = {coeff} * ({x0})^{n - 1} = {value}.\nThe answer is \\boxed{{{value}}}.")
    return question, solution, value


def statistics(rng: random.Random) -> tuple[str, str, int]:
    count = rng.randint(3, 5)
    values = [rng.randint(1, 20) for _ in range(count - 1)]
    mean = rng.randint(max(1, (sum(values) + 1) // count), (sum(values) + 20) // count)
    values.append(mean * count - sum(values))
    listed = ", ".join(map(str, values))
    question = f"What is the mean of the numbers {listed}?"
    solution = (f"The sum is {' + '.join(map(str, values))} = {sum(values)}. There are {count} numbers, "
                f"so the mean is {sum(values)} / {count} = {mean}.\nThe answer is \\boxed{{{mean}}}.")
    return question, solution, mean


GENERATORS: dict[str, Callable[[random.Random], tuple[str, str, int]]] = {
    "algebra": algebra, "geometry": geometry, "calculus": calculus, "statistics": statistics,
}


def make_row(domain: str, split: str, index: int, question: str, solution: str, answer: int) -> dict:
    return {"problem_id": f"{domain}-{split}-{index:04d}", "domain": domain, "split": split,
            "messages": [{"role": "user", "content": f"{question} {INSTRUCTION}"}],
            "completion": solution, "answer": str(answer), "text": question}


def generate_splits(sizes: dict[str, int], domains: list[str], seed: int = 0) -> dict[str, list[dict]]:
    """{split: rows}; each split holds sizes[split] problems per domain, disjoint across splits."""
    return distinct_splits(sizes, domains, GENERATORS, "toy", lambda domain: f"{seed}:{domain}",
                           lambda domain, split, index, item: make_row(domain, split, index, *item))


def distinct_splits(sizes: dict[str, int], domains: list[str], generators: dict[str, Callable],
                    kind: str, rng_key: Callable[[str], str], make: Callable[..., dict]) -> dict[str, list[dict]]:
    """Rows from seeded generators, distinct questions across splits (math and code toy tasks):
    `generators[domain](rng)` returns (question, ...); `make(domain, split, index, item)` the row."""
    unknown = [domain for domain in domains if domain not in generators]
    if unknown:
        raise ValueError(f"unknown {kind} domain(s) {unknown}; known: {sorted(generators)}")
    splits: dict[str, list[dict]] = {split: [] for split in sizes}
    for domain in domains:
        rng = random.Random(rng_key(domain))
        seen: set[str] = set()
        for split, size in sizes.items():
            index = 0
            for _ in range(size * 200):
                if index == size:
                    break
                item = generators[domain](rng)
                if item[0] in seen:
                    continue
                seen.add(item[0])
                splits[split].append(make(domain, split, index, item))
                index += 1
            if index < size:
                raise ValueError(f"{kind} domain {domain}: only {index} distinct problems for split {split}")
    return splits
