"""Hand values of docs/training.md 4.C (clipped surrogate, aggregations), 4.D (k3) and 4.F (accumulation)."""
import math

import pytest
import torch

from harness.training.losses import aggregate, clip_fraction, clipped_surrogate, k3_kl

MASK = torch.tensor([[1, 1, 1], [1, 0, 0]])
ADV = torch.tensor([1.0, -1.0])


def example_logp(requires_grad=True):
    ratio = torch.tensor([[1.0, 1.5, 0.5], [0.7, 1.0, 1.0]])
    return ratio.log().requires_grad_(requires_grad)


def test_per_token_loss_of_the_hand_example():
    loss = clipped_surrogate(example_logp(False), torch.zeros(2, 3), ADV, MASK)
    assert torch.allclose(loss, torch.tensor([[-1.0, -1.2, -0.5], [0.8, 0.0, 0.0]]), atol=1e-6)


@pytest.mark.parametrize("mode,expected", [("seq-mean-token-mean", -0.05), ("token-mean", -0.475),
                                           ("dr_grpo", -0.3166667), ("seq-mean-token-sum", -0.95)])
def test_the_four_aggregations_of_the_hand_example(mode, expected):
    loss = clipped_surrogate(example_logp(False), torch.zeros(2, 3), ADV, MASK)
    assert float(aggregate(loss, MASK, mode, max_len=3)) == pytest.approx(expected, abs=1e-6)


def test_gradient_is_zero_exactly_where_the_clip_binds():
    logp = example_logp()
    aggregate(clipped_surrogate(logp, torch.zeros(2, 3), ADV, MASK), MASK).backward()
    expected = torch.tensor([[-1 / 6, 0.0, -1 / 12], [0.0, 0.0, 0.0]])
    assert torch.allclose(logp.grad, expected, atol=1e-6)


def test_garbage_in_masked_positions_changes_neither_loss_nor_gradient():
    clean = example_logp()
    loss_clean = aggregate(clipped_surrogate(clean, torch.zeros(2, 3), ADV, MASK), MASK)
    loss_clean.backward()
    dirty = example_logp(False).clone()
    dirty[1, 1:] = torch.tensor([1e4, -1e4])
    dirty.requires_grad_(True)
    old = torch.zeros(2, 3)
    old[1, 1:] = torch.tensor([-1e4, 1e4])
    loss_dirty = aggregate(clipped_surrogate(dirty, old, ADV, MASK), MASK)
    loss_dirty.backward()
    assert loss_dirty.item() == loss_clean.item()
    assert torch.equal(dirty.grad, clean.grad)


def test_on_policy_loss_is_zero_but_the_gradient_is_not():
    torch.manual_seed(0)
    logits = torch.randn(8, 5, requires_grad=True)
    logp = logits.log_softmax(-1)
    rewards = torch.tensor([1.0, 0, 0, 0, 1, 1, 0, 1])
    from harness.training.mgpo import mgpo_advantages

    adv, _, _ = mgpo_advantages(rewards, rewards, 4, lam=1.0)
    mask = torch.ones(8, 5, dtype=torch.long)
    loss = aggregate(clipped_surrogate(logp, logp.detach(), adv, mask), mask)
    loss.backward()
    assert abs(float(loss)) < 1e-6
    assert float(logits.grad.norm()) > 1e-3


def test_clip_fraction_of_the_hand_example_is_one_half():
    assert clip_fraction(example_logp(False), torch.zeros(2, 3), ADV, MASK) == pytest.approx(0.5)


def test_k3_hand_values_and_zero_gradient_at_equality():
    logp = torch.tensor([0.0, math.log(2), -math.log(2)], requires_grad=True)
    kl = k3_kl(logp, torch.zeros(3))
    assert torch.allclose(kl, torch.tensor([0.0, 0.1931472, 0.3068528]), atol=1e-6)
    kl[0].backward()
    assert float(logp.grad[0]) == 0.0
    assert (k3_kl(torch.randn(1000) * 3, torch.randn(1000) * 3) >= 0).all()


def unequal_batch(seed=0):
    torch.manual_seed(seed)
    logp = (torch.randn(6, 7) * 0.1).requires_grad_(True)
    old = logp.detach() + torch.randn(6, 7) * 0.1
    lengths = torch.tensor([7, 2, 5, 1, 6, 3])
    mask = (torch.arange(7) < lengths.unsqueeze(1)).long()
    return logp, old, torch.randn(6), mask


def accumulated_gradient(mode: str, global_normalizer: bool):
    logp, old, adv, mask = unequal_batch()
    for rows in (slice(0, 2), slice(2, 4), slice(4, 6)):
        normalizer = None  # local: the micro-batch's own token count
        if global_normalizer:
            normalizer = float(mask.sum()) if mode == "token-mean" else 6
        loss = aggregate(clipped_surrogate(logp[rows], old[rows], adv[rows], mask[rows]), mask[rows], mode,
                         normalizer=normalizer, max_len=7)
        if not global_normalizer and mode == "token-mean":
            loss = loss / 3  # local token mean, averaged over micro-batches (trl#3021)
        loss.backward()
    return logp.grad


@pytest.mark.parametrize("mode", ["seq-mean-token-mean", "token-mean", "seq-mean-token-sum", "dr_grpo"])
def test_gradient_accumulation_with_the_global_normalizer_equals_the_full_batch(mode):
    logp, old, adv, mask = unequal_batch()
    aggregate(clipped_surrogate(logp, old, adv, mask), mask, mode, max_len=7).backward()
    assert torch.allclose(accumulated_gradient(mode, global_normalizer=True), logp.grad, atol=1e-6)


def test_negative_control_local_token_mean_does_not_match_when_lengths_differ():
    logp, old, adv, mask = unequal_batch()
    aggregate(clipped_surrogate(logp, old, adv, mask), mask, "token-mean").backward()
    assert not torch.allclose(accumulated_gradient("token-mean", global_normalizer=False), logp.grad, atol=1e-4)
