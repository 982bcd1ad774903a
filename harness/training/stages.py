"""Stage drivers for probe, merge and eval: read the previous stage's files, write their own.

Probe and eval evaluate every model through the eval pipeline into STAGE/runs/<label>/
(harness.training.evaluation); their tables are read back from those runs' metrics.json.
"""
from __future__ import annotations

import json
from pathlib import Path

from harness.backends import make_backend as default_make_backend
from harness.errors import HarnessError
from harness.training.config import TrainConfig
from harness.training.data import toy_code_splits, toy_splits
from harness.training.evaluation import evaluate_models, stage_plans, stage_table
from harness.training.merge import merge_checkpoints
from harness.training.probe import TIE_BREAK, plot_pass_at_k, select_specialists
from harness.training.checkpoint import checkpoint_dirs
from harness.training.stage import StageDir, set_threads


def sft_checkpoints(config: TrainConfig) -> dict[str, str]:
    found = checkpoint_dirs(config.stage_dir("sft"))
    if not found:
        raise HarnessError(f"probe: no checkpoints under {config.stage_dir('sft') / 'checkpoints'} (run `harness train sft` first)")
    return {path.name: str(path) for path in found}


def step_of(name: str) -> int:
    return int(name.split("-")[-1]) if name.startswith("step-") else 0


def sample_stage(config: TrainConfig, name: str, models_key: str, models: dict[str, str], make_backend=None,
                 code_problems: int = 0):
    """Open stage `name` (probe or eval) and evaluate every model on its split: (stage, manifest,
    {label: run directory}), the last two None when the stage already finished under the same identity."""
    cfg = getattr(config, name)
    stage = StageDir(config.stage_dir(name), name, {models_key: models, name: cfg.model_dump(),
                                                    "tasks": config.tasks.model_dump()})
    if stage.is_finished():
        return stage, None, None
    manifest = stage.start()
    set_threads(config.threads)
    plans = stage_plans(toy_splits(config.tasks)[name], stage.path / "data", cfg.sampling(),
                        {"truncated_wrong": cfg.truncated_wrong})
    if code_problems:  # the eval stage's held-out code problems (suites/toy_code.py)
        plans += stage_plans(toy_code_splits(config.tasks, code_problems)["eval"], stage.path / "data",
                             cfg.sampling(), {"truncated_wrong": cfg.truncated_wrong, "grader": cfg.code_grader})
    options = {"batch_size": cfg.batch_size, "dtype": config.dtype, "device": config.device}
    runs = evaluate_models(models, plans, stage.path / "runs", sorted({1, cfg.k}),
                           make_backend or default_make_backend, options)
    return stage, manifest, runs


def run_probe(config: TrainConfig, make_backend=None) -> Path:
    cfg = config.probe
    checkpoints = sft_checkpoints(config)
    stage, manifest, runs = sample_stage(config, "probe", "checkpoints", checkpoints, make_backend)
    if runs is None:
        return stage.path
    table = stage_table(runs)
    steps = {name: step_of(name) for name in checkpoints}
    table.insert(1, "step", table["model"].map(steps))
    plot_pass_at_k(table, cfg.k, steps, stage.path / "pass_at_k.png", f"probe pass@{cfg.k} (n={cfg.n})")
    chosen = select_specialists(table, cfg.k, steps)
    selection = {"k": cfg.k, "tie_break": TIE_BREAK, "specialists": chosen,
                 "merge_list": [checkpoints[chosen[d]] for d in config.tasks.domains if d in chosen]}
    (stage.path / "selection.json").write_text(json.dumps(selection, indent=2) + "\n")
    stage.finish(manifest, selection=selection, runs={label: str(path) for label, path in runs.items()})
    return stage.path


def run_merge(config: TrainConfig) -> Path:
    cfg = config.merge
    checkpoints = cfg.checkpoints
    if checkpoints is None:
        selection = config.stage_dir("probe") / "selection.json"
        if not selection.is_file():
            raise HarnessError(f"merge.checkpoints: not set and {selection} does not exist (run `harness train probe` first)")
        checkpoints = json.loads(selection.read_text())["merge_list"]
    stage = StageDir(config.stage_dir("merge"), "merge", {"checkpoints": checkpoints, "weights": cfg.weights})
    if stage.is_finished():
        return stage.path
    manifest = stage.start()
    record = merge_checkpoints(checkpoints, cfg.weights, stage.path / "model")
    stage.finish(manifest, merge=record)
    return stage.path


def eval_models(config: TrainConfig) -> dict[str, str]:
    models = {"base": config.model}
    sft = checkpoint_dirs(config.stage_dir("sft"))
    if sft:
        models["sft-final"] = str(sft[-1])
    if (config.stage_dir("merge") / "model" / "config.json").is_file():
        models["merged"] = str(config.stage_dir("merge") / "model")
    last_phase = config.mgpo.phase_configs()[-1][0]  # the curriculum's last RL phase
    mgpo = sorted((config.stage_dir(last_phase) / "checkpoints").glob("step-*[0-9]"))
    if mgpo:
        models["mgpo-final"] = str(mgpo[-1])
    return models


def run_eval(config: TrainConfig, make_backend=None) -> Path:
    models = eval_models(config)
    stage, manifest, runs = sample_stage(config, "eval", "models", models, make_backend, config.eval.code_problems)
    if runs is not None:
        stage.finish(manifest, models=models, runs={label: str(path) for label, path in runs.items()})
    return stage.path
