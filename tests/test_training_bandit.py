"""docs/training.md 4.G and 4.B.10: MGPO learns a bandit, unlearns it with inverted rewards,
lambda = 0 is GRPO bitwise at the update level, and lambda scales the gradient by w(p)."""
import pytest
import torch

from harness.training.advantages import group_advantages
from harness.training.logprobs import completion_logprobs
from harness.training.mgpo import maxent_weight, mgpo_advantages
from harness.training.mgpo_loop import UpdateSettings, mgpo_update
from harness.training.rollout import RolloutBatch
from training_fixtures import tiny_qwen2

PROMPT = torch.tensor([[4, 5, 6, 7]])
G = 16


def sample(model, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        out = model.generate(input_ids=PROMPT.repeat(G, 1), attention_mask=torch.ones(G, 4, dtype=torch.long),
                             do_sample=True, top_k=0, top_p=1.0, temperature=1.0, max_new_tokens=3,
                             min_new_tokens=3, eos_token_id=None, pad_token_id=0)
    completions = out[:, 4:]
    return RolloutBatch(PROMPT.repeat(G, 1), torch.ones(G, 4, dtype=torch.long), completions,
                        torch.ones_like(completions), [""] * G, torch.zeros(G, dtype=torch.bool), G)


def target_probability(model, target):
    with torch.no_grad():
        return float(model(input_ids=PROMPT).logits[0, -1].softmax(-1)[target])


def train_bandit(reward_of, lam=1.0, steps=30):
    model = tiny_qwen2(vocab_size=32, hidden=64, layers=2, seed=0).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    target = 9
    before = target_probability(model, target)
    for step in range(steps):
        batch = sample(model, seed=step)
        rewards = reward_of(batch.completion_ids[:, 0], target).float()
        advantages, _, _ = mgpo_advantages(rewards, rewards, G, lam)
        mgpo_update(model, optimizer, batch, advantages, UpdateSettings(micro_batch=16))
    return before, target_probability(model, target)


@pytest.mark.parametrize("lam", [0.0, 1.0])
def test_the_bandit_learns_to_emit_the_rewarded_token(lam):
    before, after = train_bandit(lambda first, target: first == target, lam=lam, steps=40)
    assert before < 0.1 and after > 0.5, (before, after)


def test_inverted_reward_unlearns_the_same_token():
    before, after = train_bandit(lambda first, target: first != target)
    assert after < before / 2, (before, after)


def fixed_batch_gradients(advantages):
    model = tiny_qwen2(vocab_size=32, seed=1).train()
    batch = sample(model, seed=0)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    logp = completion_logprobs(model, batch.prompt_ids, batch.prompt_mask, batch.completion_ids, batch.completion_mask)
    from harness.training.losses import aggregate, clipped_surrogate

    aggregate(clipped_surrogate(logp, logp.detach(), advantages, batch.completion_mask), batch.completion_mask).backward()
    del optimizer
    return [p.grad.clone() for p in model.parameters()]


def test_lambda_zero_update_is_bitwise_grpo():
    rewards = torch.tensor([1.0, 0, 0, 0] * 4)
    mgpo = fixed_batch_gradients(mgpo_advantages(rewards, rewards, G, lam=0.0)[0])
    grpo = fixed_batch_gradients(group_advantages(rewards, G))
    assert all(torch.equal(a, b) for a, b in zip(mgpo, grpo))


def test_lambda_scales_the_gradient_of_one_question_by_its_weight():
    rewards = torch.tensor([1.0] + [0.0] * 15)  # p = 1/16
    base = fixed_batch_gradients(mgpo_advantages(rewards, rewards, G, lam=0.0)[0])
    scaled = fixed_batch_gradients(mgpo_advantages(rewards, rewards, G, lam=4.0)[0])
    weight = float(maxent_weight(torch.tensor(1 / 16), 4.0))
    assert weight < 0.2
    for a, b in zip(base, scaled):
        assert torch.allclose(b, weight * a, atol=1e-6)


def test_beta_zero_never_calls_the_reference_model():
    class Exploding(torch.nn.Module):
        def forward(self, *args, **kwargs):
            raise AssertionError("reference model called with beta = 0")

    model = tiny_qwen2(vocab_size=32).train()
    batch = sample(model, seed=0)
    rewards = (batch.completion_ids[:, 0] % 2).float()
    advantages, _, _ = mgpo_advantages(rewards, rewards, G, 1.0)
    stats = mgpo_update(model, torch.optim.AdamW(model.parameters(), lr=1e-3), batch, advantages,
                        UpdateSettings(beta=0.0), ref_model=Exploding())
    assert stats["kl"] == 0.0 and stats["grad_norm"] > 0


def test_beta_positive_adds_a_k3_term_that_is_zero_against_an_identical_reference():
    model = tiny_qwen2(vocab_size=32).train()
    reference = tiny_qwen2(vocab_size=32).eval()
    batch = sample(model, seed=0)
    rewards = (batch.completion_ids[:, 0] % 2).float()
    advantages, _, _ = mgpo_advantages(rewards, rewards, G, 1.0)
    stats = mgpo_update(model, torch.optim.SGD(model.parameters(), lr=0.0), batch, advantages,
                        UpdateSettings(beta=0.1, mu=2), ref_model=reference)
    assert abs(stats["kl"]) < 1e-6
