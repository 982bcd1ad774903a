"""docs/training.md 4.J: linear merge identities, checks, dtype, tied embeddings, loadable result."""
import json

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from harness.errors import HarnessError
from harness.training.merge import linear_merge, merge_checkpoints, normalized_weights
from training_fixtures import char_tokenizer, tiny_qwen2


def states(count, dtype=torch.float32):
    return [{k: v.to(dtype) for k, v in tiny_qwen2(seed=seed).state_dict().items()} for seed in range(count)]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Three tied pico Qwen2 checkpoints with a tokenizer, as save_pretrained writes them."""
    root = tmp_path_factory.mktemp("merge")
    tokenizer = char_tokenizer()
    paths = []
    for seed in range(3):
        model = tiny_qwen2(vocab_size=len(tokenizer), seed=seed, eos_token_id=tokenizer.eos_token_id,
                           pad_token_id=tokenizer.pad_token_id)
        model.save_pretrained(root / f"m{seed}")
        tokenizer.save_pretrained(root / f"m{seed}")
        paths.append(root / f"m{seed}")
    return paths


def test_weights_are_normalised_and_zero_sum_is_refused():
    a, b = states(2)
    assert all(torch.equal(x, y) for x, y in zip(linear_merge([a, b], [2, 2]).values(),
                                                 linear_merge([a, b], [0.5, 0.5]).values()))
    assert sum(normalized_weights([1, 3, 4], 3)) == pytest.approx(1.0)
    with pytest.raises(HarnessError, match="sum to zero"):
        normalized_weights([1, -1], 2, allow_negative=True)
    with pytest.raises(HarnessError, match="negative"):
        normalized_weights([1, -0.5], 2)


@pytest.mark.parametrize("copies,exact", [(2, True), (3, False), (4, True)])
def test_merging_identical_models_returns_the_model(copies, exact):
    state = states(1)[0]
    merged = linear_merge([state] * copies)
    for key, tensor in state.items():
        if exact:
            assert torch.equal(merged[key], tensor), key
        else:
            assert torch.allclose(merged[key], tensor, atol=1e-6), key


def test_one_hot_weights_give_a_bitwise_copy():
    a, b, c = states(3)
    merged = linear_merge([a, b, c], [0, 1, 0])
    assert all(torch.equal(merged[k], b[k]) for k in b)


def test_merge_is_linear_and_permutation_invariant():
    a, b, c = states(3)
    half = linear_merge([a, b])
    for key in a:
        assert torch.allclose(half[key], (a[key] + b[key]) / 2, atol=1e-7)
    one, other = linear_merge([a, b, c], [1, 2, 3]), linear_merge([c, a, b], [3, 1, 2])
    assert all(torch.allclose(one[k], other[k], atol=1e-6) for k in a)


def test_a_missing_key_or_a_shape_mismatch_is_an_error_never_a_truncation():
    a, b = states(2)
    missing = dict(b)
    missing.pop("model.norm.weight")
    with pytest.raises(HarnessError, match="different tensors"):
        linear_merge([a, missing])
    wider = dict(b)
    wider["model.embed_tokens.weight"] = torch.zeros(40, 64)
    with pytest.raises(HarnessError, match="model.embed_tokens.weight"):
        linear_merge([a, wider])


def test_non_float_tensors_are_copied_and_must_agree():
    a, b = states(2)
    a["counter"], b["counter"] = torch.tensor([3, 4]), torch.tensor([3, 4])
    assert torch.equal(linear_merge([a, b])["counter"], torch.tensor([3, 4]))
    b["counter"] = torch.tensor([3, 5])
    with pytest.raises(HarnessError, match="non-float tensor counter"):
        linear_merge([a, b])


def test_bf16_in_gives_bf16_out_with_fp32_accumulation():
    a, b, c = states(3, torch.bfloat16)
    merged = linear_merge([a, b, c])
    key = "model.layers.0.mlp.up_proj.weight"
    assert merged[key].dtype == torch.bfloat16
    exact = (a[key].float() + b[key].float() + c[key].float()) / 3
    assert torch.allclose(merged[key].float(), exact, rtol=2 ** -8, atol=1e-7)  # one bf16 rounding


def test_merged_directory_stays_tied_loads_and_generates(saved, tmp_path):
    record = merge_checkpoints([str(p) for p in saved], None, tmp_path / "merged")
    assert record["weights"] == pytest.approx([1 / 3] * 3) and record["tied_embeddings"]
    on_disk = load_file(str(tmp_path / "merged" / "model.safetensors"))
    assert "lm_head.weight" not in on_disk and len(on_disk) == len(load_file(str(saved[0] / "model.safetensors")))
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "merged")
    assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    tokenizer = AutoTokenizer.from_pretrained(tmp_path / "merged")
    ids = tokenizer("2+3", return_tensors="pt")["input_ids"]
    out = model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=4, do_sample=False,
                         pad_token_id=tokenizer.pad_token_id)
    assert out.shape[1] > ids.shape[1]
    assert json.loads((tmp_path / "merged" / "config.json").read_text()) == json.loads((saved[0] / "config.json").read_text())


def test_merging_n_copies_of_a_checkpoint_from_disk_keeps_its_logits(saved, tmp_path):
    merge_checkpoints([str(saved[1])] * 3, None, tmp_path / "same")
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.no_grad():
        before = AutoModelForCausalLM.from_pretrained(saved[1])(ids).logits
        after = AutoModelForCausalLM.from_pretrained(tmp_path / "same")(ids).logits
    assert (before - after).abs().max() < 1e-6


def test_duplicates_add_their_weights_and_an_existing_output_is_not_overwritten(saved, tmp_path):
    record = merge_checkpoints([str(saved[0]), str(saved[1]), str(saved[0]), str(saved[2])], None, tmp_path / "dup")
    assert record["weights"] == pytest.approx([0.5, 0.25, 0.25])
    with pytest.raises(HarnessError, match="not overwriting"):
        merge_checkpoints([str(saved[0])], None, tmp_path / "dup")


def test_tied_and_untied_inputs_are_refused(saved, tmp_path):
    untied = tiny_qwen2(vocab_size=101, tie=False)
    untied.save_pretrained(tmp_path / "untied")
    with pytest.raises(HarnessError, match="tied and untied"):
        merge_checkpoints([str(saved[0]), str(tmp_path / "untied")], None, tmp_path / "out")
