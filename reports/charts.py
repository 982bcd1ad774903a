"""PNG charts (matplotlib, headless Agg backend): per-suite leaderboard bars, paper comparisons,
and pass@k against k per suite (one line per run)."""
from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

if TYPE_CHECKING:
    from reports.leaderboard import Leaderboard
    from reports.paper import PaperReport

COLOURS = {"measured": "#3b6ea8", "published": "#b8b8b8", "incomparable": "#e08a1e"}
DPI = 100


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


def error_bars(values: list[float], intervals: list[tuple[float, float] | None]) -> list[list[float]]:
    low = [0.0 if ci is None else max(0.0, 100 * (v - ci[0])) for v, ci in zip(values, intervals)]
    high = [0.0 if ci is None else max(0.0, 100 * (ci[1] - v)) for v, ci in zip(values, intervals)]
    return [low, high]


def leaderboard_charts(board: "Leaderboard", out: Path) -> list[Path]:
    """One horizontal bar chart per suite: pass@1 with 95% intervals, best at the top."""
    paths = []
    for suite in board.suites:
        cells = sorted((row.cells[suite] for row in board.rows if suite in row.cells), key=lambda c: c.pass_at_1)
        values = [cell.pass_at_1 for cell in cells]
        colours = [COLOURS["incomparable"] if c.incomparable else COLOURS[c.source] for c in cells]
        labels = [f"{c.row}{' (published)' if c.source == 'published' else ''}{' !' if c.incomparable else ''}"
                  for c in cells]
        fig, ax = plt.subplots(figsize=(8, 1.2 + 0.38 * len(cells)), dpi=DPI)
        ax.barh(range(len(cells)), [100 * v for v in values], color=colours)
        measured = [i for i, c in enumerate(cells) if c.ci95 is not None]  # published values have no interval
        ax.errorbar([100 * values[i] for i in measured], measured, fmt="none", capsize=3, ecolor="#222222",
                    xerr=error_bars([values[i] for i in measured], [cells[i].ci95 for i in measured]))
        ax.set_yticks(range(len(cells)), labels, fontsize=8)
        ax.set_xlim(0, 100)
        ax.set_xlabel("pass@1 (%), 95% bootstrap interval")
        ax.set_title(f"{suite}: measured (blue), published (grey), settings differ (orange)", fontsize=9)
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        path = out / f"chart-{slug(suite)}.png"
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths


def paper_chart(report: "PaperReport", out: Path) -> Path:
    """Published vs measured per suite, measured with its interval."""
    lines = report.lines
    fig, ax = plt.subplots(figsize=(max(5, 1.3 * len(lines) + 2), 4), dpi=DPI)
    positions = range(len(lines))
    ax.bar([p - 0.2 for p in positions], [100 * line.published for line in lines], width=0.4,
           color=COLOURS["published"], label=f"published ({report.paper_model})")
    measured = [line.measured for line in lines]
    ax.bar([p + 0.2 for p in positions], [100 * v for v in measured], width=0.4, color=COLOURS["measured"],
           yerr=error_bars(measured, [line.ci95 for line in lines]), capsize=4, label="measured, 95% CI")
    several_models = len({line.model for line in lines}) > 1
    ax.set_xticks(list(positions), [f"{line.suite}\n{line.model}" if several_models else line.suite for line in lines],
                  fontsize=8 if several_models else 10)
    ax.set_ylim(0, 100)
    ax.set_ylabel("pass@1 (%)")
    ax.set_title(f"{report.paper}: measured vs published", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path = out / "paper.png"
    fig.savefig(path)
    plt.close(fig)
    return path


def budget_curve_chart(curves: dict[str, dict[str, float]], path: Path) -> Path:
    """pass@1 against a lower max_tokens, one line per suite (reports.lengths.budget_curve)."""
    fig, ax = plt.subplots(figsize=(6.5, 3.6), dpi=DPI)
    for label, curve in curves.items():
        budgets = sorted(curve, key=int)
        ax.plot([int(b) for b in budgets], [100 * curve[b] for b in budgets], marker="o", label=label)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("max_tokens (budget)")
    ax.set_ylabel("pass@1 (%)")
    ax.set_ylim(bottom=0)
    ax.set_title("budget curve: a sample counts only if correct within the budget", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def length_histogram_chart(correct: list[int], incorrect: list[int], path: Path, bins: int = 30) -> Path:
    """Response tokens of correct and incorrect samples, stacked."""
    import numpy as np

    fig, ax = plt.subplots(figsize=(6.5, 3.6), dpi=DPI)
    values = correct + incorrect
    edges = np.histogram_bin_edges(values, bins=bins) if values else bins
    ax.hist([correct, incorrect], bins=edges, stacked=True, color=["#4c9a52", "#c8553d"],
            label=[f"correct ({len(correct)})", f"incorrect ({len(incorrect)})"])
    ax.set_xlabel("response tokens")
    ax.set_ylabel("samples")
    ax.set_title("response length by verdict", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def truncation_chart(rates: dict[str, float | None], path: Path) -> Path:
    """Share of samples stopped by the token budget (finish_reason = length), per suite."""
    labels = list(rates)
    fig, ax = plt.subplots(figsize=(6.5, 1.2 + 0.4 * len(labels)), dpi=DPI)
    ax.barh(range(len(labels)), [100 * (rates[k] or 0.0) for k in labels], color="#e08a1e")
    ax.set_yticks(range(len(labels)), [k if rates[k] is not None else f"{k} (unknown)" for k in labels], fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("truncated samples (%)")
    ax.set_title("truncation rate per suite", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
def pass_at_k_curve_of(run) -> dict[str, float]:
    """metrics.json's `pass@k_curve`, or computed from the counts for runs scored before it existed."""
    from harness.metrics import mean_pass_at_k, curve_ks

    curve = run.metrics.get("pass@k_curve")
    if curve:
        return curve
    return {str(k): mean_pass_at_k(list(run.counts.values()), k) for k in curve_ks(run.n)}


def pass_at_k_charts(runs, out: Path) -> list[Path]:
    """One PNG per suite: unbiased pass@k against k (log2 axis), a line per run (SuiteRun)."""
    paths = []
    for suite in dict.fromkeys(run.suite for run in runs):
        fig, ax = plt.subplots(figsize=(6, 3.6), dpi=DPI)
        for run in (r for r in runs if r.suite == suite):
            curve = pass_at_k_curve_of(run)
            ks = sorted(int(k) for k in curve)
            ax.plot(ks, [100 * curve[str(k)] for k in ks], marker="o", markersize=3,
                    label=f"{run.model} ({run.path.name}, n={run.n})")
        ax.set_xscale("log", base=2)
        ax.set_ylim(0, 100)
        ax.set_xlabel("k (samples per problem)")
        ax.set_ylabel("pass@k (%)")
        ax.set_title(f"{suite}: pass@k (unbiased estimator)", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = out / f"passk-{slug(suite)}.png"
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths
