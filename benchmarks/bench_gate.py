"""Measured error rates of `harness gate`, and whether `harness gate plan` predicts them.

For three baseline shapes (AIME-like: 30 problems, MATH500-like: 500, GPQA-like: 198) the true
per-problem rates are drawn once from a Beta distribution typical of the suite. For each n in
{1, 4, 8, 16, 64}:

1. one baseline run is drawn from the truth and written as a real run directory
   (harness.synthetic.write_run); `gate plan` (reports.gate_plan.plan) is computed from it;
2. false alarms: pairs of runs of the same model (both drawn from the truth) are gated with the
   real decision functions (reports.gate.gate -> compare: McNemar or the sign-flip test, Holm),
   --max-drop 0, alpha 0.05; the fraction flagged must be at most alpha within Monte Carlo error;
3. power: pairs whose candidate has a planted proportional drop (the candidate keeps 1 - D / mean
   of its rate on every problem) of 0.5, 1 and 1.5 times the plan's detectable drop; the measured
   fraction flagged is printed beside the plan's predicted power.

The same SuiteRun (manifest identity, grader, options) is reused for every simulated pair with its
per-problem counts replaced, so each gate call is the real one on real comparability data.

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 python benchmarks/bench_gate.py [--null 200] [--power 100]
        [--shapes aime,math500,gpqa] [--n 1,4,8,16,64] [--json out.json] [--plot docs/img/gate-power.png]
        [--replot out.json]   # redraw the plot from an earlier --json without gating again
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from reports.gate import gate
from reports.gate_plan import GateSimulator, plan
from reports.runs import load_run
from harness.synthetic import problem_ids, write_run

ALPHA = 0.05
TARGET_POWER = 0.8
MAX_DROP = 0.0
SHAPES = {  # name: (suite, mean rate, Beta concentration a + b)
    "aime": ("aime24", 0.45, 1.2),
    "math500": ("math500", 0.75, 1.5),
    "gpqa": ("gpqa_diamond", 0.45, 3.0),
}
DROP_FACTORS = (0.5, 1.0, 1.5)


def true_rates(mean: float, concentration: float, problems: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).beta(mean * concentration, (1 - mean) * concentration, problems)


def dropped(rates: np.ndarray, drop: float) -> np.ndarray:
    return rates * np.clip(1 - drop / 100 / rates.mean(), 0, 1)


def template_run(root: Path, suite: str, ids: list[str], counts: np.ndarray, n: int, seed: int):
    """A real run directory with these counts (sample s correct iff s < c): the baseline to plan with."""
    path = root / f"{suite}-n{n}"
    write_run(path, {suite: {pid: [s < c for s in range(n)] for pid, c in zip(ids, counts)}}, seed=seed)
    (run,) = load_run(path)
    return run


def with_counts(template, ids: list[str], counts: np.ndarray, n: int):
    return dataclasses.replace(template, counts={pid: (n, int(c)) for pid, c in zip(ids, counts)})


def flagged_fraction(template, ids, base_rates, cand_rates, n, pairs, rng) -> float:
    flags = 0
    for _ in range(pairs):
        base = with_counts(template, ids, rng.binomial(n, base_rates), n)
        cand = with_counts(template, ids, rng.binomial(n, cand_rates), n)
        (verdict,) = gate([(base, cand)], MAX_DROP, ALPHA)
        flags += verdict.regression
    return flags / pairs


def bench_shape(name: str, ns: list[int], null_pairs: int, power_pairs: int, root: Path, seed: int) -> list[dict]:
    suite, mean, concentration = SHAPES[name]
    ids = problem_ids(suite)
    truth = true_rates(mean, concentration, len(ids), seed)
    rows = []
    for n in ns:
        rng = np.random.default_rng([seed, n])
        template = template_run(root, suite, ids, rng.binomial(n, truth), n, seed)
        started = time.perf_counter()
        planned = plan([template], TARGET_POWER, ALPHA, MAX_DROP)["suites"][suite]
        plan_seconds = time.perf_counter() - started
        simulator = GateSimulator(*zip(*[template.counts[p] for p in sorted(template.counts)]), ALPHA, MAX_DROP)
        row = {"shape": name, "suite": suite, "problems": len(ids), "n": n, "seed": seed,
               "true_pass@1": float(truth.mean()),
               "baseline_pass@1": planned["baseline"], "detectable_drop": planned["detectable_drop"],
               "plan_seconds": plan_seconds, "null_pairs": null_pairs, "power_pairs": power_pairs}
        started = time.perf_counter()
        row["false_alarm"] = flagged_fraction(template, ids, truth, truth, n, null_pairs, rng)
        row["power"] = []
        detectable = planned["detectable_drop"]
        if detectable is not None:
            largest = 100 * truth.mean() * 0.95
            for factor in DROP_FACTORS:
                drop = round(min(factor * detectable, largest), 1)
                measured = flagged_fraction(template, ids, truth, dropped(truth, drop), n, power_pairs, rng)
                row["power"].append({"drop": drop, "measured": measured, "planned": simulator.power(drop, n)})
        row["gate_seconds"] = time.perf_counter() - started
        rows.append(row)
        print(summary_line(row), file=sys.stderr, flush=True)
    return rows


def summary_line(row: dict) -> str:
    power = ", ".join(f"{p['drop']:g}: {p['measured']:.2f} vs {p['planned']:.2f}" for p in row["power"])
    return (f"{row['shape']} n={row['n']}: false alarm {row['false_alarm']:.3f}, detectable {row['detectable_drop']}, "
            f"power (measured vs plan) {power} [{row['gate_seconds']:.0f} s]")


def se(p: float, count: int) -> float:
    return float(np.sqrt(max(p * (1 - p), 1e-12) / count))


def markdown(rows: list[dict]) -> str:
    out = []
    for shape in dict.fromkeys(row["shape"] for row in rows):
        part = [row for row in rows if row["shape"] == shape]
        first = part[0]
        out += [f"**{shape}-like** ({first['suite']}, {first['problems']} problems, true pass@1 "
                f"{100 * first['true_pass@1']:.1f}%)", "",
                "| n | false alarm (SE) | plan: detectable drop (pts) | power at 0.5x / 1x / 1.5x of it: measured (plan) |",
                "|---:|---:|---:|---|"]
        for row in part:
            alarm = f"{row['false_alarm']:.3f} ({se(ALPHA, row['null_pairs']):.3f})"
            power = " / ".join(f"{p['drop']:g}: {p['measured']:.2f} ({p['planned']:.2f})" for p in row["power"])
            out.append(f"| {row['n']} | {alarm} | {row['detectable_drop'] if row['detectable_drop'] is not None else 'none'} "
                       f"| {power or '-'} |")
        out.append("")
    return "\n".join(out)


def agreement(rows: list[dict]) -> list[str]:
    """Points where measured and planned power differ by more than 3 combined standard errors."""
    bad = []
    for row in rows:
        if row["false_alarm"] > ALPHA + 3 * se(ALPHA, row["null_pairs"]):
            bad.append(f"{row['shape']} n={row['n']}: false alarm {row['false_alarm']:.3f} > alpha")
        for p in row["power"]:
            error = np.hypot(se(p["planned"], row["power_pairs"]), se(p["planned"], 400))
            if abs(p["measured"] - p["planned"]) > 3 * error:
                bad.append(f"{row['shape']} n={row['n']} drop {p['drop']}: measured {p['measured']:.2f}, "
                           f"plan {p['planned']:.2f}")
    return bad


def planned_curve(row: dict, drops: np.ndarray) -> list[float]:
    """The plan's power at `drops`, from the same baseline run bench_shape drew (same seeds)."""
    suite, mean, concentration = SHAPES[row["shape"]]
    truth = true_rates(mean, concentration, row["problems"], row["seed"])
    n = row["n"]
    ids = problem_ids(suite)
    by_id = dict(zip(ids, np.random.default_rng([row["seed"], n]).binomial(n, truth)))
    counts = np.array([by_id[pid] for pid in sorted(ids)])  # the order GateSimulator saw in bench_shape
    simulator = GateSimulator(np.full(len(counts), n), counts, ALPHA, MAX_DROP)
    return [simulator.power(float(drop), n) for drop in drops]


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shapes = list(dict.fromkeys(row["shape"] for row in rows))
    fig, axes = plt.subplots(1, len(shapes), figsize=(4.2 * len(shapes), 3.6), dpi=100, squeeze=False)
    for ax, shape in zip(axes[0], shapes):
        part = [r for r in rows if r["shape"] == shape]
        drops = np.linspace(0, 1.15 * max(p["drop"] for r in part for p in r["power"]), 40)
        for index, row in enumerate(part):
            colour = f"C{index}"
            ax.plot(drops, planned_curve(row, drops), color=colour, label=f"n={row['n']}")
            ax.errorbar([p["drop"] for p in row["power"]], [p["measured"] for p in row["power"]],
                        yerr=[1.96 * se(p["measured"], row["power_pairs"]) for p in row["power"]],
                        fmt="o", color=colour, capsize=3, markersize=4)
        ax.axhline(TARGET_POWER, color="#888888", linewidth=0.8, linestyle="--")
        ax.axhline(ALPHA, color="#888888", linewidth=0.8, linestyle=":")
        first = next(r for r in rows if r["shape"] == shape)
        ax.set_title(f"{shape}-like: {first['problems']} problems", fontsize=10)
        ax.set_xlabel("true drop in pass@1 (points)")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("P(gate fails)")
    axes[0][0].legend(fontsize=8)
    fig.suptitle("harness gate: plan (lines) vs measured (points, 95% MC interval); alpha 0.05, --max-drop 0",
                 fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--null", type=int, default=200, help="same-model pairs per (shape, n)")
    parser.add_argument("--power", type=int, default=100, help="pairs per planted drop")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--n", default="1,4,8,16,64")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--plot", type=Path)
    parser.add_argument("--replot", type=Path, help="only redraw --plot from an earlier --json (no gate runs)")
    args = parser.parse_args()
    if args.replot:
        plot(json.loads(args.replot.read_text(encoding="utf-8")), args.plot)
        return 0
    ns = [int(n) for n in args.n.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as root:
        for shape in args.shapes.split(","):
            rows += bench_shape(shape, ns, args.null, args.power, Path(root), args.seed)
    print(markdown(rows))
    plan_times = {shape: round(max(r["plan_seconds"] for r in rows if r["shape"] == shape), 2)
                  for shape in dict.fromkeys(row["shape"] for row in rows)}
    print(f"gate plan seconds per suite (slowest n): {plan_times}")
    problems = agreement(rows)
    print("plan vs measured: " + ("all within 3 standard errors" if not problems else "; ".join(problems)))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    if args.plot:
        plot(rows, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
