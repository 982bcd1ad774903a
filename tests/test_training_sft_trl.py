"""`sft.trainer: trl` keeps our loss conventions: TRL's SFTTrainer, fed our tokenisation, collates
the batch our loop builds and computes the loss our sft_loss computes (the CPU loop is the reference)."""
from __future__ import annotations

import copy

import pytest
import torch

pytest.importorskip("trl")

from harness.training.config import SFTConfig  # noqa: E402
from harness.training.sft import sft_loss, sft_step, tokenize_prompt_and_output  # noqa: E402
from harness.training.sft_trl import make_trainer  # noqa: E402
from harness.training.toy_tasks import generate_splits  # noqa: E402
from training_fixtures import char_tokenizer, tiny_qwen2  # noqa: E402


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tokenizer = char_tokenizer()
    rows = generate_splits({"train": 2}, ["algebra", "geometry"], seed=0)["train"]
    model = tiny_qwen2(vocab_size=len(tokenizer), eos_token_id=tokenizer.eos_token_id,
                       pad_token_id=tokenizer.pad_token_id).train()
    cfg = SFTConfig(steps=2, batch_size=4, lr=1e-3, max_length=512, save_every=100, trainer="trl")
    return tokenizer, rows, model, cfg, tmp_path_factory.mktemp("trl")


def test_trl_collates_our_tokens_and_labels(setup):
    tokenizer, rows, model, cfg, out = setup
    trainer = make_trainer(copy.deepcopy(model), tokenizer, rows, cfg, out, seed=0)
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(len(rows))])
    ours = tokenize_prompt_and_output(tokenizer, [r["messages"] for r in rows], [r["completion"] for r in rows], 512)
    width = ours["input_ids"].shape[1]
    assert torch.equal(batch["labels"][:, :width], ours["labels"])
    supervised = ours["labels"] != -100
    assert torch.equal(batch["input_ids"][:, :width][supervised], ours["input_ids"][supervised])
    # EOS is supervised at the end of every completion (pad == eos would drop it if masked by id)
    last = supervised.long().cumsum(1).argmax(1)
    assert (ours["labels"][torch.arange(len(rows)), last] == tokenizer.eos_token_id).all()


def test_trl_loss_equals_our_sft_loss_on_the_same_batch(setup):
    tokenizer, rows, model, cfg, out = setup
    trainer = make_trainer(copy.deepcopy(model), tokenizer, rows, cfg, out, seed=0)
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(len(rows))])
    theirs = trainer.compute_loss(trainer.model, dict(batch))
    ours = sft_loss(copy.deepcopy(model), {k: batch[k] for k in ("input_ids", "attention_mask", "labels")})
    assert float(theirs) == pytest.approx(float(ours), abs=1e-5)


def test_one_trl_step_matches_one_loop_step(setup):
    """Same batch, same AdamW and schedule, same clip: the parameters after one step agree.

    One thread: Adam's first step divides each gradient by its own magnitude, so a near-zero
    gradient whose sign flips with the order of a multi-threaded reduction moves by 2 x lr."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        one_step_comparison(setup)
    finally:
        torch.set_num_threads(threads)


def one_step_comparison(setup):
    tokenizer, rows, model, cfg, out = setup
    trainer = make_trainer(copy.deepcopy(model), tokenizer, rows, cfg, out, seed=0)
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(len(rows))])
    trainer.model.train()
    optimizer, schedule = trainer.optimizer, trainer.lr_scheduler
    loss = trainer.compute_loss(trainer.model, dict(batch), num_items_in_batch=int((batch["labels"][:, 1:] != -100).sum()))
    loss.backward()
    torch.nn.utils.clip_grad_norm_(trainer.model.parameters(), cfg.grad_clip)
    optimizer.step()
    reference = copy.deepcopy(model)
    ref_opt = torch.optim.AdamW(reference.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    record = sft_step(reference, ref_opt, [{k: batch[k] for k in ("input_ids", "attention_mask", "labels")}], cfg.grad_clip)
    assert float(loss) == pytest.approx(record["loss"], abs=1e-5)
    for (name, a), b in zip(trainer.model.named_parameters(), reference.parameters()):
        assert torch.allclose(a, b, atol=1e-6), name
    assert schedule.get_last_lr()[0] == pytest.approx(cfg.lr / (cfg.warmup_steps + 1))


@pytest.mark.slow
def test_harness_train_sft_runs_on_trl_and_leaves_probe_checkpoints(tmp_path):
    import json

    import yaml
    from transformers import AutoModelForCausalLM

    from conftest import read_jsonl, run_harness

    chars = char_tokenizer()
    tiny_qwen2(vocab_size=len(chars), eos_token_id=chars.eos_token_id, pad_token_id=chars.pad_token_id,
               tie=False).save_pretrained(tmp_path / "pico")
    chars.save_pretrained(tmp_path / "pico")
    (tmp_path / "sft.jsonl").write_text("".join(json.dumps({"prompt": f"say {i}", "completion": f"{i % 3} ok"}) + "\n"
                                                for i in range(8)))
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"out": str(tmp_path / "out"), "model": str(tmp_path / "pico"), "threads": 1,
                                      "sft": {"data": str(tmp_path / "sft.jsonl"), "trainer": "trl", "steps": 3,
                                              "batch_size": 2, "save_every": 2, "lr": 1e-3, "max_length": 64}}))
    result = run_harness("train", "sft", "--config", str(config), timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    out = tmp_path / "out" / "sft"
    log = read_jsonl(out / "log.jsonl")
    assert [r["step"] for r in log] == [1, 2, 3] and all(r["trainer"] == "trl" and r["loss"] > 0 for r in log)
    names = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert names == ["step-000002", "step-000003"]
    AutoModelForCausalLM.from_pretrained(out / "checkpoints" / "step-000003")
    assert json.loads((out / "manifest.json").read_text())["trainer"]["trainer"] == "trl.SFTTrainer"
