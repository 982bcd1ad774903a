"""Resumable checkpoints: an HF directory plus `trainer_state.pt` (step, optimizer, scheduler, RNG
states, data position), written into a staging directory and renamed, so a checkpoint exists
completely or not at all (a SIGKILL during a save leaves only `step-*.tmp`, which is ignored).

A resumed stage loads the model from the latest complete checkpoint, restores every state, cuts
its log back to that step (a half-written last line included) and continues; on CPU the losses
then equal an uninterrupted run's (tests/test_training_resume.py). Only the latest checkpoint
keeps its optimizer state when `keep_states=1` (SFT: the probe reads every checkpoint's weights,
none of their optimizers).
"""
from __future__ import annotations

import json
import os
import random
import shutil
import time
from pathlib import Path
from typing import Any

import torch

STATE = "trainer_state.pt"


def rng_states() -> dict[str, Any]:
    states = {"python": random.getstate(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    try:
        import numpy as np

        states["numpy"] = np.random.get_state()
    except ImportError:
        pass
    return states


def restore_rng_states(states: dict[str, Any]) -> None:
    random.setstate(states["python"])
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    if "numpy" in states:
        import numpy as np

        np.random.set_state(states["numpy"])


def save_checkpoint(model, tokenizer, path: Path, state: dict[str, Any] | None = None) -> None:
    """HF directory (+ trainer_state.pt when `state` is given), atomically."""
    staging = path.with_name(path.name + ".tmp")
    if staging.exists():
        shutil.rmtree(staging)  # left by a killed save
    model.save_pretrained(staging, safe_serialization=True)
    tokenizer.save_pretrained(staging)
    if state is not None:
        torch.save({**state, "rng": rng_states(), "time": time.time()}, staging / STATE)
    staging.rename(path)


def checkpoint_dirs(stage_path: Path) -> list[Path]:
    """Finished checkpoints, oldest first (step-000010, step-000020, ...)."""
    return sorted(p for p in (Path(stage_path) / "checkpoints").glob("step-*") if not p.name.endswith(".tmp"))


def latest_checkpoint(stage_path: Path) -> Path | None:
    """The latest checkpoint that can be resumed from (it holds trainer_state.pt)."""
    done = [p for p in checkpoint_dirs(stage_path) if (p / STATE).is_file()]
    return done[-1] if done else None


def load_state(checkpoint: Path) -> dict[str, Any]:
    return torch.load(checkpoint / STATE, weights_only=False)


def prune_states(stage_path: Path, keep: int) -> None:
    """Drop trainer_state.pt from all but the `keep` latest checkpoints (their weights stay)."""
    with_state = [p for p in checkpoint_dirs(stage_path) if (p / STATE).is_file()]
    for path in with_state[:-keep] if keep > 0 else []:
        (path / STATE).unlink()


def truncate_log(path: Path, last_step: int) -> None:
    """Keep the log records of steps <= last_step (a torn last line from a kill is dropped)."""
    if not path.is_file():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if record.get("step", 0) <= last_step:
            kept.append(json.dumps(record) + "\n")
    staging = path.with_name(path.name + ".tmp")
    staging.write_text("".join(kept))
    os.replace(staging, path)


def step_pause() -> None:
    """SSP_TRAIN_STEP_PAUSE_S: sleep after each step (only for the kill-and-resume tests)."""
    pause = float(os.environ.get("SSP_TRAIN_STEP_PAUSE_S", "0") or 0)
    if pause > 0:
        time.sleep(pause)
