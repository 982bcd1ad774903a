"""The choice of one specialist per subdomain from the Pass@K probe, and the probe's plot.

The probe itself is an eval run per checkpoint (harness.training.evaluation): every checkpoint
sees the same requests with the same per-(problem, sample) seeds, so differences between
checkpoints are not sampling luck of different seeds; pass@K is the unbiased estimator of
metrics.json (harness.metrics).

Tie-break (documented in docs/training.md): the highest pass@K wins; among equal pass@K the
highest pass@1; among those the earliest checkpoint (fewest SFT steps, least drift from the base).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

TIE_BREAK = "highest pass@K, then highest pass@1, then earliest step"


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
