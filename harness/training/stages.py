"""Stage drivers for probe, merge and eval: read the previous stage's files, write their own."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from harness.backends.base import Sampling
from harness.errors import HarnessError
from harness.training.config import TrainConfig
from harness.training.data import toy_splits
from harness.training.merge import merge_checkpoints
from harness.training.probe import TIE_BREAK, pass_table, plot_pass_at_k, sample_models, select_specialists
from harness.training.sft import checkpoint_dirs
from harness.training.stage import StageDir


def hf_factory(config: TrainConfig, batch_size: int):
    from harness.backends.hf import HFBackend

    return lambda path: HFBackend(path, batch_size=batch_size, dtype=config.dtype, device=config.device)


def sft_checkpoints(config: TrainConfig) -> dict[str, str]:
    found = checkpoint_dirs(config.stage_dir("sft"))
    if not found:
        raise HarnessError(f"probe: no checkpoints under {config.stage_dir('sft') / 'checkpoints'} (run `harness train sft` first)")
    return {path.name: str(path) for path in found}


def step_of(name: str) -> int:
    return int(name.split("-")[-1]) if name.startswith("step-") else 0


def sample_stage(config: TrainConfig, name: str, models_key: str, models: dict[str, str], make_backend=None):
    """Open stage `name` (probe or eval) and sample every model on its split: (stage, manifest, samples),
    with samples None when the stage already finished under the same identity."""
    cfg = getattr(config, name)
    stage = StageDir(config.stage_dir(name), name, {models_key: models, name: cfg.model_dump(),
                                                    "tasks": config.tasks.model_dump()})
    if stage.is_finished():
        return stage, None, None
    manifest = stage.start()
    set_threads(config.threads)
    problems = toy_splits(config.tasks)[name]
    sampling = Sampling(n=cfg.n, temperature=cfg.temperature, top_p=cfg.top_p, max_tokens=cfg.max_tokens, seed=cfg.seed)
    samples = sample_models(models, problems, cfg.n, sampling, make_backend or hf_factory(config, cfg.batch_size), name)
    samples.to_json(stage.path / "samples.jsonl", orient="records", lines=True)
    return stage, manifest, samples


def run_probe(config: TrainConfig, make_backend=None) -> Path:
    cfg = config.probe
    checkpoints = sft_checkpoints(config)
    stage, manifest, samples = sample_stage(config, "probe", "checkpoints", checkpoints, make_backend)
    if samples is None:
        return stage.path
    table = pass_table(samples, sorted({1, cfg.k}))
    steps = {name: step_of(name) for name in checkpoints}
    table.insert(1, "step", table["model"].map(steps))
    table.to_csv(stage.path / "pass_at_k.csv", index=False)
    plot_pass_at_k(table, cfg.k, steps, stage.path / "pass_at_k.png", f"probe pass@{cfg.k} (n={cfg.n})")
    chosen = select_specialists(table, cfg.k, steps)
    selection = {"k": cfg.k, "tie_break": TIE_BREAK, "specialists": chosen,
                 "merge_list": [checkpoints[chosen[d]] for d in config.tasks.domains if d in chosen]}
    (stage.path / "selection.json").write_text(json.dumps(selection, indent=2) + "\n")
    stage.finish(manifest, selection=selection)
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
    mgpo = sorted((config.stage_dir("mgpo") / "checkpoints").glob("step-*[0-9]"))
    if mgpo:
        models["mgpo-final"] = str(mgpo[-1])
    return models


def run_eval(config: TrainConfig, make_backend=None) -> Path:
    cfg = config.eval
    models = eval_models(config)
    stage, manifest, samples = sample_stage(config, "eval", "models", models, make_backend)
    if samples is None:
        return stage.path
    table = pass_table(samples, sorted({1, cfg.k}))
    truncation = samples.assign(cut=samples["reason"] == "truncated").groupby(["model", "domain"])["cut"].mean()
    table["truncation_rate"] = [float(truncation[(m, d)]) for m, d in zip(table["model"], table["domain"])]
    table.to_csv(stage.path / "eval.csv", index=False)
    stage.finish(manifest, models=models)
    return stage.path


def read_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path) if path.is_file() else pd.DataFrame()
