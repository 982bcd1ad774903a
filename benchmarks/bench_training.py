"""One MGPO optimisation step and one SFT step on the default model, against TRL on the same batch.

    pip install "trl==1.16.0" "torch==2.13.0"     # benchmark only; the torch pin keeps the CPU wheel
    python benchmarks/bench_training.py [--prompts 2] [--group 4] [--max-new-tokens 48] [--repeats 2]

MGPO: rollouts are sampled once with our hf engine; both sides then score the *same* tensors with
the *same* advantages (lambda = 1) and the same fixed behaviour log-probs (the current ones plus
noise, so the clipped loss is not trivially 0 on-policy). TRL's side is GRPOTrainer(loss_type="grpo",
beta=0, bf16=False: TRL's configs default to bf16 autocast, which on CPU moves log-probs by ~0.02).compute_loss + backward + AdamW step; ours is mgpo_update (mu = 1, one micro-batch).
SFT: the same rows; TRL's side is SFTTrainer's own collator + compute_loss on prompt-completion
conversational data; ours is tokenize_prompt_and_output + sft_step. Prints losses, their difference
and the time ratio. Load on shared machines distorts times: the script prints `uptime` first.
"""
from __future__ import annotations

import argparse
import copy
import os
import time

import torch

from harness.models import loadable_path, resolve_model
from harness.training.data import toy_splits
from harness.training.config import TasksConfig
from harness.training.logprobs import completion_logprobs
from harness.training.mgpo import mgpo_advantages
from harness.training.mgpo_loop import UpdateSettings, grade_rollouts, mgpo_update
from harness.models import eos_ids, load_model_and_tokenizer
from harness.sampling import Sampling
from harness.training.rollout import HFRollout
from harness.training.sft import sft_loss, sft_step, tokenize_prompt_and_output


def timed(function):
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def mgpo_batch(model, tokenizer, rows, group, max_new_tokens):
    engine = HFRollout(model, tokenizer, eos_ids(model, tokenizer))
    batch = engine.generate([r["messages"] for r in rows], Sampling(n=group, temperature=1.0, top_p=1.0, max_tokens=max_new_tokens),
                            seed=0)
    correct = grade_rollouts(batch, [r["answer"] for r in rows for _ in range(group)])
    if correct.sum() == 0:  # make the groups mixed so the gradient is not zero (a benchmark, not training)
        correct[::group] = 1.0
    advantages, _, _ = mgpo_advantages(correct, correct, group, lam=1.0)
    with torch.no_grad():
        current = completion_logprobs(model, batch.prompt_ids, batch.prompt_mask, batch.completion_ids, batch.completion_mask)
    torch.manual_seed(1)
    old = current + 0.1 * torch.randn_like(current)
    return batch, advantages, old


def trl_grpo(model, tokenizer, batch, advantages, old, max_new_tokens):
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    args = GRPOConfig(output_dir="/tmp/bench-grpo", loss_type="grpo", beta=0.0, epsilon=0.2, temperature=1.0,
                      num_generations=batch.group_size, per_device_train_batch_size=batch.completion_ids.shape[0],
                      max_completion_length=max_new_tokens, report_to=[], use_cpu=True, learning_rate=1e-6, bf16=False,
                      logging_steps=1, save_strategy="no")
    trainer = GRPOTrainer(model=model, reward_funcs=lambda completions, **_: [0.0] * len(completions), args=args,
                          train_dataset=Dataset.from_list([{"prompt": "x"}] * 8), processing_class=tokenizer)
    trainer.model.train()
    trainer.current_gradient_accumulation_steps = 1  # set by Trainer.train(); we call compute_loss directly
    inputs = {"prompt_ids": batch.prompt_ids, "prompt_mask": batch.prompt_mask, "completion_ids": batch.completion_ids,
              "completion_mask": batch.completion_mask, "advantages": advantages, "old_per_token_logps": old}
    optimizer = torch.optim.AdamW(trainer.model.parameters(), lr=1e-6)

    def step():
        loss = trainer.compute_loss(trainer.model, inputs)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return float(loss.detach())

    return step


