"""Pass@K probing of checkpoints per subdomain, and the choice of one specialist per subdomain.

Every checkpoint sees the same requests with the same per-(problem, sample) seeds, so differences
between checkpoints are not sampling luck of different seeds. Answers are graded by the harness's
math grader and pass@K is the unbiased estimator (harness.metrics).

Tie-break (documented in docs/training.md): the highest pass@K wins; among equal pass@K the
highest pass@1; among those the earliest checkpoint (fewest SFT steps, least drift from the base).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

from harness.backends.base import Request, Sampling, sample_seed
from harness.graders.math import grade_math
from harness.metrics import pass_at_k
from harness.progress import progress

TIE_BREAK = "highest pass@K, then highest pass@1, then earliest step"


def probe_requests(problems: Sequence[dict], n: int, seed: int) -> list[Request]:
    return [Request(problem["domain"], problem["problem_id"], sample, tuple(problem["messages"]),
                    sample_seed(seed, problem["domain"], problem["problem_id"], sample))
            for problem in problems for sample in range(n)]


def score_samples(problems: Sequence[dict], generations, label: str) -> list[dict]:
    answers = {problem["problem_id"]: problem["answer"] for problem in problems}
    records = []
    for generation in generations:
        verdict = grade_math(generation.response, answers[generation.problem_id])
        correct = verdict.correct and generation.finish_reason != "length"
        records.append({"model": label, "domain": generation.suite, "problem_id": generation.problem_id,
                        "sample": generation.sample, "seed": generation.seed, "correct": correct,
                        "reason": verdict.reason if generation.finish_reason != "length" else "truncated",
                        "num_tokens": generation.num_tokens, "response": generation.response})
    return records


def pass_table(samples: pd.DataFrame, ks: Sequence[int]) -> pd.DataFrame:
    """One row per (model, domain): mean over problems of unbiased pass@k, and pass@1."""
    counts = samples.groupby(["model", "domain", "problem_id"])["correct"].agg(["count", "sum"]).reset_index()
    rows = []
    for (model, domain), group in counts.groupby(["model", "domain"], sort=False):
        row = {"model": model, "domain": domain, "problems": len(group), "n": int(group["count"].min())}
        for k in ks:
            row[f"pass@{k}"] = float(sum(pass_at_k(int(n), int(c), k) for n, c in zip(group["count"], group["sum"])) / len(group))
        rows.append(row)
    return pd.DataFrame(rows)


def sample_models(models: dict[str, str], problems: Sequence[dict], n: int, sampling: Sampling,
                  make_backend: Callable[[str], object], label: str = "probe") -> pd.DataFrame:
    """Generate n samples per problem with every model (same requests, same seeds) and grade them."""
    requests = probe_requests(problems, n, sampling.seed)
    records: list[dict] = []
    bar = progress(len(models) * len(requests), label)
    for name, path in models.items():
        backend = make_backend(path)
        try:
            for generation in backend.generate(requests, sampling):
                records.extend(score_samples(problems, [generation], name))
                bar.update(1)
        finally:
            backend.close()
    bar.close()
    return pd.DataFrame(records)


def select_specialists(table: pd.DataFrame, k: int, steps: dict[str, int]) -> dict[str, str]:
    """{domain: checkpoint}: argmax pass@K per domain with the module's documented tie-break."""
    chosen = {}
    for domain, group in table.groupby("domain", sort=False):
        ranked = sorted(group.to_dict("records"),
                        key=lambda row: (-row[f"pass@{k}"], -row["pass@1"], steps[row["model"]]))
        chosen[domain] = ranked[0]["model"]
    return chosen


def plot_pass_at_k(table: pd.DataFrame, k: int, steps: dict[str, int], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    for domain, group in table.groupby("domain", sort=False):
        group = group.assign(step=group["model"].map(steps)).sort_values("step")
        axis.plot(group["step"], group[f"pass@{k}"], marker="o", label=domain)
    axis.set_xlabel("SFT step")
    axis.set_ylabel(f"pass@{k}")
    axis.set_ylim(-0.02, 1.02)
    axis.set_title(title)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
