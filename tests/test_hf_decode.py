"""The hf backend's sampling loop against transformers' generate, on the embedded CPU model."""
import pytest
import torch
from transformers import GenerationConfig
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from harness.backends.hf_decode import grouped_decode_attention, sample_batch, unsupported_generation_settings
from harness.sampling import Sampling

PROMPTS = ["What is 2+3? Answer with a number.", "Name a prime number larger than 10.",
           "Write one sentence about the sea.", "List three colours."]


@pytest.fixture(scope="module")
def fp32():
    from harness.backends.hf import HFBackend

    backend = HFBackend("smollm2-135m", batch_size=4, dtype="float32")
    yield backend
    backend.close()


def encode(backend, prompts):
    from harness.backends.prompts import render_prompt

    texts = [render_prompt(backend.tokenizer, [{"role": "user", "content": p}]) for p in prompts]
    return backend.tokenizer(texts, return_tensors="pt", padding=True, padding_side="left", add_special_tokens=False)


def until_eos(row, eos):
    end = next((i for i, token in enumerate(row) if token in eos), None)
    return row if end is None else row[:end + 1]


def test_loop_draws_generates_tokens_until_the_first_row_ends(fp32):
    encoded, steps = encode(fp32, PROMPTS), 48
    sampling = Sampling(n=1, temperature=1.0, top_p=0.9, top_k=-1, max_tokens=steps, seed=0)
    torch.manual_seed(11)
    with torch.inference_mode():
        reference = fp32.model.generate(**encoded, max_new_tokens=steps, do_sample=True, temperature=1.0, top_p=0.9,
                                        top_k=0, pad_token_id=fp32.tokenizer.pad_token_id)
    reference = [until_eos(row, fp32.eos_ids) for row in reference[:, encoded["input_ids"].shape[1]:].tolist()]
    torch.manual_seed(11)
    active = []
    with torch.inference_mode():
        ours = sample_batch(fp32.model, encoded["input_ids"], encoded["attention_mask"], sampling, fp32.eos_ids,
                            active.append)
    first_end = min(len(row) for row in reference)
    assert first_end < steps  # some row ended, so the rows after it were drawn from a smaller batch
    assert [row[:first_end] for row in ours] == [row[:first_end] for row in reference]
    for row in ours:  # each row ends at its first EOS or at the budget
        assert row == until_eos(row, fp32.eos_ids) and (row[-1] in fp32.eos_ids or len(row) == steps)
    # rows leave the batch as they end: per step, the rows still going
    assert active == [sum(len(row) > step for row in ours) for step in range(len(active))]
    assert sum(active) == sum(len(row) for row in ours) and active[-1] < len(PROMPTS)


def test_greedy_loop_equals_generate_row_for_row(fp32):
    encoded, steps = encode(fp32, PROMPTS), 40
    sampling = Sampling(n=1, temperature=0.0, top_p=1.0, top_k=-1, max_tokens=steps, seed=0)
    with torch.inference_mode():
        reference = fp32.model.generate(**encoded, max_new_tokens=steps, do_sample=False, temperature=None,
                                        top_p=None, top_k=None, pad_token_id=fp32.tokenizer.pad_token_id)
        ours = sample_batch(fp32.model, encoded["input_ids"], encoded["attention_mask"], sampling, fp32.eos_ids)
    reference = [until_eos(row, fp32.eos_ids) for row in reference[:, encoded["input_ids"].shape[1]:].tolist()]
    assert ours == reference


def test_grouped_decode_attention_equals_sdpa_on_a_padded_batch():
    class Module(torch.nn.Module):
        num_key_value_groups, is_causal = 3, True

    generator = torch.Generator().manual_seed(0)
    query = torch.randn(4, 9, 1, 64, generator=generator)
    key, value = torch.randn(4, 3, 37, 64, generator=generator), torch.randn(4, 3, 37, 64, generator=generator)
    mask = torch.ones(4, 1, 1, 37, dtype=torch.bool)
    mask[1, :, :, :5] = False  # left padding of row 1
    module = Module().eval()
    ours, _ = grouped_decode_attention(module, query, key, value, mask, scaling=0.125)
    theirs, _ = sdpa_attention_forward(module, query, key, value, mask, scaling=0.125)
    assert ours.shape == theirs.shape == (4, 1, 9, 64)
    assert torch.allclose(ours, theirs, atol=1e-5)
    unmasked, _ = grouped_decode_attention(module, query, key, value, None, scaling=0.125)
    assert not torch.allclose(unmasked[1], theirs[1], atol=1e-3) and torch.allclose(unmasked[0], theirs[0], atol=1e-5)