def trl_sft(model, tokenizer, rows):
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    data = Dataset.from_list([{"prompt": r["messages"], "completion": [{"role": "assistant", "content": r["completion"]}]}
                              for r in rows])
    args = SFTConfig(output_dir="/tmp/bench-sft", report_to=[], use_cpu=True, per_device_train_batch_size=len(rows),
                     max_length=512, learning_rate=5e-5, completion_only_loss=True, save_strategy="no",
                     bf16=False)
    trainer = SFTTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer)
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(len(rows))])
    optimizer = torch.optim.AdamW(trainer.model.parameters(), lr=5e-5)
    trainer.model.train()

    def step():
        loss = trainer.compute_loss(trainer.model, batch)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return float(loss.detach())

    return step, batch


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=2)
    parser.add_argument("--group", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--sft-batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is faster on a shared CPU)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print("load:", os.popen("uptime").read().strip(), "| torch threads:", torch.get_num_threads())
    path = loadable_path(resolve_model("smollm2-135m"))
    rows = toy_splits(TasksConfig(train=2, probe=1, rl=2, eval=1))
    base, tokenizer, _ = load_model_and_tokenizer(path, "float32")

    batch, advantages, old = mgpo_batch(base, tokenizer, rows["rl"][:args.prompts], args.group, args.max_new_tokens)
    print(f"MGPO batch: {batch.completion_ids.shape[0]} rollouts x {batch.completion_ids.shape[1]} tokens, "
          f"{int(batch.completion_mask.sum())} supervised")
    ours_model, trl_model = copy.deepcopy(base).train(), copy.deepcopy(base).train()
    ours_opt = torch.optim.AdamW(ours_model.parameters(), lr=1e-6)
    settings = UpdateSettings(micro_batch=batch.completion_ids.shape[0], max_len=args.max_new_tokens)
    trl_step = trl_grpo(trl_model, tokenizer, batch, advantages, old, args.max_new_tokens)
    report("MGPO step", lambda: mgpo_update(ours_model, ours_opt, batch, advantages, settings, old_logp=old)["loss"],
           trl_step, args.repeats)

    sft_rows = rows["train"][:args.sft_batch]
    ours_model, trl_model = copy.deepcopy(base).train(), copy.deepcopy(base).train()
    ours_opt = torch.optim.AdamW(ours_model.parameters(), lr=5e-5)
    ours_batch = tokenize_prompt_and_output(tokenizer, [r["messages"] for r in sft_rows], [r["completion"] for r in sft_rows])
    trl_step, trl_batch = trl_sft(trl_model, tokenizer, sft_rows)
    print(f"SFT batch: {len(sft_rows)} rows; supervised tokens ours {int((ours_batch['labels'][:, 1:] != -100).sum())}, "
          f"TRL {int((trl_batch['labels'][:, 1:] != -100).sum())} (TRL also supervises the template's newline after EOS)")
    with torch.no_grad():
        same_batch = sft_loss(copy.deepcopy(base), {k: trl_batch[k] for k in ("input_ids", "attention_mask", "labels")})
    print(f"SFT loss of our sft_loss on TRL's collated batch: {float(same_batch):.6f}")
    report("SFT step", lambda: sft_step(ours_model, ours_opt, [ours_batch], grad_clip=None)["loss"], trl_step, args.repeats)


def report(label, ours, theirs, repeats):
    ours_runs = [timed(ours) for _ in range(repeats)]
    theirs_runs = [timed(theirs) for _ in range(repeats)]
    ours_loss, theirs_loss = ours_runs[0][0], theirs_runs[0][0]
    ours_time = min(t for _, t in ours_runs)
    theirs_time = min(t for _, t in theirs_runs)
    print(f"{label}: loss ours {ours_loss:.6f}  TRL {theirs_loss:.6f}  |diff| {abs(ours_loss - theirs_loss):.2e}  "
          f"time ours {ours_time:.2f}s  TRL {theirs_time:.2f}s  ratio ours/TRL {ours_time / theirs_time:.2f}")


if __name__ == "__main__":
    main()
