"""The whole recipe: SFT -> probe -> merge -> MGPO phases -> eval, and one report (report.md + report.json).

MGPO is the curriculum of `mgpo.phases` (e.g. math at 16K, math at 32K, code), one stage directory
and one report section per phase (reward curve, and the verdict classes of a code phase: per step and
summed over the phase, `code_verdicts` in report.json).

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
from harness.training.mgpo_stage import default_init, train_mgpo, train_phase
from harness.training.checkpoint import latest_checkpoint
from harness.training.sft import train_sft
from harness.training.stage import read_jsonl
from harness.training.stages import run_eval, run_merge, run_probe, step_of

STAGES = {"sft": train_sft, "probe": run_probe, "merge": run_merge, "mgpo": train_mgpo, "eval": run_eval}


def run_recipe(config: TrainConfig) -> Path:
    timings = {}
    for name, run in STAGES.items():
        if name == "mgpo":  # one timing per RL phase
            init = default_init(config)
            for phase, cfg in config.mgpo.phase_configs():
                started = time.perf_counter()
                path = train_phase(config, phase, cfg, init)
                init = str(latest_checkpoint(path) or init)
                timings[phase] = round(time.perf_counter() - started, 1)
            continue
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
    rows = []
    for record in log:
        row = {k: record.get(k) for k in keys}
        if "verdicts" in record:  # a code phase: the verdict classes of the step's rollouts
            row["verdicts"] = " ".join(f"{k}={v}" for k, v in record["verdicts"].items() if v)
            row["reward_seconds"] = record.get("reward_seconds")
        rows.append(row)
    return pd.DataFrame(rows)


def verdict_totals(log: list[dict]) -> dict[str, int] | None:
    """A code phase's verdict classes summed over its steps (None for a math phase)."""
    if not any("verdicts" in record for record in log):
        return None
    totals: dict[str, int] = {}
    for record in log:
        for name, count in record.get("verdicts", {}).items():
            totals[name] = totals.get(name, 0) + count
    return totals


def prompt_table(log: list[dict], limit: int = 16) -> pd.DataFrame:
    """Correct rollouts (of G) per prompt per step, for a phase whose every step scored the same set of
    at most `limit` prompts (then each row is one prompt's learning curve); else empty (prompts drawn
    anew each step give a sparse table of single draws)."""
    sets = {frozenset(record.get("prompts", [])) for record in log}
    if len(sets) != 1 or not 0 < len(next(iter(sets))) <= limit:
        return pd.DataFrame()
    cells = [(prompt, record["step"], correct) for record in log
             for prompt, correct in zip(record["prompts"], record["group_correct"])]
    frame = pd.DataFrame(cells, columns=["prompt", "step", "correct"])
    table = frame.pivot_table(index="prompt", columns="step", values="correct", aggfunc="sum", sort=True)
    return table.map(lambda v: str(int(v))).reset_index()


def phase_sections(config: TrainConfig, out: Path) -> tuple[list[str], dict[str, list], dict[str, dict]]:
    """(report lines, per-step summary records, verdict totals of each code phase) per MGPO phase."""
    lines, records, verdicts = [], {}, {}
    for name, cfg in config.mgpo.phase_configs():
        log = read_jsonl(out / name / "log.jsonl")
        if not log:
            continue
        summary = mgpo_summary(log)
        records[name] = summary.to_dict("records")
        manifest = out / name / "manifest.json"
        reward = json.loads(manifest.read_text()).get("reward", {}) if manifest.is_file() else {}
        curve = ", ".join(f"{r['reward_mean']:.2f}" for r in log)
        title = "## MGPO" if name == "mgpo" else f"## MGPO phase {name.removeprefix('mgpo-')}"
        totals = verdict_totals(log)
        mix = ""
        if totals is not None:
            verdicts[name] = totals
            mix = (f" Verdicts over the phase ({sum(totals.values())} rollouts): "
                   + ", ".join(f"{k}={v}" for k, v in totals.items()) + ".")
        lines.append(f"{title}\nData `{cfg.data}`, reward {json.dumps(reward)}, max response tokens "
                     f"{cfg.max_new_tokens}, {len(log)}/{cfg.steps} steps. Reward curve (mean per step): {curve}.{mix}\n\n"
                     + markdown(summary) + f"\n![curves]({name}/curves.png)\n")
        per_prompt = prompt_table(log)
        if not per_prompt.empty:
            lines.append(f"Correct rollouts per prompt (of G = {cfg.group_size}) by step (columns):\n\n"
                         + markdown(per_prompt))
    return lines, records, verdicts