def test_generation_settings_only_generate_applies_are_named():
    assert unsupported_generation_settings(GenerationConfig(eos_token_id=2, pad_token_id=2)) == []
    assert unsupported_generation_settings(GenerationConfig(repetition_penalty=1.1, no_repeat_ngram_size=3)) == \
        ["repetition_penalty", "no_repeat_ngram_size"]


def test_a_model_with_a_repetition_penalty_goes_through_generate(fp32):
    """The loop would ignore the penalty; the backend sees the setting and hands the batch to generate."""
    from harness.backends.base import Request

    requests = [Request("t", f"t/{i}", 0, ({"role": "user", "content": p},), seed=3) for i, p in enumerate(PROMPTS)]
    greedy = Sampling(n=1, temperature=0.0, top_p=1.0, top_k=-1, max_tokens=32, seed=0)
    plain = {g.problem_id: g.response for g in fp32.generate(requests, greedy)}
    config, saved = fp32.model.generation_config, fp32.generate_only
    config.repetition_penalty = 1.8
    fp32.generate_only = unsupported_generation_settings(config)
    try:
        assert fp32.describe()["decode"] == ("transformers generate (the model's generation_config sets "
                                             "repetition_penalty)")
        penalised = {g.problem_id: g.response for g in fp32.generate(requests, greedy)}
        encoded = encode(fp32, PROMPTS)
        with torch.inference_mode():
            reference = fp32.model.generate(**encoded, max_new_tokens=32, do_sample=False, temperature=None,
                                            top_p=None, top_k=None, pad_token_id=fp32.tokenizer.pad_token_id)
    finally:
        config.repetition_penalty, fp32.generate_only = 1.0, saved
    expected = {f"t/{i}": fp32.tokenizer.decode(until_eos(row, fp32.eos_ids), skip_special_tokens=True)
                for i, row in enumerate(reference[:, encoded["input_ids"].shape[1]:].tolist())}
    assert penalised == expected and penalised != plain
    assert fp32.describe()["decode"].startswith("harness sampling loop: finished rows leave the batch")


def test_prompts_of_very_different_lengths_prefill_in_groups_to_the_padded_batchs_values(fp32):
    from harness.backends.hf_decode import prefill, prefill_groups

    prompts = ["Hi.", "Explain, step by step and with an example, " + "why the sum of two even numbers is even. " * 12,
               "Count to three.", "Name a colour."]
    encoded = encode(fp32, prompts)
    lengths = encoded["attention_mask"].sum(-1).tolist()
    assert max(lengths) > 3 * min(lengths) and len(prefill_groups(lengths)) == 2
    positions = encoded["attention_mask"].long().cumsum(-1) - 1
    positions.masked_fill_(encoded["attention_mask"] == 0, 1)
    with torch.inference_mode():
        grouped_logits, grouped = prefill(fp32.model, encoded["input_ids"], encoded["attention_mask"], positions)
        padded = fp32.model(**encoded, position_ids=positions, logits_to_keep=1)
    assert torch.allclose(grouped_logits, padded.logits[:, -1], atol=1e-4)
    mask = encoded["attention_mask"].bool()
    for layer, reference in zip(grouped.layers, padded.cache.layers):
        assert layer.keys.shape == reference.keys.shape
        assert torch.allclose(layer.keys[mask[:, None, :, None].expand_as(layer.keys)],
                              reference.keys[mask[:, None, :, None].expand_as(reference.keys)], atol=1e-4)
    sampling = Sampling(n=1, temperature=0.0, top_p=1.0, top_k=-1, max_tokens=24, seed=0)
    with torch.inference_mode():
        reference = fp32.model.generate(**encoded, max_new_tokens=24, do_sample=False, temperature=None, top_p=None,
                                        top_k=None, pad_token_id=fp32.tokenizer.pad_token_id)
        ours = sample_batch(fp32.model, encoded["input_ids"], encoded["attention_mask"], sampling, fp32.eos_ids)
    assert ours == [until_eos(row, fp32.eos_ids) for row in reference[:, encoded["input_ids"].shape[1]:].tolist()]
