"""SFT: chat-templated prompt and completion tokenised separately, loss on the completion and EOS.

Labels are -100 on prompt and padding *by position* (SmolLM2 and Qwen have pad == eos, so masking
by token id would drop the EOS and the model would never learn to stop). The loss of an optimizer
step is the token mean over all its supervised tokens: each micro-batch's summed NLL is divided
by the step's global count, so gradient accumulation equals one big batch.
"""
from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Sequence

import torch

from harness.backends.prompts import render_prompt
from harness.progress import progress
from harness.training.checkpoint import (checkpoint_dirs, latest_checkpoint, load_state, prune_states,
                                         restore_rng_states, save_checkpoint, step_pause, truncate_log)
from harness.training.config import TrainConfig
from harness.training.data import load_rows
from harness.training.stage import StageDir, set_threads

IGNORE = -100


def tokenize_prompt_and_output(tokenizer, prompts: Sequence[Sequence[dict]], completions: Sequence[str],
                               max_length: int | None = None) -> dict[str, torch.Tensor]:
    """Right-padded input_ids, attention_mask and labels; the completion is followed by EOS."""
    rows = []
    for messages, completion in zip(prompts, completions):
        prompt_ids = tokenizer(render_prompt(tokenizer, messages), add_special_tokens=False)["input_ids"]
        completion_ids = tokenizer(completion, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        ids = (prompt_ids + completion_ids)[:max_length]
        labels = ([IGNORE] * len(prompt_ids) + completion_ids)[:max_length]
        rows.append((ids, labels))
    width = max(len(ids) for ids, _ in rows)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
    labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    for row, (ids, row_labels) in enumerate(rows):
        input_ids[row, :len(ids)] = torch.tensor(ids)
        labels[row, :len(ids)] = torch.tensor(row_labels)
        attention[row, :len(ids)] = 1
    return {"input_ids": input_ids, "attention_mask": attention, "labels": labels}


def supervised_tokens(labels: torch.Tensor) -> int:
    return int((labels[:, 1:] != IGNORE).sum())


def sft_loss(model, batch: dict[str, torch.Tensor], normalizer: float | None = None) -> torch.Tensor:
    """Summed NLL of the supervised tokens / normalizer (default: this batch's own token count)."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    targets = batch["labels"][:, 1:]
    nll = torch.nn.functional.cross_entropy(logits[:, :-1].float().reshape(-1, logits.shape[-1]),
                                            targets.reshape(-1), ignore_index=IGNORE, reduction="sum")
    return nll / (normalizer if normalizer is not None else max(supervised_tokens(batch["labels"]), 1))


def sft_step(model, optimizer, micro_batches: list[dict[str, torch.Tensor]], grad_clip: float | None) -> dict:
    """One optimizer step over k micro-batches with the global supervised-token normalizer."""
    total = max(sum(supervised_tokens(batch["labels"]) for batch in micro_batches), 1)
    loss_value = 0.0
    for batch in micro_batches:
        loss = sft_loss(model, batch, normalizer=total)
        loss.backward()
        loss_value += float(loss.detach())
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip or float("inf"))
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return {"loss": loss_value, "tokens": total, "grad_norm": float(norm)}


def train_sft(config: TrainConfig) -> Path:
    """The SFT stage; a killed run resumes from its latest checkpoint (optimizer, scheduler, RNG, data position)."""
    from harness.models import load_model_and_tokenizer

    cfg = config.sft
    stage = StageDir(config.stage_dir("sft"), "sft", {"model": config.model, "tasks": config.tasks.model_dump(),
                                                      "sft": cfg.model_dump(), "dtype": config.dtype})
    if stage.is_finished():
        return stage.path
    set_threads(config.threads)
    rows, decision = load_rows(cfg.data, "train", config.tasks, ("completion",), cfg.allow_contaminated)
    manifest = stage.start(decontamination=decision, rows=len(rows))
    if cfg.trainer == "trl":
        from harness.training.sft_trl import train_sft_trl

        record = train_sft_trl(config, rows, stage)
        stage.finish(manifest, trainer=record, checkpoints=[p.name for p in checkpoint_dirs(stage.path)])
        return stage.path
    resume = latest_checkpoint(stage.path)
    model, tokenizer, _ = load_model_and_tokenizer(str(resume) if resume else config.model, config.dtype,
                                                   config.device, where="model")
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / (cfg.warmup_steps + 1)))
    rng = random.Random(config.tasks.seed)
    order: list[int] = []
    first_step = 1
    if resume:
        state = load_state(resume)
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["scheduler"])
        rng.setstate(state["data_rng"])
        order = list(state["order"])
        restore_rng_states(state["rng"])
        first_step = state["step"] + 1
        manifest["sessions"][-1]["resumed_from"] = str(resume)
        stage.write(manifest)
    truncate_log(stage.path / "log.jsonl", first_step - 1)
    bar = progress(cfg.steps - first_step + 1, "sft")
    bar.unit = "step"
    for step in range(first_step, cfg.steps + 1):
        started = time.perf_counter()
        micro = []
        for _ in range(cfg.grad_accum):
            if len(order) < cfg.batch_size:
                order += rng.sample(range(len(rows)), len(rows))
            picked, order = [rows[i] for i in order[:cfg.batch_size]], order[cfg.batch_size:]
            micro.append(tokenize_prompt_and_output(tokenizer, [r["messages"] for r in picked],
                                                    [r["completion"] for r in picked], cfg.max_length))
        record = sft_step(model, optimizer, [{k: v.to(config.device) for k, v in b.items()} for b in micro], cfg.grad_clip)
        schedule.step()
        stage.log({"step": step, **record, "lr": schedule.get_last_lr()[0], "seconds": time.perf_counter() - started})
        bar.update(1)
        bar.set_postfix(loss=f"{record['loss']:.3f}")
        if step % cfg.save_every == 0 or step == cfg.steps:
            state = {"step": step, "optimizer": optimizer.state_dict(), "scheduler": schedule.state_dict(),
                     "data_rng": rng.getstate(), "order": order}
            save_checkpoint(model, tokenizer, stage.path / "checkpoints" / f"step-{step:06d}", state)
            prune_states(stage.path, keep=1)
        step_pause()
    bar.close()
    stage.finish(manifest, resumed_from=str(resume) if resume else None,
                 checkpoints=[p.name for p in checkpoint_dirs(stage.path)])
    return stage.path