def eval_pivot(evaluation: pd.DataFrame, value: str, order: list[str]) -> pd.DataFrame:
    """Models x domains; the math subdomains' mean, and with held-out code problems (eval.code_problems)
    the code domains after it with their own mean: the two are never averaged together."""
    pivot = evaluation.pivot_table(index="model", columns="domain", values=value).reindex(order)
    code = [column for column in pivot.columns if column.startswith("code_")]
    maths = [column for column in pivot.columns if column not in code]
    if not code:
        return pivot.assign(mean=pivot.mean(axis=1))
    return pivot[maths].assign(**{"math mean": pivot[maths].mean(axis=1)}).join(
        pivot[code].assign(**{"code mean": pivot[code].mean(axis=1)}))


def stage_names(config: TrainConfig) -> list[str]:
    return ["sft", "probe", "merge", *(name for name, _ in config.mgpo.phase_configs()), "eval"]


def recorded_seconds(out: Path, names: list[str]) -> dict[str, float]:
    """Wall seconds of each finished stage's sessions (from its manifest), so a re-run that reuses
    finished stages still reports the time they took; a resumed stage sums its sessions up to the finish."""
    from datetime import datetime

    seconds = {}
    for name in names:
        path = out / name / "manifest.json"
        manifest = json.loads(path.read_text()) if path.is_file() else {}
        sessions = manifest.get("sessions") or []
        if manifest.get("finished_at") and sessions:
            start = datetime.fromisoformat(sessions[0]["started_at"])
            seconds[name] = round((datetime.fromisoformat(manifest["finished_at"]) - start).total_seconds(), 1)
            if len(sessions) > 1:
                seconds[name + " (resumed)"] = len(sessions) - 1
    return seconds


def write_report(config: TrainConfig, timings: dict[str, float] | None = None) -> Path:
    out = Path(config.out)
    sft_log = read_jsonl(out / "sft" / "log.jsonl")
    probe = stage_table(stage_runs(out / "probe"))
    selection = json.loads((out / "probe" / "selection.json").read_text()) if (out / "probe" / "selection.json").is_file() else {}
    merge = json.loads((out / "merge" / "manifest.json").read_text()).get("merge", {}) if (out / "merge" / "manifest.json").is_file() else {}
    mgpo_lines, mgpo, code_verdicts = phase_sections(config, out)
    evaluation = stage_table(stage_runs(out / "eval"))
    k = config.probe.k
    lines = [f"# Training recipe report: {out.name}\n",
             f"Model `{config.model}`, domains {', '.join(config.tasks.domains)}. Values the paper does not state "
             f"(lambda = {config.mgpo.lam}, G = {config.mgpo.group_size}, RL lr = {config.mgpo.lr}, beta = {config.mgpo.beta}, "
             f"K = {k}) are this config's choices.\n"]
    recorded = recorded_seconds(out, stage_names(config))
    if recorded:
        lines.append("Stage wall times (s, first start to finish, from the manifests): "
                     + ", ".join(f"{k_}: {v}" for k_, v in recorded.items()) + "\n")
    if timings:
        lines.append("This invocation (s; a reused stage takes ~0): " + ", ".join(f"{k_}: {v}" for k_, v in timings.items()) + "\n")
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
    lines += mgpo_lines
    if not evaluation.empty:
        value = f"pass@{config.eval.k}" if config.eval.k != 1 else "pass@1"
        order = [m for m in ("base", "sft-final", "merged", "mgpo-final") if m in set(evaluation["model"])]
        pivot = eval_pivot(evaluation, value, order)
        truncated = "truncated = wrong" if config.eval.truncated_wrong else "truncated graded on what was written"
        lines.append(f"## Eval ({value}, n={config.eval.n}, T={config.eval.temperature}, {truncated}, held-out toy problems)\n"
                     + markdown(pivot.reset_index())
                     + "\nRun directories: `eval/runs/<model>` (`harness report leaderboard eval/runs/*`).\n")
    for key, note in config.notes.items():
        lines.append(f"## Note: {key}\n{note}\n")
    (out / "report.md").write_text("\n".join(lines))
    (out / "report.json").write_text(json.dumps({
        "timings": timings, "stage_seconds": recorded, "probe": probe.to_dict("records"), "selection": selection, "merge": merge,
        "mgpo": mgpo, "code_verdicts": code_verdicts, "eval": evaluation.to_dict("records")}, indent=2, default=str) + "\n")
    return out / "report.md"
