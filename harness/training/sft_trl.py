"""SFT on TRL's SFTTrainer (`sft.trainer: trl`), for the GPU recipe: packing, gradient
checkpointing and sharding (accelerate / FSDP / DeepSpeed launchers) come from the maintained trainer.

Our conventions are kept by construction, and checked against the CPU loop (the reference) in
tests/test_training_sft_trl.py:
- tokens: the rows are tokenised by *our* `tokenize_prompt_and_output` rules (chat-templated prompt
  and completion separately, EOS appended) and handed to TRL pre-tokenised with a
  `completion_mask`, so TRL sees exactly our input ids and supervised positions;
- loss: `completion_only_loss` with loss_type `nll`: the token mean over all supervised tokens of
  the optimizer step (TRL passes the step's global count under gradient accumulation), our sft_loss;
- optimizer and schedule: our AdamW and linear-warmup LambdaLR are passed in (`optimizers=`), so
  the learning rate at every step is the loop's; max_grad_norm = sft.grad_clip.
Checkpoints are TRL's (`OUT/sft/trl/checkpoint-N`, with optimizer, scheduler and RNG states, so a
killed run resumes with `resume_from_checkpoint`), linked as `OUT/sft/checkpoints/step-NNNNNN` for
the probe. The data order is TRL's sampler (seeded by tasks.seed), not the loop's.
"""
from __future__ import annotations

from pathlib import Path

import torch

from harness.backends.prompts import render_prompt
from harness.training.config import TrainConfig


def pretokenized(tokenizer, rows: list[dict], max_length: int) -> list[dict]:
    """Our tokenisation as TRL's pre-tokenised format: input_ids + completion_mask (1 = supervised)."""
    out = []
    for row in rows:
        prompt = tokenizer(render_prompt(tokenizer, row["messages"]), add_special_tokens=False)["input_ids"]
        completion = tokenizer(row["completion"], add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        out.append({"input_ids": (prompt + completion)[:max_length],
                    "completion_mask": ([0] * len(prompt) + [1] * len(completion))[:max_length]})
    return out


def make_trainer(model, tokenizer, rows: list[dict], cfg, output_dir: Path, seed: int, device: str = "cpu",
                 callbacks=None):
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / (cfg.warmup_steps + 1)))
    args = SFTConfig(output_dir=str(output_dir), report_to=[], use_cpu=device == "cpu", max_steps=cfg.steps,
                     per_device_train_batch_size=cfg.batch_size, gradient_accumulation_steps=cfg.grad_accum,
                     max_length=cfg.max_length, completion_only_loss=True, loss_type="nll",
                     max_grad_norm=cfg.grad_clip or 1e9, save_strategy="steps", save_steps=cfg.save_every,
                     logging_steps=1, seed=seed, data_seed=seed, bf16=False, fp16=False,
                     remove_unused_columns=True, disable_tqdm=True,
                     **({"gradient_checkpointing": True} if cfg.gradient_checkpointing else {}))
    data = Dataset.from_list(pretokenized(tokenizer, rows, cfg.max_length))
    return SFTTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer,
                      optimizers=(optimizer, schedule), callbacks=callbacks)


def train_sft_trl(config: TrainConfig, rows: list[dict], stage) -> dict:
    from transformers import TrainerCallback

    from harness.models import load_model_and_tokenizer

    cfg = config.sft
    model, tokenizer, _ = load_model_and_tokenizer(config.model, config.dtype, config.device, where="model")
    model.train()
    output_dir = stage.path / "trl"

    class LogToStage(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                stage.log({"step": state.global_step, "loss": logs["loss"], "lr": logs.get("learning_rate"),
                           "grad_norm": logs.get("grad_norm"), "trainer": "trl"})

        def on_save(self, args, state, control, **kwargs):
            link = stage.path / "checkpoints" / f"step-{state.global_step:06d}"
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to(output_dir / f"checkpoint-{state.global_step}", target_is_directory=True)

    trainer = make_trainer(model, tokenizer, rows, cfg, output_dir, config.tasks.seed, config.device, [LogToStage()])
    resume = any(output_dir.glob("checkpoint-*"))
    trainer.train(resume_from_checkpoint=True if resume else None)
    return {"trainer": "trl.SFTTrainer", "resumed": resume, "output_dir": str(output_dir)}
