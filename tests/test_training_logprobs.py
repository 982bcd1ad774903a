"""docs/training.md 4.E: completion log-probs with padding, EOS masking, temperature, sampling policy."""
import pytest
import torch

from harness.training.logprobs import completion_logprobs, completion_mask, selective_log_softmax
from harness.sampling import Sampling
from harness.training.rollout import generate_kwargs
from training_fixtures import tiny_qwen2

EOS = 1


def unpadded_logprobs(model, prompt, completion, temperature=1.0):
    ids = torch.tensor([prompt + completion])
    logits = model(input_ids=ids).logits[0, len(prompt) - 1:-1] / temperature
    return selective_log_softmax(logits, torch.tensor(completion))


def test_batched_padded_logprobs_match_unpadded_per_example():
    model = tiny_qwen2()
    prompts = [[5, 6, 7, 8, 9], [10, 11]]
    completions = [[12, 13, EOS], [14, 15, 16, 17, 18]]
    prompt_ids = torch.tensor([[5, 6, 7, 8, 9], [0, 0, 0, 10, 11]])
    prompt_mask = torch.tensor([[1, 1, 1, 1, 1], [0, 0, 0, 1, 1]])
    completion_ids = torch.tensor([[12, 13, EOS, 0, 0], completions[1]])
    mask = completion_mask(completion_ids, {EOS})
    with torch.no_grad():
        batched = completion_logprobs(model, prompt_ids, prompt_mask, completion_ids, mask, temperature=0.7)
        for row, (prompt, completion) in enumerate(zip(prompts, completions)):
            alone = unpadded_logprobs(model, prompt, completion, temperature=0.7)
            assert (batched[row, :len(completion)] - alone).abs().max() < 1e-5


def test_mask_covers_up_to_and_including_the_first_eos_and_all_of_a_truncated_sample():
    ids = torch.tensor([[4, EOS, 5, EOS], [4, 5, 6, 7], [EOS, 0, 0, 0]])
    assert completion_mask(ids, {EOS}).tolist() == [[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]]


def test_mask_respects_real_lengths_when_pad_is_not_eos():
    ids = torch.tensor([[4, 5, 0, 0]])
    assert completion_mask(ids, {EOS}, lengths=torch.tensor([2])).tolist() == [[1, 1, 0, 0]]


def test_temperature_scales_the_logits_and_t1_sum_equals_model_cross_entropy():
    model = tiny_qwen2()
    prompt, completion = [3, 4, 5], [6, 7, 8, 9]
    ids = torch.tensor([prompt + completion])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0, 2:-1]
        scored = completion_logprobs(model, torch.tensor([prompt]), torch.ones(1, 3, dtype=torch.long),
                                     torch.tensor([completion]), torch.ones(1, 4, dtype=torch.long), temperature=0.5)
        expected = torch.gather((logits / 0.5).log_softmax(-1), -1, torch.tensor(completion).unsqueeze(-1)).squeeze(-1)
        assert torch.allclose(scored[0], expected, atol=1e-6)
        labels = torch.tensor([[-100] * 3 + completion])
        cross_entropy = model(input_ids=ids, labels=labels).loss
        at_t1 = completion_logprobs(model, torch.tensor([prompt]), torch.ones(1, 3, dtype=torch.long),
                                    torch.tensor([completion]), torch.ones(1, 4, dtype=torch.long))
        assert float(at_t1.sum()) == pytest.approx(-float(cross_entropy) * 4, abs=1e-5)


def test_the_sampler_draws_from_the_distribution_that_is_scored():
    model = tiny_qwen2(vocab_size=8, seed=3)
    sampling = Sampling(n=4000, temperature=0.7, top_p=1.0, max_tokens=1)
    prompt = torch.tensor([[2, 3, 4]])
    model.generation_config.top_k = 2  # a default that would truncate; the rollout must override it
    torch.manual_seed(0)
    with torch.no_grad():
        drawn = model.generate(input_ids=prompt.repeat(4000, 1), attention_mask=torch.ones(4000, 3, dtype=torch.long),
                               **generate_kwargs(sampling, pad_token_id=0))[:, -1]
    frequencies = torch.bincount(drawn, minlength=8).float() / 4000
    probabilities = torch.stack([completion_logprobs(model, prompt, torch.ones(1, 3, dtype=torch.long),
                                                     torch.tensor([[token]]), torch.ones(1, 1, dtype=torch.long),
                                                     0.7)[0, 0].exp() for token in range(8)])
    assert torch.allclose(frequencies, probabilities.detach(), atol=0.03)
