"""docs/training.md 4.H: SFT tokenisation, masking by position, EOS, loss, accumulation, overfit."""
import pytest
import torch
from transformers import AutoTokenizer

from harness.training.sft import IGNORE, sft_loss, sft_step, supervised_tokens, tokenize_prompt_and_output
from harness.training.toy_tasks import generate_splits
from training_fixtures import char_tokenizer, smollm2_dir, tiny_qwen2


@pytest.fixture(scope="module")
def tokenizer():
    """The embedded model's real tokenizer and chat template (pad == eos)."""
    return AutoTokenizer.from_pretrained(smollm2_dir())


@pytest.fixture(scope="module")
def chars():
    return char_tokenizer()


def pico(chars, hidden=64, layers=2):
    return tiny_qwen2(vocab_size=len(chars), hidden=hidden, layers=layers, eos_token_id=chars.eos_token_id,
                      pad_token_id=chars.pad_token_id).train()


def rows(count=8):
    return generate_splits({"train": count // 4}, ["algebra", "geometry", "calculus", "statistics"])["train"]


def sums(count=8):
    pairs = [(a, b) for a in range(2, 9) for b in (3, 7)][:count]
    return [{"messages": [{"role": "user", "content": f"{a}+{b}"}], "completion": f"\\boxed{{{a + b}}}"}
            for a, b in pairs]


def test_the_smollm2_tokenizer_has_pad_equal_to_eos_so_masking_must_be_by_position(tokenizer):
    assert tokenizer.pad_token_id == tokenizer.eos_token_id


def test_labels_are_ignored_exactly_on_prompt_and_padding_and_eos_is_supervised(tokenizer):
    messages = [[{"role": "user", "content": "What is 2+2?"}], [{"role": "user", "content": "Say hi."}]]
    completions = ["It is \\boxed{4}.", "hi"]
    batch = tokenize_prompt_and_output(tokenizer, messages, completions)
    for row, (prompt, completion) in enumerate(zip(messages, completions)):
        prompt_len = len(tokenizer(tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True),
                                   add_special_tokens=False)["input_ids"])
        completion_ids = tokenizer(completion, add_special_tokens=False)["input_ids"]
        labels = batch["labels"][row].tolist()
        real = int(batch["attention_mask"][row].sum())
        assert labels[:prompt_len] == [IGNORE] * prompt_len
        assert labels[prompt_len:real] == completion_ids + [tokenizer.eos_token_id]
        assert labels[real:] == [IGNORE] * (len(labels) - real)
        assert sum(label != IGNORE for label in labels) == len(completion_ids) + 1
    assert batch["labels"][1].tolist().count(tokenizer.eos_token_id) == 1  # padding (also id 2) stays -100


def test_generation_prompt_ends_with_the_assistant_header_and_text_round_trips(tokenizer):
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "x"}], tokenize=False, add_generation_prompt=True)
    assert prompt.endswith("<|im_start|>assistant\n")
    text = "Solve for x: 3x + 4 = 10. \\boxed{2}<|im_end|>"
    assert tokenizer.decode(tokenizer(text, add_special_tokens=False)["input_ids"]) == text


def test_loss_equals_a_hand_cross_entropy_over_supervised_positions_with_padding(chars):
    model = pico(chars)
    data = rows(4)
    batch = tokenize_prompt_and_output(chars, [r["messages"] for r in data], [r["completion"] for r in data])
    with torch.no_grad():
        loss = sft_loss(model, batch)
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    terms = []
    for row in range(4):
        for position in range(1, batch["labels"].shape[1]):
            label = int(batch["labels"][row, position])
            if label != IGNORE:
                terms.append(-float(logits[row, position - 1].log_softmax(-1)[label]))
    assert float(loss) == pytest.approx(sum(terms) / len(terms), rel=1e-5)
    assert len(terms) == supervised_tokens(batch["labels"])


def grads_after(model, micro_batches):
    total = sum(supervised_tokens(b["labels"]) for b in micro_batches)
    for batch in micro_batches:
        sft_loss(model, batch, normalizer=total).backward()
    return {name: p.grad.clone() for name, p in model.named_parameters()}


def test_gradient_accumulation_with_the_global_token_count_equals_one_batch(chars):
    data = rows(8)
    full = tokenize_prompt_and_output(chars, [r["messages"] for r in data], [r["completion"] for r in data])
    halves = [tokenize_prompt_and_output(chars, [r["messages"] for r in part], [r["completion"] for r in part])
              for part in (data[:3], data[3:])]
    model = pico(chars)
    one = grads_after(model, [full])
    model.zero_grad()
    accumulated = grads_after(model, halves)
    for name in one:
        assert torch.allclose(one[name], accumulated[name], atol=1e-6), name
    model.zero_grad()
    for half in halves:  # negative control: each micro-batch normalised by its own count
        (sft_loss(model, half) / 2).backward()
    assert not all(torch.allclose(one[n], p.grad, atol=1e-6) for n, p in model.named_parameters())


def test_a_tiny_model_overfits_eight_examples_and_greedy_decoding_stops_at_eos(chars):
    torch.manual_seed(0)
    model = pico(chars, hidden=128, layers=2)
    data = sums(8)
    batch = tokenize_prompt_and_output(chars, [r["messages"] for r in data], [r["completion"] for r in data])
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for step in range(200):
        record = sft_step(model, optimizer, [batch], grad_clip=1.0)
        if record["loss"] < 0.005:
            break
    assert record["loss"] < 0.05, f"loss {record['loss']:.3f} after {step + 1} steps"
    model.eval()
    for row in data:
        prompt = chars.apply_chat_template(row["messages"], tokenize=False, add_generation_prompt=True)
        ids = chars(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"]
        out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=20,
                             pad_token_id=chars.pad_token_id, eos_token_id=chars.eos_token_id)[0, ids.shape[1]:].tolist()
        assert chars.eos_token_id in out, row
        assert chars.decode(out[:out.index(chars.eos_token_id)]) == row["completion"]
