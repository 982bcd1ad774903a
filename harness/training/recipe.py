"""The whole recipe: SFT -> probe -> merge -> MGPO -> eval, and one report (report.md + report.json).

The probe and eval numbers are read from the metrics.json of the stages' run directories
(OUT/probe/runs/*, OUT/eval/runs/*), the same files `harness report leaderboard` reads.

Each stage reads only the files of the stage before it, so any stage can be re-run alone
(`harness train probe --config ...`), and a finished stage with the same config is reused.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd

from harness.training.config import TrainConfig
from harness.training.evaluation import stage_runs, stage_table
from harness.training.mgpo_stage import train_mgpo
from harness.training.sft import train_sft
from harness.training.stage import read_jsonl
from harness.training.stages import run_eval, run_merge, run_probe, step_of

STAGES = {"sft": train_sft, "probe": run_probe, "merge": run_merge, "mgpo": train_mgpo, "eval": run_eval}


def run_recipe(config: TrainConfig) -> Path:
    timings = {}
    for name, run in STAGES.items():
        started = time.perf_counter()
        run(config)
        timings[name] = round(time.perf_counter() - started, 1)
    return write_report(config, timings)


def markdown(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "(none)\n"
    header = "| " + " | ".join(map(str, frame.columns)) + " |\n|" + "---|" * len(frame.columns) + "\n"
    cells = lambda row: " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row)  # noqa: E731
    return header + "".join(f"| {cells(row)} |\n" for row in frame.itertuples(index=False))


def mgpo_summary(log: list[dict]) -> pd.DataFrame:
    keys = ["step", "reward_mean", "frac_zero_std", "w_mean", "w_std", "clip_fraction", "entropy",
            "response_len_mean", "truncation_rate", "grad_norm", "seconds"]
    return pd.DataFrame([{k: r.get(k) for k in keys} for r in log])


def write_report(config: TrainConfig, timings: dict[str, float] | None = None) -> Path:
    out = Path(config.out)
    sft_log = read_jsonl(out / "sft" / "log.jsonl")
    probe = stage_table(stage_runs(out / "probe"))
    selection = json.loads((out / "probe" / "selection.json").read_text()) if (out / "probe" / "selection.json").is_file() else {}
    merge = json.loads((out / "merge" / "manifest.json").read_text()).get("merge", {}) if (out / "merge" / "manifest.json").is_file() else {}
    mgpo = mgpo_summary(read_jsonl(out / "mgpo" / "log.jsonl"))
    evaluation = stage_table(stage_runs(out / "eval"))
    k = config.probe.k
    lines = [f"# Training recipe report: {out.name}\n",
             f"Model `{config.model}`, domains {', '.join(config.tasks.domains)}. Values the paper does not state "
             f"(lambda = {config.mgpo.lam}, G = {config.mgpo.group_size}, RL lr = {config.mgpo.lr}, beta = {config.mgpo.beta}, "
             f"K = {k}) are this config's choices.\n"]
    if timings:
        lines.append("Stage wall times (s): " + ", ".join(f"{k_}: {v}" for k_, v in timings.items()) + "\n")
    if sft_log:
        lines.append(f"## SFT\n{len(sft_log)} steps, loss {sft_log[0]['loss']:.3f} -> {sft_log[-1]['loss']:.3f}, "
                     f"{sum(r['seconds'] for r in sft_log):.0f} s.\n")
    if not probe.empty:
        probe.insert(1, "step", probe["model"].map(step_of))
        pivot = probe.pivot_table(index="domain", columns="step", values=f"pass@{k}", sort=False).reset_index()
        lines.append(f"## Probe: pass@{k} per checkpoint (columns = SFT step) per subdomain\n" + markdown(pivot)
                     + f"\n![probe](probe/pass_at_k.png)\n\nSpecialists ({selection.get('tie_break', '')}): "
                     + json.dumps(selection.get("specialists", {})) + "\n")
    if merge:
        pairs = ", ".join(f"{Path(c).name} x {w:.3f}" for c, w in zip(merge["checkpoints"], merge["weights"]))
        lines.append(f"## Merge\nMerged: {pairs} (tied embeddings: {merge['tied_embeddings']}, dtype {merge['dtype']}).\n")
    if not mgpo.empty:
        lines.append("## MGPO\n" + markdown(mgpo) + "\n![curves](mgpo/curves.png)\n")
    if not evaluation.empty:
        value = f"pass@{config.eval.k}" if config.eval.k != 1 else "pass@1"
        order = [m for m in ("base", "sft-final", "merged", "mgpo-final") if m in set(evaluation["model"])]
        pivot = evaluation.pivot_table(index="model", columns="domain", values=value).reindex(order)
        pivot["mean"] = pivot.mean(axis=1)
        truncated = "truncated = wrong" if config.eval.truncated_wrong else "truncated graded on what was written"
        lines.append(f"## Eval ({value}, n={config.eval.n}, T={config.eval.temperature}, {truncated}, held-out toy problems)\n"
                     + markdown(pivot.reset_index())
                     + "\nRun directories: `eval/runs/<model>` (`harness report leaderboard eval/runs/*`).\n")
    for key, note in config.notes.items():
        lines.append(f"## Note: {key}\n{note}\n")
    (out / "report.md").write_text("\n".join(lines))
    (out / "report.json").write_text(json.dumps({
        "timings": timings, "probe": probe.to_dict("records"), "selection": selection, "merge": merge,
        "mgpo": mgpo.to_dict("records"), "eval": evaluation.to_dict("records")}, indent=2, default=str) + "\n")
    return out / "report.md"
