"""Terminal output: the metrics table and the deviations from the published protocol."""
from __future__ import annotations

from typing import Any, Sequence

from rich.console import Console
from rich.table import Table


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def metrics_table(metrics: Sequence[dict[str, Any]]) -> Table:
    table = Table(title="results (percent)")
    for column in ("suite", "problems", "n", "pass@1 [95% CI]", "pass@k", "cons@n", "truncated", "mean tokens"):
        table.add_column(column, justify="left" if column == "suite" else "right")
    for m in metrics:
        low, high = m["ci95"]
        passk = " ".join(f"@{k}={pct(v)}" for k, v in m["pass@k"].items() if k != "1") or "-"
        tokens = "-" if m.get("mean_response_tokens") is None else f"{m['mean_response_tokens']:.0f}"
        table.add_row(m["suite"], str(m["num_problems"]), str(m["n"]),
                      f"{pct(m['pass@1'])} [{pct(low)}, {pct(high)}]", passk, pct(m.get("cons@n")),
                      pct(m.get("truncation_rate")), tokens)
    return table


def print_results(metrics: Sequence[dict[str, Any]], run_path: str) -> None:
    console = Console()
    console.print(metrics_table(metrics))
    for m in metrics:
        for note in m.get("deviations", []):
            console.print(f"[yellow]deviation[/yellow] {m['suite']}: {note}")
    console.print(f"run directory: {run_path}")
